"""Reads for aftercare: a treatment's protocol as the pure core's data, and one appointment's
dated timeline ("Your aftercare today" on the portal reads it through here)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from daisy.aftercare import ics
from daisy.aftercare.models import CalendarFeed, CheckIn, Protocol, ProtocolStep, checkin_offsets
from daisy.clinic.selectors import location_opening_at
from daisy.core import aftercare as core
from daisy.core import checkins as checkins_core
from daisy.lib.errors import NotFound
from daisy.scheduling.models import Appointment
from daisy.scheduling.selectors import appointment_get, appointment_list


@dataclass(frozen=True)
class ProtocolData:
    steps: tuple[core.ProtocolStep, ...] = ()
    recovery_hours: int = 0
    checkin_hours: tuple[int, ...] = ()
    general_advice: str = ""
    review_days: tuple[int, ...] = ()


STEP_FIELDS = (
    "offset_start_minutes",
    "offset_end_minutes",
    "kind",
    "title",
    "detail",
    "is_restriction",
    "source",
    "notify",
    "pk",
)
PROTOCOL_FIELDS = ("recovery_hours", "checkin_hours", "general_advice", "review_days")


def _core_step(
    start: int, end: int | None, kind: str, title: str, detail: str, *flags: Any
) -> core.ProtocolStep:
    is_restriction, source, notify, pk = flags
    return core.ProtocolStep(
        offset_start=timedelta(minutes=start),
        offset_end=None if end is None else timedelta(minutes=end),
        kind=core.PRE if kind == core.PRE else core.POST,
        title=title,
        detail=detail,
        is_restriction=is_restriction,
        source=source,
        notify=notify,
        key=str(pk),
    )


def protocol_get_for_treatment(treatment: Any) -> ProtocolData:
    """The treatment's protocol, or an empty one (no steps, no check-ins) when it has none.
    One query when the protocol has steps (it is read inside every booking's transaction)."""
    rows = list(
        ProtocolStep.objects.filter(protocol__treatment_id=treatment.pk)
        .order_by("offset_start_minutes", "pk")
        .values_list(*STEP_FIELDS, *(f"protocol__{f}" for f in PROTOCOL_FIELDS))
    )
    if rows:
        recovery, checkins, advice, reviews = rows[0][len(STEP_FIELDS) :]
        steps = tuple(_core_step(*row[: len(STEP_FIELDS)]) for row in rows)
    else:
        protocol = (
            Protocol.objects.filter(treatment_id=treatment.pk)
            .order_by()
            .values_list(*PROTOCOL_FIELDS)
            .first()
        )
        if protocol is None:
            return ProtocolData()
        recovery, checkins, advice, reviews = protocol
        steps = ()
    return ProtocolData(
        steps=steps,
        recovery_hours=recovery,
        checkin_hours=tuple(checkin_offsets(checkins)),
        general_advice=advice,
        review_days=tuple(checkin_offsets(reviews)),
    )


def aftercare_timeline_for_appointment(
    appointment: Any, *, now: datetime | None = None
) -> list[core.TimelineStep]:
    data = protocol_get_for_treatment(appointment.treatment)
    return core.timeline(
        session_start=appointment.starts_at,
        steps=data.steps,
        tz=appointment.location.tz,
        now=now,
    )


def aftercare_today_for_appointment(appointment: Any, *, now: datetime) -> list[core.TimelineStep]:
    data = protocol_get_for_treatment(appointment.treatment)
    return core.today(
        session_start=appointment.starts_at, steps=data.steps, tz=appointment.location.tz, now=now
    )


# --- pre-care lead times (issue 12) -----------------------------------------------------------


def precare_steps_too_soon(
    *,
    treatment: Any,
    starts_at: datetime,
    tz: Any,
    now: datetime,
    confirmed: Iterable[str] = (),
) -> list[core.TimelineStep]:
    """The treatment's pre-care steps that a session at `starts_at` leaves too little time for
    (they should have begun before `now`), less those the client confirmed they already follow
    (by step key)."""
    done = {str(key) for key in confirmed}
    steps = protocol_get_for_treatment(treatment).steps
    late = core.precare_too_soon(session_start=starts_at, steps=steps, tz=tz, now=now)
    return [item for item in late if item.step.key not in done]


def precare_ready_at(
    *, treatment: Any, now: datetime, tz: Any, confirmed: Iterable[str] = ()
) -> datetime:
    """The earliest start that leaves every pre-care step not confirmed its full time."""
    done = {str(key) for key in confirmed}
    steps = [s for s in protocol_get_for_treatment(treatment).steps if s.key not in done]
    return core.precare_ready_at(now=now, steps=steps, tz=tz)


# --- check-ins ----------------------------------------------------------------------------------

CHECKIN_SALT = "daisy.checkin"
# Statuses of a session that happened (or may have: booked and not yet marked).
SESSION_STATUSES = ("booked", "checked_in", "in_treatment", "completed")


def checkin_token_read(token: str) -> tuple[str, str]:
    """(appointment id, check-in kind) from a check-in token; raises signing.BadSignature.

    The signature's timestamp is not what bounds a link (it is when the session was booked, and
    a link must work whenever its message arrives): the session does (checkin_target_get).
    Tokens keep the TimestampSigner format, so links already sent stay readable."""
    value = signing.TimestampSigner(salt=CHECKIN_SALT).unsign_object(token)
    return str(value["a"]), str(value["k"])


def checkin_link_valid_for() -> timedelta:
    """How long a check-in link stays open after its check-in is due."""
    return timedelta(days=settings.DAISY_CHECKIN_LINK_MAX_AGE_DAYS)


@dataclass(frozen=True)
class CheckInTarget:
    """What a check-in link points at: the session, which check-in, and the answers already
    given (None until the client answers)."""

    appointment: Any
    kind: str
    existing: CheckIn | None

    @property
    def location(self) -> Any:
        return self.appointment.location

    @property
    def when(self) -> str:
        location = self.appointment.location
        return core.describe_appointment(
            self.appointment.starts_at, location.tz, location.time_zone
        )


def checkin_target_get(*, token: str, now: datetime) -> CheckInTarget:
    """The check-in behind a signed link. Raises NotFound with a message for the client and a
    code: `checkin_link_invalid` (tampered, truncated, or no such session or check-in),
    `checkin_not_needed` (the session was cancelled or missed), `checkin_not_open` (the session
    has not happened yet), `checkin_link_expired` (more than DAISY_CHECKIN_LINK_MAX_AGE_DAYS
    after the check-in was due: daisy/core/checkins.py checkin_window)."""
    invalid = NotFound(
        str(
            _(
                "This check-in link is not valid. Please use the link from your most recent "
                "message, or call the clinic."
            )
        ),
        code="checkin_link_invalid",
    )
    try:
        appointment_id, kind = checkin_token_read(token)
        checkins_core.checkin_offset(kind)
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise invalid from None
    try:
        appointment = appointment_get(appointment_id)
    except (NotFound, ValueError, ValidationError):
        raise invalid from None
    if appointment.status not in SESSION_STATUSES:
        raise NotFound(
            str(_("This check-in is no longer needed: the appointment did not take place.")),
            code="checkin_not_needed",
        )
    opens, closes = checkins_core.checkin_window(
        session_start=appointment.starts_at,
        kind=kind,
        tz=appointment.location.tz,
        valid_for=checkin_link_valid_for(),
    )
    if now < opens:
        raise NotFound(
            str(_("This check-in opens after your appointment.")), code="checkin_not_open"
        )
    if now >= closes:
        raise NotFound(
            str(
                _(
                    "This check-in link has expired. If you have any worries about your skin, "
                    "please call the clinic."
                )
            ),
            code="checkin_link_expired",
        )
    existing = (
        CheckIn.objects.select_related("appointment")
        .filter(appointment_id=appointment.pk, kind=kind)
        .first()
    )
    return CheckInTarget(appointment=appointment, kind=kind, existing=existing)


# --- "Your aftercare today" (portal) -----------------------------------------------------------


@dataclass(frozen=True)
class AftercareLine:
    text: str  # "No sauna, steam or swimming until Thursday 10 January, 10:30 GMT"
    detail: str
    is_restriction: bool
    source: str


@dataclass(frozen=True)
class AftercareToday:
    """For the portal's "Your aftercare today": the client's most recent session, what applies
    today (local calendar day at the session's location), and the whole timeline to print."""

    appointment: Any
    treatment: str
    session_when: str  # "Monday 7 January 2030, 10:00 GMT (Europe/London)"
    zone: str  # "Europe/London"
    avoid: tuple[AftercareLine, ...]  # today's restrictions
    # Today's things to do or that are fine again ("makeup is fine again", "SPF daily").
    allowed: tuple[AftercareLine, ...]
    timeline: tuple[AftercareLine, ...]  # every pre-care and aftercare step, dated
    general_advice: str


def aftercare_today_for_client(client: Any, now: datetime) -> AftercareToday | None:
    """Today's aftercare for the client's most recent session that has started (booked,
    checked in or completed), or None when they have none or its treatment has no protocol.
    Phrases are read at `now`: a step under way says "from now"."""
    appointment = (
        appointment_list(client_id=client.pk)
        .filter(status__in=SESSION_STATUSES, starts_at__lte=now)
        .order_by("-starts_at", "-id")
        .first()
    )
    if appointment is None:
        return None
    data = protocol_get_for_treatment(appointment.treatment)
    if not data.steps:
        return None
    location = appointment.location
    tz = location.tz

    def line(item: core.TimelineStep, seen_at: datetime | None) -> AftercareLine:
        return AftercareLine(item.phrase_at(seen_at), item.detail, item.is_restriction, item.source)

    today = core.today(session_start=appointment.starts_at, steps=data.steps, tz=tz, now=now)
    everything = core.timeline(session_start=appointment.starts_at, steps=data.steps, tz=tz)
    # A step that ended earlier today ("no retinoids until 10:00", read at noon) is over.
    post_today = [
        t for t in today if t.kind == core.POST and (t.ends_at is None or t.ends_at > now)
    ]
    return AftercareToday(
        appointment=appointment,
        treatment=appointment.treatment.name,
        session_when=core.describe_appointment(appointment.starts_at, tz, location.time_zone),
        zone=location.time_zone,
        avoid=tuple(line(t, now) for t in post_today if t.is_restriction),
        allowed=tuple(line(t, now) for t in post_today if not t.is_restriction),
        # Printed and kept: dates, never "from now".
        timeline=tuple(line(t, None) for t in everything),
        general_advice=data.general_advice,
    )


# --- personal calendar feeds -------------------------------------------------------------------

FEED_TOKEN_BYTES = 32  # 256 random bits, URL-safe: the token is the only credential
FEED_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43,64}")
# How far back a feed reaches: recent history for the owner's calendar, not the whole record.
FEED_HISTORY = timedelta(days=90)


