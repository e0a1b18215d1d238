"""Aftercare timelines: protocol steps dated for one session, in local time, right across DST
changes, with the sentences a client reads."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from daisy.core.aftercare import (
    POST,
    PRE,
    ProtocolStep,
    at_wall_time,
    describe,
    describe_appointment,
    local_day_bounds,
    shift_local,
    timeline,
    today,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")
H = timedelta(hours=1)
D = timedelta(days=1)


def local(y: int, mo: int, d: int, h: int, mi: int = 0, tz: ZoneInfo = LONDON) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=tz)


def step(start: timedelta, end: timedelta | None, title: str, **kw: object) -> ProtocolStep:
    kind = kw.pop("kind", PRE if start < timedelta(0) else POST)
    return ProtocolStep(start, end, kind, title, **kw)  # type: ignore[arg-type]


MAKEUP = step(24 * H, None, "Makeup is fine again", source="DOMAIN.md 4.2 row Day 1")
EXERCISE = step(0 * H, 72 * H, "No sweaty exercise, sauna or swimming", is_restriction=True)
ACTIVES = step(1 * D, 7 * D, "No retinoids, acids or vitamin C", is_restriction=True)
ROUTINE = step(7 * D, None, "Back to your usual routine", notify=True)
RETINOIDS = step(-7 * D, 0 * H, "Stop topical retinoids", is_restriction=True, notify=True)
NO_SUN = step(-24 * H, 0 * H, "No sun exposure", is_restriction=True)
HYDROGEL = step(0 * H, 24 * H, "Only the clinic's hydrogel on your skin", is_restriction=True)
SPF = step(1 * D, 14 * D, "Mineral SPF 30+ every day")
PROTOCOL = (MAKEUP, EXERCISE, ACTIVES, ROUTINE, RETINOIDS, NO_SUN, HYDROGEL, SPF)


# --- moving by an offset --------------------------------------------------------------------


def test_whole_days_keep_the_wall_clock_time_across_spring_forward() -> None:
    # Clocks go forward in London at 01:00 UTC on Sunday 31 March 2030.
    session = local(2030, 3, 31, 10)  # Sunday 10:00 BST
    day_before = shift_local(session, -24 * H, LONDON)
    assert day_before == local(2030, 3, 30, 10)  # Saturday 10:00 GMT, not 09:00
    assert day_before.utcoffset() == timedelta(0)
    assert session.astimezone(UTC) - day_before.astimezone(UTC) == 23 * H
    monday = local(2030, 4, 1, 10)  # the day after the change
    assert shift_local(monday, -24 * H, LONDON) == local(2030, 3, 31, 10)
    two_days = shift_local(monday, -48 * H, LONDON)
    assert two_days == local(2030, 3, 30, 10)  # Saturday 10:00 GMT
    # 47 real hours, because the night of the 30th/31st was an hour short.
    assert monday.astimezone(UTC) - two_days.astimezone(UTC) == 47 * H


def test_whole_days_keep_the_wall_clock_time_across_fall_back() -> None:
    session = local(2030, 10, 28, 10)  # Monday 10:00 GMT, the day after clocks went back
    day_before = shift_local(session, -24 * H, LONDON)
    assert day_before == local(2030, 10, 27, 10)
    two_days = shift_local(session, -48 * H, LONDON)
    assert two_days.utcoffset() == H  # Saturday 10:00 BST
    assert session.astimezone(UTC) - two_days.astimezone(UTC) == 49 * H


def test_part_days_are_elapsed_time() -> None:
    session = local(2030, 3, 31, 0, 30)  # Sunday 00:30 GMT, clocks jump 01:00 -> 02:00
    assert shift_local(session, 2 * H, LONDON) == local(2030, 3, 31, 3, 30)  # BST
    assert shift_local(session, -90 * timedelta(minutes=1), LONDON) == local(2030, 3, 30, 23)
    # 26 h: one calendar day, then 2 elapsed hours.
    assert shift_local(local(2030, 3, 30, 0, 30), 26 * H, LONDON) == local(2030, 3, 31, 3, 30)


def test_a_wall_time_in_the_gap_moves_past_it_and_a_repeated_one_is_the_first() -> None:
    gap = at_wall_time(date(2030, 3, 31), time(1, 30), LONDON)
    assert gap == local(2030, 3, 31, 2, 30) and gap.utcoffset() == H
    repeated = at_wall_time(date(2030, 10, 27), time(1, 30), LONDON)
    assert repeated.utcoffset() == H  # 01:30 BST, the first of the two
    assert repeated.astimezone(UTC) == datetime(2030, 10, 27, 0, 30, tzinfo=UTC)


def test_local_days_are_23_and_25_hours_on_dst_changes() -> None:
    start, end = local_day_bounds(date(2030, 3, 31), LONDON)
    assert end.astimezone(UTC) - start.astimezone(UTC) == 23 * H
    start, end = local_day_bounds(date(2030, 10, 27), LONDON)
    assert end.astimezone(UTC) - start.astimezone(UTC) == 25 * H


@given(
    st.datetimes(
        min_value=datetime(2029, 1, 1),
        max_value=datetime(2031, 12, 31),
        timezones=st.sampled_from([LONDON, NEW_YORK, SYDNEY]),
    ),
    st.integers(min_value=-30, max_value=30),
)
def test_whole_days_never_change_the_local_clock_time(moment: datetime, days: int) -> None:
    tz = moment.tzinfo
    assert isinstance(tz, ZoneInfo)
    moment = moment.astimezone(UTC).astimezone(tz)  # a real instant, normalised
    moved = shift_local(moment, days * D, tz)
    wall = moment.replace(tzinfo=None, fold=0)
    # Unless the same wall time falls into a DST gap on the target day, it is kept exactly.
    target = at_wall_time(wall.date() + days * D, wall.time(), tz)
    assume(target.replace(tzinfo=None) == (wall + days * D))
    assert moved.replace(tzinfo=None) == wall + days * D
    assert (moved.date() - moment.date()).days == days


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        shift_local(datetime(2030, 1, 7, 10), D, LONDON)
    with pytest.raises(ValueError, match="aware"):
        timeline(session_start=datetime(2030, 1, 7, 10), steps=PROTOCOL, tz=LONDON)


def test_a_step_cannot_end_before_it_starts_or_have_another_kind() -> None:
    with pytest.raises(ValueError, match="ends before"):
        step(2 * D, D, "Backwards")
    with pytest.raises(ValueError, match="kind"):
        ProtocolStep(D, None, "during", "Odd")  # type: ignore[arg-type]


# --- the timeline -----------------------------------------------------------------------------


def by_title(items: list, title: str):  # type: ignore[no-untyped-def, type-arg]
    [found] = [t for t in items if t.title == title]
    return found


def test_the_timeline_reads_in_local_time() -> None:
    session = local(2030, 1, 9, 10, 30)  # Wednesday
    items = timeline(session_start=session, steps=PROTOCOL, tz=LONDON)
    assert (
        by_title(items, MAKEUP.title).phrase
        == "Makeup is fine again from Thursday 10 January, 10:30 GMT"
    )
    assert by_title(items, EXERCISE.title).phrase == (
        "No sweaty exercise, sauna or swimming from your appointment until "
        "Saturday 12 January, 10:30 GMT"
    )
    assert by_title(items, RETINOIDS.title).phrase == (
        "Stop topical retinoids from Wednesday 2 January, 10:30 GMT until your appointment"
    )
    assert by_title(items, ROUTINE.title).phrase == (
        "Back to your usual routine from Wednesday 16 January, 10:30 GMT"
    )
    makeup = by_title(items, MAKEUP.title)
    assert makeup.starts_at == local(2030, 1, 10, 10, 30) and makeup.ends_at is None
    assert makeup.source == "DOMAIN.md 4.2 row Day 1" and not makeup.is_restriction
    assert ROUTINE.notify and by_title(items, ROUTINE.title).notify


def test_the_timeline_is_in_order_with_pre_care_first() -> None:
    session = local(2030, 1, 9, 10, 30)
    items = timeline(session_start=session, steps=PROTOCOL, tz=LONDON)
    assert [t.starts_at for t in items] == sorted(t.starts_at for t in items)
    assert [t.title for t in items][:4] == [
        RETINOIDS.title,
        NO_SUN.title,
        HYDROGEL.title,  # ends after 24 h
        EXERCISE.title,  # ends after 72 h
    ]
    assert {t.kind for t in items[:2]} == {PRE}


def test_a_dst_change_inside_the_timeline_keeps_local_times_right() -> None:
    # Friday 29 March 2030 10:00 GMT; the clocks go forward early on Sunday the 31st.
    session = local(2030, 3, 29, 10)
    items = timeline(session_start=session, steps=PROTOCOL, tz=LONDON)
    makeup = by_title(items, MAKEUP.title)
    assert makeup.starts_at == local(2030, 3, 30, 10)  # Saturday, still GMT
    assert makeup.phrase == "Makeup is fine again from Saturday 30 March, 10:00 GMT"
    exercise = by_title(items, EXERCISE.title)
    assert exercise.ends_at == local(2030, 4, 1, 10)  # Monday 10:00 BST, not 11:00
    assert exercise.ends_at.utcoffset() == H
    # The zone is named, so the change of clocks since the session shows.
    assert exercise.phrase.endswith("until Monday 1 April, 10:00 BST")
    routine = by_title(items, ROUTINE.title)
    assert routine.starts_at.hour == 10 and routine.phrase.endswith("Friday 5 April, 10:00 BST")
    retinoids = by_title(items, RETINOIDS.title)
    assert retinoids.starts_at == local(2030, 3, 22, 10)
    assert "Friday 22 March, 10:00 GMT" in retinoids.phrase


def test_a_step_already_under_way_reads_from_now() -> None:
    session = local(2030, 1, 9, 10, 30)
    booked = local(2030, 1, 6, 12)  # three days ahead: the retinoid pause has begun
    items = timeline(session_start=session, steps=PROTOCOL, tz=LONDON, now=booked)
    assert by_title(items, RETINOIDS.title).phrase == (
        "Stop topical retinoids from now until your appointment"
    )
    assert by_title(items, NO_SUN.title).phrase == (
        "No sun exposure from Tuesday 8 January, 10:30 GMT until your appointment"
    )


def test_the_zone_can_always_be_named() -> None:
    session = local(2030, 1, 9, 10, 30)
    items = timeline(session_start=session, steps=[MAKEUP], tz=LONDON, name_zone=True)
    assert items[0].phrase == "Makeup is fine again from Thursday 10 January, 10:30 GMT"


def test_times_follow_the_locations_zone_not_the_input_offset() -> None:
    session = datetime(2030, 1, 9, 15, 30, tzinfo=UTC)  # 10:30 in New York
    [makeup] = timeline(session_start=session, steps=[MAKEUP], tz=NEW_YORK)
    assert makeup.phrase == "Makeup is fine again from Thursday 10 January, 10:30 EST"
    assert makeup.starts_at.tzinfo is NEW_YORK


def test_describe_always_names_the_date_and_the_zone_never_a_bare_weekday() -> None:
    # Issue 12: "pause aspirin from Thursday 09:00" for a late-March session reads as this week.
    session = local(2030, 1, 9, 10, 30)
    assert describe(local(2030, 1, 8, 9), session=session) == "Tuesday 8 January, 09:00 GMT"
    assert describe(local(2030, 1, 16, 9), session=session) == "Wednesday 16 January, 09:00 GMT"
    assert describe(local(2030, 7, 2, 9), session=session) == "Tuesday 2 July, 09:00 BST"


def test_describe_adds_the_year_when_it_is_not_the_sessions() -> None:
    session = local(2031, 1, 6, 10)
    assert describe(local(2030, 12, 30, 10), session=session) == (
        "Monday 30 December 2030, 10:00 GMT"
    )


def test_the_appointment_is_described_with_its_date_and_zone() -> None:
    text = describe_appointment(datetime(2030, 7, 1, 9, tzinfo=UTC), LONDON, "Europe/London")
    assert text == "Monday 1 July 2030, 10:00 BST (Europe/London)"


# --- your aftercare today ---------------------------------------------------------------------


def titles(items: list) -> set[str]:  # type: ignore[type-arg]
    return {t.title for t in items}


def test_today_on_the_day_of_the_session() -> None:
    session = local(2030, 1, 9, 10, 30)
    got = today(session_start=session, steps=PROTOCOL, tz=LONDON, now=local(2030, 1, 9, 18))
    assert titles(got) == {RETINOIDS.title, NO_SUN.title, EXERCISE.title, HYDROGEL.title}


def test_today_the_day_after_shows_what_changes_and_what_still_holds() -> None:
    session = local(2030, 1, 9, 10, 30)
    got = today(session_start=session, steps=PROTOCOL, tz=LONDON, now=local(2030, 1, 10, 7))
    assert titles(got) == {
        MAKEUP.title,
        EXERCISE.title,
        ACTIVES.title,
        HYDROGEL.title,
        SPF.title,
    }
    later = today(session_start=session, steps=PROTOCOL, tz=LONDON, now=local(2030, 1, 12, 12))
    # Makeup was a one-off change on Thursday; the exercise ban ended Saturday 10:30.
    assert titles(later) == {EXERCISE.title, ACTIVES.title, SPF.title}
    assert by_title(later, EXERCISE.title).is_in_force(local(2030, 1, 12, 10)) is True
    assert by_title(later, EXERCISE.title).is_in_force(local(2030, 1, 12, 12)) is False


def test_today_uses_the_local_day_even_when_utc_is_another_day() -> None:
    session = local(2030, 7, 1, 10, tz=NEW_YORK)
    # 02:00 UTC on 3 July is still 2 July in New York.
    now = datetime(2030, 7, 3, 2, tzinfo=UTC)
    got = today(session_start=session, steps=[MAKEUP, ROUTINE], tz=NEW_YORK, now=now)
    assert titles(got) == {MAKEUP.title}


def test_today_on_a_23_hour_day() -> None:
    session = local(2030, 3, 30, 10)  # Saturday GMT; makeup from Sunday 10:00 BST
    steps = [MAKEUP, EXERCISE]
    got = today(session_start=session, steps=steps, tz=LONDON, now=local(2030, 3, 31, 23, 30))
    assert titles(got) == {MAKEUP.title, EXERCISE.title}
    got = today(session_start=session, steps=steps, tz=LONDON, now=local(2030, 4, 1, 0, 10))
    assert titles(got) == {EXERCISE.title}
    got = today(session_start=session, steps=steps, tz=LONDON, now=local(2030, 3, 30, 23, 59))
    assert titles(got) == {EXERCISE.title}


# --- pre-care lead times (issue 12: a first session its own preparation forbids) ------------

from daisy.core import aftercare as _aftercare  # noqa: E402

LEAD_SUN = _aftercare.ProtocolStep(-14 * D, timedelta(0), "pre", "No tanning", key="sun")
LEAD_RETINOIDS = _aftercare.ProtocolStep(-5 * D, timedelta(0), "pre", "Stop retinoids", key="ret")
LEAD_MAKEUP = _aftercare.ProtocolStep(-3 * H, timedelta(0), "pre", "No makeup", key="mk")
LEAD_AFTER = _aftercare.ProtocolStep(timedelta(0), 3 * D, "post", "No sauna", key="sauna")
LEAD_STEPS = (LEAD_SUN, LEAD_RETINOIDS, LEAD_MAKEUP, LEAD_AFTER)


def test_a_session_tomorrow_is_too_soon_for_the_two_week_and_five_day_steps() -> None:
    now = datetime(2030, 3, 1, 12, tzinfo=UTC)
    tomorrow = datetime(2030, 3, 2, 9, 30, tzinfo=UTC)
    late = _aftercare.precare_too_soon(session_start=tomorrow, steps=LEAD_STEPS, tz=LONDON, now=now)
    assert [item.step.key for item in late] == ["sun", "ret"]
    # The step that begins 3 hours before can still be followed, and aftercare never counts.
    ready = _aftercare.precare_ready_at(now=now, steps=LEAD_STEPS, tz=LONDON)
    assert ready == datetime(2030, 3, 15, 12, tzinfo=UTC)
    assert (
        _aftercare.precare_too_soon(session_start=ready, steps=LEAD_STEPS, tz=LONDON, now=now) == []
    )
    minute_early = ready - timedelta(minutes=1)
    assert [
        i.step.key
        for i in _aftercare.precare_too_soon(
            session_start=minute_early, steps=LEAD_STEPS, tz=LONDON, now=now
        )
    ] == ["sun"]


@given(
    st.datetimes(min_value=datetime(2030, 1, 1), max_value=datetime(2031, 12, 31)),
    st.sampled_from([LONDON, NEW_YORK, SYDNEY]),
)
def test_a_session_from_the_ready_moment_leaves_every_step_its_full_time(
    naive: datetime, tz: ZoneInfo
) -> None:
    now = naive.replace(tzinfo=UTC)
    ready = _aftercare.precare_ready_at(now=now, steps=LEAD_STEPS, tz=tz)
    assert ready >= now
    assert _aftercare.precare_too_soon(session_start=ready, steps=LEAD_STEPS, tz=tz, now=now) == []
    # And no earlier session would be: an hour sooner breaks the two-week step.
    sooner = _aftercare.precare_too_soon(
        session_start=ready - 2 * H, steps=LEAD_STEPS, tz=tz, now=now
    )
    assert "sun" in [i.step.key for i in sooner]
