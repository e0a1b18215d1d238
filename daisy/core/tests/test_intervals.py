from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daisy.core.intervals import (
    Interval,
    covers,
    intersect,
    merge_pairs,
    normalize,
    subtract,
    subtract_pairs,
    union,
)

HORIZON = 60


def points(items: list[Interval[int]]) -> set[int]:
    return {p for item in items for p in range(item.start, item.end)}


def is_normalized(items: list[Interval[int]]) -> bool:
    return all(a.end < b.start for a, b in zip(items, items[1:], strict=False))


raw_intervals = st.lists(
    st.tuples(st.integers(0, HORIZON - 1), st.integers(1, 12)).map(
        lambda p: Interval(p[0], min(p[0] + p[1], HORIZON))
    ),
    max_size=8,
)
normalized = raw_intervals.map(normalize)


def test_refuses_empty_or_backwards_interval() -> None:
    with pytest.raises(ValueError):
        Interval(3, 3)
    with pytest.raises(ValueError):
        Interval(4, 3)


def test_can_be_built_with_an_explicit_type_parameter() -> None:
    assert Interval[int](1, 2) == Interval(1, 2)


def test_touching_intervals_do_not_overlap_but_are_merged() -> None:
    a, b = Interval(0, 5), Interval(5, 9)
    assert not a.overlaps(b)
    assert a.overlaps(Interval(4, 6))
    assert normalize([b, a]) == [Interval(0, 9)]


def test_contains_is_inclusive_of_shared_ends() -> None:
    outer = Interval(0, 10)
    assert outer.contains(Interval(0, 10))
    assert outer.contains(Interval(2, 3))
    assert not outer.contains(Interval(5, 11))


def test_works_on_aware_datetimes() -> None:
    at = datetime(2026, 5, 4, 9, tzinfo=UTC)
    hour = timedelta(hours=1)
    day = [Interval(at, at + 8 * hour)]
    lunch = [Interval(at + 3 * hour, at + 4 * hour)]
    assert subtract(day, lunch) == [
        Interval(at, at + 3 * hour),
        Interval(at + 4 * hour, at + 8 * hour),
    ]
    assert covers(day, at + hour, at + 2 * hour)
    assert not covers(subtract(day, lunch), at + 2 * hour, at + 5 * hour)


def test_covers_refuses_an_empty_query() -> None:
    with pytest.raises(ValueError):
        covers([Interval(0, 5)], 3, 3)


def test_merge_pairs_drops_empty_pairs() -> None:
    assert merge_pairs([(5, 5), (7, 3), (1, 2)]) == [(1, 2)]
    assert merge_pairs([(5, 5)]) == []


def test_subtract_pairs_accepts_overlapping_subtrahend() -> None:
    assert subtract_pairs([(0, 20)], [(0, 10), (2, 5), (12, 14), (13, 30)]) == [(10, 12)]


@given(raw_intervals)
def test_normalize_keeps_points_and_is_idempotent(items: list[Interval[int]]) -> None:
    once = normalize(items)
    assert points(once) == points(items)
    assert is_normalized(once)
    assert normalize(once) == once


@given(normalized, normalized)
def test_union_is_the_point_union(a: list[Interval[int]], b: list[Interval[int]]) -> None:
    result = union(a, b)
    assert is_normalized(result)
    assert points(result) == points(a) | points(b)
    assert result == normalize(a + b)


@given(normalized, normalized)
def test_intersect_is_the_point_intersection(
    a: list[Interval[int]], b: list[Interval[int]]
) -> None:
    result = intersect(a, b)
    assert is_normalized(result)
    assert points(result) == points(a) & points(b)


@given(normalized, normalized)
def test_subtract_is_the_point_difference(a: list[Interval[int]], b: list[Interval[int]]) -> None:
    result = subtract(a, b)
    assert is_normalized(result)
    assert points(result) == points(a) - points(b)


@given(normalized, normalized, normalized)
def test_union_and_intersect_are_commutative_and_associative(
    a: list[Interval[int]], b: list[Interval[int]], c: list[Interval[int]]
) -> None:
    assert union(a, b) == union(b, a)
    assert intersect(a, b) == intersect(b, a)
    assert union(union(a, b), c) == union(a, union(b, c))
    assert intersect(intersect(a, b), c) == intersect(a, intersect(b, c))


@given(normalized, normalized)
def test_subtract_splits_a_into_disjoint_parts(
    a: list[Interval[int]], b: list[Interval[int]]
) -> None:
    outside = subtract(a, b)
    assert intersect(outside, b) == []
    assert union(outside, intersect(a, b)) == normalize(a)


@given(normalized, normalized, normalized)
def test_intersect_distributes_over_union(
    a: list[Interval[int]], b: list[Interval[int]], c: list[Interval[int]]
) -> None:
    assert intersect(a, union(b, c)) == union(intersect(a, b), intersect(a, c))


@settings(max_examples=200)
@given(normalized, st.integers(-2, HORIZON + 2), st.integers(1, 20))
def test_covers_agrees_with_a_point_check(
    items: list[Interval[int]], start: int, length: int
) -> None:
    end = start + length
    inside = points(items)
    assert covers(items, start, end) == all(p in inside for p in range(start, end))
