from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daisy.core.calendars import DayHours, open_intervals, to_utc
from daisy.core.intervals import Interval, covers, normalize
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

MINUTE = timedelta(minutes=1)
T0 = datetime(2026, 6, 8, tzinfo=UTC)  # a Monday
NOW = T0 - timedelta(days=1)
RULES = Rules(min_notice=timedelta(0), max_advance=timedelta(days=365))
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def at(minutes: int) -> datetime:
    return T0 + minutes * MINUTE


def span(start: int, end: int) -> Interval[datetime]:
    return Interval(at(start), at(end))


def phase(name: str, minutes: int, *roles: str, is_buffer: bool = False) -> PhaseTemplate:
    return PhaseTemplate(name, minutes * MINUTE, frozenset(roles), is_buffer)


def candidate(
    resource_id: str,
    role: str,
    opens: Sequence[tuple[int, int]] = ((9 * 60, 12 * 60),),
    busy: Sequence[tuple[int, int]] = (),
) -> Candidate:
    return Candidate(
        resource_id, role, [span(a, b) for a, b in opens], [span(a, b) for a, b in busy]
    )


def search(
    template: Template,
    candidates: Sequence[Candidate],
    *,
    window: tuple[int, int] = (0, 24 * 60),
    tz: ZoneInfo = ZoneInfo("UTC"),
    now: datetime = NOW,
    rules: Rules = RULES,
    group_by: str | None = None,
) -> list[Slot]:
    return find_slots(
        template=template,
        candidates=candidates,
        window_start=at(window[0]),
        window_end=at(window[1]),
        tz=tz,
        now=now,
        rules=rules,
        group_by=group_by,
    )


def check(
    template: Template,
    start: datetime,
    candidates: Sequence[Candidate],
    *,
    tz: ZoneInfo = ZoneInfo("UTC"),
    now: datetime = NOW,
    rules: Rules = RULES,
) -> Slot:
    return check_slot(
        template=template, start=start, candidates=candidates, tz=tz, now=now, rules=rules
    )


