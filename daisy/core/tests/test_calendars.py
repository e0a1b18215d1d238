from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from daisy.core.calendars import (
    AmbiguousLocalTime,
    DayHours,
    NonexistentLocalTime,
    open_intervals,
    resolve_local_all,
    resolve_local_strict,
    to_utc,
)
from daisy.core.intervals import Interval

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")

LONDON_SPRING = date(2026, 3, 29)
LONDON_AUTUMN = date(2026, 10, 25)
NEW_YORK_SPRING = date(2026, 3, 8)
NEW_YORK_AUTUMN = date(2026, 11, 1)

NINE_TO_FIVE = DayHours(time(9), time(17))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def one_day(tz: ZoneInfo, day: date, *hours: DayHours) -> list[Interval[datetime]]:
    return open_intervals(tz=tz, start_on=day, end_on=day, weekly={day.weekday(): hours})


def length(items: list[Interval[datetime]]) -> timedelta:
    return sum((item.end - item.start for item in items), timedelta())


# --- to_utc: the RFC 5545 reading ---------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "day", "at", "expected"),
    [
        # In the gap: the offset from before the gap, so the clock then shows an hour later.
        (LONDON, LONDON_SPRING, time(1, 30), utc(2026, 3, 29, 1, 30)),
        (NEW_YORK, NEW_YORK_SPRING, time(2, 30), utc(2026, 3, 8, 7, 30)),
        # In the fold: the first occurrence, still on summer time.
        (LONDON, LONDON_AUTUMN, time(1, 30), utc(2026, 10, 25, 0, 30)),
        (NEW_YORK, NEW_YORK_AUTUMN, time(1, 30), utc(2026, 11, 1, 5, 30)),
        # Either side of the change, plain conversions.
        (LONDON, LONDON_SPRING, time(0, 30), utc(2026, 3, 29, 0, 30)),
        (LONDON, LONDON_SPRING, time(9), utc(2026, 3, 29, 8)),
        (NEW_YORK, NEW_YORK_AUTUMN, time(9), utc(2026, 11, 1, 14)),
    ],
)
def test_to_utc_follows_rfc_5545(tz: ZoneInfo, day: date, at: time, expected: datetime) -> None:
    result = to_utc(day, at, tz)
    assert result == expected
    assert result.tzinfo is UTC


def test_to_utc_ignores_a_fold_flag_on_the_time() -> None:
    assert to_utc(LONDON_AUTUMN, time(1, 30, fold=1), LONDON) == utc(2026, 10, 25, 0, 30)


def test_to_utc_refuses_an_aware_time() -> None:
    with pytest.raises(ValueError):
        to_utc(LONDON_SPRING, time(9, tzinfo=UTC), LONDON)


# --- opening hours on DST days ------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "day", "opens_at"),
    [
        (LONDON, LONDON_SPRING, utc(2026, 3, 29, 8)),
        (LONDON, LONDON_AUTUMN, utc(2026, 10, 25, 9)),
        (NEW_YORK, NEW_YORK_SPRING, utc(2026, 3, 8, 13)),
        (NEW_YORK, NEW_YORK_AUTUMN, utc(2026, 11, 1, 14)),
    ],
)
def test_nine_to_five_is_eight_real_hours_on_transition_days(
    tz: ZoneInfo, day: date, opens_at: datetime
) -> None:
    assert one_day(tz, day, NINE_TO_FIVE) == [Interval(opens_at, opens_at + timedelta(hours=8))]


def test_nine_to_five_is_eight_hours_every_day_of_the_year() -> None:
    for tz in (LONDON, NEW_YORK, ZoneInfo("Australia/Sydney"), ZoneInfo("Asia/Kolkata")):
        result = open_intervals(
            tz=tz,
            start_on=date(2026, 1, 1),
            end_on=date(2026, 12, 31),
            weekly={weekday: [NINE_TO_FIVE] for weekday in range(7)},
        )
        assert len(result) == 365
        assert {item.end - item.start for item in result} == {timedelta(hours=8)}


