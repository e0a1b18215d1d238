"""quiet_hours_shift: sends that fall in a location's quiet hours wait until they end, in local
wall-clock time, across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from daisy.core.quiet_hours import is_quiet, quiet_hours_shift

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")


def local(y: int, mo: int, d: int, h: int, mi: int = 0, tz: ZoneInfo = LONDON) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=tz)


def test_a_daytime_send_is_unchanged() -> None:
    at = local(2030, 1, 7, 10)
    assert quiet_hours_shift(at, LONDON) is at


def test_a_late_evening_send_waits_for_the_morning() -> None:
    assert quiet_hours_shift(local(2030, 1, 7, 22, 15), LONDON) == local(2030, 1, 8, 8)


def test_an_early_morning_send_waits_until_the_end_of_the_same_night() -> None:
    assert quiet_hours_shift(local(2030, 1, 8, 3), LONDON) == local(2030, 1, 8, 8)


def test_the_boundaries_are_half_open() -> None:
    assert quiet_hours_shift(local(2030, 1, 7, 20, 59), LONDON) == local(2030, 1, 7, 20, 59)
    assert quiet_hours_shift(local(2030, 1, 7, 21), LONDON) == local(2030, 1, 8, 8)
    assert quiet_hours_shift(local(2030, 1, 8, 8), LONDON) == local(2030, 1, 8, 8)


def test_the_window_is_read_in_the_locations_zone_not_the_datetimes() -> None:
    # 23:00 UTC is 18:00 in New York: not quiet there.
    at = datetime(2030, 1, 7, 23, tzinfo=UTC)
    assert quiet_hours_shift(at, NEW_YORK) == at
    assert quiet_hours_shift(at, LONDON) == datetime(2030, 1, 8, 8, tzinfo=UTC)


def test_the_result_keeps_the_callers_time_zone() -> None:
    out = quiet_hours_shift(datetime(2030, 1, 7, 23, tzinfo=UTC), LONDON)
    assert out.tzinfo is UTC


def test_morning_means_local_morning_after_the_clocks_go_forward() -> None:
    # Saturday 22:00 GMT; the clocks go forward that night: 08:00 BST is 07:00 UTC.
    at = local(2030, 3, 30, 22)
    assert quiet_hours_shift(at, LONDON) == datetime(2030, 3, 31, 7, tzinfo=UTC)


def test_morning_means_local_morning_after_the_clocks_go_back() -> None:
    at = local(2030, 10, 26, 23)
    assert quiet_hours_shift(at, LONDON) == datetime(2030, 10, 27, 8, tzinfo=UTC)


def test_an_end_inside_the_dst_gap_resumes_when_the_gap_ends() -> None:
    # Quiet until 01:30, which does not exist on 31 March 2030 in London (01:00 -> 02:00).
    out = quiet_hours_shift(local(2030, 3, 31, 0, 30), LONDON, time(21), time(1, 30))
    assert out == datetime(2030, 3, 31, 1, 0, tzinfo=UTC)  # 02:00 BST


def test_a_daytime_window_that_does_not_wrap() -> None:
    assert quiet_hours_shift(local(2030, 1, 7, 12, 30), LONDON, time(12), time(14)) == local(
        2030, 1, 7, 14
    )
    assert quiet_hours_shift(local(2030, 1, 7, 23), LONDON, time(12), time(14)) == local(
        2030, 1, 7, 23
    )


def test_equal_start_and_end_mean_no_quiet_hours() -> None:
    at = local(2030, 1, 7, 3)
    assert quiet_hours_shift(at, LONDON, time(8), time(8)) == at


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        quiet_hours_shift(datetime(2030, 1, 7, 22), LONDON)


@given(
    at=st.datetimes(
        min_value=datetime(2029, 1, 1), max_value=datetime(2032, 12, 31), timezones=st.just(UTC)
    ),
    tz=st.sampled_from([LONDON, NEW_YORK, SYDNEY, ZoneInfo("UTC")]),
    start_hour=st.integers(0, 23),
    end_hour=st.integers(0, 23),
)
def test_properties(at: datetime, tz: ZoneInfo, start_hour: int, end_hour: int) -> None:
    # Real quiet hours last a night, not a day: with a 23-hour window whose end falls into a
    # DST gap, the instant after the gap can be quiet again.
    assume((end_hour - start_hour) % 24 <= 16)
    start, end = time(start_hour), time(end_hour)
    out = quiet_hours_shift(at, tz, start, end)
    assert out >= at
    assert out - at <= timedelta(hours=25)
    was_quiet = is_quiet(at.astimezone(tz).time().replace(tzinfo=None), start, end)
    assert (out == at) == (not was_quiet)
    assert not is_quiet(out.astimezone(tz).time().replace(tzinfo=None), start, end)
    assert quiet_hours_shift(out, tz, start, end) == out  # shifting twice changes nothing