def starts(slots: Sequence[Slot]) -> list[int]:
    return [(slot.start - T0) // MINUTE for slot in slots]


HOUR_IN_ROOM = Template((phase("treatment", 60, "room"),))
FACIAL = Template(
    (
        phase("consult", 10, "specialist", "room"),
        phase("treatment", 30, "specialist", "room"),
        phase("clean-down", 15, "room", is_buffer=True),
    )
)


# --- templates and rules ------------------------------------------------------------------


def test_template_durations_and_roles() -> None:
    assert FACIAL.client_duration == 40 * MINUTE
    assert FACIAL.total_duration == 55 * MINUTE
    assert FACIAL.roles == frozenset({"specialist", "room"})


@pytest.mark.parametrize(
    "build",
    [
        lambda: Template(()),
        lambda: Template((phase("clean", 10, "room", is_buffer=True),)),
        lambda: Template(
            (
                phase("a", 10, "room"),
                phase("clean", 10, "room", is_buffer=True),
                phase("b", 10, "room"),
            )
        ),
        lambda: phase("a", 0, "room"),
        lambda: phase("a", 10),
        lambda: PhaseTemplate("a", timedelta(seconds=1.5), frozenset({"room"})),
        lambda: Rules(min_notice=-MINUTE, max_advance=timedelta(days=1)),
        lambda: Rules(min_notice=MINUTE, max_advance=timedelta(days=1), step_minutes=0),
        lambda: Rules(min_notice=MINUTE, max_advance=timedelta(days=1), step_minutes=1441),
    ],
)
def test_rejects_malformed_templates_and_rules(build: object) -> None:
    with pytest.raises(ValueError):
        build()  # type: ignore[operator]


# --- the basic search ---------------------------------------------------------------------


def test_lists_every_grid_start_that_fits_in_open_time() -> None:
    slots = search(HOUR_IN_ROOM, [candidate("room:1", "room")])
    assert starts(slots) == list(range(9 * 60, 11 * 60 + 1, 15))
    first = slots[0]
    assert first.end == first.busy_until == at(10 * 60)
    assert first.resources == {"room": "room:1"}
    assert [(p.name, p.start, p.end, p.resources) for p in first.phases] == [
        ("treatment", at(9 * 60), at(10 * 60), {"room": "room:1"})
    ]


def test_busy_time_removes_overlapping_starts_but_touching_is_fine() -> None:
    room = candidate("room:1", "room", busy=[(10 * 60, 10 * 60 + 30)])
    assert starts(search(HOUR_IN_ROOM, [room])) == [9 * 60, 10 * 60 + 30, 10 * 60 + 45, 11 * 60]


def test_buffer_needs_open_time_but_is_not_client_time() -> None:
    slots = search(FACIAL, [candidate("room:1", "room"), candidate("specialist:a", "specialist")])
    # 40 client minutes + 15 clean-down must end by 12:00: last start 11:05, grid 11:00.
    assert starts(slots)[-1] == 11 * 60
    last = slots[-1]
    assert last.end == at(11 * 60 + 40)
    assert last.busy_until == at(11 * 60 + 55)
    buffer = last.phases[-1]
    assert buffer.is_buffer and buffer.resources == {"room": "room:1"}
    assert buffer.start == last.end


def test_window_bounds_starts_only() -> None:
    slots = search(HOUR_IN_ROOM, [candidate("room:1", "room")], window=(9 * 60 + 15, 10 * 60))
    # A start at 09:45 is in the window even though it ends after it.
    assert starts(slots) == [9 * 60 + 15, 9 * 60 + 30, 9 * 60 + 45]


def test_step_minutes_sets_the_grid() -> None:
    rules = Rules(min_notice=timedelta(0), max_advance=timedelta(days=9), step_minutes=40)
    slots = search(HOUR_IN_ROOM, [candidate("room:1", "room")], rules=rules)
    assert starts(slots) == [9 * 60 + 20, 10 * 60, 10 * 60 + 40]


def test_min_notice_and_max_advance_bound_the_starts() -> None:
    rules = Rules(min_notice=timedelta(hours=2), max_advance=timedelta(hours=4), step_minutes=15)
    now = at(7 * 60 + 10)
    slots = search(HOUR_IN_ROOM, [candidate("room:1", "room")], now=now, rules=rules)
    # Earliest 09:10 -> 09:15 on the grid; latest exactly 11:10 -> 11:00.
    assert starts(slots) == [
        9 * 60 + 15,
        9 * 60 + 30,
        9 * 60 + 45,
        10 * 60,
        10 * 60 + 15,
        10 * 60 + 30,
        10 * 60 + 45,
        11 * 60,
    ]
    exact = search(HOUR_IN_ROOM, [candidate("room:1", "room")], now=at(7 * 60), rules=rules)
    assert starts(exact)[0] == 9 * 60
    assert starts(exact)[-1] == 11 * 60


def test_a_window_that_the_rules_leave_empty_yields_nothing() -> None:
    assert search(HOUR_IN_ROOM, [candidate("room:1", "room")], now=at(23 * 60)) == []


def test_candidates_for_roles_the_template_does_not_use_are_ignored() -> None:
    slots = search(
        HOUR_IN_ROOM, [candidate("room:1", "room"), candidate("pen:1", "device", opens=())]
    )
    assert len(slots) == 9


def test_slot_is_hashable_and_compares_by_value() -> None:
    first = search(HOUR_IN_ROOM, [candidate("room:1", "room")])
    again = search(HOUR_IN_ROOM, [candidate("room:1", "room")])
    assert first == again
    assert len({*first, *again}) == len(first)


# --- group_by -----------------------------------------------------------------------------


def test_group_by_lists_one_slot_per_start_and_resource() -> None:
    candidates = [
        candidate("specialist:b", "specialist"),
        candidate("specialist:a", "specialist", busy=[(9 * 60, 10 * 60)]),
        candidate("room:1", "room"),
    ]
    slots = search(FACIAL, candidates, group_by="specialist")
    pairs = [
        (start, s.resources["specialist"]) for start, s in zip(starts(slots), slots, strict=True)
    ]
    assert pairs[:3] == [(540, "specialist:b"), (555, "specialist:b"), (570, "specialist:b")]
    assert (600, "specialist:a") in pairs and (600, "specialist:b") in pairs
    assert pairs == sorted(pairs)
    # b takes all nine starts from 09:00 to 11:00; a only the five from 10:00.
    assert len(pairs) == 9 + 5
    ungrouped = search(FACIAL, candidates)
    assert starts(ungrouped) == sorted(set(starts(slots)))


def test_group_by_must_name_a_role_of_the_template() -> None:
    with pytest.raises(ValueError):
        search(HOUR_IN_ROOM, [candidate("room:1", "room")], group_by="specialist")


# --- problems -----------------------------------------------------------------------------


def problem(action: object) -> SlotProblem:
    with pytest.raises(SlotProblem) as raised:
        action()  # type: ignore[operator]
    assert raised.value.message == str(raised.value)
    return raised.value


def test_naive_datetimes_are_refused_everywhere() -> None:
    naive = datetime(2026, 6, 8, 9)
    room = candidate("room:1", "room")
    bad_room = Candidate("room:1", "room", [Interval(naive, naive + MINUTE * 60)], [])
    calls = [
        lambda: find_slots(
            template=HOUR_IN_ROOM,
            candidates=[room],
            window_start=naive,
            window_end=at(600),
            tz=LONDON,
            now=NOW,
            rules=RULES,
        ),
        lambda: find_slots(
            template=HOUR_IN_ROOM,
            candidates=[room],
            window_start=at(0),
            window_end=at(600),
            tz=LONDON,
            now=naive,
            rules=RULES,
        ),
        lambda: search(HOUR_IN_ROOM, [bad_room]),
        lambda: check(HOUR_IN_ROOM, naive, [room]),
        lambda: check(HOUR_IN_ROOM, at(540), [room], now=naive),
        lambda: check(HOUR_IN_ROOM, at(540), [bad_room]),
    ]
    for call in calls:
        assert problem(call).code == "naive_datetime"


def test_window_must_end_after_it_starts_and_span_at_most_366_days() -> None:
    room = [candidate("room:1", "room")]
    assert problem(lambda: search(HOUR_IN_ROOM, room, window=(600, 600))).code == "invalid_window"
    assert problem(lambda: search(HOUR_IN_ROOM, room, window=(600, 0))).code == "invalid_window"
    too_long = (0, 366 * 24 * 60 + 1)
    assert problem(lambda: search(HOUR_IN_ROOM, room, window=too_long)).code == "invalid_window"
    assert len(search(HOUR_IN_ROOM, room, window=(0, 366 * 24 * 60))) == 9


def test_a_role_without_candidates_is_named() -> None:
    only_room = [candidate("room:1", "room")]
    found = problem(lambda: search(FACIAL, only_room))
    assert (found.code, found.role) == ("no_candidates", "specialist")
    assert "specialist" in found.message
    checked = problem(lambda: check(FACIAL, at(540), only_room))
    assert (checked.code, checked.role) == ("no_candidates", "specialist")


def test_check_slot_explains_time_rules() -> None:
    room = [candidate("room:1", "room")]
    rules = Rules(min_notice=timedelta(hours=2), max_advance=timedelta(days=30))
    now = at(8 * 60)
    past = problem(lambda: check(HOUR_IN_ROOM, at(7 * 60), room, now=now, rules=rules))
    assert past.code == "in_past"
    notice = problem(lambda: check(HOUR_IN_ROOM, at(9 * 60), room, now=now, rules=rules))
    assert notice.code == "min_notice"
    assert "2 hours" in notice.message
    far = now + timedelta(days=30, minutes=1)
    advance = problem(lambda: check(HOUR_IN_ROOM, far, room, now=now, rules=rules))
    assert advance.code == "max_advance"
    assert "30 days" in advance.message
    assert check(HOUR_IN_ROOM, at(10 * 60), room, now=now, rules=rules).start == at(600)


def test_check_slot_tells_closed_from_booked_and_names_the_role() -> None:
    candidates = [
        candidate("specialist:a", "specialist", opens=[(9 * 60, 10 * 60)]),
        candidate("room:1", "room", busy=[(11 * 60, 11 * 60 + 30)]),
    ]
    closed = problem(lambda: check(FACIAL, at(10 * 60), candidates))
    assert (closed.code, closed.role) == ("outside_hours", "specialist")
    assert "specialist" in closed.message and "opening hours" in closed.message
    busy_people = [
        candidate("specialist:a", "specialist", busy=[(10 * 60, 10 * 60 + 5)]),
        candidate("specialist:b", "specialist", busy=[(9 * 60 + 50, 10 * 60 + 30)]),
        candidate("room:1", "room"),
    ]
    booked = problem(lambda: check(FACIAL, at(10 * 60), busy_people))
    assert (booked.code, booked.role) == ("unavailable", "specialist")
    room_booked = problem(
        lambda: check(
            FACIAL,
            at(10 * 60 + 40),
            [
                candidate("specialist:a", "specialist"),
                candidate("room:1", "room", busy=[(11 * 60, 11 * 60 + 30)]),
            ],
        )
    )
    assert (room_booked.code, room_booked.role) == ("unavailable", "room")
    assert "room" in room_booked.message and "booked" in room_booked.message


def test_check_slot_accepts_starts_off_the_grid() -> None:
    room = [candidate("room:1", "room")]
    slot = check(HOUR_IN_ROOM, at(10 * 60 + 5), room)
    assert slot.start == at(605) and slot.end == at(665)
    odd = at(10 * 60) + timedelta(seconds=7.25)
    assert check(HOUR_IN_ROOM, odd, room).start == odd
    late = at(11 * 60) + timedelta(microseconds=1)
    assert problem(lambda: check(HOUR_IN_ROOM, late, room)).code == "outside_hours"


def test_check_slot_returns_utc() -> None:
    room = [candidate("room:1", "room")]
    local_start = at(10 * 60).astimezone(LONDON)
    slot = check(HOUR_IN_ROOM, local_start, room, tz=LONDON)
    assert slot.start == at(600)
    assert slot.start.tzinfo is UTC


def test_pinning_a_resource_by_passing_only_that_candidate() -> None:
    free_a = candidate("specialist:a", "specialist")
    busier_b = candidate("specialist:b", "specialist", busy=[(11 * 60, 11 * 60 + 30)])
    room = candidate("room:1", "room")
    assert check(FACIAL, at(9 * 60), [free_a, busier_b, room]).resources["specialist"] == (
        "specialist:a"
    )
    assert check(FACIAL, at(9 * 60), [busier_b, room]).resources["specialist"] == "specialist:b"


def test_tie_break_prefers_least_busy_that_local_day_then_smallest_id() -> None:
    room = candidate("room:1", "room", opens=[(0, 3 * 24 * 60)])
    # b is busier on day 0, a is busier on day 1.
    spec_a = candidate(
        "specialist:a", "specialist", opens=[(0, 3 * 24 * 60)], busy=[(1440 + 60, 1440 + 180)]
    )
    spec_b = candidate("specialist:b", "specialist", opens=[(0, 3 * 24 * 60)], busy=[(60, 120)])
    spec_c = candidate(
        "specialist:c",
        "specialist",
        opens=[(0, 3 * 24 * 60)],
        busy=[(60, 120), (1440 + 60, 1440 + 120)],
    )
    everyone = [room, spec_a, spec_b, spec_c]
    assert check(FACIAL, at(600), everyone).resources["specialist"] == "specialist:a"
    assert check(FACIAL, at(1440 + 600), everyone).resources["specialist"] == "specialist:b"
    assert check(FACIAL, at(2 * 1440 + 600), everyone).resources["specialist"] == "specialist:a"
    # The day is the local one: at 23:30 UTC London is already on the next day.
    late = at(23 * 60 + 30)
    assert check(FACIAL, late, everyone, tz=LONDON).resources["specialist"] == "specialist:b"
    assert check(FACIAL, late, everyone).resources["specialist"] == "specialist:a"


# --- resource identity ------------------------------------------------------------------------


def test_one_resource_never_fills_two_roles_of_one_appointment() -> None:
    double = Template((phase("a", 30, "left"), phase("b", 30, "right")))
    shared = [candidate("chair:1", "left"), candidate("chair:1", "right")]
    assert search(double, shared) == []
    both = shared + [candidate("chair:2", "right")]
    slots = search(double, both)
    assert slots and all(s.resources == {"left": "chair:1", "right": "chair:2"} for s in slots)
    # Greedy would give chair:1 (least busy) to "left" and strand "right"; the search backs off.
    roomy = [
        candidate("chair:1", "left"),
        candidate("chair:1", "right"),
        candidate("chair:2", "left", busy=[(11 * 60 + 30, 12 * 60)]),
    ]
    slot = check(double, at(9 * 60), roomy)
    assert slot.resources == {"left": "chair:2", "right": "chair:1"}


def test_refuses_one_id_for_two_different_resources() -> None:
    clash = [candidate("1", "room"), candidate("1", "specialist", busy=[(600, 610)])]
    with pytest.raises(ValueError, match="unique"):
        search(FACIAL, clash)


def test_refuses_a_candidate_listed_twice_for_one_role() -> None:
    with pytest.raises(ValueError):
        search(HOUR_IN_ROOM, [candidate("room:1", "room"), candidate("room:1", "room")])


# --- DST ----------------------------------------------------------------------------------

QUARTER = Template((phase("visit", 15, "room"),))


def local_day_search(
    tz: ZoneInfo, day: date, template: Template, step: int = 15, **hours: time
) -> list[Slot]:
    opens = hours.get("opens")
    if opens is None:
        # Open round the clock for two days either side.
        room = Candidate(
            "room:1",
            "room",
            [
                Interval(
                    to_utc(day - timedelta(days=2), time(0), tz),
                    to_utc(day + timedelta(days=2), time(0), tz),
                )
            ],
            [],
        )
    else:
        room = Candidate(
            "room:1",
            "room",
            open_intervals(
                tz=tz,
                start_on=day,
                end_on=day,
                weekly={day.weekday(): [DayHours(opens, hours["closes"])]},
            ),
            [],
        )
    return find_slots(
        template=template,
        candidates=[room],
        window_start=to_utc(day, time(0), tz),
        window_end=to_utc(day + timedelta(days=1), time(0), tz),
        tz=tz,
        now=to_utc(day, time(0), tz) - timedelta(days=1),
        rules=Rules(min_notice=timedelta(0), max_advance=timedelta(days=9), step_minutes=step),
    )


def wall(slot: Slot, tz: ZoneInfo) -> str:
    return f"{slot.start.astimezone(tz):%H:%M}"


@pytest.mark.parametrize(
    ("tz", "day", "count", "repeated", "skipped"),
    [
        (LONDON, date(2026, 3, 29), 92, [], ["01:00", "01:15", "01:30", "01:45"]),
        (LONDON, date(2026, 10, 25), 100, ["01:00", "01:15", "01:30", "01:45"], []),
        (NEW_YORK, date(2026, 3, 8), 92, [], ["02:00", "02:15", "02:30", "02:45"]),
        (NEW_YORK, date(2026, 11, 1), 100, ["01:00", "01:15", "01:30", "01:45"], []),
    ],
)
def test_grid_follows_the_local_clock_through_a_transition(
    tz: ZoneInfo, day: date, count: int, repeated: list[str], skipped: list[str]
) -> None:
    slots = local_day_search(tz, day, QUARTER)
    assert len(slots) == count
    shown = [wall(slot, tz) for slot in slots]
    assert all(int(text[-2:]) % 15 == 0 for text in shown)
    assert all(slot.start.astimezone(tz).date() == day for slot in slots)
    for text in repeated:
        assert shown.count(text) == 2
    for text in skipped:
        assert text not in shown
    # Whole-hour shifts keep quarter-hour starts exactly 15 real minutes apart.
    gaps = {b.start - a.start for a, b in zip(slots, slots[1:], strict=False)}
    assert gaps == {15 * MINUTE}
    assert all(slot.end - slot.start == 15 * MINUTE for slot in slots)


@pytest.mark.parametrize(
    ("tz", "day"),
    [
        (LONDON, date(2026, 3, 29)),
        (LONDON, date(2026, 10, 25)),
        (NEW_YORK, date(2026, 3, 8)),
        (NEW_YORK, date(2026, 11, 1)),
    ],
)
def test_opening_hours_slots_on_transition_days_read_the_same_local_times(
    tz: ZoneInfo, day: date
) -> None:
    slots = local_day_search(tz, day, HOUR_IN_ROOM, opens=time(9), closes=time(17))
    expected = [f"{minute // 60:02}:{minute % 60:02}" for minute in range(9 * 60, 16 * 60 + 1, 15)]
    assert [wall(slot, tz) for slot in slots] == expected
    assert all(slot.end - slot.start == 60 * MINUTE for slot in slots)


def test_opening_across_the_gap_offers_only_real_time() -> None:
    half_hour = Template((phase("visit", 30, "room"),))
    slots = local_day_search(
        NEW_YORK, date(2026, 3, 8), half_hour, opens=time(0, 30), closes=time(3, 30)
    )
    assert [wall(slot, NEW_YORK) for slot in slots] == [
        "00:30",
        "00:45",
        "01:00",
        "01:15",
        "01:30",
        "01:45",
        "03:00",
    ]
    assert slots[-1].end == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


def test_grid_realigns_after_a_half_hour_shift() -> None:
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    # 2026-10-04: 02:00 -> 02:30. 2026-04-05: 02:00 -> 01:30.
    spring = local_day_search(lord_howe, date(2026, 10, 4), QUARTER, step=60)
    shown = [wall(slot, lord_howe) for slot in spring]
    assert shown == [f"{hour:02}:00" for hour in range(24) if hour != 2]
    assert spring[2].start - spring[1].start == timedelta(hours=1, minutes=30)
    autumn = local_day_search(lord_howe, date(2026, 4, 5), QUARTER, step=60)
    assert [wall(slot, lord_howe) for slot in autumn] == [f"{hour:02}:00" for hour in range(24)]
    assert autumn[2].start - autumn[1].start == timedelta(hours=1, minutes=30)


def test_grid_restarts_at_local_midnight_when_the_step_does_not_divide_the_day() -> None:
    slots = search(
        HOUR_IN_ROOM,
        [candidate("room:1", "room", opens=[(0, 2 * 24 * 60)])],
        window=(23 * 60, 24 * 60 + 30),
        rules=Rules(min_notice=timedelta(0), max_advance=timedelta(days=9), step_minutes=7),
    )
    assert [m for m in starts(slots) if 1425 <= m <= 1450] == [1428, 1435, 1440, 1447]


# --- properties against a brute-force model -------------------------------------------------

ZONES = [ZoneInfo("UTC"), LONDON, NEW_YORK, ZoneInfo("Asia/Kolkata")]
BASES = [
    datetime(2026, 6, 8, tzinfo=UTC),
    datetime(2026, 3, 28, 12, tzinfo=UTC),
    datetime(2026, 10, 24, 12, tzinfo=UTC),
    datetime(2026, 3, 7, 18, tzinfo=UTC),
    datetime(2026, 10, 31, 18, tzinfo=UTC),
]
HORIZON = 2 * 24 * 60
ROLE_NAMES = ["specialist", "room", "device"]


def spans_in_minutes(
    min_size: int, max_size: int, longest: int
) -> st.SearchStrategy[list[tuple[int, int]]]:
    return st.lists(
        st.tuples(st.integers(0, HORIZON // 5 - 1), st.integers(1, longest // 5)).map(
            lambda p: (p[0] * 5, min(p[0] + p[1], HORIZON // 5) * 5)
        ),
        min_size=min_size,
        max_size=max_size,
    )


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, object]:
    roles = draw(st.lists(st.sampled_from(ROLE_NAMES), min_size=1, max_size=3, unique=True))
    count = draw(st.integers(1, 4))
    phases = []
    for index in range(count):
        used = draw(st.lists(st.sampled_from(roles), min_size=1, max_size=len(roles), unique=True))
        phases.append((f"p{index}", draw(st.sampled_from([5, 10, 15, 20, 30, 45])), used))
    buffers = draw(st.integers(0, count - 1))
    template = Template(
        tuple(
            phase(name, minutes, *used, is_buffer=index >= count - buffers)
            for index, (name, minutes, used) in enumerate(phases)
        )
    )
    resources: dict[str, list[tuple[str, list[tuple[int, int]], list[tuple[int, int]]]]] = {}
    for role in sorted(template.roles):
        resources[role] = [
            (
                f"{role}:{number}",
                draw(spans_in_minutes(1, 3, 1440)),
                draw(spans_in_minutes(0, 4, 90)),
            )
            for number in range(draw(st.integers(1, 3)))
        ]
    # Mostly the whole horizon, so that most examples have starts to offer.
    window_start = draw(st.sampled_from([0, 0, draw(st.integers(0, HORIZON // 5 - 1)) * 5]))
    window_end = draw(
        st.sampled_from([HORIZON, draw(st.integers(window_start // 5 + 1, HORIZON // 5)) * 5])
    )
    return {
        "template": template,
        "resources": resources,
        "tz": draw(st.sampled_from(ZONES)),
        "base": draw(st.sampled_from(BASES)),
        "step": draw(st.sampled_from([5, 15, 30, 60])),
        "window": (window_start, window_end),
        "now": draw(st.sampled_from([-1440, -1440, 0, 300])),
        "min_notice": draw(st.sampled_from([0, 60])),
        "max_advance": draw(st.sampled_from([3, 3, 1])),
    }


class Model:
    """The same question answered minute by minute, with no cleverness at all."""

    def __init__(self, world: dict[str, object]) -> None:
        self.template: Template = world["template"]  # type: ignore[assignment]
        self.tz: ZoneInfo = world["tz"]  # type: ignore[assignment]
        self.base: datetime = world["base"]  # type: ignore[assignment]
        self.step: int = world["step"]  # type: ignore[assignment]
        self.window: tuple[int, int] = world["window"]  # type: ignore[assignment]
        self.now = self.base + world["now"] * MINUTE  # type: ignore[operator]
        self.rules = Rules(
            min_notice=world["min_notice"] * MINUTE,  # type: ignore[operator]
            max_advance=timedelta(days=world["max_advance"]),  # type: ignore[arg-type]
            step_minutes=self.step,
        )
        raw = world["resources"]
        self.candidates: list[Candidate] = []
        self.open: dict[str, set[int]] = {}
        self.busy: dict[str, set[int]] = {}
        self.by_role: dict[str, list[str]] = {}
        for role, entries in raw.items():  # type: ignore[attr-defined]
            self.by_role[role] = [rid for rid, _, _ in entries]
            for rid, opens, busy in entries:
                self.candidates.append(
                    Candidate(
                        rid,
                        role,
                        [Interval(self.at(a), self.at(b)) for a, b in opens],
                        [Interval(self.at(a), self.at(b)) for a, b in busy],
                    )
                )
                self.open[rid] = {m for a, b in opens for m in range(a, b)}
                self.busy[rid] = {m for a, b in busy for m in range(a, b)}
        self.free = {rid: self.open[rid] - self.busy[rid] for rid in self.open}
        self.day_busy: dict[tuple[str, date], int] = {}
        self.offsets: list[tuple[int, int, frozenset[str]]] = []
        offset = 0
        for item in self.template.phases:
            minutes = item.duration // MINUTE
            self.offsets.append((offset, minutes, item.roles))
            offset += minutes

    def at(self, minute: int) -> datetime:
        return self.base + minute * MINUTE

    def minute(self, instant: datetime) -> int:
        return (instant - self.base) // MINUTE

    def fits(self, rid: str, role: str, start: int) -> bool:
        free = self.free[rid]
        return all(
            m in free
            for offset, minutes, roles in self.offsets
            if role in roles
            for m in range(start + offset, start + offset + minutes)
        )

    def busy_on_day(self, rid: str, start: int) -> int:
        day = self.at(start).astimezone(self.tz).date()
        if (rid, day) not in self.day_busy:
            lo = self.minute(to_utc(day, time(0), self.tz))
            hi = self.minute(to_utc(day + timedelta(days=1), time(0), self.tz))
            self.day_busy[rid, day] = sum(1 for m in self.busy[rid] if lo <= m < hi)
        return self.day_busy[rid, day]

    def pick(self, role: str, start: int) -> str | None:
        fitting = [rid for rid in self.by_role[role] if self.fits(rid, role, start)]
        if not fitting:
            return None
        return min(fitting, key=lambda rid: (self.busy_on_day(rid, start), rid))

    def grid(self) -> list[int]:
        lo, hi = self.window
        out = []
        for m in range(lo, hi):
            instant = self.at(m)
            if not (
                self.now + self.rules.min_notice <= instant <= self.now + self.rules.max_advance
            ):
                continue
            shown = instant.astimezone(self.tz)
            if (shown.hour * 60 + shown.minute) % self.step == 0:
                out.append(m)
        return out

    def expected(self, group_by: str | None) -> list[tuple[int, dict[str, str]]]:
        out = []
        for start in self.grid():
            picks = {role: self.pick(role, start) for role in self.by_role}
            if group_by is None:
                if None not in picks.values():
                    out.append((start, picks))
                continue
            if any(rid is None for role, rid in picks.items() if role != group_by):
                continue
            for rid in sorted(self.by_role[group_by]):
                if self.fits(rid, group_by, start):
                    out.append((start, {**picks, group_by: rid}))
        return out  # type: ignore[return-value]

    def search(self, group_by: str | None) -> list[Slot]:
        return find_slots(
            template=self.template,
            candidates=self.candidates,
            window_start=self.at(self.window[0]),
            window_end=self.at(self.window[1]),
            tz=self.tz,
            now=self.now,
            rules=self.rules,
            group_by=group_by,
        )

    def check(self, start: datetime, candidates: list[Candidate] | None = None) -> Slot:
        return check_slot(
            template=self.template,
            start=start,
            candidates=self.candidates if candidates is None else candidates,
            tz=self.tz,
            now=self.now,
            rules=self.rules,
        )


def assert_slot_respects_calendars(model: Model, slot: Slot) -> None:
    assert slot.end == slot.start + model.template.client_duration
    assert slot.busy_until == slot.start + model.template.total_duration
    by_id = {(c.role, c.resource_id): c for c in model.candidates}
    for piece, template_phase in zip(slot.phases, model.template.phases, strict=True):
        assert piece.name == template_phase.name
        assert piece.is_buffer == template_phase.is_buffer
        assert piece.end - piece.start == template_phase.duration
        assert set(piece.resources) == template_phase.roles
        for role, rid in piece.resources.items():
            assert slot.resources[role] == rid
            chosen = by_id[(role, rid)]
            assert covers(normalize(chosen.open), piece.start, piece.end)
            window = Interval(piece.start, piece.end)
            assert not any(window.overlaps(busy) for busy in chosen.busy)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_slots_are_exactly_the_feasible_grid_starts_with_tie_broken_resources(
    world: dict[str, object],
) -> None:
    model = Model(world)
    slots = model.search(None)
    assert [(model.minute(s.start), dict(s.resources)) for s in slots] == model.expected(None)
    for slot in slots:
        assert_slot_respects_calendars(model, slot)
        assert model.check(slot.start) == slot
    offered = {slot.start for slot in slots}
    # A sample of the refused starts is enough to see check_slot refuse them too.
    for start in model.grid()[::5]:
        if model.at(start) not in offered:
            with pytest.raises(SlotProblem) as raised:
                model.check(model.at(start))
            assert raised.value.code in {"outside_hours", "unavailable"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds(), st.data())
def test_grouped_slots_are_every_feasible_start_and_resource(
    world: dict[str, object], data: st.DataObject
) -> None:
    model = Model(world)
    group_by = data.draw(st.sampled_from(sorted(model.by_role)))
    slots = model.search(group_by)
    expected = model.expected(group_by)
    assert [(model.minute(s.start), dict(s.resources)) for s in slots] == expected
    for slot in slots:
        assert_slot_respects_calendars(model, slot)
        pinned = [
            c
            for c in model.candidates
            if c.role != group_by or c.resource_id == slot.resources[group_by]
        ]
        assert model.check(slot.start, pinned) == slot
