"""A realistic clinic week in London, with slot lists worked out by hand.

The clinic: Amy and Ben (specialists), rooms 1-3, pens 1-2. Open Monday to Friday 09:00-18:00
and Saturday 09:00-13:00 (BST, UTC+1). Tuesday 2026-06-09 is a half day (09:00-13:00), Ben is
off and room 3 is being repainted.

Micro-needling (DESIGN.md section 4; durations from DOMAIN.md 0 row 3): consult and photos
10 min (specialist + room), numbing 30 min (room), needling 20 min (specialist + room + pen),
post-care 10 min (room), then a 10-minute clean-down buffer (room + pen). 70 client minutes,
80 in all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from daisy.core.calendars import DayHours, open_intervals, to_utc
from daisy.core.intervals import Interval
from daisy.core.slots import (
    Candidate,
    PhaseTemplate,
    Rules,
    Slot,
    Template,
    check_slot,
    find_slots,
)

LONDON = ZoneInfo("Europe/London")
MONDAY = date(2026, 6, 8)
TUESDAY = MONDAY + timedelta(days=1)
WEDNESDAY = MONDAY + timedelta(days=2)
SATURDAY = MONDAY + timedelta(days=5)
SUNDAY = MONDAY + timedelta(days=6)
NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
RULES = Rules(min_notice=timedelta(hours=12), max_advance=timedelta(days=60), step_minutes=15)

AMY, BEN = "specialist:amy", "specialist:ben"
ROOMS = ["room:1", "room:2", "room:3"]
PENS = ["pen:1", "pen:2"]
ROLES = {"specialist": [AMY, BEN], "room": ROOMS, "device": PENS}


def minutes(count: int) -> timedelta:
    return timedelta(minutes=count)


MICRO_NEEDLING = Template(
    (
        PhaseTemplate("consult and photos", minutes(10), frozenset({"specialist", "room"})),
        PhaseTemplate("numbing", minutes(30), frozenset({"room"})),
        PhaseTemplate("needling", minutes(20), frozenset({"specialist", "room", "device"})),
        PhaseTemplate("post-care", minutes(10), frozenset({"room"})),
        PhaseTemplate("clean-down", minutes(10), frozenset({"room", "device"}), is_buffer=True),
    )
)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return to_utc(day, time(hour, minute), LONDON)


class Clinic:
    """Calendars plus a ledger of allocations, standing in for the database."""

    def __init__(self) -> None:
        self.busy: dict[str, list[Interval[datetime]]] = {
            rid: [] for rid in [AMY, BEN, *ROOMS, *PENS]
        }

    def opens(self, rid: str) -> list[Interval[datetime]]:
        weekday = DayHours(time(9), time(18))
        weekly = {day: [weekday] for day in range(5)} | {5: [DayHours(time(9), time(13))]}
        closed = {BEN: {TUESDAY}, "room:3": {TUESDAY}}.get(rid, set())
        return open_intervals(
            tz=LONDON,
            start_on=MONDAY,
            end_on=SUNDAY,
            weekly=weekly,
            overrides={TUESDAY: [DayHours(time(9), time(13))]},
            closed_on=closed,
        )

    def candidates(self, pinned: Iterable[str] = ()) -> list[Candidate]:
        """Every resource, except that a pinned id is its role's only candidate."""
        pins = set(pinned)
        out = []
        for role, ids in ROLES.items():
            for rid in [rid for rid in ids if rid in pins] or ids:
                out.append(Candidate(rid, role, self.opens(rid), list(self.busy[rid])))
        return out

    def check(self, start: datetime, *pin: str) -> Slot:
        return check_slot(
            template=MICRO_NEEDLING,
            start=start,
            candidates=self.candidates(pin),
            tz=LONDON,
            now=NOW,
            rules=RULES,
        )

    def book(self, slot: Slot) -> Slot:
        for phase in slot.phases:
            for rid in phase.resources.values():
                self.busy[rid].append(Interval(phase.start, phase.end))
        return slot

    def day(self, day: date, group_by: str | None = None) -> list[Slot]:
        return find_slots(
            template=MICRO_NEEDLING,
            candidates=self.candidates(),
            window_start=local(day, 0),
            window_end=local(day + timedelta(days=1), 0),
            tz=LONDON,
            now=NOW,
            rules=RULES,
            group_by=group_by,
        )


def listing(slots: list[Slot]) -> list[tuple[str, str, str, str]]:
    return [
        (
            f"{slot.start.astimezone(LONDON):%H:%M}",
            slot.resources["specialist"],
            slot.resources["room"],
            slot.resources["device"],
        )
        for slot in slots
    ]


def tuesday_clinic() -> tuple[Clinic, Slot]:
    clinic = Clinic()
    # Client Y with Amy at 09:00 in room 1 with pen 1.
    client_y = clinic.book(clinic.check(local(TUESDAY, 9), AMY, "room:1", "pen:1"))
    clinic.busy["room:2"].append(Interval(local(TUESDAY, 11), local(TUESDAY, 11, 30)))
    clinic.busy["pen:2"].append(Interval(local(TUESDAY, 11, 50), local(TUESDAY, 12, 10)))
    return clinic, client_y


