"""Proposing a whole course (no writes) and booking it at once.

`course_book` books every session in ONE durable transaction under the same locking as
`appointment_book` (DESIGN.md 4): lock every eligible resource in id order, re-read busy time,
check each session with `check_slot` (sessions 2+ with the widened `course_rules`), and write
appointments, allocations, messages and audit entries with the booking service's own helpers.
Any session that fails rolls back all of them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from daisy.aftercare.services import course_confirmation_schedule
from daisy.audit.services import audit_record
from daisy.clinic.selectors import specialist_get
from daisy.core import courses as core
from daisy.core import slots
from daisy.core.calendars import to_utc
from daisy.courses import selectors as course_selectors
from daisy.courses.models import (
    Plan,
    PlanSession,
    PlanStatus,
)

# The first session falls within a week of the earliest start (the planner's default).
from daisy.courses.services.plans import (
    _EDITABLE,
    CourseShape,
    _check_clinical_approvals,
    _is_staff,
    course_shape,
)
from daisy.lib.errors import (
    CourseUnavailable,
    DomainError,
    IdempotencyConflict,
    InvalidTime,
    PolicyViolation,
    SlotUnavailable,
    ValidationFailed,
)
from daisy.scheduling import selectors as scheduling
from daisy.scheduling import services as booking
from daisy.scheduling.models import Appointment, Status

# The first session falls within a week of the earliest start (the planner's default).
START_WITHIN_DAYS = 7


# --- proposing a course ---------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    plan: core.CoursePlan
    request: core.CourseRequest
    location: Any
    context: scheduling.BookingContext
    shape: CourseShape

    def resource_name(self, rid: str | None) -> str:
        info = self.context.resources.get(rid) if rid else None
        return info.name if info else ""


def _midnight(day: date, tz: Any) -> datetime:
    return to_utc(day, time(0), tz)


def _planner_dates(
    client: Any, treatment: Any, extra: Sequence[core.ImportantDate], since: date
) -> tuple[tuple[core.ImportantDate, ...], course_selectors.RecoveryRules]:
    stored = course_selectors.important_date_list_for_client(client, ending_on_or_after=since)
    rules = course_selectors.recovery_rules(treatment)
    if not rules.applies:
        return (), rules
    items = tuple(course_selectors.core_important_date(i) for i in stored) + tuple(extra)
    return items, rules


def course_propose(
    *,
    client: Any,
    treatment: Any,
    sessions: int,
    earliest_start: date,
    now: datetime,
    for_staff: bool,
    interval_days: int | None = None,
    min_interval_days: int | None = None,
    max_interval_days: int | None = None,
    specialist: Any = None,
    location: Any = None,
    preferred_weekdays: Sequence[int] | None = None,
    preferred_times: Sequence[tuple[time, time]] | None = None,
    important_dates: Sequence[core.ImportantDate] = (),
) -> Proposal:
    """Plan every session (no writes): free time of every eligible resource over the course's
    horizon, the client's stored important dates plus `important_dates`, the pure planner."""
    loc = booking.booking_request_check(
        treatment=treatment, for_staff=for_staff, location=location, specialist=specialist
    )
    shape = course_shape(
        sessions=sessions,
        interval_days=interval_days,
        min_interval_days=min_interval_days,
        max_interval_days=max_interval_days,
    )
    tz = loc.tz
    if earliest_start < now.astimezone(tz).date():
        raise InvalidTime(
            _("The earliest start has already passed."), fields={"earliest_start": "past"}
        )
    horizon = min(START_WITHIN_DAYS + (shape.sessions - 1) * shape.max_interval_days + 1, 731)
    dates, recovery = _planner_dates(client, treatment, important_dates, earliest_start)
    try:
        request = core.CourseRequest(
            sessions=shape.sessions,
            earliest_start=earliest_start,
            interval=timedelta(days=shape.interval_days),
            min_interval=timedelta(days=shape.min_interval_days),
            max_interval=timedelta(days=shape.max_interval_days),
            preferred_weekdays=frozenset(preferred_weekdays)
            if preferred_weekdays is not None
            else None,
            preferred_times=tuple(preferred_times) if preferred_times is not None else None,
            preferred_specialist=scheduling._rid(specialist.pk) if specialist else None,
            important_dates=dates,
            recovery=recovery.recovery if recovery.applies else core.DEFAULT_RECOVERY,
            recovery_by_kind=recovery.recovery_by_kind,
            horizon_days=horizon,
            start_within_days=START_WITHIN_DAYS,
        )
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None
    by_role = scheduling.eligible_resources(treatment, loc)
    ctx = scheduling.booking_context(
        treatment=treatment,
        location=loc,
        window_start=_midnight(earliest_start, tz),
        window_end=_midnight(earliest_start + timedelta(days=horizon), tz),
        by_role=by_role,
        now=now,
    )
    try:
        planned = core.plan_course(
            request=request,
            template=ctx.template,
            candidates=ctx.candidates,
            tz=tz,
            now=now,
            rules=scheduling.treatment_rules(treatment, for_staff=for_staff),
        )
    except slots.SlotProblem as problem:
        raise CourseUnavailable(problem.message, code=problem.code) from None
    return Proposal(planned, request, loc, ctx, shape)


