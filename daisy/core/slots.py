"""Phased appointment templates -> bookable slots, and the check that guards every booking.

A treatment is a `Template` of phases. An appointment fills each *role* the template uses
("specialist", "room", "device") with one resource for the whole appointment, and each phase
occupies only the roles it names: while a client is numbing, the room is taken but the
specialist is free to needle someone else.

How a search works, and why it is fast
--------------------------------------
Everything runs on integer epoch seconds; datetimes are made only for the output, and a
slot's phases only when someone reads `Slot.phases`.

1. Per candidate resource: free = open - busy, one sorted sweep.
2. A phase at offset `o` lasting `d` fits a start `s` on that resource iff [s+o, s+o+d) lies
   inside one free interval [a, b), i.e. iff a-o <= s <= b-o-d. So each free interval, shifted,
   is a set of good starts; intersecting those sets over the phases that use the resource's
   role gives, once, every start the resource can take ("valid starts").
3. Starts are walked on a grid aligned to the local clock. For each start, each role takes the
   first resource, in tie-break order, whose valid starts contain it: one bisect per try.

Cost is linear in the busy intervals and the grid, never their product.

Resolution is one second. Open time is rounded inwards and busy time outwards to whole
seconds, so rounding can only hide a slot, never invent one.

Resources are identified by `resource_id` across roles: one id is one physical resource, and
it never fills two roles of one appointment. Ids must therefore be unique across resource
kinds ("room:3", not "3"); the same id under two roles with different calendars is refused.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from itertools import accumulate
from zoneinfo import ZoneInfo

from daisy.core.calendars import resolve_local_all, to_utc
from daisy.core.intervals import Interval, intersect_pairs, merge_pairs, subtract_pairs

__all__ = [
    "Candidate",
    "PhaseSlot",
    "PhaseTemplate",
    "Rules",
    "Slot",
    "SlotProblem",
    "Template",
    "check_slot",
    "find_slots",
]

_SECOND = timedelta(seconds=1)
_DAY_SECONDS = 86_400
_MAX_WINDOW = timedelta(days=366)
_MIDNIGHT = time(0)

_Pair = tuple[int, int]


@dataclass(frozen=True)
class PhaseTemplate:
    name: str
    duration: timedelta
    roles: frozenset[str]
    is_buffer: bool = False

    def __post_init__(self) -> None:
        # Accept any iterable of role names but keep the template hashable.
        object.__setattr__(self, "roles", frozenset(self.roles))
        if self.duration <= timedelta(0):
            raise ValueError(f"phase {self.name!r} must last a positive time")
        if self.duration % _SECOND:
            raise ValueError(f"phase {self.name!r} must last a whole number of seconds")
        if not self.roles:
            raise ValueError(f"phase {self.name!r} must use at least one role")


@dataclass(frozen=True)
class Template:
    phases: tuple[PhaseTemplate, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "phases", tuple(self.phases))
        if not self.phases:
            raise ValueError("a template needs at least one phase")
        if self.phases[0].is_buffer:
            raise ValueError("a template needs a client phase before any buffer")
        seen_buffer = False
        for phase in self.phases:
            if phase.is_buffer:
                seen_buffer = True
            elif seen_buffer:
                raise ValueError(f"buffers come last, but {phase.name!r} follows one")

    @property
    def client_duration(self) -> timedelta:
        return sum((p.duration for p in self.phases if not p.is_buffer), timedelta())

    @property
    def total_duration(self) -> timedelta:
        return sum((p.duration for p in self.phases), timedelta())

    @property
    def roles(self) -> frozenset[str]:
        return frozenset().union(*(p.roles for p in self.phases))


@dataclass(frozen=True)
class Candidate:
    """One eligible resource for one role, with its open and busy time in aware UTC.

    `open` is already net of closures and time off; `busy` already includes buffers. Only
    intervals near the searched window matter, so pass just those.
    """

    resource_id: str
    role: str
    open: Sequence[Interval[datetime]]
    busy: Sequence[Interval[datetime]]
    # Busy time as (start, end) epoch seconds, any order, overlaps allowed: what a database
    # can hand over without building a datetime per row (the availability hot path).
    busy_seconds: Sequence[tuple[int, int]] = ()


@dataclass(frozen=True)
class Rules:
    min_notice: timedelta
    max_advance: timedelta
    step_minutes: int = 15

    def __post_init__(self) -> None:
        if self.min_notice < timedelta(0) or self.max_advance < timedelta(0):
            raise ValueError("min_notice and max_advance cannot be negative")
        if not 1 <= self.step_minutes <= 24 * 60:
            raise ValueError("step_minutes must be between 1 and 1440")


@dataclass(frozen=True)
class PhaseSlot:
    name: str
    start: datetime
    end: datetime
    is_buffer: bool
    resources: Mapping[str, str] = field(hash=False)


@dataclass(frozen=True)
class Slot:
    """One bookable appointment: `end` closes the client's time, `busy_until` the buffers."""

    start: datetime
    end: datetime
    busy_until: datetime
    resources: Mapping[str, str] = field(hash=False)
    template: Template = field(repr=False)

    # Derived on first use: a 90-day listing holds thousands of slots that are never booked,
    # and building their phases up front was a third of the search time.
    @cached_property
    def phases(self) -> tuple[PhaseSlot, ...]:
        out = []
        begins = self.start
        for phase in self.template.phases:
            ends = begins + phase.duration
            roles = sorted(phase.roles)
            out.append(
                PhaseSlot(
                    phase.name,
                    begins,
                    ends,
                    phase.is_buffer,
                    {role: self.resources[role] for role in roles},
                )
            )
            begins = ends
        return tuple(out)


