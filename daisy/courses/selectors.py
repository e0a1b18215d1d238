"""Reads for courses: important dates and the recovery windows that must stay clear of them,
the free time a course plan is made from, and a client's courses as the portal shows them.

This module must not import scheduling.services: scheduling.services imports it (single
bookings check important dates here)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Prefetch
from django.utils.translation import gettext

from daisy.aftercare.selectors import protocol_get_for_treatment
from daisy.core import courses as core
from daisy.core.aftercare import PRE
from daisy.courses.models import (
    CONCERN_SCALE,
    MAX_PRECARE_HOURS,
    AreaGrade,
    Concern,
    CourseDefault,
    ImportantDate,
    ImportantDateKind,
    Plan,
    PlanArea,
    PlanSession,
    PlanStatus,
    Scale,
)
from daisy.lib.errors import ImportantDateConflict, NotFound
from daisy.scheduling.models import Appointment, Status

# --- important dates and recovery windows ---------------------------------------------------


def important_date_kind_list() -> list[ImportantDateKind]:
    return list(ImportantDateKind.objects.all())


def important_date_list_for_client(
    client: Any, *, ending_on_or_after: date | None = None
) -> list[ImportantDate]:
    """The client's important dates in date order, kind loaded; past ones left out when
    `ending_on_or_after` is given."""
    qs = ImportantDate.objects.filter(client_id=client.pk).select_related("kind")
    if ending_on_or_after is not None:
        qs = qs.filter(end_on__gte=ending_on_or_after)
    return list(qs)


def important_date_get_for_client(client: Any, important_date_id: Any) -> ImportantDate:
    found = (
        ImportantDate.objects.select_related("kind")
        .filter(client_id=client.pk, pk=important_date_id)
        .first()
    )
    if found is None:
        raise NotFound("That important date does not exist.")
    return found


def treatment_recovery(treatment: Any) -> timedelta:
    """How long after a session the skin is still recovering: the treatment's aftercare
    protocol (micro-needling 72 h, DOMAIN.md 4.2 days 0-3). Zero: no recovery window."""
    return timedelta(hours=protocol_get_for_treatment(treatment).recovery_hours)


# How far back a pre-care window can reach (ImportantDateKind.precare_hours is capped there).
PRECARE_LOOKBACK = timedelta(hours=MAX_PRECARE_HOURS)


@dataclass(frozen=True)
class RecoveryRules:
    """What the pure planner needs to keep a session's windows clear of important dates: the
    recovery after it, and the pre-care before it (sun: two weeks, DOMAIN.md 4.1)."""

    recovery: timedelta
    recovery_by_kind: dict[str, timedelta]
    precare_by_kind: dict[str, timedelta] = field(default_factory=dict)

    @property
    def applies(self) -> bool:
        return self.recovery > timedelta(0) or bool(self.precare_by_kind)

    @property
    def planner_recovery(self) -> timedelta:
        """The planner's default window (it needs a positive one; a treatment with only a
        pre-care window keeps the shipped 72 hours after a session clear too)."""
        return self.recovery if self.recovery > timedelta(0) else core.DEFAULT_RECOVERY


def recovery_rules(
    treatment: Any, kinds: Iterable[ImportantDateKind] | None = None
) -> RecoveryRules:
    """The treatment's recovery window, and each kind's when it is longer; and, for a treatment
    with pre-care steps, each kind's pre-care window (sun holidays: two weeks before a session).
    A treatment without a recovery window or preparation (a consultation) leaves every date
    alone, sun holidays included: the windows are about this treatment's skin care."""
    protocol = protocol_get_for_treatment(treatment)
    base = timedelta(hours=protocol.recovery_hours)
    has_precare = any(step.kind == PRE for step in protocol.steps)
    by_kind: dict[str, timedelta] = {}
    precare: dict[str, timedelta] = {}
    if base > timedelta(0) or has_precare:
        for kind in kinds if kinds is not None else ImportantDateKind.objects.all():
            if base > timedelta(0) and kind.recovery is not None and kind.recovery > base:
                by_kind[kind.slug] = kind.recovery
            if has_precare and kind.precare is not None:
                precare[kind.slug] = kind.precare
    return RecoveryRules(base, by_kind, precare)


def core_important_date(item: ImportantDate) -> core.ImportantDate:
    return core.ImportantDate(
        kind=item.kind.slug, start_on=item.start_on, end_on=item.end_on, label=item.label
    )


@dataclass(frozen=True)
class Clash:
    """An important date inside a session's recovery window, in words for both sides."""

    kind: str
    label: str
    start_on: date
    end_on: date

    @property
    def text(self) -> str:
        name = self.label or self.kind.replace("_", " ")
        if self.start_on == self.end_on:
            return f"{name} ({self.start_on:%d %B %Y})"
        return f"{name} ({self.start_on:%d %B %Y} - {self.end_on:%d %B %Y})"


