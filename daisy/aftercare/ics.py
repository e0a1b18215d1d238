"""The appointment as an iCalendar event (RFC 5545), attached to the booking emails.

The UID is the appointment's own and never changes, and SEQUENCE is the appointment's
`messages_version` (0 when booked, +1 on every move or cancellation), so a calendar app that
imported the first email replaces the event with each later one instead of adding a second.
METHOD:PUBLISH (RFC 5546 3.2.1): the client's calendar takes the event as published by the
clinic; there is no invitation to accept, so no reply is ever mailed back. A cancellation is the
same event with STATUS:CANCELLED and a higher SEQUENCE. Times are in UTC ("Z"), which every
calendar converts to its own zone and which needs no VTIMEZONE."""

from __future__ import annotations

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


def appointment_ics(
    *, appointment: Any, sequence: int, now: datetime, cancelled: bool = False
) -> str:
    location = appointment.location
    treatment = appointment.treatment
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = Event()
    event.add("uid", appointment_uid(appointment))
    event.add("sequence", sequence)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", appointment.starts_at.astimezone(UTC))
    event.add("dtend", appointment.ends_at.astimezone(UTC))
    event.add("summary", f"{treatment.name} at {location.name}")
    event.add("location", f"{location.name}, {location.address}")
    lines = [f"{treatment.name} at {location.name}.", location.address]
    if location.phone:
        lines.append(f"To change or cancel, call {location.phone}.")
    event.add("description", "\n".join(lines))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    if address:
        organizer = vCalAddress(f"mailto:{address}")
        organizer.params["cn"] = vText(name or settings.DAISY_CLINIC_NAME)
        event.add("organizer", organizer)
    cal.add_component(event)
    return cal.to_ical().decode("utf-8")
