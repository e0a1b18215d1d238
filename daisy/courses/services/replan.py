"""Moving or cancelling one course session (`appointment_reschedule`/`appointment_cancel`) calls
`course_session_changed` inside that transaction: when a later session no longer sits in its
window after the session before it, the later sessions are re-planned with the pure planner and
moved, and the client and the specialists are told what moved."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from daisy.aftercare.services import (
    appointment_messages_cancel,
    appointment_messages_schedule,
)
from daisy.audit.services import audit_record
from daisy.core import courses as core
from daisy.core import slots
from daisy.courses import selectors as course_selectors
from daisy.courses.models import (
    Plan,
    PlanSession,
    PlanStatus,
)

# The first session falls within a week of the earliest start (the planner's default).
from daisy.courses.services.booking import _midnight, _planner_dates
from daisy.notifications.services import MessageSpec, message_schedule_many
from daisy.scheduling import selectors as scheduling
from daisy.scheduling import services as booking
from daisy.scheduling.models import Allocation, Appointment, Status

# --- re-planning after a session moves or is cancelled --------------------------------------


@dataclass(frozen=True)
class Moved:
    appointment: Appointment
    number: int
    previous_starts_at: datetime


class _Replan(Exception):
    """Rolls back the savepoint of a re-plan that found no full plan."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _in_window(days: Sequence[date], plan: Plan) -> bool:
    return all(
        plan.min_interval_days <= (b - a).days <= plan.max_interval_days
        for a, b in zip(days, days[1:], strict=False)
    )


def course_session_changed(
    *,
    appointment: Appointment,
    by: Any,
    now: datetime,
    previous_starts_at: datetime | None = None,
) -> list[Moved]:
    """Called inside the transaction that moved (`previous_starts_at` given) or cancelled
    `appointment`. Re-plans the course's later sessions when one no longer sits in its window
    after the session before it (or its recovery window now touches an important date), and
    tells the client and the specialists what moved. Returns what moved; nothing when the
    appointment is not a course session or the rest of the course still fits."""
    link = PlanSession.objects.select_related("plan").filter(appointment=appointment).first()
    if link is None or link.plan.status == PlanStatus.STOPPED:
        return []
    plan = Plan.objects.select_for_update().get(pk=link.plan_id)
    others = list(
        Appointment.objects.select_for_update(of=("self",))
        .select_related("treatment", "location", "client", "specialist")
        .filter(
            course_session__plan=plan,
            status__in=[Status.BOOKED, Status.CHECKED_IN, Status.COMPLETED],
        )
        .exclude(pk=appointment.pk)
        .order_by("starts_at", "pk")
    )
    # The course's order before the change decides which sessions come "later".
    was_at = previous_starts_at or appointment.starts_at
    before = [a for a in others if a.starts_at < was_at]
    later = [a for a in others if a.starts_at >= was_at and a.status == Status.BOOKED]
    if not later:
        return []
    tz = appointment.location.tz
    anchor = (
        appointment if appointment.status == Status.BOOKED else (before[-1] if before else None)
    )
    chain = ([anchor] if anchor is not None else []) + later
    days = [a.starts_at.astimezone(tz).date() for a in chain]
    order_kept = all(a.starts_at < b.starts_at for a, b in zip(chain, chain[1:], strict=False))
    dates, recovery = _planner_dates(appointment.client, appointment.treatment, (), days[0])
    clash = recovery.applies and any(
        core.recovery_clashes(
            start=a.starts_at,
            important_dates=dates,
            recovery=recovery.recovery,
            recovery_by_kind=recovery.recovery_by_kind,
            tz=tz,
        )
        for a in later
    )
    if anchor is None or (order_kept and _in_window(days, plan) and not clash):
        return []
    number_of_first = len(before) + (2 if appointment.status == Status.BOOKED else 1)
    try:
        with transaction.atomic():
            moved = _replan(
                plan=plan,
                anchor=anchor,
                later=later,
                dates=dates,
                recovery=recovery,
                first_number=number_of_first,
                by=by,
                now=now,
            )
    except _Replan as failed:
        _tell_course_problem(plan=plan, anchor=anchor, reason=failed.reason, by=by, now=now)
        return []
    _tell_course_moved(plan=plan, moved=moved, now=now)
    return moved