def important_date_clashes(
    *,
    client: Any,
    treatment: Any,
    starts_at: datetime,
    tz: ZoneInfo,
    extra: Sequence[core.ImportantDate] = (),
) -> list[Clash]:
    """The client's important dates (and `extra` ones) that a session of `treatment` starting
    at `starts_at` would put inside its recovery window (after it) or its pre-care window
    (before it: no sun holiday in the two weeks before). One query when the client has no
    recent or upcoming important date (the usual case, inside every booking's transaction)."""
    # A date ending before the furthest pre-care window cannot touch the session.
    local_day = starts_at.astimezone(tz).date() - PRECARE_LOOKBACK
    stored = important_date_list_for_client(client, ending_on_or_after=local_day)
    if not stored and not extra:
        return []
    kinds = None if extra else {item.kind.slug: item.kind for item in stored}.values()
    rules = recovery_rules(treatment, kinds)
    if not rules.applies:
        return []
    items = [core_important_date(item) for item in stored] + list(extra)
    found = core.recovery_clashes(
        start=starts_at,
        important_dates=items,
        recovery=rules.recovery,
        recovery_by_kind=rules.recovery_by_kind,
        precare_by_kind=rules.precare_by_kind,
        tz=tz,
    )
    return [Clash(i.kind, i.label, i.start_on, i.end_on) for i in found]


def important_dates_require_confirmation(
    *, clashes: Sequence[Clash], confirmed: bool, session: int | None = None
) -> None:
    """ImportantDateConflict listing the dates, unless the caller confirmed them."""
    if not clashes or confirmed:
        return
    names = "; ".join(c.text for c in clashes)
    text = gettext(
        "This session is too close to %(dates)s: the skin needs time to prepare before a "
        "session (no tanning or sunburn in the weeks before) and to recover after it. Choose "
        "another time, or confirm that the client accepts it."
    ) % {"dates": names}
    if session is not None:
        text = gettext("Session %(n)s: %(why)s") % {"n": session, "why": text}
    raise ImportantDateConflict(
        text,
        fields={"confirm_important_dates": names},
        extra={
            "important_dates": [
                {"kind": c.kind, "label": c.label, "start": str(c.start_on), "end": str(c.end_on)}
                for c in clashes
            ]
        },
    )


# --- course defaults (DOMAIN.md 1.2) --------------------------------------------------------


def course_default_map() -> dict[str, CourseDefault]:
    return {row.concern: row for row in CourseDefault.objects.all()}


# --- a client's courses, as the portal and the API show them ---------------------------------


@dataclass(frozen=True)
class CourseSessionView:
    number: int | None  # 1..n among the course's sessions that are not cancelled
    appointment_id: Any
    starts_at: datetime  # in the location's zone
    ends_at: datetime
    state: str  # "planned", "done", "cancelled", "missed"
    appointment_status: str
    specialist_id: Any
    specialist_name: str
    location_id: Any
    location_name: str
    time_zone: str


@dataclass(frozen=True)
class GradeView:
    graded_at: datetime
    grade: int
    note: str


@dataclass(frozen=True)
class AreaView:
    area: str
    concern: str
    concern_label: str
    scale: str
    scale_label: str
    grades: tuple[GradeView, ...]  # oldest first: the severity chart's points

    @property
    def current_grade(self) -> int | None:
        return self.grades[-1].grade if self.grades else None


@dataclass(frozen=True)
class CourseView:
    id: Any
    client_id: Any
    treatment_slug: str
    treatment_name: str
    status: str  # PlanStatus value, with in_progress/completed derived from the sessions
    status_label: str
    sessions_planned: int  # the plan's number of sessions
    sessions_done: int
    sessions_booked: int  # planned (booked, not yet done) sessions
    current_session: int | None  # the next session's number; None when none is booked
    progress_label: str  # "Session 2 of 4"
    is_extended: bool
    interval_days: int
    min_interval_days: int
    max_interval_days: int
    recommended_sessions: int | None
    specialist_id: Any
    location_id: Any
    sessions: tuple[CourseSessionView, ...]
    areas: tuple[AreaView, ...]
    created_at: datetime


_STATE = {
    Status.BOOKED: "planned",
    Status.CHECKED_IN: "planned",
    Status.IN_TREATMENT: "planned",
    Status.COMPLETED: "done",
    Status.CANCELLED: "cancelled",
    Status.NO_SHOW: "missed",
}


def _plans() -> Any:
    return Plan.objects.select_related("treatment").prefetch_related(
        Prefetch(
            "plan_sessions",
            queryset=PlanSession.objects.select_related(
                "appointment__location", "appointment__specialist"
            ).order_by("appointment__starts_at", "appointment_id"),
        ),
        Prefetch(
            "areas",
            queryset=PlanArea.objects.prefetch_related(
                Prefetch("grades", queryset=AreaGrade.objects.order_by("graded_at", "pk"))
            ),
        ),
    )


