"""Follow-ups made when they are due, not at booking. Run as periodic sweeps in `daisy worker`
(AftercareConfig's `periodic_jobs`); idempotent, so any number of workers may run them at once.

**Later reviews** (`checkin_reviews_run`, DOMAIN.md 5.2 rows +1 month, +3 and +6 months): a
check-in some weeks or months after a session, at the protocol's review days, unless the client
has had another session of the treatment by then (its in-person review covers it: DOMAIN.md 5.2
row "Each session"). Only then is that known, so the sweep decides when each falls due.

**Course follow-ups** (issue 6 item 3): a reminder to book the next session of a course, and a
recall when a course lapses.

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
from django.db.models import Prefetch, Q

from daisy.aftercare.models import Protocol, checkin_offsets
from daisy.aftercare.selectors import SESSION_STATUSES
from daisy.aftercare.services import EMAIL, SMS, checkin_reviews_schedule, contact_routes
from daisy.clients.selectors import client_open_hold
from daisy.core import aftercare as core
from daisy.core import checkins as checkins_core
from daisy.core.quiet_hours import quiet_hours_shift
from daisy.courses.models import Plan, PlanSession, PlanStatus
from daisy.notifications.models import Message
from daisy.notifications.services import MessageSpec, message_schedule_many
from daisy.scheduling.selectors import appointment_list

logger = logging.getLogger("daisy.aftercare")

T_NEXT = "course/next_session"
T_RECALL = "course/recall"
NEXT_SESSION_NOTICE = timedelta(days=7)
DONE = ("checked_in", "in_treatment", "completed")
ACTIVE = (PlanStatus.ACCEPTED, PlanStatus.IN_PROGRESS)


# --- later reviews ------------------------------------------------------------------------------

# A review delayed by a stopped worker still helps within a week of its day; later than that it
# would arrive out of the blue, so it is left out.
REVIEW_USEFUL_FOR = timedelta(days=7)
# Slack on the query window for a day that is 23 or 25 hours long (daisy/core/aftercare.py).
_DST_SLACK = timedelta(hours=2)


def checkin_reviews_schedule_due(*, now: datetime) -> int:
    """Make the review check-ins due at `now`; returns how many messages were made. A constant
    number of queries, plus one transaction per session with a review to send."""
    kinds_by_treatment = {
        treatment_id: [checkins_core.checkin_kind(days=d) for d in checkin_offsets(raw)]
        for treatment_id, raw in Protocol.objects.exclude(review_days="").values_list(
            "treatment_id", "review_days"
        )
    }
    window = Q(pk__in=[])
    for treatment_id, kinds in kinds_by_treatment.items():
        for kind in kinds:
            offset = checkins_core.checkin_offset(kind)
            window |= Q(
                treatment_id=treatment_id,
                starts_at__gt=now - offset - REVIEW_USEFUL_FOR - _DST_SLACK,
                starts_at__lte=now - offset + _DST_SLACK,
            )
    sessions = list(appointment_list().filter(window, status__in=SESSION_STATUSES))
    if not sessions:
        return 0
    later: dict[tuple[Any, Any], list[datetime]] = {}
    for client_id, treatment_id, starts_at in (
        appointment_list()
        .filter(
            client_id__in={a.client_id for a in sessions},
            treatment_id__in={a.treatment_id for a in sessions},
            status__in=SESSION_STATUSES,
            starts_at__gt=min(a.starts_at for a in sessions),
            starts_at__lte=now,
        )
        .values_list("client_id", "treatment_id", "starts_at")
    ):
        later.setdefault((client_id, treatment_id), []).append(starts_at)
    sent: set[tuple[str, str]] = set()  # (about, kind) made before, in any appointment version
    for about, key in (
        Message.objects.filter(
            about__in=[f"appointment:{a.pk}" for a in sessions], dedupe_key__contains=":review-"
        )
        .exclude(status="cancelled")
        .values_list("about", "dedupe_key")
    ):
        sent.add((about, key.rsplit(":review-", 1)[1].removesuffix("-sms")))
    made = 0
    for appointment in sessions:
        about = f"appointment:{appointment.pk}"
        due = [
            (kind, at)
            for kind, at in checkins_core.reviews_due(
                session_start=appointment.starts_at,
                kinds=kinds_by_treatment[appointment.treatment_id],
                later_sessions=later.get((appointment.client_id, appointment.treatment_id), ()),
                tz=appointment.location.tz,
                now=now,
                useful_for=REVIEW_USEFUL_FOR,
            )
            if (about, kind) not in sent
        ]
        if due:
            with transaction.atomic():
                made += len(checkin_reviews_schedule(appointment=appointment, reviews=due, now=now))
    return made


def checkin_reviews_run(*, now: datetime) -> None:
    """The worker's periodic entry point."""
    made = checkin_reviews_schedule_due(now=now)
    if made:
        logger.info("check-in reviews: %d message(s) scheduled", made)


# --- course follow-ups ----------------------------------------------------------------------------


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
