"""Proposing a whole course (no writes): the free time of every eligible resource over the
course's horizon, the client's important dates, and the pure planner. Booking a proposal is the
booking orchestration's `course_book` (`daisy.booking.courses`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils.translation import gettext as _

from daisy.aftercare.selectors import precare_ready_at
from daisy.clients.selectors import client_deferred_until
from daisy.core import courses as core
from daisy.core import slots
from daisy.core.calendars import to_utc
from daisy.courses import selectors as course_selectors

# The first session falls within a week of the earliest start (the planner's default).
from daisy.courses.services.plans import (
    CourseShape,
    course_shape,
)
from daisy.lib.errors import (
    CourseUnavailable,
    InvalidTime,
    ValidationFailed,
)
from daisy.scheduling import selectors as scheduling
from daisy.scheduling.services import booking_request_check
from daisy.treatments.selectors import MIN_SESSION_GAP_DAYS, treatment_is_needling

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


def local_midnight(day: date, tz: Any) -> datetime:
    return to_utc(day, time(0), tz)


def planner_dates(
    client: Any, treatment: Any, extra: Sequence[core.ImportantDate], since: date
) -> tuple[tuple[core.ImportantDate, ...], course_selectors.RecoveryRules]:
    # A date that ended shortly before `since` can still sit in a session's pre-care window.
    stored = course_selectors.important_date_list_for_client(
        client, ending_on_or_after=since - course_selectors.PRECARE_LOOKBACK
    )
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
    precare_confirmed: Sequence[str] = (),
) -> Proposal:
    """Plan every session (no writes): free time of every eligible resource over the course's
    horizon, the client's stored important dates plus `important_dates`, the pure planner."""
    loc = booking_request_check(
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
    if client is not None and treatment.requires_screening:
        # A deferral on the client's record (DOMAIN.md 2.1): the course starts once it is over.
        waited = client_deferred_until(client.pk)
        if waited is not None and waited > earliest_start:
            earliest_start = waited
    horizon = min(START_WITHIN_DAYS + (shape.sessions - 1) * shape.max_interval_days + 1, 731)
    dates, recovery = planner_dates(client, treatment, important_dates, earliest_start)
    # The client's other needling sessions: each of the course's keeps 28 days from them
    # (DOMAIN.md 1.2), so a proposal is one the booking gate accepts without a reason.
    needles = treatment_is_needling(treatment)
    apart_from = scheduling.needling_session_days(client, tz=tz) if needles else []
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
            preferred_specialist=scheduling.resource_key(specialist.pk) if specialist else None,
            important_dates=dates,
            recovery=recovery.planner_recovery,
            recovery_by_kind=recovery.recovery_by_kind,
            precare_by_kind=recovery.precare_by_kind,
            horizon_days=horizon,
            start_within_days=START_WITHIN_DAYS,
            apart_from=tuple(apart_from),
            apart_days=MIN_SESSION_GAP_DAYS if apart_from else 0,
            # A client's own course starts no sooner than its preparation can be followed in
            # full (issue 12), unless they confirmed they already follow the steps; staff read
            # the preparation to the client instead.
            not_before=None
            if for_staff
            else precare_ready_at(treatment=treatment, now=now, tz=tz, confirmed=precare_confirmed),
        )
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None
    by_role = scheduling.eligible_resources(treatment, loc)
    ctx = scheduling.booking_context(
        treatment=treatment,
        location=loc,
        window_start=local_midnight(earliest_start, tz),
        window_end=local_midnight(earliest_start + timedelta(days=horizon), tz),
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