def effective_status(plan: Plan, done: int) -> str:
    """Stored: proposed, accepted, stopped. In progress and completed follow the sessions, so
    completing an appointment needs no course write."""
    if plan.status in {PlanStatus.PROPOSED, PlanStatus.STOPPED}:
        return plan.status
    if done >= plan.sessions:
        return PlanStatus.COMPLETED
    if done:
        return PlanStatus.IN_PROGRESS
    return PlanStatus.ACCEPTED


def _view(plan: Plan) -> CourseView:
    sessions: list[CourseSessionView] = []
    number = 0
    for link in plan.plan_sessions.all():
        appt = link.appointment
        tz = appt.location.tz
        state = _STATE[Status(appt.status)]
        if state != "cancelled":
            number += 1
        sessions.append(
            CourseSessionView(
                number=number if state != "cancelled" else None,
                appointment_id=appt.pk,
                starts_at=appt.starts_at.astimezone(tz),
                ends_at=appt.ends_at.astimezone(tz),
                state=state,
                appointment_status=appt.status,
                specialist_id=appt.specialist_id,
                specialist_name=appt.specialist.name if appt.specialist else "",
                location_id=appt.location_id,
                location_name=appt.location.name,
                time_zone=appt.location.time_zone,
            )
        )
    done = sum(1 for s in sessions if s.state == "done")
    booked = sum(1 for s in sessions if s.state == "planned")
    upcoming = next((s.number for s in sessions if s.state == "planned"), None)
    status = effective_status(plan, done)
    if status == PlanStatus.COMPLETED:
        progress = f"All {plan.sessions} sessions done"
    elif upcoming is not None:
        progress = f"Session {upcoming} of {plan.sessions}"
    else:
        progress = f"{done} of {plan.sessions} sessions done"
    areas = tuple(
        AreaView(
            area=a.area,
            concern=a.concern,
            concern_label=str(Concern(a.concern).label),
            scale=CONCERN_SCALE[Concern(a.concern)],
            scale_label=str(Scale(CONCERN_SCALE[Concern(a.concern)]).label),
            grades=tuple(GradeView(g.graded_at, g.grade, g.note) for g in a.grades.all()),
        )
        for a in plan.areas.all()
    )
    return CourseView(
        id=plan.pk,
        client_id=plan.client_id,
        treatment_slug=plan.treatment.slug,
        treatment_name=plan.treatment.name,
        status=status,
        status_label=str(PlanStatus(status).label),
        sessions_planned=plan.sessions,
        sessions_done=done,
        sessions_booked=booked,
        current_session=upcoming,
        progress_label=progress,
        is_extended=plan.is_extended,
        interval_days=plan.interval_days,
        min_interval_days=plan.min_interval_days,
        max_interval_days=plan.max_interval_days,
        recommended_sessions=plan.recommended_sessions,
        specialist_id=plan.specialist_id,
        location_id=plan.location_id,
        sessions=tuple(sessions),
        areas=areas,
        created_at=plan.created_at,
    )


def course_list_for_client(client: Any) -> list[CourseView]:
    """The client's courses, newest first (a fixed number of queries)."""
    return [_view(plan) for plan in _plans().filter(client_id=client.pk).order_by("-created_at")]


def course_get_for_client(client: Any, course_id: Any) -> CourseView:
    """One of the client's courses; NotFound (404) for another client's or an unknown id."""
    plan = _plans().filter(client_id=client.pk, pk=course_id).first()
    if plan is None:
        raise NotFound("That course does not exist.")
    return _view(plan)


def course_get(course_id: Any) -> CourseView:
    """Any course (staff)."""
    plan = _plans().filter(pk=course_id).first()
    if plan is None:
        raise NotFound("That course does not exist.")
    return _view(plan)


def plan_get(plan_id: Any) -> Plan:
    plan = Plan.objects.select_related("client", "treatment").filter(pk=plan_id).first()
    if plan is None:
        raise NotFound("That course does not exist.")
    return plan


def course_later_sessions(plan: Plan | None, *, appointment: Any) -> set[Any]:
    """The ids of the booked sessions of `plan` from `appointment`'s time on (itself aside):
    the ones a move or cancellation of it may re-plan."""
    if plan is None:
        return set()
    return set(
        Appointment.objects.filter(
            course_session__plan=plan, status=Status.BOOKED, starts_at__gte=appointment.starts_at
        )
        .exclude(pk=appointment.pk)
        .values_list("pk", flat=True)
    )


def plan_for_appointment(appointment_id: Any) -> Plan | None:
    link = PlanSession.objects.select_related("plan").filter(appointment_id=appointment_id).first()
    return link.plan if link is not None else None
