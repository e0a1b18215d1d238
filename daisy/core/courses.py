"""The course planner: every session of a treatment course, around the client's important dates.

Micro-needling is a course, not a visit (DOMAIN.md 1.2): a few sessions about four weeks apart,
each followed by a recovery window in which the client should not have an event that matters to
them (DOMAIN.md 4.2). `plan_course` proposes a start for every session at once.

What a full plan promises
-------------------------
* Exactly `sessions` sessions. Session 1 starts on a local day in
  [earliest_start, earliest_start + start_within_days) and obeys the booking rules (notice and
  advance). Later sessions obey the notice rule but not `max_advance`: a course is booked in
  one go, so its last session is necessarily further ahead than a single booking may be. The
  booking service must check them with the same widened rule (`course_rules`).
* Every session lies on the local start grid inside the planning horizon
  [earliest_start, earliest_start + horizon_days), and is a slot `check_slot` accepts with the
  session's specialist pinned (the `Slot` in the plan *is* that answer, rooms and devices
  chosen by its tie-break).
* Gaps are counted in local calendar days (1 June 10:00 -> 29 June 10:00 is 28 days whether or
  not the clocks changed in between) and each lies in [min_interval, max_interval]. Clinics,
  clients and DOMAIN.md 1.2 all count intervals in days; counting hours would push the time of
  day by an hour at every DST change.
* No session's recovery window [start, start + recovery) overlaps the local-day span
  [start_on 00:00, end_on + 1 00:00) of any important date, each date using its kind's
  recovery; nor does its pre-care window [start - precare, start), for the kinds that have
  one (sun: no tanning or sunburn for two weeks before a session, DOMAIN.md 4.1), so no session
  is planned in the two weeks after a beach holiday. The check is `recovery_clashes`, which
  single bookings share.
* With `not_before`, no session starts before it (the treatment's preparation lead time: a
  first session is not planned sooner than its pre-care steps can be followed).
* Preferred weekdays and times are hard filters; preferred times bound the client's visit (the
  phases before any buffer), not just its start.

Which plan, among the full ones
-------------------------------
Lexicographically smallest:

1. total deviation sum(|gap - interval|), in days;
2. sessions not with the kept specialist: the preferred specialist if one was given (and can
   do the treatment), otherwise whoever has session 1. Counting sessions away from that person
   rather than changes means a specialist away for one session is replaced for that session
   only, and the client goes back to their own specialist afterwards;
3. the earliest session-1 start;
4. for session 1's specialist, the slot finder's tie-break (least booked that day, then id).

Remaining ties go to the earliest days. Stand-ins for sessions the kept specialist cannot take
are chosen, once the days are fixed, to change person as rarely as possible. Session 1 takes
its earliest start that day; each later session the start closest to session 1's local time of
day, so a client booked at 10:00 keeps coming at 10:00.

Re-planning the rest of a course
--------------------------------
With `previous_on` (the local date of the last session that stays), session 1's gap from it
must lie in the window and counts towards the deviation like every later gap; the caller
sets `earliest_start` and `start_within_days` to that window and passes the widened
`course_rules` as `rules`. With `time_of_day`, every session (session 1 too) takes the grid
start nearest that local time, so a client who comes at 10:00 keeps coming at 10:00.

When there is no full plan
--------------------------
`problems` names the first session that cannot be placed and why, in words a receptionist can
repeat, after the longest prefix that can be placed (`sessions` holds the best such prefix).
`alternative` is the best full plan whose session 1 falls in the nearest later start window
[earliest_start + 7w, earliest_start + 7w + start_within_days), w = 1..12, with `shift_days` =
7w; the horizon does not move, because it is the span the caller read free time for.

How it stays fast
-----------------
Everything runs on integer epoch seconds. For each specialist, the starts it can take with some
room and device free, inside the rules, preferences and recovery constraints, are computed once
as interval sets over the whole horizon (the same shifted-free-time algebra as slots.py), then
reduced to the earliest grid start per (local day, specialist). Because the objective counts
whole days, the best plan depends only on which (day, specialist) pairs are possible: a dynamic
programme over days finds the least deviation (each day a sliding-window minimum), its backward
pass keeps only the days on some optimal path, and a second, much smaller programme over those
picks the specialist. Only the chosen starts are turned into `Slot`s, by `check_slot` on the
calendars trimmed to a few days around each start.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from operator import add
from types import MappingProxyType
from zoneinfo import ZoneInfo

from daisy.core.calendars import resolve_local_all, to_utc
from daisy.core.intervals import Interval, intersect_pairs, merge_pairs, subtract_pairs
from daisy.core.slots import Candidate, Rules, Slot, SlotProblem, Template, check_slot

__all__ = [
    "DEFAULT_INTERVAL",
    "DEFAULT_MAX_INTERVAL",
    "DEFAULT_MIN_INTERVAL",
    "DEFAULT_RECOVERY",
    "DEFAULT_PRECARE_BY_KIND",
    "DEFAULT_RECOVERY_BY_KIND",
    "MAX_SESSIONS",
    "SUN_PRECARE",
    "SUN_RECOVERY",
    "CoursePlan",
    "CourseProblem",
    "CourseRequest",
    "ImportantDate",
    "PlannedSession",
    "course_rules",
    "plan_course",
    "recovery_clashes",
]

# DOMAIN.md 1.2 interval rules: default 28 days. Issue 5 allows 21-42 days without a clinician
# override (DOMAIN.md allows 14-56, below 28 with an override; the app layer decides that).
DEFAULT_INTERVAL = timedelta(days=28)
DEFAULT_MIN_INTERVAL = timedelta(days=21)
DEFAULT_MAX_INTERVAL = timedelta(days=42)
# DOMAIN.md 1.2 gives 1-6 sessions per indication; issue 5 allows up to 12 in extended courses.
MAX_SESSIONS = 12
# DOMAIN.md 4.2 days 0-3: no strenuous exercise, sauna or swimming; redness fades within 72 h.
DEFAULT_RECOVERY = timedelta(hours=72)
# DOMAIN.md 4.2 days 0-14: daily SPF 30+ and limited sun for two weeks.
SUN_RECOVERY = timedelta(days=14)
DEFAULT_RECOVERY_BY_KIND: Mapping[str, timedelta] = MappingProxyType(
    {"beach_holiday": SUN_RECOVERY, "sun_holiday": SUN_RECOVERY}
)
# DOMAIN.md 4.1: no tanning, sunbeds or sunburn for at least two weeks before a session.
SUN_PRECARE = timedelta(days=14)
DEFAULT_PRECARE_BY_KIND: Mapping[str, timedelta] = MappingProxyType(
    {"beach_holiday": SUN_PRECARE, "sun_holiday": SUN_PRECARE}
)
_NO_WINDOWS: Mapping[str, timedelta] = MappingProxyType({})

_SPECIALIST = "specialist"
_SHIFT_DAYS = 7
_MAX_SHIFTS = 12
_MAX_HORIZON_DAYS = 731
_DAY = timedelta(days=1)
_DAY_SECONDS = 86_400
_MIDNIGHT = time(0)
_INF = 10**30
_WEEK = 10**9  # one shift week outweighs any deviation (at most 12 gaps of < 2 years)
_OFF = 10**20  # one session away from the kept specialist outweighs any session-1 start
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January February March April May June July August September October November December"
).split()

_Pair = tuple[int, int]


# --- inputs and outputs -------------------------------------------------------------------


@dataclass(frozen=True)
class ImportantDate:
    """A date the client wants to look their best for: inclusive local dates, location zone."""

    kind: str
    start_on: date
    end_on: date
    label: str = ""

    def __post_init__(self) -> None:
        if not self.kind:
            raise ValueError("an important date needs a kind")
        if self.end_on < self.start_on:
            raise ValueError(f"important date ends ({self.end_on}) before it starts")

    @property
    def name(self) -> str:
        return self.label or self.kind.replace("_", " ")


@dataclass(frozen=True, kw_only=True)
class CourseRequest:
    """What to plan. Intervals are whole days; weekdays follow date.weekday() (0 = Monday).

    `preferred_times` are local (start, end) windows holding the client's whole visit.
    `preferred_specialist` is a resource id; one who cannot do the treatment (not among the
    candidates) counts as no preference. `recovery` applies to every important date whose kind
    is not in `recovery_by_kind`; passing `recovery_by_kind` replaces the sun-exposure defaults
    rather than adding to them. `precare_by_kind` is how long before a session each kind of
    date must be over (kinds not in it: none); the same replacing rule. Session 1 falls within
    `start_within_days` of `earliest_start`, and the whole course within `horizon_days` of it.
    """

    sessions: int
    earliest_start: date
    interval: timedelta = DEFAULT_INTERVAL
    min_interval: timedelta = DEFAULT_MIN_INTERVAL
    max_interval: timedelta = DEFAULT_MAX_INTERVAL
    preferred_weekdays: frozenset[int] | None = None
    preferred_times: tuple[tuple[time, time], ...] | None = None
    preferred_specialist: str | None = None
    important_dates: tuple[ImportantDate, ...] = ()
    recovery: timedelta = DEFAULT_RECOVERY
    recovery_by_kind: Mapping[str, timedelta] = field(
        default_factory=lambda: DEFAULT_RECOVERY_BY_KIND, hash=False
    )
    precare_by_kind: Mapping[str, timedelta] = field(
        default_factory=lambda: DEFAULT_PRECARE_BY_KIND, hash=False
    )
    # No session before this moment (aware): the pre-care lead time of a first session.
    not_before: datetime | None = None
    horizon_days: int = 366
    start_within_days: int = 7
    # Re-planning the rest of a course: the local date of the session before session 1, so
    # session 1's gap from it obeys the window and counts towards the deviation like any other.
    previous_on: date | None = None
    # Keep this local time of day (the nearest grid start) for every session, session 1 too.
    time_of_day: time | None = None
    # The local days of the client's other sessions (not of this course) that every session
    # keeps `apart_days` calendar days from, before or after (DOMAIN.md 1.2: 28 days between
    # needling sessions). 0: no such rule.
    apart_from: tuple[date, ...] = ()
    apart_days: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.sessions <= MAX_SESSIONS:
            raise ValueError(f"a course has 1 to {MAX_SESSIONS} sessions, not {self.sessions}")
        for name in ("interval", "min_interval", "max_interval"):
            value: timedelta = getattr(self, name)
            if value < _DAY or value % _DAY:
                raise ValueError(f"{name} must be a positive whole number of days, not {value}")
        if not self.min_interval <= self.interval <= self.max_interval:
            raise ValueError("the interval must lie between min_interval and max_interval")
        if not 1 <= self.horizon_days <= _MAX_HORIZON_DAYS:
            raise ValueError(f"horizon_days must be between 1 and {_MAX_HORIZON_DAYS}")
        if not 1 <= self.start_within_days <= self.horizon_days:
            raise ValueError("start_within_days must be between 1 and horizon_days")
        if self.preferred_weekdays is not None:
            weekdays = frozenset(self.preferred_weekdays)
            if not weekdays or not weekdays <= frozenset(range(7)):
                raise ValueError("preferred_weekdays must be some of 0 (Monday) to 6 (Sunday)")
            object.__setattr__(self, "preferred_weekdays", weekdays)
        if self.preferred_times is not None:
            times = tuple((start, end) for start, end in self.preferred_times)
            if not times:
                raise ValueError("preferred_times, when given, needs at least one window")
            for start, end in times:
                if start.tzinfo is not None or end.tzinfo is not None:
                    raise ValueError("preferred times are local wall-clock times: no tzinfo")
                if not start < end:
                    raise ValueError(f"a preferred time window must start before it ends: {start}")
            object.__setattr__(self, "preferred_times", times)
        if self.previous_on is not None and self.previous_on >= self.earliest_start:
            raise ValueError("previous_on must be before earliest_start")
        if self.time_of_day is not None and self.time_of_day.tzinfo is not None:
            raise ValueError("time_of_day is a local wall-clock time: no tzinfo")
        if self.preferred_specialist == "":
            raise ValueError("preferred_specialist is a resource id or None")
        if self.apart_days < 0:
            raise ValueError("apart_days cannot be negative")
        object.__setattr__(self, "apart_from", tuple(sorted(set(self.apart_from))))
        object.__setattr__(self, "important_dates", tuple(self.important_dates))
        recovery_by_kind = MappingProxyType(dict(self.recovery_by_kind))
        for kind, span in [("default", self.recovery), *recovery_by_kind.items()]:
            if span <= timedelta(0):
                raise ValueError(f"the {kind} recovery window must be positive")
        object.__setattr__(self, "recovery_by_kind", recovery_by_kind)
        precare_by_kind = MappingProxyType(dict(self.precare_by_kind))
        for kind, span in precare_by_kind.items():
            if span < timedelta(0):
                raise ValueError(f"the {kind} pre-care window cannot be negative")
        object.__setattr__(self, "precare_by_kind", precare_by_kind)
        if self.not_before is not None:
            _require_aware(self.not_before)

    def recovery_for(self, kind: str) -> timedelta:
        return self.recovery_by_kind.get(kind, self.recovery)

    def precare_for(self, kind: str) -> timedelta:
        return self.precare_by_kind.get(kind, timedelta(0))


@dataclass(frozen=True)
class PlannedSession:
    index: int
    slot: Slot
    gap_days: int | None  # local calendar days since the previous session's start

    @property
    def specialist(self) -> str | None:
        return self.slot.resources.get(_SPECIALIST)


@dataclass(frozen=True)
class CourseProblem:
    session: int
    reason: str


@dataclass(frozen=True)
class CoursePlan:
    """A full plan, or the best partial one with the problem that stops it and, if there is
    one, the nearest full plan starting `shift_days` later."""

    sessions: tuple[PlannedSession, ...]
    problems: tuple[CourseProblem, ...] = ()
    alternative: CoursePlan | None = None
    shift_days: int = 0

    @property
    def is_complete(self) -> bool:
        return not self.problems


def recovery_clashes(
    *,
    start: datetime,
    important_dates: Iterable[ImportantDate],
    recovery: timedelta,
    recovery_by_kind: Mapping[str, timedelta],
    tz: ZoneInfo,
    precare_by_kind: Mapping[str, timedelta] = _NO_WINDOWS,
) -> tuple[ImportantDate, ...]:
    """The important dates whose local days overlap a session's windows: the recovery after it,
    [start, start + their kind's recovery), and the pre-care before it,
    [start - their kind's pre-care, start). An empty window (zero) meets nothing."""
    _require_aware(start)
    found = []
    for item in important_dates:
        span_start, span_end = _date_span(item, tz)
        begins = start - precare_by_kind.get(item.kind, timedelta(0))
        ends = start + recovery_by_kind.get(item.kind, recovery)
        if begins < ends and begins < span_end and span_start < ends:
            found.append(item)
    return tuple(found)


def course_rules(rules: Rules, *, now: datetime, until: datetime) -> Rules:
    """`rules` with max_advance widened to reach `until`: the rule for sessions 2 and later."""
    return Rules(
        min_notice=rules.min_notice,
        max_advance=max(rules.max_advance, until - now),
        step_minutes=rules.step_minutes,
    )


def plan_course(
    *,
    request: CourseRequest,
    template: Template,
    candidates: Sequence[Candidate],
    tz: ZoneInfo,
    now: datetime,
    rules: Rules,
) -> CoursePlan:
    """The best plan for the course, or why there is none (see the module docstring).

    `candidates` carry the free-time inputs of every eligible resource over the whole horizon.
    Raises SlotProblem for naive datetimes or a role nobody can fill, ValueError for malformed
    candidates.
    """
    _require_aware(now)
    world = _World(request, template, candidates, tz, now, rules)
    best = world.best(request.sessions, _MAX_SHIFTS)
    if best is not None and best[0] == 0:
        return CoursePlan(best[1])
    alternative = None
    if best is not None:
        alternative = CoursePlan(best[1], shift_days=_SHIFT_DAYS * best[0])
    partial = world.longest_prefix()
    problem = world.explain(len(partial) + 1, partial)
    return CoursePlan(partial, (problem,), alternative)


# --- calendars in whole seconds ----------------------------------------------------------


def _require_aware(*values: datetime) -> None:
    for value in values:
        if value.tzinfo is None or value.utcoffset() is None:
            raise SlotProblem("naive_datetime", "A time has no time zone, so it is ambiguous.")


def _date_span(item: ImportantDate, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return to_utc(item.start_on, _MIDNIGHT, tz), to_utc(item.end_on + _DAY, _MIDNIGHT, tz)


def _needs(template: Template) -> dict[str, list[_Pair]]:
    """Per role, the (offset, duration) spans in seconds its phases occupy."""
    needs: dict[str, list[_Pair]] = {}
    offset = 0
    for phase in template.phases:
        seconds = phase.duration // timedelta(seconds=1)
        for role in sorted(phase.roles):
            spans = needs.setdefault(role, [])
            # Back-to-back phases fit iff their union fits, because free time is normalized.
            if spans and spans[-1][0] + spans[-1][1] == offset:
                spans[-1] = (spans[-1][0], spans[-1][1] + seconds)
            else:
                spans.append((offset, seconds))
        offset += seconds
    return needs


def _valid_starts(free: list[_Pair], needs: list[_Pair]) -> list[_Pair]:
    """The half-open set of starts at which every span fits in `free` (as in slots.py)."""
    valid: list[_Pair] | None = None
    for offset, duration in needs:
        last = offset + duration - 1
        shifted = [(a - offset, b - last) for a, b in free if b - a >= duration]
        valid = shifted if valid is None else intersect_pairs(valid, shifted)
    return valid or []


def _near(pairs: list[_Pair], starts: list[int], lo: int, hi: int) -> list[Interval[datetime]]:
    """The normalized `pairs` that overlap [lo, hi), back as aware UTC intervals.

    check_slot reads merged, whole-second calendars exactly as it would read the originals
    (it rounds and merges them the same way), so it can be handed just a few days of them.
    """
    first = max(bisect_right(starts, lo) - 1, 0)
    stamp = datetime.fromtimestamp
    return [
        Interval(stamp(a, UTC), stamp(b, UTC))
        for a, b in pairs[first : bisect_left(starts, hi)]
        if b > lo
    ]


class _Calendar:
    __slots__ = (
        "resource_id",
        "role",
        "opens",
        "open_starts",
        "busy",
        "busy_starts",
        "busy_sums",
        "valid",
    )

    def __init__(
        self,
        candidate: Candidate,
        needs: list[_Pair],
        seen_opens: dict[int, tuple[Sequence[Interval[datetime]], list[_Pair]]] | None = None,
    ) -> None:
        self.resource_id = candidate.resource_id
        self.role = candidate.role
        if None in [i.start.tzinfo for i in candidate.busy]:
            raise SlotProblem(
                "naive_datetime",
                f"The calendar of {candidate.resource_id} has times without a time zone.",
            )
        floor, ceil = math.floor, math.ceil
        # Resources with the same hours share one open-time list (the scheduling selectors
        # cache it), so convert each list once per plan; the list is kept alongside its id.
        memo = seen_opens.get(id(candidate.open)) if seen_opens is not None else None
        if memo is not None and memo[0] is candidate.open:
            self.opens = memo[1]
        else:
            if None in [i.start.tzinfo for i in candidate.open]:
                raise SlotProblem(
                    "naive_datetime",
                    f"The calendar of {candidate.resource_id} has times without a time zone.",
                )
            # Rounded as slots.py does: open time inwards, busy time outwards.
            self.opens = merge_pairs(
                [(ceil(i.start.timestamp()), floor(i.end.timestamp())) for i in candidate.open]
            )
            if seen_opens is not None:
                seen_opens[id(candidate.open)] = (candidate.open, self.opens)
        rounded = [(floor(i.start.timestamp()), ceil(i.end.timestamp())) for i in candidate.busy]
        # Busy time straight from the database as whole epoch seconds (Candidate.busy_seconds).
        rounded.extend(candidate.busy_seconds)
        self.busy = busy = merge_pairs(rounded)
        self.open_starts = [pair[0] for pair in self.opens]
        self.busy_starts = [pair[0] for pair in busy]
        self.busy_sums = list(accumulate((end - start for start, end in busy), initial=0))
        self.valid = _valid_starts(subtract_pairs(self.opens, busy), needs)

    def near(self, lo: int, hi: int) -> Candidate:
        return Candidate(
            self.resource_id,
            self.role,
            _near(self.opens, self.open_starts, lo, hi),
            _near(self.busy, self.busy_starts, lo, hi),
        )

    def busy_between(self, lo: int, hi: int) -> int:
        return self._busy_before(hi) - self._busy_before(lo)

    def _busy_before(self, instant: int) -> int:
        count = bisect_right(self.busy_starts, instant)
        if not count:
            return 0
        total = self.busy_sums[count]
        last_end = self.busy_starts[count - 1] + total - self.busy_sums[count - 1]
        return total - last_end + instant if instant < last_end else total


def _calendars(template: Template, candidates: Sequence[Candidate]) -> dict[str, list[_Calendar]]:
    needs = _needs(template)
    by_role: dict[str, list[_Calendar]] = {role: [] for role in needs}
    owners: dict[str, _Calendar] = {}
    seen_opens: dict[int, tuple[Sequence[Interval[datetime]], list[_Pair]]] = {}
    for candidate in candidates:
        if candidate.role not in by_role:
            continue
        if any(c.resource_id == candidate.resource_id for c in by_role[candidate.role]):
            raise ValueError(f"{candidate.resource_id!r} is listed twice as {candidate.role!r}")
        calendar = _Calendar(candidate, needs[candidate.role], seen_opens)
        owner = owners.setdefault(candidate.resource_id, calendar)
        if (owner.opens, owner.busy) != (calendar.opens, calendar.busy):
            raise ValueError(
                f"resource id {candidate.resource_id!r} names two resources (as {owner.role!r} "
                f"and {candidate.role!r}); make ids unique across kinds"
            )
        by_role[candidate.role].append(calendar)
    for role, group in by_role.items():
        if not group:
            raise SlotProblem(
                "no_candidates",
                f"No {role.replace('_', ' ')} can provide this treatment.",
                role=role,
            )
        group.sort(key=lambda c: c.resource_id)
    return by_role


# --- local days ---------------------------------------------------------------------------


class _Days:
    """Local days first .. first + count - 1 as UTC second bounds, with their start grids."""

    def __init__(self, tz: ZoneInfo, first: date, count: int, step_minutes: int) -> None:
        self.tz = tz
        self.first = first
        self.count = count
        self.step = step_minutes * 60
        self.step_minutes = step_minutes
        self.bounds = [
            int(to_utc(first + timedelta(days=k), _MIDNIGHT, tz).timestamp())
            for k in range(count + 1)
        ]
        self._irregular: dict[int, list[int]] = {}

    def date(self, k: int) -> date:
        return self.first + timedelta(days=k)

    def index(self, instant: int) -> int:
        """The day holding `instant`: -1 before the first, count after the last."""
        return bisect_right(self.bounds, instant) - 1

    def _grid(self, k: int) -> list[int]:
        # Days that are not 24 hours long: walk the wall clock as slots.py does.
        found = self._irregular.get(k)
        if found is None:
            lo, hi = self.bounds[k], self.bounds[k + 1]
            instants: set[int] = set()
            for minute in range(0, 24 * 60, self.step_minutes):
                wall = datetime.combine(self.date(k), time(minute // 60, minute % 60))
                for instant in resolve_local_all(wall, self.tz):
                    seconds = int(instant.timestamp())
                    if lo <= seconds < hi:
                        instants.add(seconds)
            found = self._irregular[k] = sorted(instants)
        return found

    def first_start(self, k: int, lo: int, hi: int) -> int | None:
        """The first grid start of day k in [lo, hi), which must lie inside the day."""
        day_start = self.bounds[k]
        if self.bounds[k + 1] - day_start == _DAY_SECONDS:
            found = day_start - (day_start - lo) // self.step * self.step
            return found if found < hi else None
        grid = self._grid(k)
        index = bisect_left(grid, lo)
        return grid[index] if index < len(grid) and grid[index] < hi else None

    def starts(self, k: int, lo: int, hi: int) -> list[int]:
        day_start = self.bounds[k]
        if self.bounds[k + 1] - day_start == _DAY_SECONDS:
            first = day_start - (day_start - lo) // self.step * self.step
            return list(range(first, hi, self.step))
        grid = self._grid(k)
        return grid[bisect_left(grid, lo) : bisect_left(grid, hi)]

    def spans(self, pairs: Iterable[_Pair]) -> Iterable[tuple[int, int, int]]:
        """(day, lo, hi) for each piece of the pairs cut at local midnights, in order."""
        bounds, count = self.bounds, self.count
        for a, b in pairs:
            k = max(self.index(a), 0)
            while k < count and bounds[k] < b:
                yield k, max(a, bounds[k]), min(b, bounds[k + 1])
                k += 1

    def earliest_starts(self, pairs: list[_Pair]) -> dict[int, int]:
        """The first grid start in the normalized `pairs` on each day that has one."""
        # One pass that skips the rest of a day once it has its start: pairs are many
        # (every gap between bookings), days with a start are few by comparison.
        found: dict[int, int] = {}
        bounds, count = self.bounds, self.count
        k = 0
        for a, b in pairs:
            if b <= bounds[k]:
                continue
            if a >= bounds[k + 1]:
                k = bisect_right(bounds, a) - 1
                if k >= count:
                    break
            lo = a if a > bounds[k] else bounds[k]
            while True:
                day_end = bounds[k + 1]
                start = self.first_start(k, lo, b if b < day_end else day_end)
                if start is not None:
                    found[k] = start
                elif b <= day_end:
                    break
                k += 1
                if k >= count:
                    return found
                if b <= day_end:
                    break
                lo = day_end
        return found

    def has_start(self, pairs: Iterable[_Pair]) -> bool:
        return any(self.first_start(k, lo, hi) is not None for k, lo, hi in self.spans(pairs))

    def minute_of_day(self, instant: int) -> float:
        local = datetime.fromtimestamp(instant, self.tz)
        return local.hour * 60 + local.minute + local.second / 60


# --- the planner --------------------------------------------------------------------------


class _Person:
    """One specialist (or, for a template without one, the whole clinic) and its starts."""

    __slots__ = ("resource_id", "calendar", "feasible", "earliest", "refused")

    def __init__(self, calendar: _Calendar | None, feasible: list[_Pair], days: _Days) -> None:
        self.resource_id = None if calendar is None else calendar.resource_id
        self.calendar = calendar
        self.feasible = feasible
        self.refused: set[int] = set()
        self.earliest = days.earliest_starts(feasible)


_Choice = tuple[int, list[int], list[int]]  # shift week, day per session, person per session


class _World:
    def __init__(
        self,
        request: CourseRequest,
        template: Template,
        candidates: Sequence[Candidate],
        tz: ZoneInfo,
        now: datetime,
        rules: Rules,
    ) -> None:
        self.request = request
        self.template = template
        self.tz = tz
        self.now = now
        self.rules = rules
        self.days = days = _Days(
            tz, request.earliest_start, request.horizon_days, rules.step_minutes
        )
        bounds = days.bounds
        self.interval = request.interval // _DAY
        self.low = request.min_interval // _DAY
        self.high = request.max_interval // _DAY
        self.window = request.start_within_days
        self.soonest = max(bounds[0], math.ceil((now + rules.min_notice).timestamp()))
        if request.not_before is not None:
            self.soonest = max(self.soonest, math.ceil(request.not_before.timestamp()))
        self.latest = math.floor((now + rules.max_advance).timestamp())
        self.later_rules = course_rules(
            rules, now=now, until=datetime.fromtimestamp(bounds[-1], UTC)
        )
        self.client_seconds = template.client_duration // timedelta(seconds=1)
        self.total_seconds = template.total_duration // timedelta(seconds=1)

        self.by_role = by_role = _calendars(template, candidates)
        others = [role for role in sorted(by_role) if role != _SPECIALIST]
        # A start suits role r iff some resource of r can take it; with ids shared across
        # roles this is only a superset, and check_slot has the last word (see _realise).
        fits_others: list[_Pair] = [(bounds[0], bounds[-1])]
        for role in others:
            anyone = merge_pairs(pair for c in by_role[role] for pair in c.valid)
            fits_others = intersect_pairs(fits_others, anyone)
        self.fits_others = fits_others
        self.preferred = self._preferred_pairs()
        self.forbidden_by_date = [self._forbidden(item) for item in request.important_dates]
        self.apart_pairs = self._apart_pairs()
        self.forbidden = merge_pairs([*self.forbidden_by_date, *self.apart_pairs])
        allowed = intersect_pairs(fits_others, [(self.soonest, bounds[-1])])
        allowed = subtract_pairs(intersect_pairs(allowed, self.preferred), self.forbidden)
        if _SPECIALIST in by_role:
            self.people = [
                _Person(c, intersect_pairs(c.valid, allowed), days) for c in by_role[_SPECIALIST]
            ]
        else:
            self.people = [_Person(None, allowed, days)]
        self._ranks: dict[int, list[int]] = {}
        self._refresh()

    # --- constraints as start sets ---

    def _preferred_pairs(self) -> list[_Pair]:
        request, days = self.request, self.days
        if request.preferred_weekdays is None and request.preferred_times is None:
            return [(days.bounds[0], days.bounds[-1])]
        pairs: list[_Pair] = []
        for k in range(days.count):
            day = days.date(k)
            if request.preferred_weekdays is not None:
                if day.weekday() not in request.preferred_weekdays:
                    continue
            if request.preferred_times is None:
                pairs.append((days.bounds[k], days.bounds[k + 1]))
                continue
            for opens, closes in request.preferred_times:
                # The client's visit, not just its start, lies inside the window.
                lo = int(to_utc(day, opens, self.tz).timestamp())
                hi = int(to_utc(day, closes, self.tz).timestamp()) - self.client_seconds + 1
                if lo < hi:
                    pairs.append((lo, hi))
        return merge_pairs(pairs)

    def _forbidden(self, item: ImportantDate) -> _Pair:
        span_start, span_end = _date_span(item, self.tz)
        recovery = math.ceil(self.request.recovery_for(item.kind).total_seconds())
        precare = math.ceil(self.request.precare_for(item.kind).total_seconds())
        # [s - p, s + r) meets [a, b) iff a - r < s < b + p.
        return (int(span_start.timestamp()) - recovery + 1, int(span_end.timestamp()) + precare)

    def _apart_pairs(self) -> list[_Pair]:
        """No start on a local day less than apart_days from one of apart_from's days."""
        reach = self.request.apart_days - 1
        if reach < 0:
            return []
        return [
            (
                int(to_utc(day - timedelta(days=reach), time(0), self.tz).timestamp()),
                int(to_utc(day + timedelta(days=reach + 1), time(0), self.tz).timestamp()),
            )
            for day in self.request.apart_from
        ]

    # --- (day, person) tables ---

    def _refresh(self) -> None:
        count = self.days.count
        self.day_ok = [False] * count
        self.first_ok = [False] * count
        for person in self.people:
            for k, start in person.earliest.items():
                self.day_ok[k] = True
                if start <= self.latest:
                    self.first_ok[k] = True
        self.ok_days = [k for k in range(count) if self.day_ok[k]]

    def _starts(self, k: int, p: int) -> list[int]:
        person, days = self.people[p], self.days
        lo, hi = days.bounds[k], days.bounds[k + 1]
        index = max(bisect_right(person.feasible, (lo, _INF)) - 1, 0)
        found: list[int] = []
        for a, b in person.feasible[index:]:
            if a >= hi:
                break
            if b > lo:
                found.extend(days.starts(k, max(a, lo), min(b, hi)))
        return [s for s in found if s not in person.refused]

    def _can_start(self, k: int, p: int) -> bool:
        start = self.people[p].earliest.get(k)
        return start is not None and start <= self.latest

    def _rank(self, k: int, p: int) -> int:
        """The slot finder's tie-break that local day: least booked first, then id."""
        ranks = self._ranks.get(k)
        if ranks is None:
            lo, hi = self.days.bounds[k], self.days.bounds[k + 1]
            order = sorted(
                range(len(self.people)),
                key=lambda q: (
                    0 if (c := self.people[q].calendar) is None else c.busy_between(lo, hi),
                    self.people[q].resource_id or "",
                ),
            )
            ranks = [0] * len(order)
            for position, q in enumerate(order):
                ranks[q] = position
            self._ranks[k] = ranks
        return ranks[p]

    def _week(self, k: int) -> int | None:
        """w of the first shifted start window [7w, 7w + window) holding day k, if any."""
        week = max(0, -(-(k - self.window + 1) // _SHIFT_DAYS))
        # Windows shorter than the shift leave days between them that no window holds.
        return week if _SHIFT_DAYS * week <= k else None

    # --- stage 1: days only ---

    def _forward(self, stages: int, max_week: int) -> list[list[int]]:
        """table[i][k]: least (shift week, deviation) for sessions 1..i+1 with i+1 on day k."""
        count = self.days.count
        first = [_INF] * count
        for k in range(min(count, _SHIFT_DAYS * max_week + self.window)):
            week = self._week(k)
            if self.first_ok[k] and week is not None:
                first[k] = week * _WEEK
        low, high, interval = self.low, self.high, self.interval
        if self.request.previous_on is not None:
            offset = (self.request.earliest_start - self.request.previous_on).days
            for k, cost in enumerate(first):
                gap = offset + k
                first[k] = cost + abs(gap - interval) if low <= gap <= high else _INF
        table = [first]
        # weights[j] is the deviation of a gap of high - j days.
        weights = [abs(high - j - interval) for j in range(high - low + 1)]
        for _ in range(1, stages):
            previous = table[-1]
            current = [_INF] * count
            for k in self.ok_days:
                hi = k - low + 1
                if hi <= 0:
                    continue
                lo = k - high
                skip = 0
                if lo < 0:
                    skip, lo = -lo, 0
                best = min(map(add, previous[lo:hi], weights[skip:]))
                if best < _INF:
                    current[k] = best
            table.append(current)
            if min(current) >= _INF:
                break
        return table

    # --- stage 2: who, on the optimal days ---

    def _choose(self, table: list[list[int]]) -> _Choice | None:
        stages = len(table)
        last = table[-1]
        best = min(last)
        if best >= _INF:
            return None
        # Every (session, day) on some optimal path, and the optimal edges into it.
        layers: list[list[int]] = [[] for _ in range(stages)]
        layers[-1] = [k for k, cost in enumerate(last) if cost == best]
        edges: list[dict[int, list[int]]] = [{} for _ in range(stages)]
        for i in range(stages - 1, 0, -1):
            previous, current = table[i - 1], table[i]
            keep: set[int] = set()
            for k in layers[i]:
                into = [
                    k - gap
                    for gap in range(self.high, self.low - 1, -1)
                    if k - gap >= 0 and previous[k - gap] + abs(gap - self.interval) == current[k]
                ]
                edges[i][k] = into
                keep.update(into)
            layers[i - 1] = sorted(keep)

        preferred = self.request.preferred_specialist
        ids = [person.resource_id for person in self.people]
        if preferred is not None and preferred in ids:
            anchors = [ids.index(preferred)]
            is_given = True
        else:
            # Whoever has session 1 is kept: try each person who can have it.
            anchors = [
                p for p in range(len(self.people)) if any(self._can_start(k, p) for k in layers[0])
            ]
            is_given = False
        chosen: tuple[int, int, list[int]] | None = None
        for anchor in anchors:
            cost, path = self._best_path(anchor, is_given, layers, edges)
            if chosen is None or cost < chosen[0]:
                chosen = (cost, anchor, path)
        assert chosen is not None  # stage 1 guarantees someone can take session 1
        _, anchor, path = chosen
        people = self._people_for(path, anchor)
        return best // _WEEK, path, people

    def _first_cost(self, k: int, p: int) -> int:
        start = self.people[p].earliest[k] - self.days.bounds[0]
        return start * (len(self.people) + 1) + self._rank(k, p)

    def _best_path(
        self,
        anchor: int,
        is_given: bool,
        layers: list[list[int]],
        edges: list[dict[int, list[int]]],
    ) -> tuple[int, list[int]]:
        """Least (sessions away from anchor, session-1 start, tie-break) along optimal days."""
        costs: list[dict[int, int]] = [{}]
        for k in layers[0]:
            if self._can_start(k, anchor):
                costs[0][k] = self._first_cost(k, anchor)
            elif is_given:
                costs[0][k] = _OFF + min(
                    self._first_cost(k, p) for p in range(len(self.people)) if self._can_start(k, p)
                )
        earliest = self.people[anchor].earliest
        for i in range(1, len(layers)):
            previous = costs[-1]
            current: dict[int, int] = {}
            for k in layers[i]:
                reachable = [previous[p] for p in edges[i][k] if p in previous]
                if reachable:
                    current[k] = min(reachable) + (0 if k in earliest else _OFF)
            costs.append(current)
        if not costs[-1]:
            return _INF, []
        k = min(costs[-1], key=lambda day: (costs[-1][day], day))
        path = [k]
        for i in range(len(layers) - 1, 0, -1):
            previous = costs[i - 1]
            k = min((p for p in edges[i][k] if p in previous), key=lambda p: (previous[p], p))
            path.append(k)
        path.reverse()
        return costs[-1][path[-1]], path

    def _people_for(self, path: list[int], anchor: int) -> list[int]:
        """The anchor wherever free; stand-ins chosen to change person as rarely as possible."""
        count = len(self.people)
        options: list[list[int]] = []
        for i, k in enumerate(path):
            if i == 0 and not self._can_start(k, anchor):
                # Only a given preference can miss session 1; its stand-in came with the
                # session-1 cost, so keep that choice.
                first = [p for p in range(count) if self._can_start(k, p)]
                options.append([min(first, key=lambda p: self._first_cost(k, p))])
            elif k in self.people[anchor].earliest:
                options.append([anchor])
            else:
                options.append([p for p in range(count) if k in self.people[p].earliest])
        # Least (changes, tie-break ranks) over the fixed days.
        best: dict[int, tuple[int, int, list[int]]] = {
            p: (0, self._rank(path[0], p), [p]) for p in options[0]
        }
        for i in range(1, len(path)):
            step: dict[int, tuple[int, int, list[int]]] = {}
            for p in options[i]:
                rank = self._rank(path[i], p) if len(options[i]) > 1 else 0
                step[p] = min(
                    (
                        (changes + (q != p), ranks + rank, [*trail, p])
                        for q, (changes, ranks, trail) in best.items()
                    ),
                    key=lambda item: (item[0], item[1], item[2]),
                )
            best = step
        return min(best.values(), key=lambda item: (item[0], item[1], item[2]))[2]

    # --- slots ---

    def _realise(self, choice: _Choice) -> tuple[PlannedSession, ...] | None:
        """The sessions of `choice`, or None after refusing a start check_slot turned down."""
        _, path, people = choice
        sessions: list[PlannedSession] = []
        keep = self.request.time_of_day
        wall = 0.0 if keep is None else keep.hour * 60 + keep.minute + keep.second / 60
        for i, (k, p) in enumerate(zip(path, people, strict=True)):
            starts = self._starts(k, p)
            if i == 0:
                starts = [s for s in starts if s <= self.latest]
                if keep is not None:
                    starts.sort(key=lambda s: (abs(self.days.minute_of_day(s) - wall), s))
                starts = starts[:1]
            else:
                starts.sort(key=lambda s: (abs(self.days.minute_of_day(s) - wall), s))
            slot = self._check(starts[0], p, self.rules if i == 0 else self.later_rules)
            if slot is None:
                self._refuse(k, p, starts[0])
                return None
            if i == 0 and keep is None:
                wall = self.days.minute_of_day(starts[0])
            if i:
                gap: int | None = k - path[i - 1]
            elif self.request.previous_on is not None:
                gap = (self.days.date(k) - self.request.previous_on).days
            else:
                gap = None
            sessions.append(PlannedSession(i + 1, slot, gap))
        return tuple(sessions)

    def _check(self, start: int, p: int, rules: Rules) -> Slot | None:
        lo, hi = start - 2 * _DAY_SECONDS, start + 2 * _DAY_SECONDS + self.total_seconds
        pinned = self.people[p].calendar
        trimmed = [
            c.near(lo, hi)
            for role, group in self.by_role.items()
            for c in group
            if role != _SPECIALIST or c is pinned
        ]
        try:
            return check_slot(
                template=self.template,
                start=datetime.fromtimestamp(start, UTC),
                candidates=trimmed,
                tz=self.tz,
                now=self.now,
                rules=rules,
            )
        except SlotProblem:
            # Only reachable when one id fills two roles (the per-role sets above are then a
            # superset); refusing the start and planning again keeps every session bookable.
            return None

    def _refuse(self, k: int, p: int, start: int) -> None:
        person = self.people[p]
        person.refused.add(start)
        remaining = self._starts(k, p)
        if remaining:
            person.earliest[k] = remaining[0]
        else:
            del person.earliest[k]
        self._refresh()

    # --- entry points ---

    def best(self, stages: int, max_week: int) -> tuple[int, tuple[PlannedSession, ...]] | None:
        while True:
            table = self._forward(stages, max_week)
            if len(table) < stages:
                return None
            choice = self._choose(table)
            if choice is None:
                return None
            sessions = self._realise(choice)
            if sessions is not None:
                return choice[0], sessions

    def longest_prefix(self) -> tuple[PlannedSession, ...]:
        """The best plan for the most sessions that fit with session 1 in the first window."""
        while True:
            table = self._forward(self.request.sessions, 0)
            while table and min(table[-1]) >= _INF:
                table.pop()
            if not table:
                return ()
            choice = self._choose(table)
            assert choice is not None
            sessions = self._realise(choice)
            if sessions is not None:
                return sessions

    # --- words ---

    def explain(self, session: int, before: tuple[PlannedSession, ...]) -> CourseProblem:
        days, bounds = self.days, self.days.bounds
        if session == 1:
            first, last = 0, min(self.window, days.count) - 1
            if self.latest < bounds[first]:
                return CourseProblem(
                    1,
                    f"Session 1: bookings open only {_describe(self.rules.max_advance)} ahead, "
                    f"and {_day_text(days.date(first))} is further away than that.",
                )
            last = min(last, days.index(self.latest))
        else:
            previous = days.index(int(before[-1].slot.start.timestamp()))
            first, last = previous + self.low, previous + self.high
            if first >= days.count:
                return CourseProblem(
                    session,
                    f"Session {session}: it would fall after "
                    f"{_day_text(days.date(days.count - 1), year=True)}, the furthest ahead "
                    "this plan looks.",
                )
            last = min(last, days.count - 1)
        span = _range_text(days.date(first), days.date(last), self.now.astimezone(self.tz).year)
        lo, hi = max(bounds[first], self.soonest), bounds[last + 1]
        if session == 1:
            hi = min(hi, self.latest + 1)
        if lo >= hi:
            if bounds[last + 1] <= math.ceil(self.now.timestamp()):
                return CourseProblem(session, f"Session {session}: {span} has already passed.")
            notice = math.ceil((self.now + self.rules.min_notice).timestamp())
            if self.request.not_before is not None and bounds[last + 1] > notice:
                ready = self.request.not_before.astimezone(self.tz)
                return CourseProblem(
                    session,
                    f"Session {session}: {span} is too soon to prepare for; the preparation "
                    f"steps can be followed in full for a session from "
                    f"{_day_text(ready.date())}, {ready:%H:%M}.",
                )
            return CourseProblem(
                session,
                f"Session {session}: {span} is too soon; bookings need "
                f"{_describe(self.rules.min_notice)} notice.",
            )
        anyone = merge_pairs(pair for person in self.people for pair in _valid_of(person))
        free = intersect_pairs(intersect_pairs(anyone, self.fits_others), [(lo, hi)])
        if not days.has_start(free):
            return CourseProblem(session, f"Session {session}: no free time {span}.")
        preferred = intersect_pairs(free, self.preferred)
        cleared = subtract_pairs(free, self.forbidden)
        reason = f"Session {session}: no free time {span}"
        wishes = self._preferences_text()
        if wishes and (not days.has_start(preferred) or days.has_start(cleared)):
            reason += f" {wishes}"
        if not days.has_start(cleared) or days.has_start(preferred):
            pool = preferred if days.has_start(preferred) else free
            hit = [
                item
                for item, pair in zip(
                    self.request.important_dates, self.forbidden_by_date, strict=True
                )
                if days.has_start(intersect_pairs(pool, [pair]))
            ]
            if hit:
                names = _join([_date_text(item) for item in dict.fromkeys(hit)], "and")
                windows = (
                    "preparation and recovery windows"
                    if any(self.request.precare_for(item.kind) for item in hit)
                    else "recovery window"
                )
                reason += f" that keeps the {windows} clear of {names}"
            near = [
                day
                for day, pair in zip(self.request.apart_from, self.apart_pairs, strict=True)
                if days.has_start(intersect_pairs(pool, [pair]))
            ]
            if near:
                names = _join([_day_text(day, year=True) for day in near], "and")
                reason += (
                    f"{' and' if hit else ''} at least {self.request.apart_days} days from "
                    f"the session on {names}"
                )
        return CourseProblem(session, reason + ".")

    def _preferences_text(self) -> str:
        request = self.request
        parts = []
        if request.preferred_weekdays is not None:
            names = [f"{_WEEKDAYS[d]}s" for d in sorted(request.preferred_weekdays)]
            parts.append(f"on {_join(names, 'or')}")
        if request.preferred_times is not None:
            windows = [f"{a:%H:%M}-{b:%H:%M}" for a, b in request.preferred_times]
            parts.append(f"within the preferred hours ({_join(windows, 'or')})")
        return " ".join(parts)


def _valid_of(person: _Person) -> list[_Pair]:
    return person.calendar.valid if person.calendar is not None else [(-_INF, _INF)]


# --- words --------------------------------------------------------------------------------


def _day_text(day: date, *, year: bool = False) -> str:
    text = f"{day.day} {_MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if year else text


def _range_text(first: date, last: date, this_year: int) -> str:
    year = first.year != this_year or last.year != this_year
    if first == last:
        return f"on {_day_text(first, year=year)}"
    if (first.year, first.month) == (last.year, last.month):
        return f"between {first.day} and {_day_text(last, year=year)}"
    both = year and first.year != last.year
    return f"between {_day_text(first, year=both)} and {_day_text(last, year=year)}"


def _date_text(item: ImportantDate) -> str:
    if item.start_on == item.end_on:
        return f"'{item.name}' on {_day_text(item.start_on)}"
    if (item.start_on.year, item.start_on.month) == (item.end_on.year, item.end_on.month):
        return f"'{item.name}' from {item.start_on.day} to {_day_text(item.end_on)}"
    return f"'{item.name}' from {_day_text(item.start_on)} to {_day_text(item.end_on)}"


def _join(words: list[str], conjunction: str) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + f" {conjunction} " + words[-1]


def _describe(span: timedelta) -> str:
    """2 hours, 1 day and 30 minutes: how a receptionist would say a duration."""
    minutes = span // timedelta(minutes=1)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [
        f"{count} {unit}{'' if count == 1 else 's'}"
        for count, unit in ((days, "day"), (hours, "hour"), (minutes, "minute"))
        if count
    ]
    return _join(parts, "and") if parts else "no"
