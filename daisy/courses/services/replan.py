"""Re-planning a course after one of its sessions moved or was cancelled.

The booking orchestration (`daisy.booking`) calls `course_followers` inside the transaction of
the move or cancel: when a later session no longer sits in its window after the session before
it, it gets a `Replan` whose `slots_plan` chooses the later sessions' new times with the pure
planner. Scheduling moves them (through the eligibility gate); then `course_moved_tell` tells
the client and the specialists what moved, or `course_replan_failed_tell` tells the staff why
nothing could."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.utils.translation import gettext as _

from daisy.audit.services import audit_record
from daisy.core import courses as core
from daisy.core import slots
from daisy.courses import selectors as course_selectors
from daisy.courses.models import (
    Plan,
    PlanSession,
    PlanStatus,
)
from daisy.courses.services.proposals import local_midnight, planner_dates
from daisy.notifications.services import MessageSpec, message_schedule_many
from daisy.scheduling import selectors as scheduling
from daisy.scheduling.models import Appointment, Status
from daisy.treatments.selectors import MIN_SESSION_GAP_DAYS, treatment_is_needling

# --- re-planning after a session moves or is cancelled --------------------------------------


@dataclass(frozen=True)
class MovedSession:
    appointment: Appointment
    number: int  # the session's number in the whole course
    previous_starts_at: datetime


class ReplanFailed(Exception):
    """No re-plan fits: the later sessions stay where they were."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def replan_min_days(plan: Plan) -> int:
    """The fewest days a re-plan leaves between sessions: the plan's window, but for needling
    never under 28 days unless a clinician recorded a reason for the course's short interval
    (DOMAIN.md 1.2: the re-plan must not make a gap the booking gate would refuse)."""
    low = plan.min_interval_days
    if not plan.interval_override_reason and treatment_is_needling(plan.treatment):
        low = max(low, min(MIN_SESSION_GAP_DAYS, plan.interval_days))
    return low


def _in_window(days: Sequence[date], plan: Plan) -> bool:
    low = replan_min_days(plan)
    return all(
        low <= (b - a).days <= plan.max_interval_days for a, b in zip(days, days[1:], strict=False)
    )