def calendar_feed_get(*, client: Any = None, specialist: Any = None) -> CalendarFeed | None:
    """The owner's live feed, if they have one."""
    owner = {"client": client} if client is not None else {"specialist": specialist}
    return CalendarFeed.objects.filter(**owner, revoked_at__isnull=True).first()


def calendar_feed_url(feed: CalendarFeed) -> str:
    return f"{settings.DAISY_PUBLIC_URL}/calendar/{feed.token}.ics"


def calendar_feed_ics(*, token: str, now: datetime) -> str:
    """The iCalendar text of a live feed; NotFound for a token that is unknown or revoked."""
    # Only what calendar_feed_issue makes reaches the database (PostgreSQL refuses NUL bytes).
    feed = (
        CalendarFeed.objects.select_related("client", "specialist")
        .filter(token=token, revoked_at__isnull=True)
        .first()
        if FEED_TOKEN_SHAPE.fullmatch(token or "")
        else None
    )
    if feed is None:
        raise NotFound("There is no calendar here.", code="calendar_feed_unknown")
    appointments = appointment_list(
        client_id=feed.client_id, specialist_id=feed.specialist_id
    ).filter(status__in=SESSION_STATUSES, starts_at__gte=now - FEED_HISTORY)
    if feed.client_id is not None:
        name = f"{feed.client.first_name}: {settings.DAISY_CLINIC_NAME}"
        return ics.feed_ics(appointments=appointments, now=now, name=name, for_specialist=False)
    name = f"{feed.specialist.name}: {settings.DAISY_CLINIC_NAME}"
    return ics.feed_ics(appointments=appointments, now=now, name=name, for_specialist=True)


