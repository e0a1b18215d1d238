"""The course planner: worked examples, then properties against an exhaustive search.

The examples use a London clinic and the micro-needling template (DESIGN.md section 4). The
properties build small random clinics, check every plan with an independent checker (slots
through check_slot, gaps, recovery windows and preferences recomputed here from datetimes), and
on small cases compare the plan with a brute force over every feasible start.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daisy.core import courses
from daisy.core.calendars import DayHours, open_intervals, to_utc
from daisy.core.courses import (
    DEFAULT_MAX_INTERVAL,
    DEFAULT_MIN_INTERVAL,
    DEFAULT_RECOVERY_BY_KIND,
    CoursePlan,
    CourseRequest,
    ImportantDate,
    PlannedSession,
    plan_course,
    recovery_clashes,
)
from daisy.core.intervals import Interval
from daisy.core.slots import (
    Candidate,
    PhaseTemplate,
    Rules,
    Slot,
    SlotProblem,
    Template,
    check_slot,
    find_slots,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
JUNE_1 = date(2026, 6, 1)  # a Monday
NOW = datetime(2026, 5, 20, 9, tzinfo=UTC)
RULES = Rules(min_notice=timedelta(hours=2), max_advance=timedelta(days=90), step_minutes=15)
WEEKDAYS = range(5)

MICRO_NEEDLING = Template(
    (
        PhaseTemplate("consult and photos", 10 * MINUTE, frozenset({"specialist", "room"})),
        PhaseTemplate("numbing", 30 * MINUTE, frozenset({"room"})),
        PhaseTemplate("needling", 20 * MINUTE, frozenset({"specialist", "room", "device"})),
        PhaseTemplate("post-care", 10 * MINUTE, frozenset({"room"})),
        PhaseTemplate("clean-down", 10 * MINUTE, frozenset({"room", "device"}), is_buffer=True),
    )
)


# --- building clinics ---------------------------------------------------------------------


@dataclass
class Clinic:
    """Resources open on `weekdays`, with days off and busy blocks in local wall-clock time."""

    specialists: Sequence[str] = ("specialist:amy",)
    rooms: Sequence[str] = ("room:1",)
    devices: Sequence[str] = ("pen:1",)
    tz: ZoneInfo = LONDON
    first: date = JUNE_1 - 7 * DAY
    last: date = JUNE_1 + 400 * DAY
    weekdays: Iterable[int] = WEEKDAYS
    hours: tuple[time, time] = (time(9), time(17))
    days_off: dict[str, list[tuple[date, date]]] = field(default_factory=dict)
    busy: dict[str, list[tuple[date, time, time]]] = field(default_factory=dict)

    def candidates(self) -> list[Candidate]:
        out = []
        weekly = {d: [DayHours(*self.hours)] for d in self.weekdays}
        roles = [
            *((rid, "specialist") for rid in self.specialists),
            *((rid, "room") for rid in self.rooms),
            *((rid, "device") for rid in self.devices),
        ]
        for rid, role in roles:
            off = [
                a + k * DAY for a, b in self.days_off.get(rid, []) for k in range((b - a).days + 1)
            ]
            opens = open_intervals(
                tz=self.tz, start_on=self.first, end_on=self.last, weekly=weekly, closed_on=off
            )
            busy = [
                Interval(to_utc(day, a, self.tz), to_utc(day, b, self.tz))
                for day, a, b in self.busy.get(rid, [])
            ]
            out.append(Candidate(rid, role, opens, busy))
        return out


def plan(
    request: CourseRequest,
    clinic: Clinic | Sequence[Candidate],
    *,
    template: Template = MICRO_NEEDLING,
    now: datetime = NOW,
    rules: Rules = RULES,
    tz: ZoneInfo = LONDON,
) -> CoursePlan:
    candidates = clinic.candidates() if isinstance(clinic, Clinic) else clinic
    return plan_course(
        request=request, template=template, candidates=candidates, tz=tz, now=now, rules=rules
    )


def local(session: PlannedSession, tz: ZoneInfo = LONDON) -> datetime:
    return session.slot.start.astimezone(tz)


def dates_of(result: CoursePlan, tz: ZoneInfo = LONDON) -> list[date]:
    return [local(s, tz).date() for s in result.sessions]


def whole_day_booked(day: date) -> tuple[date, time, time]:
    return (day, time(0), time(23, 59))


# --- the independent checker --------------------------------------------------------------


def span_of(item: ImportantDate, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(item.start_on, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(item.end_on + DAY, time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def deviation(result: CoursePlan, request: CourseRequest) -> int:
    counted = result.sessions if request.previous_on is not None else result.sessions[1:]
    gaps = [s.gap_days for s in counted]
    return sum(abs(gap - request.interval.days) for gap in gaps if gap is not None)


def assert_respects_every_constraint(
    result: CoursePlan,
    request: CourseRequest,
    candidates: Sequence[Candidate],
    *,
    tz: ZoneInfo,
    now: datetime,
    rules: Rules,
    template: Template,
    shift_days: int = 0,
    sessions: int | None = None,
) -> None:
    assert len(result.sessions) == (request.sessions if sessions is None else sessions)
    assert [s.index for s in result.sessions] == list(range(1, len(result.sessions) + 1))
    first_on = request.earliest_start + shift_days * DAY
    horizon_end = request.earliest_start + request.horizon_days * DAY
    later = Rules(
        min_notice=rules.min_notice,
        max_advance=timedelta(days=2000),
        step_minutes=rules.step_minutes,
    )
    previous: date | None = None
    for session in result.sessions:
        start = session.slot.start
        shown = start.astimezone(tz)
        day = shown.date()
        assert request.earliest_start <= day < horizon_end
        if session.index == 1:
            assert first_on <= day < first_on + request.start_within_days * DAY
            assert now + rules.min_notice <= start <= now + rules.max_advance
            if request.previous_on is None:
                assert session.gap_days is None
            else:
                # Re-planning: the gap from the session that stays obeys the window too.
                gap = (day - request.previous_on).days
                assert session.gap_days == gap
                assert request.min_interval.days <= gap <= request.max_interval.days
        else:
            assert previous is not None
            gap = (day - previous).days
            assert session.gap_days == gap
            assert request.min_interval.days <= gap <= request.max_interval.days
        previous = day
        # Clear of the client's other sessions (DOMAIN.md 1.2), counted in local calendar days.
        assert all(abs((day - other).days) >= request.apart_days for other in request.apart_from)
        # On the local grid, and exactly the slot booking would accept with that specialist.
        assert (shown.hour * 60 + shown.minute) % rules.step_minutes == 0 and shown.second == 0
        specialist = session.slot.resources.get("specialist")
        pinned = [c for c in candidates if c.role != "specialist" or c.resource_id == specialist]
        checked = check_slot(
            template=template,
            start=start,
            candidates=pinned,
            tz=tz,
            now=now,
            rules=rules if session.index == 1 else later,
        )
        assert checked == session.slot
        for item in request.important_dates:
            lo, hi = span_of(item, tz)
            recovery = request.recovery_by_kind.get(item.kind, request.recovery)
            assert not (start < hi and lo < start + recovery), (session.index, item)
            # The pre-care window before the session (sun: two weeks) stays clear too.
            precare = request.precare_by_kind.get(item.kind, timedelta(0))
            assert not (start - precare < hi and lo < start), (session.index, item)
        if request.not_before is not None:
            assert start >= request.not_before
        if request.preferred_weekdays is not None:
            assert day.weekday() in request.preferred_weekdays
        if request.preferred_times is not None:
            assert any(
                to_utc(day, a, tz) <= start
                and start + template.client_duration <= to_utc(day, b, tz)
                for a, b in request.preferred_times
            )


# --- worked examples ----------------------------------------------------------------------


def test_a_plain_course_keeps_28_days_the_time_of_day_and_the_specialist() -> None:
    request = CourseRequest(sessions=4, earliest_start=JUNE_1)
    result = plan(request, Clinic(specialists=("specialist:amy", "specialist:ben")))
    assert result.is_complete and result.problems == () and result.alternative is None
    assert dates_of(result) == [JUNE_1 + k * 28 * DAY for k in range(4)]
    assert [s.gap_days for s in result.sessions] == [None, 28, 28, 28]
    assert {local(s).time() for s in result.sessions} == {time(9)}
    # Nobody is preferred and both are equally free: the slot finder's tie-break picks amy.
    assert {s.specialist for s in result.sessions} == {"specialist:amy"}


def test_the_session_before_a_wedding_moves_so_its_recovery_clears_the_day() -> None:
    # Only Monday 1 June is free in the first week, so the course cannot simply start later.
    # Session 2 would fall on Monday 29 June; 72 hours from 09:00 reach into the wedding on
    # Thursday 2 July. Friday 26 June (gap 25) clears it; Friday 3 July (gap 32) would cost more.
    wedding = ImportantDate("wedding", date(2026, 7, 2), date(2026, 7, 2), label="Wedding")
    clinic = Clinic(
        busy={"specialist:amy": [whole_day_booked(JUNE_1 + k * DAY) for k in range(1, 5)]}
    )
    request = CourseRequest(sessions=4, earliest_start=JUNE_1, important_dates=(wedding,))
    result = plan(request, clinic)
    assert result.is_complete
    assert dates_of(result) == [JUNE_1, date(2026, 6, 26), date(2026, 7, 24), date(2026, 8, 21)]
    assert [s.gap_days for s in result.sessions] == [None, 25, 28, 28]
    before = result.sessions[1]
    assert before.slot.start + timedelta(hours=72) <= span_of(wedding, LONDON)[0]
    assert deviation(result, request) == 3
    assert_respects_every_constraint(
        result,
        request,
        clinic.candidates(),
        tz=LONDON,
        now=NOW,
        rules=RULES,
        template=MICRO_NEEDLING,
    )


def test_a_recovery_window_may_end_exactly_when_the_important_day_begins() -> None:
    # 63 hours from Monday 29 June 09:00 end at Thursday 2 July 00:00: touching, not clashing.
    wedding = ImportantDate("wedding", date(2026, 7, 2), date(2026, 7, 2))
    clinic = Clinic(
        busy={"specialist:amy": [whole_day_booked(JUNE_1 + k * DAY) for k in range(1, 5)]}
    )
    request = CourseRequest(
        sessions=2,
        earliest_start=JUNE_1,
        important_dates=(wedding,),
        recovery_by_kind={"wedding": timedelta(hours=63)},
    )
    assert dates_of(plan(request, clinic)) == [JUNE_1, date(2026, 6, 29)]
    longer = CourseRequest(
        sessions=2,
        earliest_start=JUNE_1,
        important_dates=(wedding,),
        recovery_by_kind={"wedding": timedelta(hours=63, seconds=1)},
    )
    assert dates_of(plan(longer, clinic)) == [JUNE_1, date(2026, 6, 26)]


def test_a_beach_holiday_keeps_two_weeks_of_sun_recovery_clear() -> None:
    # DOMAIN.md 4.2 days 0-14: limited sun for two weeks, so no session may start in the
    # 14 days before 2 August or during the holiday (2-16 August).
    holiday = ImportantDate("beach_holiday", date(2026, 8, 2), date(2026, 8, 16))
    assert DEFAULT_RECOVERY_BY_KIND["beach_holiday"] == timedelta(days=14)
    clinic = Clinic()
    # The recovery window alone (the pre-care window before a session has its own test).
    request = CourseRequest(
        sessions=4, earliest_start=JUNE_1, important_dates=(holiday,), precare_by_kind={}
    )
    result = plan(request, clinic)
    assert result.is_complete
    holiday_starts, holiday_ends = span_of(holiday, LONDON)
    for session in result.sessions:
        start = session.slot.start
        assert start + timedelta(days=14) <= holiday_starts or start >= holiday_ends
    # The naive 28-day course (1 June, 29 June, 27 July, ...) would put session 3 in the sun.
    assert dates_of(result)[2] != date(2026, 7, 27)
    assert_respects_every_constraint(
        result,
        request,
        clinic.candidates(),
        tz=LONDON,
        now=NOW,
        rules=RULES,
        template=MICRO_NEEDLING,
    )
    world = World(request, clinic.candidates(), LONDON, NOW, RULES, MICRO_NEEDLING)
    assert score(result, world) == brute_force(world).best_by_shift[0]


def test_the_preferred_specialist_is_kept_even_when_someone_else_is_freer() -> None:
    clinic = Clinic(
        specialists=("specialist:amy", "specialist:ben"),
        busy={"specialist:ben": [(JUNE_1 + k * DAY, time(14), time(16)) for k in range(200)]},
    )
    anyone = plan(CourseRequest(sessions=3, earliest_start=JUNE_1), clinic)
    assert {s.specialist for s in anyone.sessions} == {"specialist:amy"}
    request = CourseRequest(
        sessions=3, earliest_start=JUNE_1, preferred_specialist="specialist:ben"
    )
    result = plan(request, clinic)
    assert [s.specialist for s in result.sessions] == ["specialist:ben"] * 3
    assert dates_of(result) == dates_of(anyone)


def test_a_stand_in_covers_the_one_session_the_preferred_specialist_is_away() -> None:
    # Ben is away for two weeks around session 2; moving session 2 to his nearest free days
    # would cost 8 days of deviation, so Amy takes that session and Ben has the rest.
    clinic = Clinic(
        specialists=("specialist:amy", "specialist:ben"),
        days_off={"specialist:ben": [(date(2026, 6, 22), date(2026, 7, 6))]},
    )
    request = CourseRequest(
        sessions=4, earliest_start=JUNE_1, preferred_specialist="specialist:ben"
    )
    result = plan(request, clinic)
    assert result.is_complete
    assert dates_of(result) == [JUNE_1 + k * 28 * DAY for k in range(4)]
    assert [s.specialist for s in result.sessions] == [
        "specialist:ben",
        "specialist:amy",
        "specialist:ben",
        "specialist:ben",
    ]


def test_without_a_preference_session_one_goes_to_whoever_can_start_earliest() -> None:
    # Amy is the less booked that day (the tie-break favourite) but only free from 11:00.
    clinic = Clinic(
        specialists=("specialist:amy", "specialist:ben"),
        busy={
            "specialist:amy": [(JUNE_1, time(9), time(11))],
            "specialist:ben": [(JUNE_1, time(15), time(17, 0))],
        },
    )
    result = plan(CourseRequest(sessions=2, earliest_start=JUNE_1), clinic)
    assert [s.specialist for s in result.sessions] == ["specialist:ben"] * 2
    assert [local(s).time() for s in result.sessions] == [time(9), time(9)]


def test_without_a_preference_the_course_stays_with_whoever_can_do_all_of_it() -> None:
    # Amy is the tie-break favourite for session 1 but is away for session 3; Ben can do all.
    clinic = Clinic(
        specialists=("specialist:amy", "specialist:ben"),
        days_off={"specialist:amy": [(date(2026, 7, 13), date(2026, 8, 14))]},
    )
    result = plan(CourseRequest(sessions=4, earliest_start=JUNE_1), clinic)
    assert dates_of(result) == [JUNE_1 + k * 28 * DAY for k in range(4)]
    assert {s.specialist for s in result.sessions} == {"specialist:ben"}


def test_no_plan_names_the_failing_session_and_offers_a_later_start() -> None:
    # Away 1 July - 15 August: session 2 can squeeze in by 27 June, but session 3 then has to
    # fall between 17 July and 7 August. Starting on Monday 17 August (11 weeks later) works.
    travel = ImportantDate("travel", date(2026, 7, 1), date(2026, 8, 15), label="Travel")
    request = CourseRequest(sessions=4, earliest_start=JUNE_1, important_dates=(travel,))
    result = plan(request, Clinic())
    assert not result.is_complete
    assert [s.index for s in result.sessions] == [1, 2]
    assert result.problems == (
        courses.CourseProblem(
            3,
            "Session 3: no free time between 17 July and 7 August that keeps the recovery "
            "window clear of 'Travel' from 1 July to 15 August.",
        ),
    )
    alternative = result.alternative
    assert alternative is not None and alternative.is_complete
    assert alternative.shift_days == 77 and alternative.alternative is None
    assert dates_of(alternative)[0] == date(2026, 8, 17)
    assert [s.gap_days for s in alternative.sessions] == [None, 28, 28, 28]


def test_no_plan_and_no_alternative_when_the_horizon_is_too_short() -> None:
    # Session 3 needs at least 42 days after session 1; the horizon is 40 days.
    request = CourseRequest(sessions=3, earliest_start=JUNE_1, horizon_days=40)
    result = plan(request, Clinic())
    assert result.alternative is None
    assert len(result.sessions) == 2
    assert result.problems[0].session == 3
    assert result.problems[0].reason == (
        "Session 3: it would fall after 10 July 2026, the furthest ahead this plan looks."
    )


def test_preferred_weekdays_only_tuesdays() -> None:
    request = CourseRequest(sessions=4, earliest_start=JUNE_1, preferred_weekdays=frozenset({1}))
    result = plan(request, Clinic())
    assert [d.weekday() for d in dates_of(result)] == [1, 1, 1, 1]
    assert dates_of(result)[0] == date(2026, 6, 2)
    assert [s.gap_days for s in result.sessions[1:]] == [28, 28, 28]


def test_preferences_that_nothing_fits_are_named_as_the_problem() -> None:
    request = CourseRequest(
        sessions=2,
        earliest_start=JUNE_1,
        preferred_weekdays=frozenset({5, 6}),
        preferred_times=((time(9), time(12)),),
    )
    result = plan(request, Clinic())
    assert result.sessions == ()
    assert result.problems[0].reason == (
        "Session 1: no free time between 1 and 7 June on Saturdays or Sundays within the "
        "preferred hours (09:00-12:00)."
    )
    assert result.alternative is None


def test_preferred_times_hold_the_whole_visit() -> None:
    # The visit is 70 minutes, so in a 14:00-16:00 window the last start is 14:45 and, as
    # session 1 takes the earliest, the first is 14:00 (14:00-15:30 booked on 1 June).
    clinic = Clinic(busy={"specialist:amy": [(JUNE_1, time(14), time(15, 30))]})
    request = CourseRequest(
        sessions=2, earliest_start=JUNE_1, preferred_times=((time(14), time(16)),)
    )
    result = plan(request, clinic)
    assert dates_of(result) == [date(2026, 6, 2), date(2026, 6, 30)]
    assert [local(s).time() for s in result.sessions] == [time(14), time(14)]
    squeezed = plan(
        CourseRequest(sessions=1, earliest_start=JUNE_1, preferred_times=((time(14), time(15)),)),
        Clinic(),
    )
    assert not squeezed.is_complete


def test_a_dst_change_between_sessions_keeps_the_local_time_of_day() -> None:
    # London moves to BST on 29 March 2026. Session 1 is at 10:30 GMT because 09:00-10:30 is
    # booked; session 2 picks 10:30 BST too (09:30 UTC), not the earlier free 09:00.
    first = date(2026, 3, 2)
    clinic = Clinic(
        first=first - 7 * DAY,
        busy={"specialist:amy": [(first, time(9), time(10, 30))]},
    )
    result = plan(
        CourseRequest(sessions=2, earliest_start=first),
        clinic,
        now=datetime(2026, 2, 20, tzinfo=UTC),
    )
    one, two = result.sessions
    assert local(one).time() == local(two).time() == time(10, 30)
    assert two.gap_days == 28
    assert one.slot.start == datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    assert two.slot.start == datetime(2026, 3, 30, 9, 30, tzinfo=UTC)


def test_session_one_follows_the_booking_rules_and_later_ones_may_be_further_ahead() -> None:
    rules = Rules(min_notice=timedelta(hours=2), max_advance=timedelta(days=10))
    far = plan(CourseRequest(sessions=2, earliest_start=JUNE_1), Clinic(), rules=rules)
    assert far.sessions == ()
    assert far.problems[0].reason == (
        "Session 1: bookings open only 10 days ahead, and 1 June is further away than that."
    )
    rules = Rules(min_notice=timedelta(hours=2), max_advance=timedelta(days=13))
    now = datetime(2026, 5, 19, 10, tzinfo=UTC)
    result = plan(CourseRequest(sessions=3, earliest_start=JUNE_1), Clinic(), now=now, rules=rules)
    # 1 June 09:00 BST is 13 days minus an hour ahead: bookable; sessions 2 and 3 are not
    # bookable singly but belong to the course.
    assert result.is_complete
    assert dates_of(result)[0] == JUNE_1
    assert courses.course_rules(rules, now=now, until=result.sessions[-1].slot.start) == Rules(
        min_notice=rules.min_notice,
        max_advance=result.sessions[-1].slot.start - now,
        step_minutes=rules.step_minutes,
    )


def test_a_start_window_that_has_passed_says_so() -> None:
    result = plan(
        CourseRequest(sessions=2, earliest_start=date(2026, 5, 1)),
        Clinic(first=date(2026, 4, 1)),
    )
    assert result.problems[0].reason == "Session 1: between 1 and 7 May has already passed."
    assert result.alternative is not None
    assert dates_of(result.alternative)[0] == date(2026, 5, 20)


def test_a_template_without_a_specialist_still_plans() -> None:
    room_only = Template((PhaseTemplate("peel", 30 * MINUTE, frozenset({"room"})),))
    result = plan(CourseRequest(sessions=2, earliest_start=JUNE_1), Clinic(), template=room_only)
    assert result.is_complete
    assert [s.specialist for s in result.sessions] == [None, None]
    assert [dict(s.slot.resources) for s in result.sessions] == [{"room": "room:1"}] * 2


def test_one_resource_in_two_roles_is_never_booked_as_both() -> None:
    # chair:1 is both the specialist and a room; on 1 June the only other room is booked, so
    # the interval sets see a room free but check_slot refuses: the planner moves on.
    clinic = Clinic(
        specialists=("chair:1",),
        rooms=("room:2",),
        busy={"room:2": [whole_day_booked(JUNE_1)]},
    )
    candidates = clinic.candidates()
    chair = candidates[0]
    shared = [*candidates, Candidate("chair:1", "room", chair.open, chair.busy)]
    result = plan(CourseRequest(sessions=2, earliest_start=JUNE_1), shared)
    assert dates_of(result) == [date(2026, 6, 2), date(2026, 6, 30)]
    assert [dict(s.slot.resources) for s in result.sessions] == [
        {"specialist": "chair:1", "room": "room:2", "device": "pen:1"}
    ] * 2


def test_plans_are_deterministic_whatever_the_candidate_order() -> None:
    clinic = Clinic(specialists=("specialist:c", "specialist:a", "specialist:b"))
    request = CourseRequest(sessions=3, earliest_start=JUNE_1)
    candidates = clinic.candidates()
    first = plan(request, candidates)
    shuffled = list(candidates)
    random.Random(4).shuffle(shuffled)
    assert plan(request, candidates) == first == plan(request, shuffled)
    assert first.sessions[0].specialist == "specialist:a"


def test_a_session_is_never_planned_inside_the_2_weeks_after_a_beach_holiday() -> None:
    # DOMAIN.md 4.1: no tanning or sunburn for two weeks before a session. The holiday ends on
    # 14 June (its last day), so the first day a session may start is 29 June 00:00.
    holiday = ImportantDate("beach_holiday", date(2026, 6, 4), date(2026, 6, 14))
    assert courses.DEFAULT_PRECARE_BY_KIND["beach_holiday"] == timedelta(days=14)
    request = CourseRequest(
        sessions=3, earliest_start=JUNE_1, important_dates=(holiday,), start_within_days=35
    )
    result = plan(request, Clinic(last=date(2026, 12, 31)))
    assert result.is_complete
    _, holiday_ends = span_of(holiday, LONDON)
    for session in result.sessions:
        start = session.slot.start
        assert not holiday_ends <= start < holiday_ends + timedelta(days=14), start
    # Before the holiday there is no room for session 1 (its 2 weeks of sun recovery would
    # reach the holiday), so the course starts once the pre-care window is clear.
    assert dates_of(result)[0] == date(2026, 6, 29)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 40),
    st.integers(0, 20),
    st.integers(0, 23 * 60 + 59),
    st.sampled_from([LONDON, NEW_YORK]),
)
def test_no_session_start_in_the_two_weeks_after_a_sun_holiday_is_ever_cleared(
    offset: int, length: int, minute: int, tz: ZoneInfo
) -> None:
    first = date(2026, 3, 1) + offset * DAY
    holiday = ImportantDate("sun_holiday", first, first + length * DAY)
    ends = to_utc(holiday.end_on + DAY, time(0), tz)
    start = ends + timedelta(minutes=minute) + timedelta(days=minute % 14)
    found = recovery_clashes(
        start=start,
        important_dates=[holiday],
        recovery=timedelta(hours=72),
        recovery_by_kind=DEFAULT_RECOVERY_BY_KIND,
        precare_by_kind=courses.DEFAULT_PRECARE_BY_KIND,
        tz=tz,
    )
    assert found == ((holiday,) if start < ends + timedelta(days=14) else ())
    # Exactly two weeks after the holiday's last day is clear.
    assert not recovery_clashes(
        start=ends + timedelta(days=14),
        important_dates=[holiday],
        recovery=timedelta(hours=72),
        recovery_by_kind=DEFAULT_RECOVERY_BY_KIND,
        precare_by_kind=courses.DEFAULT_PRECARE_BY_KIND,
        tz=tz,
    )


def test_not_before_holds_session_1_back_until_preparation_can_be_followed() -> None:
    ready = datetime(2026, 6, 10, 8, tzinfo=UTC)
    request = CourseRequest(
        sessions=2, earliest_start=JUNE_1, not_before=ready, start_within_days=14
    )
    result = plan(request, Clinic())
    assert result.is_complete
    assert result.sessions[0].slot.start >= ready
    assert dates_of(result)[0] == date(2026, 6, 10)
    tight = dataclasses.replace(request, start_within_days=7)
    refused = plan(tight, Clinic())
    assert not refused.is_complete
    assert "too soon to prepare for" in refused.problems[0].reason
    assert "10 June, 09:00" in refused.problems[0].reason


def test_recovery_clashes_uses_the_kind_and_lets_a_window_touch_the_day() -> None:
    wedding = ImportantDate("wedding", date(2026, 7, 2), date(2026, 7, 2))
    beach = ImportantDate("beach_holiday", date(2026, 7, 20), date(2026, 7, 25))
    touching = datetime(2026, 6, 28, 23, tzinfo=UTC)  # 00:00 BST on 29 June, + 72 h = 2 July
    kinds = DEFAULT_RECOVERY_BY_KIND

    def clashes(start: datetime) -> tuple[ImportantDate, ...]:
        return recovery_clashes(
            start=start,
            important_dates=[wedding, beach],
            recovery=timedelta(hours=72),
            recovery_by_kind=kinds,
            tz=LONDON,
        )

    assert clashes(touching) == ()
    assert clashes(touching + timedelta(seconds=1)) == (wedding,)
    assert clashes(datetime(2026, 7, 6, 9, tzinfo=UTC)) == (beach,)
    assert clashes(datetime(2026, 7, 26, 9, tzinfo=UTC)) == ()
    with pytest.raises(SlotProblem):
        clashes(datetime(2026, 7, 6, 9))


@pytest.mark.parametrize(
    "changes",
    [
        {"sessions": 0},
        {"sessions": 13},
        {"interval": timedelta(days=20)},
        {"interval": timedelta(days=28, hours=1)},
        {"min_interval": timedelta(days=30)},
        {"max_interval": timedelta(0)},
        {"horizon_days": 0},
        {"start_within_days": 0},
        {"preferred_weekdays": frozenset()},
        {"preferred_weekdays": frozenset({7})},
        {"preferred_times": ()},
        {"preferred_times": ((time(12), time(9)),)},
        {"preferred_times": ((time(9, tzinfo=UTC), time(12)),)},
        {"preferred_specialist": ""},
        {"recovery": timedelta(0)},
        {"recovery_by_kind": {"wedding": -DAY}},
    ],
)
def test_rejects_malformed_requests(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        CourseRequest(**{"sessions": 3, "earliest_start": JUNE_1, **changes})


def test_rejects_malformed_important_dates_and_naive_times() -> None:
    with pytest.raises(ValueError):
        ImportantDate("wedding", date(2026, 7, 2), date(2026, 7, 1))
    with pytest.raises(ValueError):
        ImportantDate("", date(2026, 7, 2), date(2026, 7, 2))
    request = CourseRequest(sessions=2, earliest_start=JUNE_1)
    with pytest.raises(SlotProblem):
        plan(request, Clinic(), now=datetime(2026, 5, 20))
    naive = Candidate("room:1", "room", [Interval(datetime(2026, 6, 1), datetime(2026, 6, 2))], [])
    with pytest.raises(SlotProblem):
        plan(request, [naive, *Clinic(rooms=()).candidates()])
    with pytest.raises(SlotProblem) as raised:
        plan(request, Clinic(devices=()))
    assert raised.value.code == "no_candidates"


def test_request_normalises_its_collections() -> None:
    request = CourseRequest(
        sessions=2,
        earliest_start=JUNE_1,
        important_dates=[ImportantDate("wedding", JUNE_1, JUNE_1)],  # type: ignore[arg-type]
        recovery_by_kind={"wedding": DAY},
    )
    assert isinstance(request.important_dates, tuple)
    assert request.recovery_for("wedding") == DAY
    assert request.recovery_for("interview") == timedelta(hours=72)
    again = CourseRequest(
        sessions=2,
        earliest_start=JUNE_1,
        important_dates=(ImportantDate("wedding", JUNE_1, JUNE_1),),
        recovery_by_kind={"wedding": DAY},
    )
    assert hash(request) == hash(again) and request == again


# --- properties ---------------------------------------------------------------------------


@dataclass
class World:
    request: CourseRequest
    candidates: list[Candidate]
    tz: ZoneInfo
    now: datetime
    rules: Rules
    template: Template

    def plan(self) -> CoursePlan:
        # Ids are never shared across roles here, so the fast path must agree with check_slot
        # and nothing may ever be refused.
        def refuse(*args: object) -> None:
            raise AssertionError(f"check_slot refused a start the planner found: {args}")

        with patch.object(courses._World, "_refuse", refuse):
            return plan_course(
                request=self.request,
                template=self.template,
                candidates=self.candidates,
                tz=self.tz,
                now=self.now,
                rules=self.rules,
            )


ZONES = [ZoneInfo("UTC"), LONDON, NEW_YORK]
BASES = [date(2026, 3, 2), date(2026, 6, 1), date(2026, 10, 5)]
SMALL = Template(
    (
        PhaseTemplate("treatment", 45 * MINUTE, frozenset({"specialist", "room", "device"})),
        PhaseTemplate("post-care", 15 * MINUTE, frozenset({"room"})),
        PhaseTemplate("clean-down", 15 * MINUTE, frozenset({"room", "device"}), is_buffer=True),
    )
)


@st.composite
def worlds(draw: st.DrawFn, max_sessions: int = 4, max_span: int = 42) -> World:
    tz = draw(st.sampled_from(ZONES))
    base = draw(st.sampled_from(BASES))
    sessions = draw(st.integers(2, max_sessions))
    low = draw(st.integers(21, 28))
    high = draw(st.integers(28, max_span))
    interval = draw(st.integers(low, high))
    # Long enough, sometimes, for a start up to 12 weeks later; sometimes too short for any.
    horizon = draw(st.integers((sessions - 1) * low, (sessions - 1) * high + 90))
    last = base + horizon * DAY
    specialists = [f"specialist:{n}" for n in range(draw(st.integers(1, 3)))]
    rooms = [f"room:{n}" for n in range(draw(st.integers(1, 2)))]
    weekdays = draw(st.lists(st.integers(0, 6), min_size=3, max_size=7, unique=True))
    opens_at = draw(st.sampled_from([time(8), time(9), time(9, 30)]))
    hours = draw(st.integers(2, 5))
    days_off: dict[str, list[tuple[date, date]]] = {}
    busy: dict[str, list[tuple[date, time, time]]] = {}
    for rid in [*specialists, *rooms, "pen:0"]:
        # Specialists are away more often than rooms, so that stand-ins get exercised.
        for _ in range(draw(st.integers(0, 3 if rid in specialists else 1))):
            start = base + draw(st.integers(-3, horizon)) * DAY
            days_off.setdefault(rid, []).append((start, start + draw(st.integers(0, 20)) * DAY))
        for _ in range(draw(st.integers(0, 6))):
            # Half the bookings fall in the first days, where session 1 is decided.
            day = base + draw(st.one_of(st.integers(0, 9), st.integers(0, horizon))) * DAY
            begins = draw(st.integers(8 * 4, 12 * 4)) * 15
            length = draw(st.integers(1, 8)) * 15
            ends = begins + length
            busy.setdefault(rid, []).append(
                (day, time(begins // 60, begins % 60), time(ends // 60, ends % 60))
            )
    clinic = Clinic(
        specialists=specialists,
        rooms=rooms,
        devices=["pen:0"],
        tz=tz,
        first=base - 3 * DAY,
        last=last + 3 * DAY,
        weekdays=weekdays,
        hours=(opens_at, time(opens_at.hour + hours, opens_at.minute)),
        days_off=days_off,
        busy=busy,
    )
    important = []
    for _ in range(draw(st.integers(0, 3))):
        start = base + draw(st.integers(-5, horizon)) * DAY
        kind = draw(st.sampled_from(["wedding", "interview", "beach_holiday"]))
        length = draw(st.sampled_from([0, 0, 1, 5, 14, 30]))
        important.append(ImportantDate(kind, start, start + length * DAY))
    preferred_times = draw(
        st.one_of(
            st.none(),
            st.sampled_from([((time(9), time(11)),), ((time(8), time(10)), (time(11), time(14)))]),
        )
    )
    request = CourseRequest(
        sessions=sessions,
        earliest_start=base,
        interval=interval * DAY,
        min_interval=low * DAY,
        max_interval=high * DAY,
        preferred_weekdays=draw(
            st.one_of(st.none(), st.none(), st.frozensets(st.integers(0, 6), min_size=2))
        ),
        preferred_times=preferred_times,
        preferred_specialist=draw(st.one_of(st.none(), st.sampled_from([*specialists, "x"]))),
        important_dates=tuple(important),
        # Recoveries that are not whole days end inside opening hours, at the edge that
        # matters.
        recovery=timedelta(hours=draw(st.sampled_from([72, 63, 40]))),
        recovery_by_kind={"beach_holiday": timedelta(days=draw(st.sampled_from([3, 14])))},
        precare_by_kind={"beach_holiday": timedelta(days=draw(st.sampled_from([0, 2, 14])))},
        horizon_days=horizon,
        start_within_days=draw(st.sampled_from([7, 7, 3, 10])),
    )
    now = datetime.combine(base, time(12), tzinfo=tz) - draw(st.integers(-1, 3)) * DAY
    lead = draw(st.sampled_from([None, None, 5, 14]))
    if lead is not None:  # a first session's preparation lead time, in days
        request = dataclasses.replace(request, not_before=now + lead * DAY)
    rules = Rules(
        min_notice=timedelta(hours=draw(st.sampled_from([0, 2, 2, 30]))),
        max_advance=timedelta(days=draw(st.sampled_from([5, 30, 400, 400]))),
        step_minutes=60,
    )
    return World(request, clinic.candidates(), tz, now.astimezone(UTC), rules, SMALL)


@dataclass
class Search:
    """Exhaustive answers: best objective per shift week and the longest week-0 prefix."""

    best_by_shift: dict[int, tuple[int, int, datetime]]
    longest_prefix: int


def feasible_starts(world: World) -> dict[date, dict[str, list[datetime]]]:
    """Every start each specialist could take on each local day, recomputed from scratch."""
    request, tz = world.request, world.tz
    window_start = to_utc(request.earliest_start, time(0), tz)
    window_end = to_utc(request.earliest_start + request.horizon_days * DAY, time(0), tz)
    loose = Rules(
        min_notice=world.rules.min_notice,
        max_advance=timedelta(days=2000),
        step_minutes=world.rules.step_minutes,
    )
    slots: list[Slot] = find_slots(
        template=world.template,
        candidates=world.candidates,
        window_start=window_start,
        window_end=window_end,
        tz=tz,
        now=world.now,
        rules=loose,
        group_by="specialist",
    )
    out: dict[date, dict[str, list[datetime]]] = {}
    for slot in slots:
        start = slot.start
        day = start.astimezone(tz).date()
        if (
            request.preferred_weekdays is not None
            and day.weekday() not in request.preferred_weekdays
        ):
            continue
        if request.preferred_times is not None and not any(
            to_utc(day, a, tz) <= start
            and start + world.template.client_duration <= to_utc(day, b, tz)
            for a, b in request.preferred_times
        ):
            continue
        if request.not_before is not None and start < request.not_before:
            continue
        if any(
            start - request.precare_for(item.kind) < span_of(item, tz)[1]
            and span_of(item, tz)[0] < start + request.recovery_for(item.kind)
            for item in request.important_dates
        ):
            continue
        out.setdefault(day, {}).setdefault(slot.resources["specialist"], []).append(start)
    return out


def brute_force(world: World) -> Search:
    request = world.request
    starts = feasible_starts(world)
    latest = world.now + world.rules.max_advance
    first = request.earliest_start
    low, high, interval = (
        request.min_interval.days,
        request.max_interval.days,
        request.interval.days,
    )
    specialists = sorted({c.resource_id for c in world.candidates if c.role == "specialist"})
    preferred = (
        request.preferred_specialist if request.preferred_specialist in specialists else None
    )

    def can_start(day: date, who: str) -> datetime | None:
        found = [s for s in starts.get(day, {}).get(who, []) if s <= latest]
        return min(found) if found else None

    def score_days(days: Sequence[date]) -> tuple[int, int, datetime] | None:
        dev = sum(abs((b - a).days - interval) for a, b in itertools.pairwise(days))
        if request.previous_on is not None:
            dev += abs((days[0] - request.previous_on).days - interval)
        # (sessions away from the kept specialist, session-1 start) for each way to begin.
        options = []
        for who in specialists:
            begin = can_start(days[0], who)
            if begin is None:
                continue
            anchor = who if preferred is None else preferred
            away = sum(anchor not in starts.get(d, {}) for d in days[1:])
            options.append((away + (who != anchor), begin))
        if not options:
            return None
        away, begin = min(options)
        return dev, away, begin

    best: dict[int, tuple[int, int, datetime]] = {}
    longest = 0
    for offset in range(min(request.horizon_days, 7 * 12 + request.start_within_days)):
        day = first + offset * DAY
        if not any(can_start(day, who) for who in specialists):
            continue
        week = max(0, -(-(offset - request.start_within_days + 1) // 7))
        if 7 * week > offset:
            continue
        if request.previous_on is not None and not low <= (day - request.previous_on).days <= high:
            continue
        stack: list[list[date]] = [[day]]
        while stack:
            days = stack.pop()
            if week == 0:
                longest = max(longest, len(days))
            if len(days) == request.sessions:
                found = score_days(days)
                if found is not None and (week not in best or found < best[week]):
                    best[week] = found
                continue
            for gap in range(low, high + 1):
                following = days[-1] + gap * DAY
                if following in starts:
                    stack.append([*days, following])
    return Search(best, longest)


def score(found: CoursePlan, world: World) -> tuple[int, int, datetime]:
    """(deviation, sessions away from the kept specialist, session-1 start) of a plan."""
    specialists = {c.resource_id for c in world.candidates if c.role == "specialist"}
    people = [s.specialist for s in found.sessions]
    preferred = world.request.preferred_specialist
    anchor = preferred if preferred in specialists else people[0]
    away = sum(p != anchor for p in people)
    return deviation(found, world.request), away, found.sessions[0].slot.start


def check_world(world: World, search: Search | None) -> None:
    result = world.plan()
    assert world.plan() == result  # deterministic
    request = world.request
    common = {"tz": world.tz, "now": world.now, "rules": world.rules, "template": world.template}
    if result.is_complete:
        assert result.alternative is None and result.shift_days == 0
        assert_respects_every_constraint(result, request, world.candidates, **common)  # type: ignore[arg-type]
    else:
        (problem,) = result.problems
        assert problem.session == len(result.sessions) + 1
        assert problem.reason.startswith(f"Session {problem.session}: ")
        assert_respects_every_constraint(
            result,
            request,
            world.candidates,
            sessions=len(result.sessions),
            **common,  # type: ignore[arg-type]
        )
        alternative = result.alternative
        if alternative is not None:
            assert alternative.is_complete and alternative.alternative is None
            assert alternative.shift_days % 7 == 0 and 7 <= alternative.shift_days <= 84
            assert_respects_every_constraint(
                alternative,
                request,
                world.candidates,
                shift_days=alternative.shift_days,
                **common,  # type: ignore[arg-type]
            )
    if search is None:
        return
    # A plan is found whenever one exists, and it is as good as the best there is.
    if 0 in search.best_by_shift:
        assert result.is_complete
        assert score(result, world) == search.best_by_shift[0]
        return
    assert not result.is_complete
    assert len(result.sessions) == search.longest_prefix
    if search.best_by_shift:
        week = min(search.best_by_shift)
        assert result.alternative is not None
        assert result.alternative.shift_days == 7 * week
        assert score(result.alternative, world) == search.best_by_shift[week]
    else:
        assert result.alternative is None


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_every_plan_satisfies_every_constraint(world: World) -> None:
    check_world(world, None)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds(max_sessions=3, max_span=34))
def test_plans_are_found_whenever_one_exists_and_are_optimal(world: World) -> None:
    check_world(world, brute_force(world))


# --- re-planning the rest of a course (previous_on, time_of_day) ---------------------------


def rest_of(world: World, keep_time: bool) -> World:
    """The world as a re-plan sees it: session 1 follows a session that stays, in its window."""
    request = world.request
    low, high = request.min_interval.days, request.max_interval.days
    rest = dataclasses.replace(
        request,
        previous_on=request.earliest_start - low * DAY,
        start_within_days=min(high - low + 1, request.horizon_days),
        time_of_day=time(10) if keep_time else None,
    )
    return dataclasses.replace(world, request=rest)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds(max_sessions=3, max_span=34), st.booleans())
def test_re_plans_respect_every_window_and_are_optimal(world: World, keep_time: bool) -> None:
    rest = rest_of(world, keep_time=False)
    check_world(rest, brute_force(rest))
    if not keep_time:
        return
    # Keeping the client's time of day changes only the time on each chosen day.
    timed, plain = rest_of(world, keep_time=True).plan(), rest.plan()
    assert timed.problems == plain.problems
    assert [(local(s, world.tz).date(), s.specialist) for s in timed.sessions] == [
        (local(s, world.tz).date(), s.specialist) for s in plain.sessions
    ]
    common = {"tz": world.tz, "now": world.now, "rules": world.rules, "template": world.template}
    assert_respects_every_constraint(
        timed,
        rest_of(world, keep_time=True).request,
        world.candidates,
        sessions=len(timed.sessions),
        **common,  # type: ignore[arg-type]
    )


def _rest_of_course(sessions: int, previous: date, **changes: Any) -> CourseRequest:
    """The request the booking service builds when a session moves: the window after it."""
    low, high = DEFAULT_MIN_INTERVAL.days, DEFAULT_MAX_INTERVAL.days
    return CourseRequest(
        sessions=sessions,
        earliest_start=previous + low * DAY,
        start_within_days=high - low + 1,
        horizon_days=(high - low + 1) + (sessions - 1) * high + 1,
        previous_on=previous,
        **changes,
    )


def test_the_rest_of_a_course_keeps_28_days_after_the_session_that_stays() -> None:
    request = _rest_of_course(2, JUNE_1 - 28 * DAY)
    result = plan(request, Clinic(), now=NOW - 40 * DAY)
    assert result.is_complete
    assert dates_of(result) == [JUNE_1, JUNE_1 + 28 * DAY]
    # Session 1's gap is measured from the session that stays, like every other gap.
    assert [s.gap_days for s in result.sessions] == [28, 28]


def test_the_rest_of_a_course_moves_the_least_when_the_28th_day_is_taken() -> None:
    # 1 June (the 28th day) is fully booked: the nearest weekday either side costs one day of
    # deviation; a later start would cost it again at session 2, so the earlier day wins ties.
    clinic = Clinic(busy={"specialist:amy": [whole_day_booked(JUNE_1)]})
    result = plan(_rest_of_course(2, JUNE_1 - 28 * DAY), clinic, now=NOW - 40 * DAY)
    assert result.is_complete
    first, second = dates_of(result)
    assert abs((first - JUNE_1).days) == 1
    assert (second - first).days == 28 or (second - (JUNE_1 - 28 * DAY)).days == 56


def test_the_rest_of_a_course_keeps_the_clients_time_of_day() -> None:
    request = _rest_of_course(2, JUNE_1 - 28 * DAY, time_of_day=time(14, 30))
    result = plan(request, Clinic(), now=NOW - 40 * DAY)
    assert [local(s).time() for s in result.sessions] == [time(14, 30), time(14, 30)]


def test_the_rest_of_a_course_that_cannot_follow_in_its_window_says_so() -> None:
    previous = JUNE_1 - 28 * DAY
    closed = [(previous + 21 * DAY, previous + 42 * DAY)]
    clinic = Clinic(days_off={"specialist:amy": closed})
    result = plan(_rest_of_course(2, previous), clinic, now=NOW - 40 * DAY)
    assert not result.is_complete
    assert result.sessions == ()
    assert result.problems[0].session == 1
    assert result.alternative is None


def test_previous_on_must_come_before_the_window() -> None:
    with pytest.raises(ValueError, match="previous_on"):
        CourseRequest(sessions=2, earliest_start=JUNE_1, previous_on=JUNE_1)


def test_busy_time_given_as_epoch_seconds_is_busy_too() -> None:
    # The scheduling selectors hand over busy time as (start, end) epoch seconds.
    candidates = Clinic().candidates()
    day = (
        int(to_utc(JUNE_1, time(9), LONDON).timestamp()),
        int(to_utc(JUNE_1, time(17), LONDON).timestamp()),
    )
    candidates = [
        Candidate(c.resource_id, c.role, c.open, c.busy, busy_seconds=[day])
        if c.resource_id == "specialist:amy"
        else c
        for c in candidates
    ]
    result = plan(CourseRequest(sessions=2, earliest_start=JUNE_1), candidates)
    assert result.is_complete
    assert dates_of(result)[0] == JUNE_1 + DAY


# --- other sessions of the client (DOMAIN.md 1.2: 28 days between needling sessions) ---------


def test_sessions_keep_28_days_from_the_clients_other_sessions() -> None:
    """A standalone session on 22 June: session 1 cannot fall on 1-5 June (17-21 days before
    it); the course starts once 28 days have passed, on 20 July."""
    request = CourseRequest(
        sessions=3, earliest_start=JUNE_1, apart_from=(date(2026, 6, 22),), apart_days=28
    )
    clinic = Clinic()
    result = plan(request, clinic)
    assert not result.is_complete
    assert "at least 28 days from the session on 22 June 2026" in result.problems[0].reason
    assert result.alternative is not None
    assert dates_of(result.alternative)[0] == date(2026, 7, 20)
    assert_respects_every_constraint(
        result.alternative,
        request,
        clinic.candidates(),
        tz=LONDON,
        now=NOW,
        rules=RULES,
        template=MICRO_NEEDLING,
        shift_days=result.alternative.shift_days,
    )


def test_exactly_28_days_from_another_session_is_allowed_27_is_not() -> None:
    def first_day(other: date) -> CoursePlan:
        request = CourseRequest(
            sessions=1, earliest_start=JUNE_1, apart_from=(other,), apart_days=28
        )
        return plan(request, Clinic())

    assert dates_of(first_day(date(2026, 6, 29)))[0] == JUNE_1  # 28 days before it
    # 28 June: 1 June is 27 days before it, and every later day of the first week is nearer.
    assert not first_day(date(2026, 6, 28)).is_complete