def test_opening_across_the_spring_gap_is_two_real_hours() -> None:
    result = one_day(NEW_YORK, NEW_YORK_SPRING, DayHours(time(0, 30), time(3, 30)))
    # 00:30 EST -> 03:30 EDT.
    assert result == [Interval(utc(2026, 3, 8, 5, 30), utc(2026, 3, 8, 7, 30))]
    london = one_day(LONDON, LONDON_SPRING, DayHours(time(0, 30), time(3, 30)))
    assert length(london) == timedelta(hours=2)


def test_opening_across_the_autumn_fold_is_four_real_hours() -> None:
    result = one_day(NEW_YORK, NEW_YORK_AUTUMN, DayHours(time(0), time(3)))
    # 00:00 EDT -> 03:00 EST.
    assert result == [Interval(utc(2026, 11, 1, 4), utc(2026, 11, 1, 8))]
    london = one_day(LONDON, LONDON_AUTUMN, DayHours(time(0), time(3)))
    assert london == [Interval(utc(2026, 10, 24, 23), utc(2026, 10, 25, 3))]


def test_opening_that_the_gap_turns_backwards_is_closed() -> None:
    # 02:30 reads as 03:30 EDT, after the 03:15 close.
    assert one_day(NEW_YORK, NEW_YORK_SPRING, DayHours(time(2, 30), time(3, 15))) == []


def test_opening_wholly_inside_the_gap_keeps_its_length() -> None:
    result = one_day(NEW_YORK, NEW_YORK_SPRING, DayHours(time(2, 10), time(2, 40)))
    assert result == [Interval(utc(2026, 3, 8, 7, 10), utc(2026, 3, 8, 7, 40))]


# --- the strict resolver ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "tz"),
    [(datetime(2026, 3, 29, 1, 30), LONDON), (datetime(2026, 3, 8, 2, 30), NEW_YORK)],
)
def test_strict_resolver_rejects_times_in_the_gap(local: datetime, tz: ZoneInfo) -> None:
    with pytest.raises(NonexistentLocalTime) as raised:
        resolve_local_strict(local, tz)
    assert isinstance(raised.value, ValueError)
    assert resolve_local_all(local, tz) == []


def test_strict_resolver_picks_first_occurrence_unless_fold_is_set() -> None:
    local = datetime(2026, 11, 1, 1, 30)
    assert resolve_local_strict(local, NEW_YORK) == utc(2026, 11, 1, 5, 30)
    assert resolve_local_strict(local.replace(fold=1), NEW_YORK) == utc(2026, 11, 1, 6, 30)
    assert resolve_local_all(local, NEW_YORK) == [utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)]
    london = datetime(2026, 10, 25, 1, 30)
    assert resolve_local_strict(london, LONDON) == utc(2026, 10, 25, 0, 30)
    assert resolve_local_strict(london.replace(fold=1), LONDON) == utc(2026, 10, 25, 1, 30)


def test_strict_resolver_can_refuse_to_guess_an_ambiguous_time() -> None:
    with pytest.raises(AmbiguousLocalTime):
        resolve_local_strict(datetime(2026, 11, 1, 1, 30), NEW_YORK, reject_ambiguous=True)
    plain = resolve_local_strict(datetime(2026, 11, 1, 9), NEW_YORK, reject_ambiguous=True)
    assert plain == utc(2026, 11, 1, 14)


def test_strict_resolver_passes_ordinary_times_and_returns_utc() -> None:
    result = resolve_local_strict(datetime(2026, 3, 29, 2, 30), LONDON)
    assert result == utc(2026, 3, 29, 1, 30)
    assert result.tzinfo is UTC
    assert resolve_local_strict(datetime(2026, 3, 8, 3, 0), NEW_YORK) == utc(2026, 3, 8, 7)
    assert resolve_local_all(datetime(2026, 3, 8, 3, 0), NEW_YORK) == [utc(2026, 3, 8, 7)]


