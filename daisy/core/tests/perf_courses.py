"""Timing probe for plan_course (not a test: no assertions, not collected by pytest).

Run: .venv/bin/python -m daisy.core.tests.perf_courses

The benchmark clinic of issue 5: 20 specialists, 10 rooms and 6 pens, open 09:00-19:00 Monday
to Saturday in Europe/London, with about 6,000 micro-needling appointments booked over the
horizon (each holds its specialist, room and pen for their phases). Plans a 6-session course
over a 6-month horizon and a 12-session course over a year, each with 3 important dates, with
and without a preferred specialist, and one request that has no plan (so the partial plan, the
problem and the shifted alternative are all computed).
"""

from __future__ import annotations

import random
import statistics
import time as clock
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from daisy.core.calendars import DayHours, open_intervals
from daisy.core.courses import CoursePlan, CourseRequest, ImportantDate, plan_course
from daisy.core.intervals import Interval
from daisy.core.slots import Candidate, PhaseTemplate, Rules, Template, find_slots

TZ = ZoneInfo("Europe/London")
FIRST_DAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
RULES = Rules(min_notice=timedelta(hours=2), max_advance=timedelta(days=90))
MINUTE = timedelta(minutes=1)


def micro_needling() -> Template:
    return Template(
        phases=(
            PhaseTemplate("consult", 10 * MINUTE, frozenset({"specialist", "room"})),
            PhaseTemplate("numbing", 30 * MINUTE, frozenset({"room"})),
            PhaseTemplate("needling", 20 * MINUTE, frozenset({"specialist", "room", "device"})),
            PhaseTemplate("post-care", 10 * MINUTE, frozenset({"room"})),
            PhaseTemplate("clean-down", 10 * MINUTE, frozenset({"room", "device"}), True),
        )
    )


def clinic(days: int, appointments: int, seed: int = 5) -> list[Candidate]:
    rng = random.Random(seed)
    weekly = {weekday: [DayHours(time(9), time(19))] for weekday in range(6)}
    last_day = FIRST_DAY + timedelta(days=days - 1)
    opens = open_intervals(tz=TZ, start_on=FIRST_DAY, end_on=last_day, weekly=weekly)
    busy: dict[str, list[Interval[datetime]]] = {}
    ids = {
        "specialist": [f"specialist:{n:02}" for n in range(20)],
        "room": [f"room:{n:02}" for n in range(10)],
        "device": [f"pen:{n:02}" for n in range(6)],
    }
    for appointment in range(appointments):
        day_open = opens[appointment % len(opens)]
        start = day_open.start + rng.randrange(0, 600 - 80, 15) * MINUTE
        specialist, room, pen = (rng.choice(ids[role]) for role in ("specialist", "room", "device"))
        busy.setdefault(specialist, []).extend(
            [
                Interval(start, start + 10 * MINUTE),
                Interval(start + 40 * MINUTE, start + 60 * MINUTE),
            ]
        )
        busy.setdefault(room, []).append(Interval(start, start + 80 * MINUTE))
        busy.setdefault(pen, []).append(Interval(start + 40 * MINUTE, start + 80 * MINUTE))
    # A few weeks of time off for some specialists, as a service would pass them.
    time_off = {
        f"specialist:{n:02}": (FIRST_DAY + timedelta(days=30 + 9 * n), 14) for n in range(0, 20, 3)
    }
    candidates = []
    for role, names in ids.items():
        for name in names:
            own = opens
            if name in time_off:
                away_from, length = time_off[name]
                away = Interval(
                    datetime.combine(away_from, time(0), TZ).astimezone(UTC),
                    datetime.combine(away_from + timedelta(days=length), time(0), TZ).astimezone(
                        UTC
                    ),
                )
                own = [i for i in opens if not i.overlaps(away)]
            # Sorted by start, as a query ordered by start returns them.
            ordered = sorted(busy.get(name, []), key=lambda interval: interval.start)
            candidates.append(Candidate(name, role, own, ordered))
    return candidates