class SlotProblem(Exception):
    """Why a time cannot be booked, in words a receptionist can act on.

    `role` names the role at fault, when there is one.
    """

    def __init__(self, code: str, message: str, *, role: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.role = role

    def __repr__(self) -> str:
        return f"SlotProblem({self.code!r}, {self.message!r})"


# --- the template, in seconds ------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    template: Template
    roles: tuple[str, ...]
    needs: Mapping[str, tuple[_Pair, ...]]


def _plan(template: Template) -> _Plan:
    """Roles in order of first use, and for each the (offset, duration) seconds it is held."""
    roles: list[str] = []
    needs: dict[str, list[_Pair]] = {}
    offset = 0
    for phase in template.phases:
        seconds = phase.duration // _SECOND
        for role in sorted(phase.roles):
            if role not in needs:
                roles.append(role)
                needs[role] = []
            spans = needs[role]
            # Back-to-back phases on one role fit iff their union fits (free time is
            # normalized), so one shifted set covers both.
            if spans and spans[-1][0] + spans[-1][1] == offset:
                spans[-1] = (spans[-1][0], spans[-1][1] + seconds)
            else:
                spans.append((offset, seconds))
        offset += seconds
    return _Plan(
        template=template,
        roles=tuple(roles),
        needs={role: tuple(spans) for role, spans in needs.items()},
    )


# --- candidates, in seconds ---------------------------------------------------------------


class _Resource:
    __slots__ = (
        "resource_id",
        "role",
        "needs",
        "opens",
        "busy_starts",
        "busy_sums",
        "starts",
        "ends",
    )

    def __init__(self, candidate: Candidate, needs: tuple[_Pair, ...]) -> None:
        self.resource_id = candidate.resource_id
        self.role = candidate.role
        self.needs = needs
        floor, ceil = math.floor, math.ceil
        # Rounded so that only whole seconds certainly open and certainly not busy count as
        # free. A naive datetime would silently read as the server's local time, so the
        # conversion skips it and the count gives it away (Interval never mixes the two).
        opens = [
            (ceil(i.start.timestamp()), floor(i.end.timestamp()))
            for i in candidate.open
            if i.start.tzinfo is not None
        ]
        busy = [
            (floor(i.start.timestamp()), ceil(i.end.timestamp()))
            for i in candidate.busy
            if i.start.tzinfo is not None
        ]
        if len(opens) != len(candidate.open) or len(busy) != len(candidate.busy):
            raise SlotProblem(
                "naive_datetime",
                f"The calendar of {candidate.resource_id} has times without a time zone.",
            )
        self.opens = merge_pairs(opens)
        if candidate.busy_seconds:
            busy.extend(candidate.busy_seconds)
        busy = merge_pairs(busy)
        self.busy_starts = [pair[0] for pair in busy]
        self.busy_sums = list(accumulate((end - start for start, end in busy), initial=0))
        self.starts, self.ends = _valid_starts(subtract_pairs(self.opens, busy), needs)

    def busy_before(self, instant: int) -> int:
        """Seconds of busy time before `instant`."""
        count = bisect_right(self.busy_starts, instant)
        if not count:
            return 0
        total = self.busy_sums[count]
        last_start = self.busy_starts[count - 1]
        last_end = last_start + total - self.busy_sums[count - 1]
        return total - last_end + instant if instant < last_end else total

    def takes(self, lo: int, hi: int) -> bool:
        """Whether every start in [lo, hi] is a valid start."""
        index = bisect_right(self.starts, lo) - 1
        return index >= 0 and hi < self.ends[index]

    def open_starts(self) -> list[_Pair]:
        """Valid starts as if nothing were booked."""
        starts, ends = _valid_starts(self.opens, self.needs)
        return list(zip(starts, ends, strict=True))


def _valid_starts(free: list[_Pair], needs: tuple[_Pair, ...]) -> tuple[list[int], list[int]]:
    valid: list[_Pair] | None = None
    for offset, duration in needs:
        # Half-open in whole seconds: s is good iff a - o <= s <= b - o - d.
        last = offset + duration - 1
        shifted = [(a - offset, b - last) for a, b in free if b - a >= duration]
        valid = shifted if valid is None else intersect_pairs(valid, shifted)
    pairs = valid or []
    return [pair[0] for pair in pairs], [pair[1] for pair in pairs]


def _pairs(items: Iterable[Interval[datetime]]) -> list[tuple[datetime, datetime]]:
    return merge_pairs([(item.start, item.end) for item in items])


class _Pool:
    """The candidates of every role, converted once, in role check order."""

    def __init__(self, plan: _Plan, candidates: Sequence[Candidate]) -> None:
        by_role: dict[str, list[_Resource]] = {role: [] for role in plan.roles}
        seen: set[tuple[str, str]] = set()
        owners: dict[str, Candidate] = {}
        self.is_shared = False
        for candidate in candidates:
            if candidate.role not in by_role:
                continue
            key = (candidate.role, candidate.resource_id)
            if key in seen:
                raise ValueError(f"{candidate.resource_id!r} is listed twice as {candidate.role!r}")
            seen.add(key)
            owner = owners.setdefault(candidate.resource_id, candidate)
            if owner is not candidate:
                if _pairs(owner.open) != _pairs(candidate.open) or (
                    _pairs(owner.busy) != _pairs(candidate.busy)
                ):
                    raise ValueError(
                        f"resource id {candidate.resource_id!r} names two resources (as "
                        f"{owner.role!r} and {candidate.role!r}); make ids unique across kinds"
                    )
                self.is_shared = True
            by_role[candidate.role].append(_Resource(candidate, plan.needs[candidate.role]))
        for role in plan.roles:
            if not by_role[role]:
                raise SlotProblem(
                    "no_candidates", f"No {_words(role)} can provide this treatment.", role=role
                )
        # Roles with fewest candidates are tried first so a hopeless start fails fast; each
        # role's pick does not depend on the order unless ids are shared, and then the order
        # is still fixed.
        self.roles = sorted(plan.roles, key=lambda role: (len(by_role[role]), role))
        self.groups = [by_role[role] for role in self.roles]

    def maybe_open(self) -> list[_Pair]:
        """Starts at which every role has a resource open: a cheap superset of all slots."""
        found: list[_Pair] | None = None
        for group in self.groups:
            pairs = merge_pairs(pair for resource in group for pair in resource.open_starts())
            found = pairs if found is None else intersect_pairs(found, pairs)
        return found or []

    def orders(self, bounds: list[int]) -> list[list[list[_Resource]]]:
        """For each local day between consecutive `bounds`, each role in tie-break order."""
        # Least booked that day first spreads work across people; the id settles ties.
        per_day: list[list[list[_Resource]]] = [[] for _ in bounds[1:]]
        for group in self.groups:
            keyed = []
            for resource in group:
                before = [resource.busy_before(instant) for instant in bounds]
                keyed.append((resource, before))
            for k, day in enumerate(per_day):
                ranked = sorted(
                    keyed, key=lambda item: (item[1][k + 1] - item[1][k], item[0].resource_id)
                )
                day.append([resource for resource, _ in ranked])
        return per_day


# --- local days ---------------------------------------------------------------------------


class _Days:
    """Local calendar days first..last in `tz`, as UTC second boundaries."""

    def __init__(self, tz: ZoneInfo, first: date, last: date) -> None:
        self.tz = tz
        count = (last - first).days + 1
        self.dates = [first + timedelta(days=k) for k in range(count + 1)]
        self.bounds = [int(to_utc(day, _MIDNIGHT, tz).timestamp()) for day in self.dates]

    @classmethod
    def around(cls, tz: ZoneInfo, lo: int, hi: int) -> _Days:
        # A day of margin each side keeps every instant in [lo, hi] inside the table even in
        # zones whose midnight is skipped or repeated.
        first = datetime.fromtimestamp(lo, tz).date() - timedelta(days=1)
        last = datetime.fromtimestamp(hi, tz).date() + timedelta(days=1)
        return cls(tz, first, last)

    def __len__(self) -> int:
        return len(self.bounds) - 1

    def index(self, instant: int) -> int:
        return bisect_right(self.bounds, instant) - 1

    def grid(self, k: int, step_minutes: int) -> Sequence[int]:
        """Instants on day k whose local clock reads a multiple of step_minutes past midnight."""
        start, end = self.bounds[k], self.bounds[k + 1]
        if end - start == _DAY_SECONDS:
            # A 24-hour day has one UTC offset throughout, so the grid is arithmetic.
            return range(start, end, step_minutes * 60)
        day = self.dates[k]
        found: set[int] = set()
        for minute in range(0, 24 * 60, step_minutes):
            wall = datetime.combine(day, time(minute // 60, minute % 60))
            for instant in resolve_local_all(wall, self.tz):
                found.add(int(instant.timestamp()))
        return sorted(found)


def _grid(days: _Days, step_minutes: int, within: list[_Pair]) -> list[int]:
    """The start grid inside the normalized `within`, ascending."""
    found: list[int] = []
    is_irregular = False
    spans = 0
    for k in range(len(days)):
        day_start, day_end = days.bounds[k], days.bounds[k + 1]
        while spans < len(within) and within[spans][1] <= day_start:
            spans += 1
        if spans == len(within):
            break
        if day_end <= within[spans][0]:
            continue
        grid = days.grid(k, step_minutes)
        is_irregular = is_irregular or not isinstance(grid, range)
        index = spans
        while index < len(within) and within[index][0] < day_end:
            lo, hi = within[index]
            found.extend(grid[bisect_left(grid, lo) : bisect_left(grid, hi)])
            index += 1
    # Where a zone repeats or skips midnight, a wall-clock day can reach past its bounds.
    return sorted(set(found)) if is_irregular else found


# --- choosing resources ---------------------------------------------------------------------


def _by_id(resource: _Resource) -> str:
    return resource.resource_id


def _assign(
    order: list[list[_Resource]],
    lo: int,
    hi: int,
    is_shared: bool,
    pinned: tuple[int, _Resource] | None = None,
) -> list[_Resource] | None:
    """The first resource per role, in tie-break order, that takes every start in [lo, hi]."""
    if is_shared:
        return _assign_distinct(order, lo, hi, pinned)
    chosen: list[_Resource] = []
    for k, group in enumerate(order):
        if pinned is not None and pinned[0] == k:
            chosen.append(pinned[1])
            continue
        for resource in group:
            index = bisect_right(resource.starts, lo) - 1
            if index >= 0 and hi < resource.ends[index]:
                chosen.append(resource)
                break
        else:
            return None
    return chosen


def _assign_distinct(
    order: list[list[_Resource]], lo: int, hi: int, pinned: tuple[int, _Resource] | None
) -> list[_Resource] | None:
    # Only reached when one resource can serve two roles; greedy could then miss an
    # assignment, so search depth-first in tie-break order (roles are few).
    groups = [
        [pinned[1]] if pinned is not None and pinned[0] == k else group
        for k, group in enumerate(order)
    ]
    chosen: list[_Resource] = []

    def fill(k: int) -> bool:
        if k == len(groups):
            return True
        for resource in groups[k]:
            if any(c.resource_id == resource.resource_id for c in chosen):
                continue
            if not resource.takes(lo, hi):
                continue
            chosen.append(resource)
            if fill(k + 1):
                return True
            chosen.pop()
        return False

    return chosen if fill(0) else None


# --- output -------------------------------------------------------------------------------


class _Builder:
    def __init__(self, plan: _Plan, pool: _Pool) -> None:
        self.template = plan.template
        self.client = plan.template.client_duration
        self.total = plan.template.total_duration
        # Resources are listed in the template's order, not the order roles were tried in.
        self.listing = [pool.roles.index(role) for role in plan.roles]
        # One mapping per combination of resources, shared by every slot that uses it
        # (Slot.resources is a read-only Mapping): a long answer repeats a few combinations
        # thousands of times, and one object per slot instead of two halves what the garbage
        # collector must walk.
        self.combinations: dict[tuple[str, ...], Mapping[str, str]] = {}

    def build(self, start: datetime, chosen: list[_Resource]) -> Slot:
        key = tuple(chosen[k].resource_id for k in self.listing)
        resources = self.combinations.get(key)
        if resources is None:
            resources = self.combinations[key] = {
                chosen[k].role: chosen[k].resource_id for k in self.listing
            }
        return Slot(start, start + self.client, start + self.total, resources, self.template)


# --- public entry points ------------------------------------------------------------------


def _require_aware(**values: datetime) -> None:
    for name, value in values.items():
        if value.tzinfo is None or value.utcoffset() is None:
            raise SlotProblem(
                "naive_datetime", f"The {_words(name)} has no time zone, so it is ambiguous."
            )


def find_slots(
    *,
    template: Template,
    candidates: Sequence[Candidate],
    window_start: datetime,
    window_end: datetime,
    tz: ZoneInfo,
    now: datetime,
    rules: Rules,
    group_by: str | None = None,
) -> list[Slot]:
    """Every bookable start in [window_start, window_end) on the local start grid.

    One slot per start, resources chosen by the tie-break; with `group_by` naming a role, one
    slot per start and resource of that role that can take it, ordered by resource id.
    Raises SlotProblem for naive datetimes, a bad window, or a role without candidates; a
    window that notice or advance rules leave empty just yields no slots.
    """
    _require_aware(window_start=window_start, window_end=window_end, now=now)
    if window_end <= window_start:
        raise SlotProblem("invalid_window", "The end of the search must be after its start.")
    if window_end - window_start > _MAX_WINDOW:
        raise SlotProblem("invalid_window", "A search can cover at most 366 days.")
    plan = _plan(template)
    if group_by is not None and group_by not in plan.roles:
        raise ValueError(f"group_by {group_by!r} is not a role of this template")
    pool = _Pool(plan, candidates)

    lo = math.ceil(max(window_start, now + rules.min_notice).timestamp())
    latest = math.floor((now + rules.max_advance).timestamp())
    hi = min(math.ceil(window_end.timestamp()), latest + 1)
    if lo >= hi:
        return []
    days = _Days.around(tz, lo, hi - 1)
    builder = _Builder(plan, pool)
    group_index = None if group_by is None else pool.roles.index(group_by)
    is_shared = pool.is_shared
    slots: list[Slot] = []
    grid = _grid(days, rules.step_minutes, intersect_pairs(pool.maybe_open(), [(lo, hi)]))
    if not grid:
        return []
    orders = pool.orders(days.bounds)
    day_end = days.bounds[0]
    order = pool.groups
    by_id: list[_Resource] = []
    for start in grid:
        if start >= day_end:
            day = days.index(start)
            day_end = days.bounds[day + 1]
            order = orders[day]
            if group_index is not None:
                by_id = sorted(order[group_index], key=_by_id)
        if group_index is None:
            chosen = _assign(order, start, start, is_shared)
            if chosen is not None:
                slots.append(builder.build(datetime.fromtimestamp(start, UTC), chosen))
            continue
        start_at: datetime | None = None
        for resource in by_id:
            if not resource.takes(start, start):
                continue
            chosen = _assign(order, start, start, is_shared, (group_index, resource))
            if chosen is not None:
                start_at = start_at or datetime.fromtimestamp(start, UTC)
                slots.append(builder.build(start_at, chosen))
    return slots


def check_slot(
    *,
    template: Template,
    start: datetime,
    candidates: Sequence[Candidate],
    tz: ZoneInfo,
    now: datetime,
    rules: Rules,
) -> Slot:
    """The slot starting at `start` with tie-broken resources, or the reason there is none.

    Any start is allowed, on the grid or not. To pin a resource, pass only that candidate
    for its role. Agrees with find_slots: a slot it lists passes here with the same resources.
    """
    _require_aware(start=start, now=now)
    plan = _plan(template)
    pool = _Pool(plan, candidates)
    if start < now:
        raise SlotProblem("in_past", "That time has already passed.")
    if start < now + rules.min_notice:
        raise SlotProblem(
            "min_notice",
            f"Bookings must be made at least {_describe(rules.min_notice)} in advance.",
        )
    if start > now + rules.max_advance:
        raise SlotProblem(
            "max_advance",
            f"Bookings can be made at most {_describe(rules.max_advance)} ahead.",
        )
    # A start between two whole seconds fits iff both neighbouring seconds do, because free
    # time has whole-second bounds.
    stamp = start.timestamp()
    lo, hi = math.floor(stamp), math.ceil(stamp)
    days = _Days.around(tz, lo, hi)
    day = days.index(lo)
    order = pool.orders(days.bounds[day : day + 2])[0]
    chosen = _assign(order, lo, hi, pool.is_shared)
    if chosen is not None:
        return _Builder(plan, pool).build(start.astimezone(UTC), chosen)
    groups = dict(zip(pool.roles, pool.groups, strict=True))
    for role in plan.roles:
        if not any(_within(r.open_starts(), lo, hi) for r in groups[role]):
            raise SlotProblem(
                "outside_hours",
                f"That is outside opening hours: no {_words(role)} is available for the "
                "whole treatment then.",
                role=role,
            )
    for role in plan.roles:
        if not any(r.takes(lo, hi) for r in groups[role]):
            raise SlotProblem(
                "unavailable",
                f"Every suitable {_words(role)} is already booked at that time.",
                role=role,
            )
    raise SlotProblem(
        "unavailable", "The people, rooms and equipment needed are already booked then."
    )


def _within(pairs: list[_Pair], lo: int, hi: int) -> bool:
    index = bisect_right(pairs, (lo, math.inf)) - 1
    return index >= 0 and hi < pairs[index][1]


# --- words --------------------------------------------------------------------------------


def _words(name: str) -> str:
    return name.replace("_", " ")


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
    if not parts:
        return "0 minutes"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
