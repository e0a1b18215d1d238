from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from daisy.core.retention import keep_until, may_delete


def test_keep_until_counts_whole_years_from_the_last_treatment() -> None:
    assert keep_until(date(2030, 6, 15), 8) == date(2038, 6, 15)
    assert keep_until(date(2028, 2, 29), 1) == date(2029, 3, 1)
    assert keep_until(date(2028, 2, 29), 4) == date(2032, 2, 29)
    assert keep_until(None, 8) is None


def test_a_legal_hold_stops_deletion() -> None:
    assert may_delete(date(2030, 1, 1), today=date(2030, 1, 1), on_hold=False)
    assert not may_delete(date(2030, 1, 1), today=date(2030, 1, 1), on_hold=True)
    assert not may_delete(date(2030, 1, 2), today=date(2030, 1, 1), on_hold=False)
    assert not may_delete(None, today=date(2030, 1, 1), on_hold=False)


@given(st.dates(max_value=date(9000, 1, 1)), st.integers(min_value=0, max_value=50))
def test_never_before_the_period_ends(last: date, years: int) -> None:
    until = keep_until(last, years)
    assert until is not None and until >= last
    assert (until.year - last.year) == years
