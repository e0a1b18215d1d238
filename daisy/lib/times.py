"""Reading a start time that a page offered back from a form: aware ISO 8601, within sane years,
on a whole minute. Anything else is a tampered or stale form, answered with a message, never an
overflow further down."""

from __future__ import annotations

from datetime import datetime

# Beyond these years a time is a typo or a probe, and datetime arithmetic around it overflows.
SANE_YEARS = (1900, 2200)


def is_sane_year(value: datetime) -> bool:
    return SANE_YEARS[0] <= value.year <= SANE_YEARS[1]


def parse_offered_start(raw: str | None) -> datetime | None:
    """The start a time picker offered, or None when `raw` is not one."""
    try:
        value = datetime.fromisoformat((raw or "").strip())
    except ValueError:
        return None
    if value.tzinfo is None or not is_sane_year(value):
        return None
    if value.second or value.microsecond:
        return None
    return value
