"""Timing probe for find_slots (not a test: no assertions, not collected by pytest).

Run: .venv/bin/python -m daisy.core.tests.perf_probe

A clinic with 20 specialists, 10 rooms and 6 pens, open 09:00-19:00 Monday to Saturday in
Europe/London, about 24,000 busy intervals over 90 days, searched for the micro-needling
template. The 7-day search gets only the intervals a service would fetch for that week.
"""

from __future__ import annotations

import random
import statistics
import time as clock
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from daisy.core.calendars import DayHours, open_intervals
from daisy.core.intervals import Interval
from daisy.core.slots import Candidate, PhaseTemplate, Rules, Template, find_slots

TZ = ZoneInfo("Europe/London")
FIRST_DAY = date(2026, 3, 2)
DAYS = 90
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
RULES = Rules(min_notice=timedelta(hours=2), max_advance=timedelta(days=120))
BUSY_PER_RESOURCE_DAY = 9


def micro_needling() -> Template:
    minutes = timedelta(minutes=1)
    return Template(
        phases=(
            PhaseTemplate("consult", 10 * minutes, frozenset({"specialist", "room"})),
            PhaseTemplate("numbing", 30 * minutes, frozenset({"room"})),
            PhaseTemplate("needling", 20 * minutes, frozenset({"specialist", "room", "device"})),
            PhaseTemplate("post-care", 10 * minutes, frozenset({"room"})),
            PhaseTemplate("clean-down", 10 * minutes, frozenset({"room", "device"}), True),
        )
    )


def clinic(days: int = DAYS) -> list[Candidate]:
    rng = random.Random(20260302)
    weekly = {weekday: [DayHours(time(9), time(19))] for weekday in range(6)}
    last_day = FIRST_DAY + timedelta(days=days - 1)
    opens = open_intervals(tz=TZ, start_on=FIRST_DAY, end_on=last_day, weekly=weekly)
    roles = [("specialist", 20), ("room", 10), ("device", 6)]
    candidates = []
    for role, count in roles:
        for number in range(count):
            busy: list[Interval[datetime]] = []
            for day_open in opens:
                # Non-overlapping bookings of 10-40 minutes spread through the day.
                cuts = sorted(rng.sample(range(0, 600 - 40, 5), BUSY_PER_RESOURCE_DAY))
                last_end = day_open.start
                for cut in cuts:
                    start = max(day_open.start + timedelta(minutes=cut), last_end)
                    end = start + timedelta(minutes=rng.choice((10, 20, 30, 40)))
                    if end > day_open.end:
                        break
                    busy.append(Interval(start, end))
                    last_end = end
            candidates.append(Candidate(f"{role}:{number:02}", role, opens, busy))
    return candidates


def within(candidates: list[Candidate], lo: datetime, hi: datetime) -> list[Candidate]:
    def keep(items: list[Interval[datetime]]) -> list[Interval[datetime]]:
        return [item for item in items if item.start < hi and lo < item.end]

    return [
        Candidate(c.resource_id, c.role, keep(list(c.open)), keep(list(c.busy))) for c in candidates
    ]


def timed(label: str, action: Callable[[], object], runs: int = 21) -> None:
    action()
    wall, cpu = [], []
    result: object = None
    for _ in range(runs):
        started, started_cpu = clock.perf_counter(), clock.process_time()
        result = action()
        wall.append((clock.perf_counter() - started) * 1000)
        cpu.append((clock.process_time() - started_cpu) * 1000)
    size = len(result) if isinstance(result, list) else "-"
    # CPU time is the steadier figure when other work shares the two cores.
    print(
        f"{label:<42} wall median {statistics.median(wall):6.1f} min {min(wall):6.1f} ms | "
        f"cpu median {statistics.median(cpu):6.1f} min {min(cpu):6.1f} ms | results {size}"
    )


def main() -> None:
    template = micro_needling()
    everything = clinic()
    busy_total = sum(len(c.busy) for c in everything)
    print(f"{len(everything)} resources, {busy_total} busy intervals over {DAYS} days")
    start_at = datetime.combine(FIRST_DAY, time(0), tzinfo=TZ)

    def search(candidates: list[Candidate], days: int, group_by: str | None = None) -> object:
        return find_slots(
            template=template,
            candidates=candidates,
            window_start=start_at,
            window_end=start_at + timedelta(days=days),
            tz=TZ,
            now=NOW,
            rules=RULES,
            group_by=group_by,
        )

    week = within(everything, start_at, start_at + timedelta(days=8))
    timed("open_intervals, 1 resource, 90 days", lambda: clinic_hours(DAYS))
    timed("find_slots 90 days", lambda: search(everything, DAYS))
    timed("find_slots 7 days (that week's data)", lambda: search(week, 7))
    timed("find_slots 90 days, group_by specialist", lambda: search(everything, DAYS, "specialist"))
    timed("find_slots 7 days, group_by specialist", lambda: search(week, 7, "specialist"))


def clinic_hours(days: int) -> object:
    weekly = {weekday: [DayHours(time(9), time(19))] for weekday in range(6)}
    last_day = FIRST_DAY + timedelta(days=days - 1)
    return open_intervals(tz=TZ, start_on=FIRST_DAY, end_on=last_day, weekly=weekly)


if __name__ == "__main__":
    main()