def _replan(
    *,
    plan: Plan,
    anchor: Appointment,
    later: list[Appointment],
    dates: tuple[core.ImportantDate, ...],
    recovery: course_selectors.RecoveryRules,
    first_number: int,
    by: Any,
    now: datetime,
) -> list[Moved]:
    treatment, loc = anchor.treatment, anchor.location
    tz = loc.tz
    previous_on = anchor.starts_at.astimezone(tz).date()
    low, high = plan.min_interval_days, plan.max_interval_days
    horizon = (high - low + 1) + (len(later) - 1) * high + 1
    earliest = previous_on + timedelta(days=low)
    by_role = scheduling.eligible_resources(treatment, loc)
    booking._lock_resources([info.id for infos in by_role.values() for info in infos])
    # Their own time is free for them: released here, taken again below (or the savepoint
    # rolls back and they stay where they were).
    Allocation.objects.filter(appointment__in=later, is_active=True).update(is_active=False)
    ctx = scheduling.booking_context(
        treatment=treatment,
        location=loc,
        window_start=_midnight(earliest, tz),
        window_end=_midnight(earliest + timedelta(days=horizon), tz),
        by_role=by_role,
        now=now,
    )
    kept = plan.specialist_id or later[0].specialist_id
    local_time = later[0].starts_at.astimezone(tz).time().replace(second=0, microsecond=0)
    rules = scheduling.treatment_rules(treatment, for_staff=True)
    until = _midnight(earliest + timedelta(days=horizon), tz)
    try:
        request = core.CourseRequest(
            sessions=len(later),
            earliest_start=earliest,
            interval=timedelta(days=plan.interval_days),
            min_interval=timedelta(days=low),
            max_interval=timedelta(days=high),
            preferred_specialist=scheduling._rid(kept) if kept else None,
            important_dates=dates,
            recovery=recovery.recovery if recovery.applies else core.DEFAULT_RECOVERY,
            recovery_by_kind=recovery.recovery_by_kind,
            horizon_days=horizon,
            start_within_days=high - low + 1,
            previous_on=previous_on,
            time_of_day=local_time,
        )
        planned = core.plan_course(
            request=request,
            template=ctx.template,
            candidates=ctx.candidates,
            tz=tz,
            now=now,
            rules=core.course_rules(rules, now=now, until=until),
        )
    except (ValueError, slots.SlotProblem) as exc:
        raise _Replan(str(exc)) from None
    if not planned.is_complete:
        problem = planned.problems[0]
        # The planner counts from the first session it placed; staff count the whole course.
        number = first_number + problem.session - 1
        reason = problem.reason.removeprefix(f"Session {problem.session}:")
        raise _Replan(_("Session %(n)s:%(why)s") % {"n": number, "why": reason})
    moved: list[Moved] = []
    for offset, (appt, session) in enumerate(zip(later, planned.sessions, strict=True)):
        slot = session.slot
        old = appt.starts_at
        # Expired holds on these (locked) resources go first: the backstop knows no clock.
        booking._release_expired_slot_holds(by_role, slot.start, now)
        if slot.start == old and dict(slot.resources) == _resources_of(appt):
            # Same time, same resources: take its time back untouched.
            Allocation.objects.bulk_create(booking._allocations_for(appt, slot))
            continue
        appt.starts_at, appt.ends_at, appt.busy_until = slot.start, slot.end, slot.busy_until
        booking._assign_resources(appt, slot)
        appt.updated_at = now
        appt.messages_version += 1
        appt.save()
        Allocation.objects.bulk_create(booking._allocations_for(appt, slot))
        appointment_messages_cancel(appointment=appt, now=now)
        appointment_messages_schedule(
            appointment=appt, now=now, version=appt.messages_version, previous_starts_at=old
        )
        audit_record(
            actor=by,
            action="appointment.reschedule",
            obj=appt,
            at=now,
            data={
                "from": old.isoformat(),
                "to": slot.start.isoformat(),
                "course": str(plan.pk),
                "replanned_after": str(anchor.pk),
                "resources": dict(slot.resources),
            },
        )
        moved.append(Moved(appt, first_number + offset, old))
    return moved


