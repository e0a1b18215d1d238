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
  `/check-in/<token>` URL.

All but the confirmation move out of the location's quiet hours (DAISY_QUIET_HOURS), are skipped
when already due before they could matter, and expire when they stop being useful (a reminder at
the start of the appointment), so a worker outage never delivers stale advice late."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import phonenumbers
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from daisy.aftercare import ics
from daisy.aftercare.models import Protocol, ProtocolStep
from daisy.aftercare.presets import PRESETS
from daisy.aftercare.selectors import ProtocolData, protocol_get_for_treatment
from daisy.core import aftercare as core
from daisy.core.quiet_hours import quiet_hours_shift
from daisy.notifications.models import Message
from daisy.notifications.rendering import attachment_spec
from daisy.notifications.services import MessageSpec, message_cancel_for, message_schedule_many
from daisy.treatments.models import Treatment

logger = logging.getLogger("daisy.aftercare")

CHECKIN_SALT = "daisy.checkin"
EMAIL, SMS = "email", "sms"
T_CONFIRMED = "appointment/confirmed"
T_REMINDER = "appointment/reminder"
T_CANCELLED = "appointment/cancelled"
T_STEP = "aftercare/step"
T_CHECKIN = "aftercare/checkin"
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


def checkin_link(appointment: Any, kind: str) -> str:
    """The absolute URL of the check-in form for one appointment and one check-in ("24h",
    "72h"...). Signed (TimestampSigner, salt "daisy.checkin"), so it needs no login and cannot
    be forged or pointed at another appointment; `checkin_token_read` checks it."""
    token = signing.TimestampSigner(salt=CHECKIN_SALT).sign_object(
        {"a": str(appointment.pk), "k": kind}
    )
    return f"{settings.DAISY_PUBLIC_URL}/check-in/{token}"


def checkin_token_read(token: str, *, max_age: timedelta | None = None) -> tuple[str, str]:
    """(appointment id, check-in kind) from a check-in token; raises signing.BadSignature
    (signing.SignatureExpired when older than `max_age`)."""
    age = max_age or timedelta(days=settings.DAISY_CHECKIN_LINK_MAX_AGE_DAYS)
    value = signing.TimestampSigner(salt=CHECKIN_SALT).unsign_object(token, max_age=age)
    return str(value["a"]), str(value["k"])


# --- messages for one appointment -------------------------------------------------------------


def _about(appointment: Any) -> str:
    return f"appointment:{appointment.pk}"


def _quiet_hours() -> tuple[time, time]:
    start, _, end = settings.DAISY_QUIET_HOURS.partition("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


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

    @property
    def starts_at(self) -> datetime:
        return self.appointment.starts_at  # type: ignore[no-any-return]

    def key(self, name: str) -> str:
        return f"{_about(self.appointment)}:v{self.version}:{name}"

    def out_of_quiet_hours(self, moment: datetime) -> datetime:
        return quiet_hours_shift(moment, self.tz, *self.quiet)

    def spec(self, channel: str, template: str, name: str, **kw: Any) -> MessageSpec:
        recipient = self.email if channel == EMAIL else self.phone
        assert recipient is not None
        return MessageSpec(
            channel=channel,
            recipient=recipient,
            template=template,
            dedupe_key=self.key(name),
            about=_about(self.appointment),
            client=self.appointment.client,
            **kw,
        )


def _plan(appointment: Any, *, now: datetime, version: int) -> _Plan:
    client = appointment.client
    protocol = protocol_get_for_treatment(appointment.treatment)
    tz = appointment.location.tz
    return _Plan(
        appointment=appointment,
        version=version,
        now=now,
        tz=tz,
        protocol=protocol,
        email=_email_of(client),
        phone=_phone_of(client),
        quiet=_quiet_hours(),
        timeline=core.timeline(session_start=appointment.starts_at, steps=protocol.steps, tz=tz),
    )


def _context(plan: _Plan) -> dict[str, Any]:
    appt = plan.appointment
    location = appt.location
    return {
        "name": appt.client.first_name,
        "treatment": appt.treatment.name,
        "location": location.name,
        "address": location.address,
        "location_phone": location.phone,
        "when": core.describe_appointment(appt.starts_at, plan.tz, location.time_zone),
        "zone": location.time_zone,
    }


def _lines(items: Sequence[core.TimelineStep], seen_at: datetime) -> list[dict[str, str]]:
    return [{"text": t.phrase_at(seen_at), "detail": t.detail} for t in items]


def _ics_attachment(plan: _Plan, *, cancelled: bool = False) -> dict[str, str]:
    content = ics.appointment_ics(
        appointment=plan.appointment, sequence=plan.version, now=plan.now, cancelled=cancelled
    )
    return attachment_spec(filename=ics.FILENAME, content_type=ics.CONTENT_TYPE, content=content)


def _confirmation(plan: _Plan, previous_starts_at: datetime | None) -> MessageSpec:
    steps = plan.timeline
    context = {
        **_context(plan),
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
    return plan.spec(
        EMAIL,
        T_CONFIRMED,
        "confirmed",
        context=context,
        send_after=plan.now,
        # A confirmation that could only arrive after the appointment has no use.
        expires_at=plan.starts_at,
        attachments=[_ics_attachment(plan)],
    )


def _reminders(plan: _Plan) -> list[MessageSpec]:
    out: list[MessageSpec] = []
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
            "days_ahead": days_ahead,
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
        if plan.phone and hours in sms_hours:
            out.append(plan.spec(SMS, T_REMINDER, f"reminder-{hours}h-sms", **common))
    return out


def _step_messages(plan: _Plan) -> list[MessageSpec]:
    out: list[MessageSpec] = []
    if not plan.email:
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
        out.append(
            plan.spec(
                EMAIL,
                T_STEP,
                f"step-{n}",
                context=context,
                send_after=due,
                expires_at=useful_until,
            )
        )
    return out


def _checkins(plan: _Plan) -> list[MessageSpec]:
    out: list[MessageSpec] = []
    if not plan.email:
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
        out.append(
            plan.spec(
                EMAIL,
                T_CHECKIN,
                f"checkin-{kind}",
                context=context,
                send_after=due,
                expires_at=due + CHECKIN_USEFUL_FOR,
            )
        )
    return out


def appointment_messages_schedule(
    *,
    appointment: Any,
    now: datetime,
    version: int,
    previous_starts_at: datetime | None = None,
) -> list[Message]:
    """Schedule every message of one appointment at `version` (see the module docstring). Call
    inside the transaction that books or moves it; `previous_starts_at` makes the confirmation
    say the appointment moved."""
    plan = _plan(appointment, now=now, version=version)
    specs: list[MessageSpec] = []
    if plan.email:
        specs.append(_confirmation(plan, previous_starts_at))
    specs += _reminders(plan)
    specs += _step_messages(plan)
    specs += _checkins(plan)
    if not specs:
        return []
    return message_schedule_many(messages=specs, now=now)


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
    if not plan.email or plan.starts_at <= now:
        return []
    context = {**_context(plan), "late": bool(appointment.is_late_cancellation)}
    spec = plan.spec(
        EMAIL,
        T_CANCELLED,
        "cancelled",
        context=context,
        send_after=now,
        expires_at=plan.starts_at,
        attachments=[_ics_attachment(plan, cancelled=True)],
    )
    return message_schedule_many(messages=[spec], now=now)