# Emergency numbers by the location's country (ISO 3166), for "call emergency services now"
# (DOMAIN.md 5.1 row "Topical anaesthetic toxicity"). 112 works across the EU and on most
# mobile networks elsewhere.
EMERGENCY_NUMBERS = {"GB": "999", "IE": "112", "US": "911", "CA": "911", "AU": "000", "NZ": "111"}


# The out-of-hours medical advice line by country, for a red flag while the clinic is closed;
# a location's own fields (clinic.Location.out_of_hours_*) come first.
OUT_OF_HOURS_LINES = {"GB": ("NHS 111", "111")}


def emergency_number(country: str) -> str:
    return EMERGENCY_NUMBERS.get((country or "").upper(), "112")


@dataclass(frozen=True)
class UrgentContacts:
    """Whom a client with a warning sign can call at one moment: the clinic while it is open
    (else when it opens again, worded with its date), the out-of-hours line while it is closed,
    and the emergency number. Phone numbers as the clinic wrote them; templates turn them into
    `tel:` links (daisy_phone)."""

    clinic_phone: str
    is_open: bool
    opens_again: str  # "Monday 8 March, 09:00 GMT"; empty while open or not within 2 weeks
    closes_at: str  # "17:30" while open, else empty
    out_of_hours_name: str
    out_of_hours_phone: str
    emergency_number: str


