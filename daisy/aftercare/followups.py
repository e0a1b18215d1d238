"""Course follow-ups (issue 6 item 3): a reminder to book the next session of a course, and a
recall when a course lapses. Run as a periodic sweep in `daisy worker` (AftercareConfig's
`periodic_jobs`); idempotent, so any number of workers may run it at once.

For each accepted or in-progress course with sessions left and none booked ahead:

- next-session reminder: from NEXT_SESSION_NOTICE before the ideal date of the next session
  (the last session + the plan's interval, default 28 days: DOMAIN.md 4.2 row Day 28);
- recall: once the latest allowed date (the last session + the plan's maximum interval; DOMAIN.md
  section 0 row 2: "warn above 8 weeks that the course is drifting") has passed.

Each is sent once per "last session" (the dedupe key names it), so a client who books, then
cancels, is reminded again about the new gap. Not sent while a clinical hold is open: the
clinic is already in touch about a red flag, and "book your next session" would contradict it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch

from daisy.aftercare.services import EMAIL, SMS, contact_routes
from daisy.clients.selectors import client_open_hold
from daisy.core import aftercare as core
from daisy.core.quiet_hours import quiet_hours_shift
from daisy.courses.models import Plan, PlanSession, PlanStatus
from daisy.notifications.models import Message
from daisy.notifications.services import MessageSpec, message_schedule_many

logger = logging.getLogger("daisy.aftercare")

T_NEXT = "course/next_session"
T_RECALL = "course/recall"
NEXT_SESSION_NOTICE = timedelta(days=7)
DONE = ("checked_in", "completed")
ACTIVE = (PlanStatus.ACCEPTED, PlanStatus.IN_PROGRESS)


def _plans() -> Any:
    sessions = PlanSession.objects.select_related("appointment", "appointment__location")
    return (
        Plan.objects.filter(status__in=ACTIVE)
        .select_related("client", "treatment", "location")
        .prefetch_related(Prefetch("plan_sessions", queryset=sessions))
    )


def _due(plan: Plan, now: datetime) -> tuple[str, Any, datetime, datetime] | None:
    """(template, last session's appointment, ideal date, latest date) when the course needs a
    follow-up at `now`, else None."""
    appointments = [s.appointment for s in plan.plan_sessions.all()]
    if any(a.status == "booked" and a.starts_at > now for a in appointments):
        return None  # the next session is booked
    done = sorted((a for a in appointments if a.status in DONE), key=lambda a: a.starts_at)
    if not done or len(done) >= plan.sessions:
        return None  # not started (booking is the course's own business), or complete
    last = done[-1]
    tz = last.location.tz
    ideal = core.shift_local(last.starts_at, timedelta(days=plan.interval_days), tz)
    latest = core.shift_local(last.starts_at, timedelta(days=plan.max_interval_days), tz)
    if now >= latest:
        return T_RECALL, last, ideal, latest
    if now >= ideal - NEXT_SESSION_NOTICE:
        return T_NEXT, last, ideal, latest
    return None


def course_followups_schedule(*, now: datetime) -> int:
    """Schedule the follow-ups due at `now`; returns how many messages were made."""
    made = 0
    for plan in _plans():
        due = _due(plan, now)
        if due is None:
            continue
        template, last, ideal, latest = due
        name = "recall" if template == T_RECALL else "next"
        key = f"course:{plan.pk}:after:{last.pk}:{name}"
        if Message.objects.filter(dedupe_key__startswith=key).exists():
            continue  # already sent (or waiting): once per gap
        if client_open_hold(plan.client_id) is not None:
            continue
        specs = _specs(plan, template, key, last, ideal, latest, now)
        if not specs:
            logger.warning("course %s: the client has no usable email or phone", plan.pk)
            continue
        with transaction.atomic():
            made += len(message_schedule_many(messages=specs, now=now))
    return made


def _specs(
    plan: Plan,
    template: str,
    key: str,
    last: Any,
    ideal: datetime,
    latest: datetime,
    now: datetime,
) -> list[MessageSpec]:
    client = plan.client
    location = plan.location or last.location
    tz = location.tz
    done = sum(1 for s in plan.plan_sessions.all() if s.appointment.status in DONE)
    context = {
        "name": client.first_name,
        "treatment": plan.treatment.name,
        "done": done,
        "total": plan.sessions,
        "last": core.describe_appointment(last.starts_at, tz, location.time_zone),
        "ideal_on": _day(ideal, tz),
        "latest_on": _day(latest, tz),
        "location": location.name,
        "location_phone": location.phone,
        "book_url": settings.DAISY_PUBLIC_URL + "/",
    }
    email, phone, sms_all = contact_routes(client)
    out = []
    if email:
        out.append(
            MessageSpec(
                channel=EMAIL,
                recipient=email,
                template=template,
                context=context,
                send_after=now,
                dedupe_key=f"{key}:email",
                about=f"course:{plan.pk}",
                client=client,
            )
        )
    if phone and sms_all:
        out.append(
            MessageSpec(
                channel=SMS,
                recipient=phone,
                template=template,
                context=context,
                send_after=quiet_hours_shift(
                    now, tz, location.quiet_hours_start, location.quiet_hours_end
                ),
                dedupe_key=f"{key}:sms",
                about=f"course:{plan.pk}",
                client=client,
            )
        )
    return out


def _day(moment: datetime, tz: Any) -> str:
    local = moment.astimezone(tz)
    return (
        f"{core.WEEKDAYS[local.weekday()]} {local.day} {core.MONTHS[local.month - 1]} {local.year}"
    )


def course_followups_run(*, now: datetime) -> None:
    """The worker's periodic entry point."""
    made = course_followups_schedule(now=now)
    if made:
        logger.info("course follow-ups: %d message(s) scheduled", made)
