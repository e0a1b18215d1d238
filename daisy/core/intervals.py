"""Half-open intervals [start, end) and their algebra.

The values may be anything totally ordered: aware datetimes in the application, plain ints in
the slot finder's hot path and in the property tests.

A list is *normalized* when it is sorted and no two of its intervals overlap or touch.
`union`, `intersect` and `subtract` take normalized lists and return one, in a single linear
sweep. The `*_pairs` functions are the same algebra on `(start, end)` tuples, for callers that
cannot afford one object per interval.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar


class Orderable(Protocol):
    def __lt__(self, other: Any, /) -> bool: ...

    def __le__(self, other: Any, /) -> bool: ...


T = TypeVar("T", bound=Orderable)

Pair = tuple[T, T]


# No slots=True: on Python 3.11 a slotted, frozen, generic dataclass cannot be built as
# `Interval[int](1, 2)` (typing's __orig_class__ assignment hits a TypeError).
@dataclass(frozen=True)
class Interval(Generic[T]):
    start: T
    end: T

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError(f"an interval must start before it ends: {self.start!r}, {self.end!r}")

    def overlaps(self, other: Interval[T]) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval[T]) -> bool:
        return self.start <= other.start and other.end <= self.end


def merge_pairs(pairs: Iterable[Pair[T]]) -> list[Pair[T]]:
    """Sort, drop empty pairs, and merge overlapping or touching ones."""
    items = iter(sorted(pairs))
    for current_start, current_end in items:
        if current_start < current_end:
            break
    else:
        return []
    out: list[Pair[T]] = []
    append = out.append
    for start, end in items:
        if start <= current_end:
            if current_end < end:
                current_end = end
        elif start < end:
            append((current_start, current_end))
            current_start, current_end = start, end
    append((current_start, current_end))
    return out


def union_pairs(a: Sequence[Pair[T]], b: Sequence[Pair[T]]) -> list[Pair[T]]:
    out: list[Pair[T]] = []
    i, j, na, nb = 0, 0, len(a), len(b)
    while i < na or j < nb:
        if j >= nb or (i < na and a[i][0] <= b[j][0]):
            start, end = a[i]
            i += 1
        else:
            start, end = b[j]
            j += 1
        if out and start <= out[-1][1]:
            if out[-1][1] < end:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def intersect_pairs(a: Sequence[Pair[T]], b: Sequence[Pair[T]]) -> list[Pair[T]]:
    out: list[Pair[T]] = []
    if not a or not b:
        return out
    append = out.append
    i, j, na, nb = 0, 0, len(a), len(b)
    a_start, a_end = a[0]
    b_start, b_end = b[0]
    while True:
        start = b_start if a_start < b_start else a_start
        end = a_end if a_end < b_end else b_end
        if start < end:
            append((start, end))
        # Whichever ends first cannot meet anything further along the other list.
        if a_end < b_end:
            i += 1
            if i == na:
                return out
            a_start, a_end = a[i]
        else:
            j += 1
            if j == nb:
                return out
            b_start, b_end = b[j]


def subtract_pairs(a: Sequence[Pair[T]], b: Sequence[Pair[T]]) -> list[Pair[T]]:
    """a minus b. `b` only needs sorting by start: overlapping pairs in it are fine."""
    out: list[Pair[T]] = []
    append = out.append
    j, nb = 0, len(b)
    for a_start, a_end in a:
        cursor = a_start
        while j < nb:
            b_start, b_end = b[j]
            if not b_start < a_end:
                break
            if cursor < b_end:
                if cursor < b_start:
                    append((cursor, b_start))
                cursor = b_end
                if not cursor < a_end:
                    # Keep b[j]: it may reach into the next interval of `a` too.
                    break
            j += 1
        if cursor < a_end:
            append((cursor, a_end))
    return out


def _to_pairs(items: Iterable[Interval[T]]) -> list[Pair[T]]:
    return [(item.start, item.end) for item in items]


def _to_intervals(pairs: Iterable[Pair[T]]) -> list[Interval[T]]:
    return [Interval(start, end) for start, end in pairs]


def normalize(items: Iterable[Interval[T]]) -> list[Interval[T]]:
    return _to_intervals(merge_pairs(_to_pairs(items)))


def union(a: Sequence[Interval[T]], b: Sequence[Interval[T]]) -> list[Interval[T]]:
    return _to_intervals(union_pairs(_to_pairs(a), _to_pairs(b)))


def intersect(a: Sequence[Interval[T]], b: Sequence[Interval[T]]) -> list[Interval[T]]:
    return _to_intervals(intersect_pairs(_to_pairs(a), _to_pairs(b)))


def subtract(a: Sequence[Interval[T]], b: Sequence[Interval[T]]) -> list[Interval[T]]:
    return _to_intervals(subtract_pairs(_to_pairs(a), _to_pairs(b)))


def _start_of(item: Interval[T]) -> T:
    return item.start


def covers(intervals: Sequence[Interval[T]], start: T, end: T) -> bool:
    """True iff [start, end) lies inside one interval of the normalized `intervals`."""
    if not start < end:
        raise ValueError(f"an interval must start before it ends: {start!r}, {end!r}")
    index = bisect_right(intervals, start, key=_start_of) - 1
    return index >= 0 and end <= intervals[index].end