@dataclass(frozen=True)
class Replan:
    """The later sessions of a course that must follow a moved or cancelled session, and how
    to plan their new times from the diary's free time (the booking orchestration takes them
    through scheduling, with the eligibility gate)."""

    plan: Plan
    anchor: Appointment
    later: list[Appointment]
    dates: tuple[core.ImportantDate, ...]
    recovery: course_selectors.RecoveryRules
    first_number: int

    @property
    def earliest(self) -> date:
        tz = self.anchor.location.tz
        return self.anchor.starts_at.astimezone(tz).date() + timedelta(
            days=replan_min_days(self.plan)
        )

    @property
    def horizon(self) -> int:
        low, high = replan_min_days(self.plan), self.plan.max_interval_days
        return (high - low + 1) + (len(self.later) - 1) * high + 1

    @property
    def window(self) -> tuple[datetime, datetime]:
        tz = self.anchor.location.tz
        return (
            local_midnight(self.earliest, tz),
            local_midnight(self.earliest + timedelta(days=self.horizon), tz),
        )

    @property
    def apart_from(self) -> list[date]:
        if not treatment_is_needling(self.plan.treatment):
            return []
        own = PlanSession.objects.filter(plan=self.plan).values_list("appointment_id", flat=True)
        return scheduling.needling_session_days(
            self.anchor.client, tz=self.anchor.location.tz, exclude=list(own)
        )

    def number_of(self, appointment: Appointment) -> int:
        return self.first_number + [a.pk for a in self.later].index(appointment.pk)

    def slots_plan(self, ctx: scheduling.BookingContext, now: datetime) -> list[slots.Slot]:
        """New slots for the later sessions, from the locked context; ReplanFailed if none."""
        plan, anchor, later = self.plan, self.anchor, self.later
        tz = anchor.location.tz
        previous_on = anchor.starts_at.astimezone(tz).date()
        low, high = replan_min_days(plan), plan.max_interval_days
        kept = plan.specialist_id or later[0].specialist_id
        local_time = later[0].starts_at.astimezone(tz).time().replace(second=0, microsecond=0)
        rules = scheduling.treatment_rules(anchor.treatment, for_staff=True)
        until = self.window[1]
        try:
            request = core.CourseRequest(
                sessions=len(later),
                earliest_start=self.earliest,
                interval=timedelta(days=plan.interval_days),
                min_interval=timedelta(days=low),
                max_interval=timedelta(days=high),
                preferred_specialist=scheduling.resource_key(kept) if kept else None,
                important_dates=self.dates,
                recovery=self.recovery.planner_recovery,
                recovery_by_kind=self.recovery.recovery_by_kind,
                precare_by_kind=self.recovery.precare_by_kind,
                horizon_days=self.horizon,
                start_within_days=high - low + 1,
                previous_on=previous_on,
                time_of_day=local_time,
                # The client's needling sessions outside this course stay 28 days away
                # (DOMAIN.md 1.2); the course's own keep to its window.
                apart_from=tuple(self.apart_from),
                apart_days=MIN_SESSION_GAP_DAYS if self.apart_from else 0,
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
            raise ReplanFailed(str(exc)) from None
        if not planned.is_complete:
            problem = planned.problems[0]
            # The planner counts from the first session it placed; staff count the whole course.
            number = self.first_number + problem.session - 1
            reason = problem.reason.removeprefix(f"Session {problem.session}:")
            raise ReplanFailed(_("Session %(n)s:%(why)s") % {"n": number, "why": reason})
        return [s.slot for s in planned.sessions]


def course_followers(
    *, appointment: Appointment, previous_starts_at: datetime | None = None
) -> Replan | None:
    """Called inside the transaction that moved (`previous_starts_at` given) or cancelled
    `appointment`: the course's later sessions, locked, when one of them no longer sits in its
    window after the session before it (or its recovery window now touches an important
    date); None when the appointment is not a course session or the rest still fits."""
    link = PlanSession.objects.select_related("plan").filter(appointment=appointment).first()
    if link is None or link.plan.status == PlanStatus.STOPPED:
        return None
    plan = Plan.objects.select_for_update().get(pk=link.plan_id)
    others = list(
        Appointment.objects.select_for_update(of=("self",))
        .select_related("treatment", "location", "client", "specialist")
        .filter(
            course_session__plan=plan,
            status__in=[Status.BOOKED, Status.CHECKED_IN, Status.IN_TREATMENT, Status.COMPLETED],
        )
        .exclude(pk=appointment.pk)
        .order_by("starts_at", "pk")
    )
    # The course's order before the change decides which sessions come "later".
    was_at = previous_starts_at or appointment.starts_at
    before = [a for a in others if a.starts_at < was_at]
    later = [a for a in others if a.starts_at >= was_at and a.status == Status.BOOKED]
    if not later:
        return None
    tz = appointment.location.tz
    anchor = (
        appointment if appointment.status == Status.BOOKED else (before[-1] if before else None)
    )
    if anchor is None:
        return None
    chain = [anchor, *later]
    days = [a.starts_at.astimezone(tz).date() for a in chain]
    order_kept = all(a.starts_at < b.starts_at for a, b in zip(chain, chain[1:], strict=False))
    dates, recovery = planner_dates(appointment.client, appointment.treatment, (), days[0])
    clash = recovery.applies and any(
        core.recovery_clashes(
            start=a.starts_at,
            important_dates=dates,
            recovery=recovery.recovery,
            recovery_by_kind=recovery.recovery_by_kind,
            precare_by_kind=recovery.precare_by_kind,
            tz=tz,
        )
        for a in later
    )
    if order_kept and _in_window(days, plan) and not clash:
        return None
    number_of_first = len(before) + (2 if appointment.status == Status.BOOKED else 1)
    return Replan(plan, anchor, later, dates, recovery, number_of_first)


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


def course_moved_tell(*, plan: Plan, moved: Sequence[MovedSession], now: datetime) -> None:
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


def course_replan_failed_tell(
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