def _resources_of(appt: Appointment) -> dict[str, str]:
    out = {}
    for role, value in (
        (scheduling.ROLE_SPECIALIST, appt.specialist_id),
        (scheduling.ROLE_ROOM, appt.room_id),
        (scheduling.ROLE_DEVICE, appt.device_id),
    ):
        if value is not None:
            out[role] = scheduling._rid(value)
    return out


def _when(instant: datetime, tz: Any) -> str:
    local = instant.astimezone(tz)
    return f"{local:%A %d %B %Y, %H:%M} ({local.tzname()})"


def _staff_recipients(appointments: Sequence[Appointment]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for appt in appointments:
        user = getattr(appt.specialist, "user", None) if appt.specialist_id else None
        email = getattr(user, "email", "") if user is not None else ""
        if email and email not in seen:
            seen[email] = appt.specialist.name
    return sorted(seen.items())


def _tell_course_moved(*, plan: Plan, moved: list[Moved], now: datetime) -> None:
    """One message to the client and one to each specialist concerned, listing what moved, in
    the transaction of the change (a rolled-back move tells nobody)."""
    if not moved:
        return
    client = moved[0].appointment.client
    tz = moved[0].appointment.location.tz
    lines = [
        _("Session %(n)s: from %(old)s to %(new)s")
        % {
            "n": m.number,
            "old": _when(m.previous_starts_at, tz),
            "new": _when(m.appointment.starts_at, tz),
        }
        for m in moved
    ]
    subject = _("Your %(treatment)s course: new dates") % {"treatment": plan.treatment.name}
    intro = _(
        "One of your sessions changed, so the later sessions of your course moved to keep them "
        "the right number of days apart:"
    )
    stamp = int(now.timestamp())
    specs = []
    email = client.email
    if email:
        specs.append(
            MessageSpec(
                channel="email",
                recipient=email,
                template="generic",
                context={
                    "name": client.first_name,
                    "subject": subject,
                    "paragraphs": [intro, *lines],
                },
                send_after=now,
                dedupe_key=f"course:{plan.pk}:moved:{stamp}:{moved[0].appointment.messages_version}",
                about=f"course:{plan.pk}",
                client=client,
            )
        )
    staff_subject = _("Course re-planned: %(client)s") % {"client": client.full_name}
    staff_intro = _(
        "A session of %(client)s's %(treatment)s course changed; the later sessions were "
        "re-planned inside their windows:"
    ) % {"client": client.full_name, "treatment": plan.treatment.name}
    for address, name in _staff_recipients([m.appointment for m in moved]):
        specs.append(
            MessageSpec(
                channel="email",
                recipient=address,
                template="generic",
                context={
                    "name": name,
                    "subject": staff_subject,
                    "paragraphs": [staff_intro, *lines],
                },
                send_after=now,
                dedupe_key=f"course:{plan.pk}:moved:{stamp}:{address}",
                about=f"course:{plan.pk}",
            )
        )
    if specs:
        message_schedule_many(messages=specs, now=now)


def _tell_course_problem(
    *, plan: Plan, anchor: Appointment, reason: str, by: Any, now: datetime
) -> None:
    """No re-plan fits: the later sessions stay, and the staff are told why, so they can
    agree new dates with the client."""
    audit_record(
        actor=by,
        action="course.replan_failed",
        obj=plan,
        at=now,
        data={"after": str(anchor.pk), "reason": reason},
    )
    recipients = _staff_recipients([anchor])
    if not recipients:
        return
    client = anchor.client
    subject = _("Course needs attention: %(client)s") % {"client": client.full_name}
    text = _(
        "A session of %(client)s's %(treatment)s course changed, and the later sessions could "
        "not be re-planned inside their windows: %(reason)s They were left where they were; "
        "please agree new dates with the client."
    ) % {"client": client.full_name, "treatment": plan.treatment.name, "reason": reason}
    message_schedule_many(
        messages=[
            MessageSpec(
                channel="email",
                recipient=address,
                template="generic",
                context={"name": name, "subject": subject, "paragraphs": [text]},
                send_after=now,
                dedupe_key=f"course:{plan.pk}:attention:{int(now.timestamp())}:{address}",
                about=f"course:{plan.pk}",
            )
            for address, name in recipients
        ],
        now=now,
    )
