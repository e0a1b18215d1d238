"""Writes for aftercare: installing the preset protocols, and the messages an appointment causes.

The booking services call `appointment_messages_schedule` / `appointment_messages_cancel` inside
their own durable transaction (DESIGN.md 5), so a rolled-back booking leaves no message and a
reschedule replaces the pending ones atomically. Every message of one appointment is "about"
`appointment:<id>` and carries the appointment's `messages_version` in its dedupe key; the old
version's messages are cancelled before the new ones are made.

What one booking schedules (times in the location's zone; see daisy/core/aftercare.py for how
an offset becomes a local time):

- the confirmation email, now, with the pre-care and aftercare timeline and an .ics event;
- reminders DAISY_REMINDER_HOURS before (email; SMS too for DAISY_SMS_REMINDER_HOURS when the
  client has a phone number). "24 h before" means the same local clock time the day before,
  which is what a client expects, also when the clocks change in between;
- one email per protocol step marked `notify`, when it begins;
- check-ins at the protocol's check-in hours (micro-needling: DOMAIN.md 5.2), linking to a signed
  `/check-in/<token>` URL that works from the session until some days after its check-in is due
  (daisy/core/checkins.py checkin_window), whenever the session was booked.

The later reviews (1, 3 and 6 months) are not made here but when they are due
(`checkin_reviews_schedule`, from aftercare.followups), because a later session may replace them.

All but the confirmation move out of the location's quiet hours (clinic.Location; text messages,
the confirmation too), are skipped
when already due before they could matter, and expire when they stop being useful (a reminder at
the start of the appointment), so a worker outage never delivers stale advice late."""

from __future__ import annotations

import dataclasses
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import phonenumbers
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse

from daisy.aftercare import ics
from daisy.aftercare.models import (
    Alert,
    CalendarFeed,
    CheckIn,
    PrecareConfirmation,
    Protocol,
    ProtocolStep,
)
from daisy.aftercare.presets import PRESETS
from daisy.aftercare.selectors import (
    CHECKIN_SALT,
    FEED_TOKEN_BYTES,
    ProtocolData,
    calendar_file_link,
    checkin_target_get,
    precare_steps_too_soon,
    protocol_get_for_treatment,
    urgent_contacts,
    urgent_numbers,
)
from daisy.audit.services import audit_record
from daisy.clients.accounts import client_manage_link
from daisy.clients.services import client_hold_clear, client_hold_place
from daisy.core import aftercare as core
from daisy.core import checkins as checkins_core
from daisy.core.quiet_hours import quiet_hours_shift
from daisy.lib.errors import PermissionDenied, PolicyViolation, ValidationFailed
from daisy.notifications.models import Message
from daisy.notifications.rendering import attachment_spec
from daisy.notifications.services import MessageSpec, message_cancel_for, message_schedule_many
from daisy.records.selectors import rescreen_link
from daisy.scheduling.selectors import appointment_list
from daisy.treatments.models import Treatment

logger = logging.getLogger("daisy.aftercare")

EMAIL, SMS = "email", "sms"
T_CONFIRMED = "appointment/confirmed"
T_REMINDER = "appointment/reminder"
T_CANCELLED = "appointment/cancelled"
T_STEP = "aftercare/step"
T_CHECKIN = "aftercare/checkin"
T_REVIEW = "aftercare/review"
# How long a message stays worth sending when nothing else bounds it.
STEP_MESSAGE_USEFUL_FOR = timedelta(days=1)
CHECKIN_USEFUL_FOR = timedelta(days=2)


# --- protocols --------------------------------------------------------------------------------


@transaction.atomic
def protocol_presets_install() -> list[Protocol]:
    """Give each preset treatment that has no protocol yet its preset one. Protocols that exist
    are left as the clinic edited them."""
    treatments = {
        t.slug: t
        for t in Treatment.objects.filter(slug__in=[p.treatment_slug for p in PRESETS]).exclude(
            aftercare_protocol__isnull=False
        )
    }
    created = []
    for preset in PRESETS:
        treatment = treatments.get(preset.treatment_slug)
        if treatment is None:
            continue
        protocol = Protocol.objects.create(
            treatment=treatment,
            recovery_hours=preset.recovery_hours,
            checkin_hours=preset.checkin_hours,
            review_days=preset.review_days,
            general_advice=preset.general_advice,
        )
        ProtocolStep.objects.bulk_create(
            ProtocolStep(
                protocol=protocol,
                kind=s.kind,
                offset_start_minutes=s.start,
                offset_end_minutes=s.end,
                title=s.title,
                detail=s.detail,
                is_restriction=s.is_restriction,
                notify=s.notify,
                source=s.source,
            )
            for s in preset.steps
        )
        created.append(protocol)
    return created