# --- booking a whole course -----------------------------------------------------------------


@dataclass(frozen=True)
class SessionTime:
    start: datetime
    specialist: Any = None  # a Specialist, or None for whoever is free


@dataclass
class CourseBooking:
    plan: Plan
    appointments: list[Appointment] = field(default_factory=list)
    replayed: bool = False


def _problems_extra(proposal: Proposal) -> dict[str, Any]:
    alt = proposal.plan.alternative
    return {
        "problems": [{"session": p.session, "reason": p.reason} for p in proposal.plan.problems],
        "sessions": [s.slot for s in proposal.plan.sessions],
        "alternative": alt,
        "proposal": proposal,
    }


def _check_gaps(times: Sequence[SessionTime], shape: CourseShape, tz: Any) -> None:
    days = [t.start.astimezone(tz).date() for t in times]
    for i in range(1, len(days)):
        gap = (days[i] - days[i - 1]).days
        if not shape.min_interval_days <= gap <= shape.max_interval_days:
            raise ValidationFailed(
                _(
                    "Session %(n)s is %(gap)s days after session %(p)s; sessions must be "
                    "%(low)s-%(high)s days apart."
                )
                % {
                    "n": i + 1,
                    "p": i,
                    "gap": gap,
                    "low": shape.min_interval_days,
                    "high": shape.max_interval_days,
                },
                fields={"sessions": "interval"},
            )


def _check_bookable(plan: Plan) -> None:
    if plan.status not in _EDITABLE:
        raise PolicyViolation(_("A stopped course cannot be booked."))
    if plan.plan_sessions.filter(appointment__status=Status.BOOKED).exists():
        raise PolicyViolation(
            _("This course already has booked sessions; move them instead."),
            code="course_already_booked",
        )