def urgent_numbers(location: Any) -> tuple[str, str, str]:
    """(out-of-hours name, its phone, emergency number) for a location: its own, else its
    country's (OUT_OF_HOURS_LINES, EMERGENCY_NUMBERS)."""
    country = (location.country or "").upper()
    name = (location.out_of_hours_name or "").strip()
    phone = (location.out_of_hours_phone or "").strip()
    if not name and not phone:
        name, phone = OUT_OF_HOURS_LINES.get(country, ("", ""))
    emergency = (location.emergency_number or "").strip() or emergency_number(country)
    return name or phone, phone, emergency


def urgent_contacts(location: Any, now: datetime) -> UrgentContacts:
    opening = location_opening_at(location, now)
    tz = location.tz
    name, phone, emergency = urgent_numbers(location)
    return UrgentContacts(
        clinic_phone=location.phone or "",
        is_open=opening.is_open and bool(location.phone),
        opens_again=(
            core.describe(opening.opens_at, session=now.astimezone(tz))
            if opening.opens_at is not None
            else ""
        ),
        closes_at=(
            f"{opening.closes_at.astimezone(tz):%H:%M}" if opening.closes_at is not None else ""
        ),
        out_of_hours_name=name,
        out_of_hours_phone=phone,
        emergency_number=emergency,
    )


# --- "add to calendar" links -------------------------------------------------------------------

CALENDAR_FILE_SALT = "daisy.calendar-file"
# A link in a confirmation keeps working for a year: long after the session it has no use.
CALENDAR_FILE_MAX_AGE = timedelta(days=400)


def calendar_file_path(*, appointment: Any = None, course_id: Any = None) -> str:
    """The path of an .ics file with one appointment, or every session of a course: the "Add
    to calendar" link on the done pages (and, as calendar_file_link, in confirmations). Signed,
    so it needs no login and cannot be pointed at someone else's booking; it names no person."""
    if (appointment is None) == (course_id is None):
        raise ValueError("an appointment or a course")
    payload = {"a": str(appointment.pk)} if appointment is not None else {"c": str(course_id)}
    token = signing.dumps(payload, salt=CALENDAR_FILE_SALT)
    return f"/calendar/file/{token}.ics"


def calendar_file_link(*, appointment: Any = None, course_id: Any = None) -> str:
    """calendar_file_path as a full address, for messages."""
    path = calendar_file_path(appointment=appointment, course_id=course_id)
    return f"{settings.DAISY_PUBLIC_URL}{path}"


def calendar_file_ics(*, token: str, now: datetime) -> str:
    """The .ics behind a calendar_file_link, as the booking stands now (a cancelled session is
    marked cancelled); NotFound for a token that is forged, expired or points at nothing."""
    gone = NotFound("There is no calendar file here.", code="calendar_file_unknown")
    try:
        payload = signing.loads(token, salt=CALENDAR_FILE_SALT, max_age=CALENDAR_FILE_MAX_AGE)
    except signing.BadSignature:
        raise gone from None
    if not isinstance(payload, dict):
        raise gone
    rows = Appointment.objects.select_related("treatment", "location").order_by("starts_at")
    try:
        if "a" in payload:
            appointments = list(rows.filter(pk=payload["a"]))
        else:
            appointments = list(
                rows.filter(course_session__plan_id=payload.get("c")).exclude(
                    status__in=["cancelled"]
                )
            )
    except (ValueError, ValidationError):
        raise gone from None
    if not appointments:
        raise gone
    if len(appointments) == 1 and "a" in payload:
        appt = appointments[0]
        return ics.appointment_ics(
            appointment=appt,
            sequence=appt.messages_version,
            now=now,
            cancelled=appt.status == "cancelled",
        )
    return ics.appointments_ics(appointments=appointments, now=now)