def timed(label: str, action: Callable[[], object], runs: int = 15) -> None:
    action()
    samples = []
    plan = action()
    for _ in range(runs):
        # CPU time, not wall time: the probe often shares the machine with test runs.
        started = clock.process_time()
        plan = action()
        samples.append((clock.process_time() - started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    if isinstance(plan, CoursePlan):
        shape = f"{len(plan.sessions)} sessions" + ("" if plan.is_complete else ", problem")
        if plan.alternative is not None:
            shape += f", alternative +{plan.alternative.shift_days} days"
    else:
        shape = f"{len(plan)} slots" if isinstance(plan, list) else ""
    print(f"{label:<52} median {statistics.median(samples):7.2f} ms   p95 {p95:7.2f} ms   {shape}")


def main() -> None:
    template = micro_needling()
    dates = (
        ImportantDate("job_interview", date(2026, 4, 14), date(2026, 4, 14), "Job interview"),
        ImportantDate("wedding", date(2026, 6, 20), date(2026, 6, 20), "Wedding"),
        ImportantDate("beach_holiday", date(2026, 8, 2), date(2026, 8, 16), "Beach holiday"),
    )
    half_year = clinic(183, 6000)
    year = clinic(366, 6000)
    year_busy = clinic(366, 12000)
    for name, candidates in (("6 months", half_year), ("12 months", year)):
        busy = sum(len(c.busy) for c in candidates)
        print(f"{name}: {len(candidates)} resources, {busy} busy intervals")

    def plan(
        candidates: list[Candidate], sessions: int, horizon: int, **extra: object
    ) -> Callable[[], CoursePlan]:
        options: dict[str, object] = {"important_dates": dates, **extra}
        request = CourseRequest(
            sessions=sessions,
            earliest_start=FIRST_DAY + timedelta(days=7),
            horizon_days=horizon,
            **options,  # type: ignore[arg-type]
        )
        return lambda: plan_course(
            request=request,
            template=template,
            candidates=candidates,
            tz=TZ,
            now=NOW,
            rules=RULES,
        )

    # For scale: one 7-day slot search over the same candidates (it converts them all too).
    start_at = datetime.combine(FIRST_DAY, time(0), TZ)
    week_search = lambda: find_slots(  # noqa: E731
        template=template,
        candidates=half_year,
        window_start=start_at,
        window_end=start_at + timedelta(days=7),
        tz=TZ,
        now=NOW,
        rules=RULES,
    )
    timed("baseline: find_slots, 7 days, 6 months of candidates", week_search)
    timed("6 sessions, 6-month horizon", plan(half_year, 6, 183))
    timed(
        "6 sessions, 6-month horizon, preferred specialist",
        plan(half_year, 6, 183, preferred_specialist="specialist:03"),
    )
    timed(
        "6 sessions, Tuesdays and Thursdays 09:00-13:00",
        plan(
            half_year,
            6,
            183,
            preferred_weekdays=frozenset({1, 3}),
            preferred_times=((time(9), time(13)),),
        ),
    )
    timed("12 sessions, 12-month horizon", plan(year, 12, 366))
    timed("12 sessions, 12-month horizon, 12,000 appointments", plan(year_busy, 12, 366))
    timed(
        "12 sessions, preferred specialist",
        plan(year, 12, 366, preferred_specialist="specialist:03"),
    )
    # 6 sessions need 5 x 21 = 105 days at the least: a 100-day horizon has no plan at all,
    # so this measures the failure path (partial plan, problem, 12 shifted windows).
    timed("no plan: 6 sessions in 100 days", plan(half_year, 6, 100))
    timed(
        "no plan for 4 sessions, then a later start",
        plan(
            half_year,
            4,
            183,
            important_dates=(
                ImportantDate("travel", date(2026, 3, 28), date(2026, 5, 10), "Travel"),
            ),
        ),
    )


if __name__ == "__main__":
    main()
