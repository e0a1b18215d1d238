"""Booking a whole course at once: every session through the same reserve and eligibility gate
as a single booking, the plan and its important dates, and the messages, in ONE transaction:
any session that fails rolls back all of them (DESIGN.md 4)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from daisy.aftercare.services import (
    appointment_messages_schedule,
    course_confirmation_schedule,
    precare_confirmations_record,
)
from daisy.audit.services import audit_record
from daisy.booking.eligibility import Asking, eligibility_check, prescreen_evaluated
from daisy.clinic.selectors import specialist_get
from daisy.core import courses as core
from daisy.courses.models import Plan
from daisy.courses.selectors import important_date_kind_list, important_date_list_for_client
from daisy.courses.services import (
    CourseShape,
    Proposal,
    course_approvals_check,
    course_propose,
    course_shape,
    important_date_create,
    plan_bookable_check,
    plan_for_booking,
    plan_replay,
    plan_session_add,
)
from daisy.lib.errors import (
    CourseUnavailable,
    DomainError,
    ImportantDateConflict,
    InvalidTime,
    SlotUnavailable,
    ValidationFailed,
)
from daisy.records.services import interval_override_record, screening_record
from daisy.scheduling import selectors as scheduling_selectors
from daisy.scheduling import services as scheduling
from daisy.scheduling.models import Appointment


@dataclass(frozen=True)
class SessionTime:
    start: datetime
    specialist: Any = None  # a Specialist, or None for whoever is free


@dataclass(frozen=True)
class DateToKeep:
    """An important date the client gave while booking, stored with the course."""

    kind: str
    start_on: date
    end_on: date | None = None
    label: str = ""


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
    dates_to_keep: Sequence[DateToKeep] = (),
    idempotency_key: str | None = None,
    confirm_important_dates: bool = False,
    override_reason: str = "",
    interval_override_reason: str = "",
    notes: str = "",
    prescreen: Mapping[str, object] | None = None,
    prescreen_via: str = "online",
    precare_confirmed: Sequence[str] = (),
) -> CourseBooking:
    """Book every session of a course, or raise a DomainError and write nothing.

    Either `session_times` (explicit, e.g. a proposal the client saw) or `earliest_start`
    (the planner proposes, then the proposal is booked). With `plan`, its numbers and
    approvals apply and the sessions are linked to it; otherwise a plan is made and accepted.
    `notes` (what the client told us, e.g. the areas to treat) go on every session;
    `dates_to_keep` are stored as the client's important dates in the same transaction.
    CourseUnavailable (409) carries the planner's problems and alternative."""
    for_staff = scheduling.is_staff(booked_by)
    asking = Asking(
        client=client,
        treatment=treatment,
        by=booked_by,
        override_reason=override_reason,
        confirm_important_dates=confirm_important_dates,
        prescreen=prescreen,
        extra_dates=tuple(important_dates),
        now=now,
        precare_confirmed=tuple(str(key) for key in precare_confirmed),
        # Sessions closer than 28 days to another (DOMAIN.md 1.2): the reason given now, or the
        # one a clinician recorded on the plan when they allowed its short interval.
        gap_reason=interval_override_reason
        or (plan.interval_override_reason if plan is not None else ""),
        gap_by=(
            plan.interval_override_by
            if plan is not None
            and not interval_override_reason.strip()
            and plan.interval_override_reason
            else None
        ),
        # The plan's reason is for the gaps between its own sessions, not to the client's
        # other sessions (filled in as the sessions are made).
        gap_covers=(
            set()
            if plan is not None
            and not interval_override_reason.strip()
            and plan.interval_override_reason
            else None
        ),
    )
    if plan is not None:
        if plan.client_id != client.pk or plan.treatment_id != treatment.pk:
            raise ValidationFailed(
                _("That plan is for another client or treatment."), fields={"plan": "mismatch"}
            )
        plan_bookable_check(plan)  # early, before planning; again under the lock below
        shape = CourseShape(
            plan.sessions, plan.interval_days, plan.min_interval_days, plan.max_interval_days
        )
        extended, short = False, False
        specialist = specialist or plan.specialist
        location = location or plan.location
    else:
        count = sessions if sessions is not None else len(session_times or ())
        shape = course_shape(sessions=count, interval_days=interval_days)
        extended, short = course_approvals_check(
            shape, by=booked_by, override_reason=interval_override_reason
        )
    # Before any planning or lock: it needs nothing from the diary, and a wait it calls for
    # moves the earliest start (the planner never proposes a session inside it).
    scheduling.treatment_on_offer_check(treatment, for_staff=for_staff)
    screened = prescreen_evaluated(asking, today=now.date())
    if session_times is None:
        if earliest_start is None:
            raise ValidationFailed(
                _("Give the earliest start or the time of every session."),
                fields={"earliest_start": "required"},
            )
        waited = screened.screening.deferred_until if screened is not None else None
        if waited is not None and waited > earliest_start:
            earliest_start = waited
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
            precare_confirmed=asking.precare_confirmed,
        )
        if not proposal.plan.is_complete:
            first = proposal.plan.problems[0]
            raise CourseUnavailable(first.reason, extra=_problems_extra(proposal))
        location = proposal.location
        session_times = [
            SessionTime(
                s.slot.start,
                specialist_get(uuid.UUID(s.specialist)) if s.specialist else None,
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
    loc = scheduling.booking_request_check(
        treatment=treatment, for_staff=for_staff, location=location, specialist=specialist
    )
    for item in session_times:
        scheduling.start_check(item.start)
        if item.specialist is not None:
            scheduling.specialist_check_works_at(item.specialist, loc)
    _check_gaps(session_times, shape, loc.tz)
    fingerprint = scheduling.request_fingerprint(
        client=client.pk,
        treatment=treatment.slug,
        plan=plan.pk if plan else "",
        starts=[t.start.timestamp() for t in session_times],
        specialists=[t.specialist.pk if t.specialist else "" for t in session_times],
        location=loc.pk,
    )
    scoped = scheduling.idempotency_scope(booked_by, idempotency_key) if idempotency_key else None
    try:
        with transaction.atomic():
            return _book_all(
                asking=asking,
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
                specialist=specialist,
                important_dates=important_dates,
                dates_to_keep=dates_to_keep,
                notes=notes.strip(),
                prescreen_via=prescreen_via,
            )
    except IntegrityError as exc:
        # The same key committed meanwhile, or the no-overlap backstop fired: a lost race.
        if scoped is not None:
            replay = plan_replay(scoped, fingerprint)
            if replay is not None:
                return CourseBooking(replay[0], replay[1], True)
        raise SlotUnavailable(
            _("One of the course's times was just taken by another booking.")
        ) from exc


def _session_error(exc: DomainError, number: int) -> DomainError:
    exc.message = _("Session %(n)s: %(why)s") % {"n": number, "why": exc.message}
    exc.args = (exc.message,)
    if isinstance(exc, InvalidTime) and exc.fields.get("start"):
        exc.fields = {"sessions": exc.fields["start"]}
    if isinstance(exc, SlotUnavailable):
        exc.extra = {"session": number, **(exc.extra or {})}
    return exc


def _dates_keep(client: Any, dates: Sequence[DateToKeep], *, by: Any, now: datetime) -> None:
    """The important dates given while booking, kept on the client's record from now on (a
    date already kept is not added twice)."""
    kept = {
        (i.kind.slug, i.start_on, i.end_on, i.label) for i in important_date_list_for_client(client)
    }
    kinds = {k.slug for k in important_date_kind_list()} if dates else set()
    for item in dates:
        end_on = item.end_on or item.start_on
        key = (item.kind, item.start_on, end_on, item.label)
        if key in kept or item.kind not in kinds:
            # A kind staff withdrew meanwhile: the course still keeps clear of the date.
            continue
        important_date_create(
            client=client,
            kind=item.kind,
            start_on=item.start_on,
            end_on=end_on,
            label=item.label,
            by=by,
            now=now,
        )
        kept.add(key)


def _book_all(
    *,
    asking: Asking,
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
    specialist: Any,
    important_dates: Sequence[core.ImportantDate],
    dates_to_keep: Sequence[DateToKeep],
    notes: str,
    prescreen_via: str,
) -> CourseBooking:
    client, treatment, booked_by = asking.client, asking.treatment, asking.by
    # Every eligible resource, locked in id order as a single booking does, so a single
    # booking of any of them waits for the whole course (and the course for it).
    by_role = scheduling.eligible(treatment, loc)
    scheduling.resources_lock(info.id for infos in by_role.values() for info in infos)
    if scoped is not None:
        replay = plan_replay(scoped, fingerprint)
        if replay is not None:
            return CourseBooking(replay[0], replay[1], True)
    plan = plan_for_booking(
        client=client,
        treatment=treatment,
        plan=plan,
        location=loc,
        specialist=specialist,
        shape=shape,
        extended=extended,
        short=short,
        interval_override_reason=interval_override_reason,
        booked_by=booked_by,
        now=now,
        idempotency_key=scoped,
        fingerprint=fingerprint,
    )
    _dates_keep(client, dates_to_keep, by=booked_by, now=now)
    base_rules = scheduling_selectors.treatment_rules(treatment, for_staff=for_staff)
    later_rules = core.course_rules(base_rules, now=now, until=times[-1].start + timedelta(days=1))
    confirmed: list[dict[str, Any]] = []
    made: list[Appointment] = []
    for number, item in enumerate(times, start=1):
        who = item.specialist
        only = scheduling_selectors.resource_key(who.pk) if who is not None else None
        session_roles = {
            role: [
                i
                for i in infos
                if role != scheduling_selectors.ROLE_SPECIALIST or only in (None, i.id)
            ]
            for role, infos in by_role.items()
        }
        try:
            # Re-read busy time under the locks: earlier sessions of this course are seen too.
            reservation = scheduling.slot_reserve(
                treatment=treatment,
                location=loc,
                starts_at=item.start,
                now=now,
                for_staff=for_staff,
                by_role=session_roles,
                rules=base_rules if number == 1 else later_rules,
            )
            gaps_before = len(asking.gaps)
            clearance = eligibility_check(
                asking, starts_at=reservation.slot.start, tz=loc.tz, session=number
            )
            appointment = scheduling.appointment_create(
                reservation=reservation,
                client=client,
                booked_by=booked_by,
                now=now,
                clearance=clearance,
                notes=notes,
                audit_data={"course": str(plan.pk), "session": number},
            )
            for gap in asking.gaps[gaps_before:]:
                interval_override_record(
                    appointment=appointment,
                    neighbour=gap.neighbour,
                    gap_days=gap.gap_days,
                    reason=gap.reason,
                    by=gap.by,
                    now=now,
                )
            if asking.is_self_service and asking.precare_confirmed:
                precare_confirmations_record(
                    appointment=appointment,
                    confirmed=asking.precare_confirmed,
                    by=booked_by,
                    now=now,
                )
        except ImportantDateConflict:
            raise  # already names its session
        except DomainError as exc:
            raise _session_error(exc, number) from None
        confirmed.extend(
            {"session": number, "date": text}
            for text in clearance.audit.get("important_dates_confirmed", [])
        )
        plan_session_add(plan=plan, appointment=appointment)
        if asking.gap_covers is not None:
            asking.gap_covers.add(appointment.pk)
        # Its reminders, steps and check-ins; the confirmation is the course's one summary.
        appointment_messages_schedule(
            appointment=appointment,
            now=now,
            version=appointment.messages_version,
            confirmation=False,
        )
        made.append(appointment)
    if asking.screened:
        screening_record(
            client=client,
            evaluated=asking.screened[0],
            by=booked_by,
            via=prescreen_via,
            now=now,
            appointment=made[0],
            course=plan,
        )
    # One summary of every session, in date order, instead of one confirmation each.
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


__all__ = ["CourseBooking", "DateToKeep", "SessionTime", "course_book"]