def test_strict_resolver_wants_a_naive_datetime() -> None:
    with pytest.raises(ValueError):
        resolve_local_strict(utc(2026, 3, 8, 3), NEW_YORK)
    with pytest.raises(ValueError):
        resolve_local_all(utc(2026, 3, 8, 3), NEW_YORK)


# --- weekly hours, overrides, closures ----------------------------------------------------

MONDAY = date(2026, 6, 8)
WEEKLY = {0: [NINE_TO_FIVE], 1: [NINE_TO_FIVE], 5: [DayHours(time(10), time(13))]}


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return to_utc(day, time(hour, minute), LONDON)


def test_weekly_hours_follow_date_weekday_and_end_on_is_inclusive() -> None:
    saturday = MONDAY + timedelta(days=5)
    result = open_intervals(tz=LONDON, start_on=MONDAY, end_on=saturday, weekly=WEEKLY)
    assert result == [
        Interval(local(MONDAY, 9), local(MONDAY, 17)),
        Interval(local(MONDAY + timedelta(days=1), 9), local(MONDAY + timedelta(days=1), 17)),
        Interval(local(saturday, 10), local(saturday, 13)),
    ]
    assert all(item.start.tzinfo is UTC and item.end.tzinfo is UTC for item in result)


def test_override_replaces_the_weekday_hours() -> None:
    result = open_intervals(
        tz=LONDON,
        start_on=MONDAY,
        end_on=MONDAY,
        weekly=WEEKLY,
        overrides={MONDAY: [DayHours(time(12), time(20))]},
    )
    assert result == [Interval(local(MONDAY, 12), local(MONDAY, 20))]


def test_override_can_open_a_normally_closed_day() -> None:
    sunday = MONDAY + timedelta(days=6)
    result = open_intervals(
        tz=LONDON,
        start_on=sunday,
        end_on=sunday,
        weekly=WEEKLY,
        overrides={sunday: [DayHours(time(10), time(12))]},
    )
    assert result == [Interval(local(sunday, 10), local(sunday, 12))]


def test_empty_override_closes_the_day() -> None:
    result = open_intervals(
        tz=LONDON, start_on=MONDAY, end_on=MONDAY, weekly=WEEKLY, overrides={MONDAY: []}
    )
    assert result == []


def test_closure_wins_over_weekly_hours_and_overrides() -> None:
    tuesday = MONDAY + timedelta(days=1)
    result = open_intervals(
        tz=LONDON,
        start_on=MONDAY,
        end_on=tuesday,
        weekly=WEEKLY,
        overrides={tuesday: [DayHours(time(8), time(9))]},
        closed_on={MONDAY, tuesday},
    )
    assert result == []


def test_split_shifts_stay_apart_and_touching_shifts_merge() -> None:
    split = [DayHours(time(13), time(17)), DayHours(time(9), time(12))]
    assert one_day(LONDON, MONDAY, *split) == [
        Interval(local(MONDAY, 9), local(MONDAY, 12)),
        Interval(local(MONDAY, 13), local(MONDAY, 17)),
    ]
    touching = [DayHours(time(9), time(12)), DayHours(time(12), time(17))]
    assert one_day(LONDON, MONDAY, *touching) == [Interval(local(MONDAY, 9), local(MONDAY, 17))]


def test_rejects_bad_hours_and_ranges() -> None:
    with pytest.raises(ValueError):
        DayHours(time(17), time(9))
    with pytest.raises(ValueError):
        DayHours(time(9), time(9))
    with pytest.raises(ValueError):
        DayHours(time(9, tzinfo=UTC), time(17, tzinfo=UTC))
    with pytest.raises(ValueError):
        open_intervals(tz=LONDON, start_on=MONDAY, end_on=MONDAY, weekly={7: [NINE_TO_FIVE]})
    with pytest.raises(ValueError):
        open_intervals(tz=LONDON, start_on=MONDAY, end_on=MONDAY - timedelta(days=1), weekly=WEEKLY)