def course_book(
    *,
    client: Any,
    treatment: Any,
    booked_by: Any,
    now: datetime,
    sessions: int | None = None,
    earliest_start: date | None = None,
    session_times: Sequence[SessionTime] | None = None,
    plan: Plan | None = None,
    interval_days: int | None = None,
    specialist: Any = None,
    location: Any = None,
    preferred_weekdays: Sequence[int] | None = None,
    preferred_times: Sequence[tuple[time, time]] | None = None,
    important_dates: Sequence[core.ImportantDate] = (),
    idempotency_key: str | None = None,
    confirm_important_dates: bool = False,
    override_reason: str = "",
    interval_override_reason: str = "",
    notes: str = "",
) -> CourseBooking:
    """Book every session of a course, or raise a DomainError and write nothing.

    Either `session_times` (explicit, e.g. a proposal the client saw) or `earliest_start`
    (the planner proposes, then the proposal is booked). With `plan`, its numbers and
    approvals apply and the sessions are linked to it; otherwise a plan is made and accepted.
    `notes` (what the client told us, e.g. the areas to treat) go on every session.
    CourseUnavailable (409) carries the planner's problems and alternative."""
    for_staff = _is_staff(booked_by)
    if plan is not None:
        if plan.client_id != client.pk or plan.treatment_id != treatment.pk:
            raise ValidationFailed(
                _("That plan is for another client or treatment."), fields={"plan": "mismatch"}
            )
        _check_bookable(plan)  # early, before planning; again under the lock below
        shape = CourseShape(
            plan.sessions, plan.interval_days, plan.min_interval_days, plan.max_interval_days
        )
        extended, short = False, False
        specialist = specialist or plan.specialist
        location = location or plan.location
    else:
        count = sessions if sessions is not None else len(session_times or ())
        shape = course_shape(sessions=count, interval_days=interval_days)
        extended, short = _check_clinical_approvals(
            shape, by=booked_by, override_reason=interval_override_reason
        )
    if session_times is None:
        if earliest_start is None:
            raise ValidationFailed(
                _("Give the earliest start or the time of every session."),
                fields={"earliest_start": "required"},
            )
        proposal = course_propose(
            client=client,
            treatment=treatment,
            sessions=shape.sessions,
            earliest_start=earliest_start,
            now=now,
            for_staff=for_staff,
            interval_days=shape.interval_days,
            min_interval_days=shape.min_interval_days,
            max_interval_days=shape.max_interval_days,
            specialist=specialist,
            location=location,
            preferred_weekdays=preferred_weekdays,
            preferred_times=preferred_times,
            important_dates=important_dates,
        )
        if not proposal.plan.is_complete:
            first = proposal.plan.problems[0]
            raise CourseUnavailable(first.reason, extra=_problems_extra(proposal))
        location = proposal.location
        session_times = [
            SessionTime(
                s.slot.start,
                _specialist_for(s.specialist) if s.specialist else None,
            )
            for s in proposal.plan.sessions
        ]
    if len(session_times) != shape.sessions:
        raise ValidationFailed(
            _("This course has %(n)s sessions; give a time for each.") % {"n": shape.sessions},
            fields={"sessions": "count"},
        )
    for item in session_times:
        if item.start.tzinfo is None:
            raise InvalidTime(
                _("Session times need a time zone or UTC offset."), fields={"sessions": "naive"}
            )
    session_times = sorted(session_times, key=lambda t: t.start)
    loc = booking.booking_request_check(
        treatment=treatment, for_staff=for_staff, location=location, specialist=specialist
    )
    for item in session_times:
        booking._check_start(item.start)
        if item.specialist is not None:
            booking.specialist_check_works_at(item.specialist, loc)
    _check_gaps(session_times, shape, loc.tz)
    fingerprint = booking._fingerprint(
        client=client.pk,
        treatment=treatment.slug,
        plan=plan.pk if plan else "",
        starts=[t.start.timestamp() for t in session_times],
        specialists=[t.specialist.pk if t.specialist else "" for t in session_times],
        location=loc.pk,
    )
    scoped = booking._scoped_key(booked_by, idempotency_key) if idempotency_key else None
    try:
        return _book_all(
            client=client,
            treatment=treatment,
            booked_by=booked_by,
            now=now,
            loc=loc,
            plan=plan,
            shape=shape,
            times=session_times,
            for_staff=for_staff,
            scoped=scoped,
            fingerprint=fingerprint,
            extended=extended,
            short=short,
            interval_override_reason=interval_override_reason,
            confirm_important_dates=confirm_important_dates,
            override_reason=override_reason,
            specialist=specialist,
            important_dates=important_dates,
            notes=notes.strip(),
        )
    except IntegrityError as exc:
        # The same key committed meanwhile, or the no-overlap backstop fired: a lost race.
        if scoped is not None:
            replay = _replay(scoped, fingerprint)
            if replay is not None:
                return replay
        raise SlotUnavailable(
            _("One of the course's times was just taken by another booking.")
        ) from exc


def _specialist_for(rid: str) -> Any:
    return specialist_get(uuid.UUID(rid))


def _replay(scoped: str, fingerprint: str) -> CourseBooking | None:
    existing = Plan.objects.filter(idempotency_key=scoped).first()
    if existing is None:
        return None
    if existing.request_fingerprint != fingerprint:
        raise IdempotencyConflict(
            _(
                "This Idempotency-Key was already used for a different booking. "
                "Use a new key for a new request."
            )
        )
    appointments = [
        link.appointment
        for link in existing.plan_sessions.select_related("appointment").order_by(
            "appointment__starts_at"
        )
    ]
    return CourseBooking(existing, appointments, True)


