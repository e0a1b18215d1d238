"""The appointment as an iCalendar event (RFC 5545), attached to the booking emails.

The UID is the appointment's own and never changes, and SEQUENCE is the appointment's
`messages_version` (0 when booked, +1 on every move or cancellation), so a calendar app that
imported the first email replaces the event with each later one instead of adding a second.
METHOD:PUBLISH (RFC 5546 3.2.1): the client's calendar takes the event as published by the
clinic; there is no invitation to accept, so no reply is ever mailed back. A cancellation is the
same event with STATUS:CANCELLED and a higher SEQUENCE. Times are in UTC ("Z"), which every
calendar converts to its own zone and which needs no VTIMEZONE."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//Daisy//Clinic appointments//EN"
CONTENT_TYPE = "text/calendar"
FILENAME = "appointment.ics"


def appointment_uid(appointment: Any) -> str:
    """Stable for the appointment's whole life: the same in every email and in calendar feeds."""
    return f"{appointment.pk}@daisy"


def _event(appointment: Any, *, sequence: int, now: datetime, cancelled: bool = False) -> Event:
    """The appointment as the client sees it, in the emails and in their feed alike."""
    location = appointment.location
    treatment = appointment.treatment
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    event = Event()
    event.add("uid", appointment_uid(appointment))
    event.add("sequence", sequence)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", appointment.starts_at.astimezone(UTC))
    event.add("dtend", appointment.ends_at.astimezone(UTC))
    event.add("summary", f"{treatment.name} at {location.name}")
    event.add("location", f"{location.name}, {location.address}")
    lines = [f"{treatment.name} at {location.name}.", location.address]
    # Not a one-time sign-in link: a calendar entry is synced to other services and kept.
    lines.append(f"Move or cancel online: {appointment_page_url(appointment)}")
    if location.phone:
        lines.append(f"Or call {location.phone}.")
    event.add("description", "\n".join(lines))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    if address:
        organizer = vCalAddress(f"mailto:{address}")
        organizer.params["cn"] = vText(name or settings.DAISY_CLINIC_NAME)
        event.add("organizer", organizer)
    return event


def appointment_page_url(appointment: Any) -> str:
    """The appointment's page in the client's portal (sign-in first), as a full address."""
    return f"{settings.DAISY_PUBLIC_URL}/portal/appointments/{appointment.pk}/"


def _calendar(method: str | None = "PUBLISH") -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    if method:
        cal.add("method", method)
    return cal


def appointment_ics(
    *, appointment: Any, sequence: int, now: datetime, cancelled: bool = False
) -> str:
    cal = _calendar()
    cal.add_component(_event(appointment, sequence=sequence, now=now, cancelled=cancelled))
    return cal.to_ical().decode("utf-8")


def appointments_ics(*, appointments: Iterable[Any], now: datetime) -> str:
    """Several appointments in one file (a course's sessions), each with its own UID and
    SEQUENCE, so importing it after the single-session emails updates those events."""
    cal = _calendar()
    for appointment in appointments:
        cancelled = appointment.status == "cancelled"
        cal.add_component(
            _event(appointment, sequence=appointment.messages_version, now=now, cancelled=cancelled)
        )
    return cal.to_ical().decode("utf-8")


def _specialist_event(appointment: Any, *, now: datetime) -> Event:
    """The appointment in a specialist's diary feed. A feed URL ends up in third-party calendar
    services, so it carries the least that still lets the specialist plan their day: the
    client's first name and initial, no contact details, no notes."""
    location = appointment.location
    client = appointment.client
    initial = f" {client.last_name[:1]}." if client.last_name else ""
    event = Event()
    event.add("uid", appointment_uid(appointment))
    event.add("sequence", appointment.messages_version)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", appointment.starts_at.astimezone(UTC))
    event.add("dtend", appointment.ends_at.astimezone(UTC))
    event.add("summary", f"{appointment.treatment.name}: {client.first_name}{initial}")
    event.add("location", f"{location.name}, {location.address}")
    event.add("status", "CONFIRMED")
    return event


def feed_ics(*, appointments: Iterable[Any], now: datetime, name: str, for_specialist: bool) -> str:
    """A personal calendar feed (RFC 5545, subscribed to by URL). The same UIDs as the emailed
    events, so a client who imported an email's event sees it once; no METHOD, as a subscribed
    calendar is not an iTIP message (RFC 5546 applies to the emailed events only). The events
    are in UTC; X-WR-TIMEZONE names the location's zone for calendar apps that show one."""
    cal = _calendar(method=None)
    cal.add("x-wr-calname", name)
    zones = set()
    for appointment in appointments:
        zones.add(appointment.location.time_zone)
        if for_specialist:
            cal.add_component(_specialist_event(appointment, now=now))
        else:
            cal.add_component(_event(appointment, sequence=appointment.messages_version, now=now))
    if len(zones) == 1:
        cal.add("x-wr-timezone", zones.pop())
    return cal.to_ical().decode("utf-8")