def test_booked_client_occupies_each_resource_only_in_its_phases() -> None:
    _, client_y = tuesday_clinic()
    assert [
        (p.name, f"{p.start.astimezone(LONDON):%H:%M}", dict(p.resources)) for p in client_y.phases
    ] == [
        ("consult and photos", "09:00", {"specialist": AMY, "room": "room:1"}),
        ("numbing", "09:10", {"room": "room:1"}),
        ("needling", "09:40", {"specialist": AMY, "room": "room:1", "device": "pen:1"}),
        ("post-care", "10:00", {"room": "room:1"}),
        ("clean-down", "10:10", {"room": "room:1", "device": "pen:1"}),
    ]
    assert client_y.end == local(TUESDAY, 10, 10)
    assert client_y.busy_until == local(TUESDAY, 10, 20)


def test_tuesday_slots_match_the_hand_worked_list() -> None:
    clinic, _ = tuesday_clinic()
    # Amy is free 09:10-09:40 and from 10:00; room 1 from 10:20; room 2 except 11:00-11:30;
    # pen 1 except 09:40-10:00 and 10:10-10:20; pen 2 except 11:50-12:10. Closing at 13:00
    # means starting by 11:40.
    # Missing: 09:00 (Amy consults Y), 09:15 (X's needling at 09:55 meets Y's), 09:45 (Amy
    # is needling Y), 10:00 and 10:15 (neither free room is free for 80 minutes).
    # Ties go to less booked time that day: room 2 (30 min) before room 1 (80), pen 2
    # (20 min) before pen 1 (30). At 10:45-11:15 pen 2's calibration meets the needling or
    # the clean-down, so pen 1 serves.
    assert listing(clinic.day(TUESDAY)) == [
        ("09:30", AMY, "room:2", "pen:2"),
        ("10:30", AMY, "room:1", "pen:2"),
        ("10:45", AMY, "room:1", "pen:1"),
        ("11:00", AMY, "room:1", "pen:1"),
        ("11:15", AMY, "room:1", "pen:1"),
        ("11:30", AMY, "room:2", "pen:2"),
    ]
    assert listing(clinic.day(TUESDAY, group_by="specialist")) == listing(clinic.day(TUESDAY))


def test_specialist_sees_a_second_client_while_the_first_is_numbing() -> None:
    clinic, client_y = tuesday_clinic()
    slots = {slot.start: slot for slot in clinic.day(TUESDAY)}
    client_x = slots[client_y.start + minutes(30)]
    assert client_x.resources["specialist"] == AMY
    assert client_x.resources["room"] != client_y.resources["room"]
    y_numbing, x_numbing = client_y.phases[1], client_x.phases[1]
    x_consult, y_needling = client_x.phases[0], client_y.phases[2]
    span = Interval[datetime]
    # Amy consults X while Y is numbing, then needles Y while X is numbing.
    assert span(x_consult.start, x_consult.end).overlaps(span(y_numbing.start, y_numbing.end))
    assert span(y_needling.start, y_needling.end).overlaps(span(x_numbing.start, x_numbing.end))
    assert clinic.book(clinic.check(client_x.start)) == client_x


def test_every_listed_slot_books_with_the_same_resources() -> None:
    clinic, _ = tuesday_clinic()
    for slot in clinic.day(TUESDAY):
        assert clinic.check(slot.start) == slot


def test_tie_break_spreads_consecutive_bookings() -> None:
    clinic = Clinic()
    picks = []
    for hour, minute in [(10, 0), (14, 0), (16, 0), (11, 30)]:
        slot = clinic.check(local(WEDNESDAY, hour, minute))
        listed = {s.start: s for s in clinic.day(WEDNESDAY)}
        assert listed[slot.start] == slot
        picks.append(clinic.book(slot))
    # 1: all idle, ids decide. 2: Ben, room 2, pen 2 are idle. 3: Amy and Ben have 30 min
    # each (id decides), room 3 is idle, the pens tie. 4: Amy has 60 min to Ben's 30, the
    # rooms tie at 80, pen 2 has 30 to pen 1's 60.
    assert [s.resources["specialist"] for s in picks] == [AMY, BEN, AMY, BEN]
    assert [s.resources["room"] for s in picks] == ["room:1", "room:2", "room:3", "room:1"]
    assert [s.resources["device"] for s in picks] == ["pen:1", "pen:2", "pen:1", "pen:2"]


def test_whole_days_without_bookings() -> None:
    clinic = Clinic()
    monday = clinic.day(MONDAY)
    # 09:00 to 16:40 (18:00 less 80 minutes), on the quarter hour.
    assert [s[0] for s in listing(monday)][:2] == ["09:00", "09:15"]
    assert listing(monday)[-1][0] == "16:30"
    assert len(monday) == 31
    assert len(clinic.day(MONDAY, group_by="specialist")) == 62
    saturday = clinic.day(SATURDAY)
    assert [s[0] for s in listing(saturday)] == [
        "09:00",
        "09:15",
        "09:30",
        "09:45",
        "10:00",
        "10:15",
        "10:30",
        "10:45",
        "11:00",
        "11:15",
        "11:30",
    ]
    assert clinic.day(SUNDAY) == []