def _book_all(
    *,
    client: Any,
    treatment: Any,
    booked_by: Any,
    now: datetime,
    loc: Any,
    plan: Plan | None,
    shape: CourseShape,
    times: Sequence[SessionTime],
    for_staff: bool,
    scoped: str | None,
    fingerprint: str,
    extended: bool,
    short: bool,
    interval_override_reason: str,
    confirm_important_dates: bool,
    override_reason: str,
    specialist: Any,
    important_dates: Sequence[core.ImportantDate],
    notes: str = "",
) -> CourseBooking:
    with transaction.atomic(durable=True):
        # Every eligible resource, locked in id order as appointment_book does, so a single
        # booking of any of them waits for the whole course (and the course for it).
        by_role = scheduling.eligible_resources(treatment, loc)
        booking._lock_resources([info.id for infos in by_role.values() for info in infos])
        if scoped is not None:
            replay = _replay(scoped, fingerprint)
            if replay is not None:
                return replay
        if plan is None:
            plan = Plan.objects.create(
                client=client,
                treatment=treatment,
                location=loc,
                specialist=specialist,
                status=PlanStatus.ACCEPTED,
                sessions=shape.sessions,
                interval_days=shape.interval_days,
                min_interval_days=shape.min_interval_days,
                max_interval_days=shape.max_interval_days,
                extended_confirmed_by=booked_by if extended else None,
                interval_override_by=booked_by if short else None,
                interval_override_reason=interval_override_reason.strip() if short else "",
                created_by=booked_by if getattr(booked_by, "pk", None) else None,
                created_at=now,
                updated_at=now,
                accepted_at=now,
                idempotency_key=scoped,
                request_fingerprint=fingerprint if scoped else "",
            )
        else:
            plan = Plan.objects.select_for_update().get(pk=plan.pk)
            # Another booking of this plan may have committed since the check before planning.
            _check_bookable(plan)
            if plan.status == PlanStatus.PROPOSED:
                plan.status = PlanStatus.ACCEPTED
                plan.accepted_at = now
            plan.location = loc
            plan.updated_at = now
            plan.save()
        base_rules = scheduling.treatment_rules(treatment, for_staff=for_staff)
        later_rules = core.course_rules(
            base_rules, now=now, until=times[-1].start + timedelta(days=1)
        )
        tz = loc.tz
        first_day = times[0].start.astimezone(tz).date()
        dates, recovery = _planner_dates(client, treatment, important_dates, first_day)
        confirmed: list[dict[str, Any]] = []
        made: list[Appointment] = []
        for number, item in enumerate(times, start=1):
            who = item.specialist
            only = scheduling._rid(who.pk) if who is not None else None
            session_roles = {
                role: [
                    i for i in infos if role != scheduling.ROLE_SPECIALIST or only in (None, i.id)
                ]
                for role, infos in by_role.items()
            }
            # Expired holds on these resources go first: the no-overlap backstop knows no clock.
            booking._release_expired_slot_holds(by_role, item.start, now)
            # Re-read busy time under the locks: earlier sessions of this course are seen too.
            ctx = scheduling.booking_context(
                treatment=treatment,
                location=loc,
                window_start=item.start,
                window_end=item.start + timedelta(minutes=1),
                by_role=session_roles,
                now=now,
            )
            try:
                slot = slots.check_slot(
                    template=ctx.template,
                    start=item.start,
                    candidates=ctx.candidates,
                    tz=tz,
                    now=now,
                    rules=base_rules if number == 1 else later_rules,
                )
            except slots.SlotProblem as problem:
                message = _("Session %(n)s: %(why)s") % {"n": number, "why": problem.message}
                if problem.code in {"naive_datetime", "in_past", "min_notice", "max_advance"}:
                    raise InvalidTime(
                        message, code=problem.code, fields={"sessions": problem.code}
                    ) from None
                raise SlotUnavailable(
                    message, extra={"session": number, "reason": problem.code}
                ) from None
            if recovery.applies and dates:
                found = core.recovery_clashes(
                    start=slot.start,
                    important_dates=dates,
                    recovery=recovery.recovery,
                    recovery_by_kind=recovery.recovery_by_kind,
                    tz=tz,
                )
                clashes = [
                    course_selectors.Clash(i.kind, i.label, i.start_on, i.end_on) for i in found
                ]
                course_selectors.important_dates_require_confirmation(
                    clashes=clashes, confirmed=confirm_important_dates, session=number
                )
                confirmed.extend({"session": number, "date": c.text} for c in clashes)
            try:
                appointment = booking.appointment_write(
                    client=client,
                    treatment=treatment,
                    location=loc,
                    slot=slot,
                    booked_by=booked_by,
                    now=now,
                    notes=notes,
                    override_reason=override_reason,
                    audit_data={"course": str(plan.pk), "session": number},
                )
            except DomainError as exc:
                exc.message = _("Session %(n)s: %(why)s") % {"n": number, "why": exc.message}
                exc.args = (exc.message,)
                raise
            PlanSession.objects.create(plan=plan, appointment=appointment)
            made.append(appointment)
        # One summary of every session replaces the per-session confirmations (issue 12).
        course_confirmation_schedule(appointments=made, now=now, course_id=plan.pk)
        audit_record(
            actor=booked_by,
            action="course.book",
            obj=plan,
            at=now,
            data={
                "client": str(client.pk),
                "treatment": treatment.slug,
                "sessions": [a.starts_at.isoformat() for a in made],
                **({"important_dates_confirmed": confirmed} if confirmed else {}),
            },
        )
        return CourseBooking(plan, made, False)