# --- check-in links ---------------------------------------------------------------------------


def precare_confirmations_record(
    *, appointment: Any, confirmed: Sequence[str], by: Any, now: datetime
) -> list[PrecareConfirmation]:
    """Keep, with the appointment, the client's word that they already follow the pre-care
    steps its time leaves too little room for (issue 12). Only those steps are kept: a
    confirmation of a step there was time for says nothing."""
    if not confirmed:
        return []
    late = precare_steps_too_soon(
        treatment=appointment.treatment,
        starts_at=appointment.starts_at,
        tz=appointment.location.tz,
        now=now,
    )
    keys = {str(key) for key in confirmed}
    user = by if getattr(by, "pk", None) is not None else None
    rows = [
        PrecareConfirmation(
            appointment=appointment,
            step_id=int(item.step.key),
            title=item.title,
            step_started_at=item.starts_at,
            confirmed_at=now,
            confirmed_by=user,
        )
        for item in late
        if item.step.key in keys
    ]
    return PrecareConfirmation.objects.bulk_create(rows)


def checkin_link(appointment: Any, kind: str) -> str:
    """The absolute URL of the check-in form for one appointment and one check-in ("24h",
    "72h", "30d"...). Signed (TimestampSigner, salt "daisy.checkin"), so it needs no login and
    cannot be forged or pointed at another appointment; `checkin_target_get` checks it, and opens
    it from the start of the session until DAISY_CHECKIN_LINK_MAX_AGE_DAYS after the check-in
    is due, however long before the session it was made."""
    token = signing.TimestampSigner(salt=CHECKIN_SALT).sign_object(
        {"a": str(appointment.pk), "k": kind}
    )
    return f"{settings.DAISY_PUBLIC_URL}/check-in/{token}"


# --- messages for one appointment -------------------------------------------------------------


def _about(appointment: Any) -> str:
    return f"appointment:{appointment.pk}"


def _quiet_hours(location: Any) -> tuple[time, time]:
    """The location's quiet hours (clinic.Location), in its own wall-clock time."""
    return location.quiet_hours_start, location.quiet_hours_end


def _email_of(client: Any) -> str | None:
    try:
        validate_email(client.email or "")
    except ValidationError:
        if client.email:
            logger.warning("client %s: email address is not usable; no email sent", client.pk)
        return None
    return str(client.email)


