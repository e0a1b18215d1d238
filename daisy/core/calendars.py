"""Opening hours in local wall-clock time -> aware UTC intervals, correct across DST.

Clinics think in wall-clock time ("we open at 09:00"), in the IANA zone of the location. The
database and the slot finder think in UTC. Twice a year the two disagree, and this module
decides how, once, for the whole system.

DST policy
----------
**Opening hours and start grids (lenient, `to_utc`)** follow RFC 5545 section 3.3.5, because
that is how every calendar client (Google, Apple, Outlook) reads the local times in the .ics
files we send; if we resolved them differently, a client's calendar would disagree with our
booking by an hour on exactly the days people are already confused.

* A local time that does not exist (it falls in the spring-forward gap) is read with the UTC
  offset in force *before* the gap, which lands it as far after the gap as it was into it.
  Europe/London, Sunday 2026-03-29, clocks go 01:00 GMT -> 02:00 BST:
  01:30 is read as 01:30 GMT = 01:30 UTC, which the clock on the wall shows as 02:30 BST.
  America/New_York, Sunday 2026-03-08, clocks go 02:00 EST -> 03:00 EDT:
  02:30 is read as 02:30 EST = 07:30 UTC, shown as 03:30 EDT.
* A local time that happens twice (the autumn fold) is the *first* occurrence, i.e. still in
  summer time.
  Europe/London, Sunday 2026-10-25, 01:30 happens at 00:30 UTC (BST) and at 01:30 UTC (GMT):
  it is read as 00:30 UTC.
  America/New_York, Sunday 2026-11-01, 01:30 happens at 05:30 UTC (EDT) and 06:30 UTC (EST):
  it is read as 05:30 UTC.

Consequences, all of them real elapsed time: 09:00-17:00 is 8 hours on every day, DST or not,
because clocks change at night. New York 00:30-03:30 on 2026-03-08 is 2 hours;
00:00-03:00 on 2026-11-01 is 4 hours. An opening whose local start resolves to an instant at
or after its local end (New York 02:30-03:15 on 2026-03-08 would be 03:30-03:15 EDT) is empty
that day, not an error.

**Times a person types in (strict, `resolve_local_strict`)**: a booking for a time that does
not exist is refused with `NonexistentLocalTime`, so the receptionist picks again instead of
the client arriving an hour off. An ambiguous time is the first occurrence unless the caller
set `fold=1` (the "second 01:30" picker); with `reject_ambiguous=True` it raises
`AmbiguousLocalTime` so that a form can ask which one was meant.

Opening hours never cross local midnight (`DayHours` insists opens < closes); a late shift is
two `DayHours` on consecutive days.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

from daisy.core.intervals import Interval, merge_pairs

__all__ = [
    "AmbiguousLocalTime",
    "DayHours",
    "NonexistentLocalTime",
    "open_intervals",
    "resolve_local_all",
    "resolve_local_strict",
    "to_utc",
]


@dataclass(frozen=True)
class DayHours:
    opens: time
    closes: time

    def __post_init__(self) -> None:
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("opening hours are local wall-clock times: no tzinfo")
        if not self.opens < self.closes:
            raise ValueError(f"opening hours must open before they close: {self!r}")


class NonexistentLocalTime(ValueError):
    """The local time falls in a spring-forward gap: no clock in the zone ever shows it."""


class AmbiguousLocalTime(ValueError):
    """The local time happens twice (autumn fold) and the caller refused to guess."""


def to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The RFC 5545 reading of local `day` `at` in `tz`, as an aware UTC datetime."""
    if at.tzinfo is not None:
        raise ValueError("`at` is a local wall-clock time: no tzinfo")
    # fold=0 is exactly RFC 5545: PEP 495 gives a gap time the offset from before the
    # transition, and a repeated time its first occurrence.
    local = datetime.combine(day, at.replace(fold=0), tzinfo=tz)
    return local.astimezone(UTC)


def _round_trips(aware: datetime, naive: datetime, tz: ZoneInfo) -> bool:
    back = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    return back == naive


def resolve_local_strict(
    local: datetime, tz: ZoneInfo, *, reject_ambiguous: bool = False
) -> datetime:
    """A naive local datetime typed by a person -> aware UTC, refusing nonexistent times."""
    if local.tzinfo is not None:
        raise ValueError("resolve_local_strict takes a naive local datetime")
    first = local.replace(tzinfo=tz, fold=0)
    second = local.replace(tzinfo=tz, fold=1)
    if not _round_trips(first, local, tz):
        raise NonexistentLocalTime(
            f"{local:%Y-%m-%d %H:%M} does not exist in {tz.key}: the clocks skip it"
        )
    if first.utcoffset() != second.utcoffset():
        if reject_ambiguous:
            raise AmbiguousLocalTime(
                f"{local:%Y-%m-%d %H:%M} happens twice in {tz.key}: the clocks go back"
            )
        chosen = second if local.fold == 1 else first
        return chosen.astimezone(UTC)
    return first.astimezone(UTC)


def resolve_local_all(local: datetime, tz: ZoneInfo) -> list[datetime]:
    """Every instant, in UTC and in order, at which clocks in `tz` show the naive `local`.

    None in a gap, two in a fold, one otherwise.
    """
    if local.tzinfo is not None:
        raise ValueError("resolve_local_all takes a naive local datetime")
    found: list[datetime] = []
    for fold in (0, 1):
        aware = local.replace(tzinfo=tz, fold=fold)
        if _round_trips(aware, local, tz):
            instant = aware.astimezone(UTC)
            if instant not in found:
                found.append(instant)
    return sorted(found)


_NO_OVERRIDES: Mapping[date, Sequence[DayHours]] = MappingProxyType({})
_ONE_DAY = timedelta(days=1)


def open_intervals(
    *,
    tz: ZoneInfo,
    start_on: date,
    end_on: date,
    weekly: Mapping[int, Sequence[DayHours]],
    overrides: Mapping[date, Sequence[DayHours]] = _NO_OVERRIDES,
    closed_on: Collection[date] = (),
) -> list[Interval[datetime]]:
    """Open time of one resource for the local days start_on..end_on inclusive, in UTC.

    `weekly` is keyed by date.weekday() (0 = Monday); a missing weekday is closed. An override
    replaces that date's weekly hours (an empty sequence closes the day). A date in
    `closed_on` is closed whatever the rest says: time off wins over a special opening.
    """
    if end_on < start_on:
        raise ValueError(f"end_on {end_on} is before start_on {start_on}")
    bad_keys = [key for key in weekly if key not in range(7)]
    if bad_keys:
        raise ValueError(f"weekday keys run 0 (Monday) to 6 (Sunday), got {bad_keys}")
    closed = frozenset(closed_on)
    pairs: list[tuple[datetime, datetime]] = []
    day = start_on
    while day <= end_on:
        if day not in closed:
            hours = overrides.get(day)
            if hours is None:
                hours = weekly.get(day.weekday(), ())
            for item in hours:
                pairs.append((to_utc(day, item.opens, tz), to_utc(day, item.closes, tz)))
        day += _ONE_DAY
    # merge_pairs drops the openings that the gap rule turned empty or backwards.
    return [Interval(start, end) for start, end in merge_pairs(pairs)]