def _phone_of(client: Any) -> str | None:
    """The client's phone for SMS, or None. A number the SMS channel would refuse must not stop
    a booking: it is skipped (and logged) instead."""
    if not client.phone:
        return None
    try:
        number = phonenumbers.parse(client.phone, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        logger.warning("client %s: phone number is not usable for SMS", client.pk)
        return None
    return str(client.phone)


@dataclass(frozen=True)
class _Plan:
    """Everything the messages of one appointment version share."""

    appointment: Any
    version: int
    now: datetime
    tz: Any
    protocol: ProtocolData
    email: str | None
    phone: str | None
    quiet: tuple[time, time]
    timeline: list[core.TimelineStep]  # dated once; worded per message (phrase_at)
    # SMS carries every service message, not only reminders: the client chose SMS alone, or
    # has no usable email address (service messages always go by at least one channel).
    sms_all: bool = False

    @property
    def starts_at(self) -> datetime:
        return self.appointment.starts_at  # type: ignore[no-any-return]

    def key(self, name: str) -> str:
        return f"{_about(self.appointment)}:v{self.version}:{name}"

    def out_of_quiet_hours(self, moment: datetime) -> datetime:
        return quiet_hours_shift(moment, self.tz, *self.quiet)

    def channels(self) -> list[str]:
        """The channels that carry every service message to this client."""
        out = [EMAIL] if self.email else []
        return [*out, SMS] if self.sms_all else out

    def spec(self, channel: str, template: str, name: str, **kw: Any) -> MessageSpec | None:
        """One message of this appointment; None for a text message that the location's quiet
        hours would delay past the point where it is useful."""
        recipient = self.email if channel == EMAIL else self.phone
        assert recipient is not None
        if channel == SMS:
            # No text message buzzes a phone in the location's quiet hours, whatever it is.
            kw["send_after"] = self.out_of_quiet_hours(kw["send_after"])
            if kw.get("expires_at") is not None and kw["expires_at"] <= kw["send_after"]:
                return None
            kw.pop("attachments", None)
            if not name.endswith("-sms"):
                name += "-sms"
        return MessageSpec(
            channel=channel,
            recipient=recipient,
            template=template,
            dedupe_key=self.key(name),
            about=_about(self.appointment),
            client=self.appointment.client,
            **kw,
        )


def contact_routes(client: Any) -> tuple[str | None, str | None, bool]:
    """(email, phone, sms_all): where the client's service messages go, honouring their choice
    (clients.Client.contact_channel). SMS goes only to a usable phone and only when the client
    chose SMS (alone or with email); `sms_all` when SMS carries everything. When the chosen
    channel cannot be used, the other carries the service messages (email for an SMS-only
    client without a usable phone; SMS for a "both" client without a usable email), so a
    client who can be reached at all is never left without their check-ins."""
    choice = getattr(client, "contact_channel", "both")
    email, phone = _email_of(client), _phone_of(client)
    if choice == "email":
        return email, None, False
    if choice == "sms":
        return (None, phone, True) if phone else (email, None, False)
    return email, phone, email is None and phone is not None


def _plan(appointment: Any, *, now: datetime, version: int) -> _Plan:
    client = appointment.client
    protocol = protocol_get_for_treatment(appointment.treatment)
    location = appointment.location
    tz = location.tz
    email, phone, sms_all = contact_routes(client)
    return _Plan(
        appointment=appointment,
        version=version,
        now=now,
        tz=tz,
        protocol=protocol,
        email=email,
        phone=phone,
        quiet=_quiet_hours(location),
        timeline=core.timeline(session_start=appointment.starts_at, steps=protocol.steps, tz=tz),
        sms_all=sms_all,
    )


def _context(plan: _Plan) -> dict[str, Any]:
    appt = plan.appointment
    location = appt.location
    out_of_hours_name, out_of_hours_phone, emergency = urgent_numbers(location)
    return {
        "name": appt.client.first_name,
        "treatment": appt.treatment.name,
        "location": location.name,
        "address": location.address,
        "location_phone": location.phone,
        "when": core.describe_appointment(appt.starts_at, plan.tz, location.time_zone),
        "zone": location.time_zone,
        # Who treats the client (issue 12: a move that changed the specialist said nothing).
        "specialist": appt.specialist.name if appt.specialist_id else "",
        # Where a warning sign goes while the clinic is closed, and emergencies (per location).
        "out_of_hours_name": out_of_hours_name,
        "out_of_hours_phone": out_of_hours_phone,
        "emergency_number": emergency,
    }


def _lines(items: Sequence[core.TimelineStep], seen_at: datetime) -> list[dict[str, str]]:
    return [{"text": t.phrase_at(seen_at), "detail": t.detail} for t in items]


def _ics_attachment(plan: _Plan, *, cancelled: bool = False) -> dict[str, str]:
    content = ics.appointment_ics(
        appointment=plan.appointment, sequence=plan.version, now=plan.now, cancelled=cancelled
    )
    return attachment_spec(filename=ics.FILENAME, content_type=ics.CONTENT_TYPE, content=content)


def _portal_path(appointment: Any) -> str:
    return reverse("portal:appointment-detail", args=[appointment.pk])


def _change_terms(appointment: Any, tz: Any, seen_at: datetime) -> dict[str, Any]:
    """Until when this booking can be moved or cancelled online, in absolute terms, as read at
    `seen_at` ("until Saturday 5 January, 10:00 GMT (48 hours before)")."""
    deadline = appointment.starts_at - appointment.treatment.cancellation_window
    local_start = appointment.starts_at.astimezone(tz)
    return {
        "change_until": core.describe(deadline, session=local_start),
        "change_hours": appointment.treatment.cancellation_window_hours,
        "change_online": seen_at < deadline,
    }


def _links(plan: _Plan, *, one_time: bool) -> dict[str, Any]:
    """ "Manage your booking" and "Add to calendar" for a message of this appointment. Only the
    confirmation carries a one-time sign-in link (for a guest without a password); later
    messages link to the page, where a guest asks for a sign-in link."""
    appt = plan.appointment
    user = getattr(appt.client, "user", None)
    if one_time:
        manage = client_manage_link(
            user=user, path=_portal_path(appt), until=appt.starts_at, now=plan.now
        )
        url, is_one_time = manage.url, manage.is_one_time
    else:
        has_login = user is not None and user.is_active
        url = f"{settings.DAISY_PUBLIC_URL}{_portal_path(appt)}" if has_login else ""
        is_one_time = False
    return {
        "manage_url": url,
        "manage_one_time": is_one_time,
        "has_password": bool(user is not None and user.has_usable_password()),
        "calendar_url": calendar_file_link(appointment=appt),
    }


def _confirmation(plan: _Plan, previous_starts_at: datetime | None) -> list[MessageSpec | None]:
    if plan.starts_at <= plan.now:
        # A walk-in booked at the desk for right now: they are standing there, and a
        # confirmation could only arrive after the start (issue 13). Aftercare still follows.
        return []
    steps = plan.timeline
    context = {
        **_context(plan),
        **_links(plan, one_time=True),
        **_change_terms(plan.appointment, plan.tz, plan.now),
        "ics_attached": True,
        "changed": previous_starts_at is not None,
        "previous_when": (
            core.describe_appointment(
                previous_starts_at, plan.tz, plan.appointment.location.time_zone
            )
            if previous_starts_at is not None
            else ""
        ),
        "pre_care": _lines([t for t in steps if t.kind == core.PRE], plan.now),
        "aftercare": _lines([t for t in steps if t.kind == core.POST], plan.now),
        "general_advice": plan.protocol.general_advice,
    }
    return [
        plan.spec(
            channel,
            T_CONFIRMED,
            "confirmed",
            context=context,
            send_after=plan.now,
            # A confirmation that could only arrive after the appointment has no use.
            expires_at=plan.starts_at,
            attachments=[_ics_attachment(plan)] if channel == EMAIL else (),
        )
        for channel in plan.channels()
    ]


def _reminders(plan: _Plan) -> list[MessageSpec | None]:
    out: list[MessageSpec | None] = []
    sms_hours = set(settings.DAISY_SMS_REMINDER_HOURS)
    for hours in sorted(set(settings.DAISY_REMINDER_HOURS), reverse=True):
        due = plan.out_of_quiet_hours(
            core.shift_local(plan.starts_at, -timedelta(hours=hours), plan.tz)
        )
        if due <= plan.now or due >= plan.starts_at:
            continue  # booked too late for this one (the confirmation says it all), or pointless
        days_ahead = (
            plan.starts_at.astimezone(plan.tz).date() - due.astimezone(plan.tz).date()
        ).days
        context = {
            **_context(plan),
            **_links(plan, one_time=False),
            **_change_terms(plan.appointment, plan.tz, due),
            "days_ahead": days_ahead,
            # The health questions for this session (issue 14: re-screen before every
            # session), answered from the message without signing in.
            "rescreen_url": (
                rescreen_link(plan.appointment)
                if plan.appointment.treatment.requires_screening
                else ""
            ),
            "pre_care": _lines(
                [
                    t
                    for t in plan.timeline
                    if t.kind == core.PRE and (t.ends_at is None or t.ends_at > due)
                ],
                due,
            ),
        }
        common = {"context": context, "send_after": due, "expires_at": plan.starts_at}
        if plan.email:
            out.append(plan.spec(EMAIL, T_REMINDER, f"reminder-{hours}h-email", **common))
        if plan.phone and (hours in sms_hours or plan.sms_all):
            out.append(plan.spec(SMS, T_REMINDER, f"reminder-{hours}h-sms", **common))
    return out


def _step_messages(plan: _Plan) -> list[MessageSpec | None]:
    out: list[MessageSpec | None] = []
    channels = plan.channels()
    if not channels:
        return out
    for n, item in enumerate(plan.timeline):
        if not item.notify:
            continue
        due = plan.out_of_quiet_hours(item.starts_at)
        if item.kind == core.PRE:
            useful_until = (
                plan.starts_at if item.ends_at is None else min(item.ends_at, plan.starts_at)
            )
        else:
            useful_until = item.ends_at or due + STEP_MESSAGE_USEFUL_FOR
        if due <= plan.now or due >= useful_until:
            continue
        # Worded as read when it arrives: the step itself begins "now".
        text = item.phrase_at(due)
        in_force = [
            t.phrase_at(due)
            for t in plan.timeline
            if t is not item and t.is_restriction and t.kind == item.kind and t.is_in_force(due)
        ]
        context = {
            **_context(plan),
            "kind": item.kind,
            "title": item.title,
            "text": text,
            "detail": item.detail,
            "in_force": in_force,
        }
        out += [
            plan.spec(
                channel,
                T_STEP,
                f"step-{n}",
                context=context,
                send_after=due,
                expires_at=useful_until,
            )
            for channel in channels
        ]
    return out


def _checkins(plan: _Plan) -> list[MessageSpec | None]:
    out: list[MessageSpec | None] = []
    channels = plan.channels()
    if not channels:
        return out
    for hours in plan.protocol.checkin_hours:
        kind = f"{hours}h"
        due = plan.out_of_quiet_hours(
            core.shift_local(plan.starts_at, timedelta(hours=hours), plan.tz)
        )
        if due <= plan.now:
            continue
        context = {
            **_context(plan),
            "days_since": max(1, hours // 24),
            "link": checkin_link(plan.appointment, kind),
        }
        out += [
            plan.spec(
                channel,
                T_CHECKIN,
                f"checkin-{kind}",
                context=context,
                send_after=due,
                expires_at=due + CHECKIN_USEFUL_FOR,
            )
            for channel in channels
        ]
    return out


def checkin_reviews_schedule(
    *, appointment: Any, reviews: Sequence[tuple[str, datetime]], now: datetime
) -> list[Message]:
    """The later review check-ins of one session (DOMAIN.md 5.2 rows +1 month, +3 and +6
    months): `reviews` is [(kind, due)] from daisy/core/checkins.py reviews_due. Made when they
    are due (aftercare.followups sweeps for them), not at booking: whether a later session came
    first is known only then. Each is made once per appointment version (its dedupe key)."""
    plan = _plan(appointment, now=now, version=appointment.messages_version)
    specs: list[MessageSpec | None] = []
    for kind, due in reviews:
        days = checkins_core.checkin_offset(kind).days
        follow_up = checkins_core.follow_up(kind)
        send_after = plan.out_of_quiet_hours(max(due, now))
        context = {
            **_context(plan),
            "days_since": days,
            # 30 -> 1, 91 -> 3, 182 -> 6: "about 3 months since"; 0 below four weeks.
            "months_since": days // 30 if days >= 28 else 0,
            "link": checkin_link(appointment, kind),
            "maintenance": bool(follow_up and follow_up.offers_maintenance),
            "book_url": settings.DAISY_PUBLIC_URL + "/",
        }
        specs += [
            plan.spec(
                channel,
                T_REVIEW,
                f"review-{kind}",
                context=context,
                send_after=send_after,
                expires_at=send_after + CHECKIN_USEFUL_FOR,
            )
            for channel in plan.channels()
        ]
    ready = [spec for spec in specs if spec is not None]
    return message_schedule_many(messages=ready, now=now) if ready else []


def appointment_messages_schedule(
    *,
    appointment: Any,
    now: datetime,
    version: int,
    previous_starts_at: datetime | None = None,
    confirmation: bool = True,
) -> list[Message]:
    """Schedule every message of one appointment at `version` (see the module docstring). Call
    inside the transaction that books or moves it; `previous_starts_at` makes the confirmation
    say the appointment moved. `confirmation=False` leaves the confirmation out: a course
    booking confirms all its sessions in one summary (`course_confirmation_schedule`)."""
    plan = _plan(appointment, now=now, version=version)
    made = _confirmation(plan, previous_starts_at) if confirmation else []
    made += _reminders(plan)
    made += _step_messages(plan)
    made += _checkins(plan)
    specs = [spec for spec in made if spec is not None]
    if not specs:
        return []
    return message_schedule_many(messages=specs, now=now)


T_COURSE_CONFIRMED = "course/confirmed"


def course_confirmation_schedule(
    *, appointments: Sequence[Any], now: datetime, course_id: Any = None
) -> list[Message]:
    """ONE confirmation for a course booked at once: every session's date, the first session's
    pre-care and aftercare, the manage link (the course's page) and one calendar file with every
    session, instead of one confirmation per session arriving together and out of order.

    Call it in the transaction that books the sessions, after their messages are scheduled.
    Per-session confirmations already made (appointment_messages_schedule without
    `confirmation=False`) are cancelled here, before any could go out; each session keeps its
    own reminders, steps and check-ins."""
    booked = sorted(appointments, key=lambda a: a.starts_at)
    if not booked:
        return []
    for appointment in booked:
        message_cancel_for(about=_about(appointment), now=now, kinds=[T_CONFIRMED])
    first, last = booked[0], booked[-1]
    plan = _plan(first, now=now, version=first.messages_version)
    if not plan.channels():
        return []
    user = getattr(first.client, "user", None)
    path = (
        reverse("portal:course-detail", args=[course_id])
        if course_id is not None
        else reverse("portal:home")
    )
    manage = client_manage_link(user=user, path=path, until=last.starts_at, now=now)
    sessions = []
    for number, appointment in enumerate(booked, start=1):
        specialist = getattr(appointment, "specialist", None)
        sessions.append(
            {
                "number": number,
                "when": core.describe_appointment(appointment.starts_at, plan.tz),
                "specialist": getattr(specialist, "name", "") if specialist else "",
                **_change_terms(appointment, plan.tz, now),
            }
        )
    steps = plan.timeline
    context = {
        **_context(plan),
        **_change_terms(first, plan.tz, now),
        "manage_url": manage.url,
        "manage_one_time": manage.is_one_time,
        "has_password": bool(user is not None and user.has_usable_password()),
        "calendar_url": (
            calendar_file_link(course_id=course_id)
            if course_id is not None
            else calendar_file_link(appointment=first)
        ),
        "ics_attached": True,
        "count": len(booked),
        "sessions": sessions,
        "first_when": sessions[0]["when"],
        "last_when": sessions[-1]["when"],
        "pre_care": _lines([t for t in steps if t.kind == core.PRE], now),
        "aftercare": _lines([t for t in steps if t.kind == core.POST], now),
        "general_advice": plan.protocol.general_advice,
    }
    content = ics.appointments_ics(appointments=booked, now=now)
    attachment = attachment_spec(
        filename="course.ics", content_type=ics.CONTENT_TYPE, content=content
    )
    # Not "course:<id>": that is the course follow-ups' own (followups.py).
    about = f"course-booking:{course_id}" if course_id is not None else _about(first)
    specs = []
    for channel in plan.channels():
        spec = plan.spec(
            channel,
            T_COURSE_CONFIRMED,
            "course-confirmed",
            context=context,
            send_after=now,
            expires_at=first.starts_at,
            attachments=[attachment] if channel == EMAIL else (),
        )
        if spec is not None:
            key = f"{about}:confirmed:{first.pk}:v{first.messages_version}:{channel}"
            specs.append(dataclasses.replace(spec, about=about, dedupe_key=key))
    return message_schedule_many(messages=specs, now=now) if specs else []


def appointment_messages_cancel(*, appointment: Any, now: datetime) -> int:
    """Cancel every message of the appointment not yet handed to a channel; returns how many.
    Call inside the transaction that moves or cancels it, so the old ones never go out."""
    return message_cancel_for(about=_about(appointment), now=now)


def appointment_cancellation_schedule(
    *, appointment: Any, now: datetime, version: int
) -> list[Message]:
    """The "your appointment is cancelled" email, with the event marked cancelled for the
    client's calendar. Not sent once the appointment's time has passed (staff tidying up the
    diary): the client has nothing left to act on."""
    plan = _plan(appointment, now=now, version=version)
    if not plan.channels() or plan.starts_at <= now:
        return []
    context = {**_context(plan), "late": bool(appointment.is_late_cancellation)}
    specs = [
        plan.spec(
            channel,
            T_CANCELLED,
            "cancelled",
            context=context,
            send_after=now,
            expires_at=plan.starts_at,
            attachments=[_ics_attachment(plan, cancelled=True)] if channel == EMAIL else (),
        )
        for channel in plan.channels()
    ]
    ready = [spec for spec in specs if spec is not None]
    return message_schedule_many(messages=ready, now=now) if ready else []


# --- check-ins and red flags (DOMAIN.md 5.1, 5.2) -----------------------------------------------

T_ALERT = "aftercare/alert"
# What the clinic does about each warning sign, for the staff alert email (the clinical basis
# of each is cited in daisy/core/checkins.py; a reader gets the action, not a document row).
ALERT_ACTION = {
    "toxicity": "emergency protocol: remove the anaesthetic, emergency services",
    "infection": "same-day clinician review",
    "hsv": "same-day prescriber contact (antiviral)",
    "redness_persisting": "clinician review",
    "swelling_persisting": "clinician review",
    "pain_persisting": "clinician review",
    "rash": "clinician review; record the product lots used",
    "papules_persisting": "clinician review; consider a dermatology referral",
    "pih": "clinician review; strict sun protection",
    "tram_tracks": "clinician review; review technique and device",
    "breakouts_persisting": "clinician review",
}
ALERT_SUMMARY = {
    "toxicity": "symptoms of numbing-cream toxicity",
    "infection": "signs of infection",
    "hsv": "blisters or cold sores (possible cold-sore reactivation)",
    "redness_persisting": "redness still present at 7 days or later",
    "swelling_persisting": "swelling still present at 7 days or later",
    "pain_persisting": "pain or tenderness still present at 7 days or later",
    "rash": "an itchy rash or hives (possible contact dermatitis or urticaria: note the products "
    "and lots used)",
    "papules_persisting": "red spots or bumps persisting beyond 2 weeks",
    "pih": "new dark patches",
    "tram_tracks": "lines or track marks on the treated skin",
    "breakouts_persisting": "breakouts or small white bumps still present at 7 days or later",
}


@dataclass(frozen=True)
class CheckInResult:
    checkin: CheckIn
    evaluation: checkins_core.Evaluation
    alert: Alert | None
    replayed: bool  # answered before: the first answers stand


def _evaluation_of(checkin: CheckIn) -> checkins_core.Evaluation:
    answers = checkins_core.Answers(
        redness=checkin.redness,  # type: ignore[arg-type]
        swelling=checkin.swelling,  # type: ignore[arg-type]
        pain=checkin.pain,  # type: ignore[arg-type]
        hot_or_weeping=checkin.hot_or_weeping,
        spots=checkin.spots,
        blisters=checkin.blisters,
        dark_patches=checkin.dark_patches,
        fever=checkin.fever,
        rash=checkin.rash,
        track_marks=checkin.track_marks,
        breakouts=checkin.breakouts,
        toxicity=frozenset(checkin.toxicity or ()),
    )
    appointment = checkin.appointment
    since = checkins_core.since_session(
        session_start=appointment.starts_at,
        moment=checkin.submitted_at,
        tz=appointment.location.tz,
    )
    return checkins_core.red_flags_evaluate(answers, since_session=since)


def checkin_record(*, token: str, answers: dict[str, Any], now: datetime) -> CheckInResult:
    """Record the client's answers to the check-in behind a signed link, evaluate them for red
    flags and, when one matches, raise an alert, all in one transaction: the answers, the
    alert, the clinical hold and the staff emails commit together or not at all.

    `answers`: the cleaned data of aftercare.forms.CheckInForm. Answering twice keeps the first
    answers (a clinical record is not silently rewritten) and returns them, replayed."""
    target = checkin_target_get(token=token, now=now)
    appointment = target.appointment
    fields = {
        "redness": answers["redness"],
        "swelling": answers["swelling"],
        "pain": answers["pain"],
        "hot_or_weeping": bool(answers.get("hot_or_weeping")),
        "spots": bool(answers.get("spots")),
        "blisters": bool(answers.get("blisters")),
        "dark_patches": bool(answers.get("dark_patches")),
        "fever": bool(answers.get("fever")),
        "rash": bool(answers.get("rash")),
        "track_marks": bool(answers.get("track_marks")),
        "breakouts": bool(answers.get("breakouts")),
        "toxicity": sorted(set(answers.get("toxicity") or ())),
        "notes": (answers.get("notes") or "").strip()[:2000],
    }
    try:
        with transaction.atomic():
            checkin = CheckIn(appointment=appointment, kind=target.kind, submitted_at=now, **fields)
            evaluation = _evaluation_of(checkin)
            severity = evaluation.severity
            checkin.severity = severity.code if severity is not None else ""
            checkin.flags = evaluation.codes
            checkin.save(force_insert=True)
            alert = _alert_raise(checkin, evaluation, now=now) if evaluation.is_red_flag else None
            return CheckInResult(checkin, evaluation, alert, replayed=False)
    except IntegrityError:
        # Answered meanwhile (a double click, a second tab): the first answers stand.
        existing = target.existing or CheckIn.objects.select_related("appointment").get(
            appointment=appointment, kind=target.kind
        )
        return CheckInResult(
            existing,
            _evaluation_of(existing),
            Alert.objects.filter(checkin=existing).first(),
            replayed=True,
        )


def _alert_raise(checkin: CheckIn, evaluation: checkins_core.Evaluation, *, now: datetime) -> Alert:
    appointment = checkin.appointment
    client = appointment.client
    summary = "; ".join(ALERT_SUMMARY[code] for code in evaluation.codes)
    severity = evaluation.severity
    assert severity is not None
    alert = Alert.objects.create(
        checkin=checkin,
        appointment=appointment,
        client=client,
        severity=severity.code,
        flags=evaluation.codes,
        summary=summary,
        raised_at=now,
    )
    local = checkin.submitted_at.astimezone(appointment.location.tz)
    client_hold_place(
        client=client,
        reason=f"check-in of {local:%d %b %Y} reported {summary}",
        source=f"alert:{alert.pk}",
        now=now,
    )
    _alert_notify(alert, checkin, evaluation, now=now)
    return alert


def _alert_notify(
    alert: Alert, checkin: CheckIn, evaluation: checkins_core.Evaluation, *, now: datetime
) -> list[Message]:
    """Email the treating specialist and the clinic (the location's address). Staff emails are
    not held by quiet hours: an urgent sign is read when someone is there to read it."""
    appointment = checkin.appointment
    location = appointment.location
    tz = location.tz
    # What the client was told depends on whether the clinic was open when they answered.
    contacts = urgent_contacts(location, checkin.submitted_at)
    upcoming = [
        core.describe_appointment(a.starts_at, tz, location.time_zone)
        for a in appointment_list(client_id=appointment.client_id, status="booked").filter(
            starts_at__gt=now
        )
    ]
    context = {
        "severity": alert.severity,
        "severity_label": str(alert.get_severity_display()),
        "client": appointment.client.full_name,
        "client_phone": appointment.client.phone,
        "client_email": appointment.client.email,
        "treatment": appointment.treatment.name,
        "session": core.describe_appointment(appointment.starts_at, tz, location.time_zone),
        "answered": core.describe_appointment(checkin.submitted_at, tz, location.time_zone),
        "flags": [
            {"summary": ALERT_SUMMARY.get(f.code, f.code), "action": ALERT_ACTION.get(f.code, "")}
            for f in evaluation.flags
        ],
        "notes": checkin.notes,
        "held": upcoming,
        "location": location.name,
        "clinic_open": contacts.is_open,
        "opens_again": contacts.opens_again,
        "out_of_hours_name": contacts.out_of_hours_name,
        "emergency_number": contacts.emergency_number,
        "link": f"{settings.DAISY_PUBLIC_URL}/admin/aftercare/alert/{alert.pk}/change/",
    }
    recipients: dict[str, str] = {}
    specialist = appointment.specialist
    specialist_email = getattr(getattr(specialist, "user", None), "email", "") if specialist else ""
    if specialist_email:
        recipients["specialist"] = specialist_email
    if location.email:
        recipients["clinic"] = location.email
    if not recipients:
        logger.error(
            "alert %s: neither the specialist nor %s has an email address; the alert is only "
            "in the back-office list",
            alert.pk,
            location.name,
        )
        return []
    specs = [
        MessageSpec(
            channel=EMAIL,
            recipient=address,
            template=T_ALERT,
            context=context,
            send_after=now,
            dedupe_key=f"alert:{alert.pk}:{who}",
            about=f"alert:{alert.pk}",
        )
        for who, address in recipients.items()
        # The specialist may also be the clinic's address: one email is enough.
        if who == "specialist" or address != recipients.get("specialist")
    ]
    return message_schedule_many(messages=specs, now=now)


def alert_clear(*, alert: Alert, by: Any, reason: str, now: datetime) -> Alert:
    """A clinician records that they reviewed the client and clears the alert, which lifts the
    hold on the client's next session. Who and why are kept with the alert and in the audit."""
    if not getattr(by, "is_clinician", False):
        raise PermissionDenied("Only a specialist or the clinic manager can clear an alert.")
    reason = (reason or "").strip()
    if not reason:
        msg = "Say what you reviewed and why the client can be treated again."
        raise ValidationFailed(msg, fields={"reason": msg})
    with transaction.atomic():
        locked = Alert.objects.select_for_update().select_related("client").get(pk=alert.pk)
        if locked.cleared_at is not None:
            raise PolicyViolation(
                f"This alert was already cleared by {locked.cleared_by} on "
                f"{locked.cleared_at:%d %b %Y %H:%M} UTC."
            )
        locked.cleared_at, locked.cleared_by, locked.clear_reason = now, by, reason
        locked.save(update_fields=["cleared_at", "cleared_by", "clear_reason"])
        client_hold_clear(
            client=locked.client, source=f"alert:{locked.pk}", by=by, reason=reason, now=now
        )
        audit_record(
            actor=by,
            action="aftercare.alert_clear",
            obj=locked,
            at=now,
            data={"reason": reason, "severity": locked.severity},
        )
    return locked


def aftercare_reassign_client(*, source: Any, target: Any, now: datetime) -> int:
    """Move the red-flag alerts and calendar feeds of client `source` to `target` (a client
    merge; check-ins belong to appointments and move with them); returns how many rows moved.
    A client has at most one live feed: when both have one, the target's stays and the
    source's is revoked (its URL answers 404; the client's calendar app keeps the other)."""
    moved = Alert.objects.filter(client=source).update(client=target)
    if CalendarFeed.objects.filter(client=target, revoked_at__isnull=True).exists():
        CalendarFeed.objects.filter(client=source, revoked_at__isnull=True).update(revoked_at=now)
    moved += CalendarFeed.objects.filter(client=source).update(client=target)
    return moved


# --- personal calendar feeds --------------------------------------------------------------------


def calendar_feed_issue(
    *, by: Any, now: datetime, client: Any = None, specialist: Any = None
) -> CalendarFeed:
    """A new secret feed URL for the client or the specialist; their previous feed, if any, is
    revoked in the same transaction (this is also "rotate")."""
    if (client is None) == (specialist is None):
        raise ValidationFailed("A calendar feed belongs to one client or one specialist.")
    owner = {"client": client} if client is not None else {"specialist": specialist}
    with transaction.atomic():
        CalendarFeed.objects.filter(**owner, revoked_at__isnull=True).update(revoked_at=now)
        feed = CalendarFeed.objects.create(
            token=secrets.token_urlsafe(FEED_TOKEN_BYTES), created_at=now, **owner
        )
        audit_record(
            actor=by,
            action="aftercare.calendar_feed_issue",
            obj=feed,
            at=now,
            data={"owner": "client" if client is not None else "specialist"},
        )
    return feed


def calendar_feed_revoke(*, feed: CalendarFeed, by: Any, now: datetime) -> CalendarFeed:
    """The feed's URL answers 404 from now on. Revoking a revoked feed changes nothing."""
    with transaction.atomic():
        revoked = CalendarFeed.objects.filter(pk=feed.pk, revoked_at__isnull=True).update(
            revoked_at=now
        )
        if revoked:
            audit_record(actor=by, action="aftercare.calendar_feed_revoke", obj=feed, at=now)
    feed.refresh_from_db()
    return feed
