"""How long a clinical record is kept (DOMAIN.md 6.7): a number of whole years from the last
treatment. Plain dates in, a plain date out: no clock, no settings."""

from __future__ import annotations

from datetime import date


def keep_until(last_treatment_on: date | None, years: int) -> date | None:
    """The first day the record may be deleted: `years` after the last treatment, on the same
    calendar day (29 February counts to 1 March in years without one). None when there was no
    treatment."""
    if last_treatment_on is None:
        return None
    if years < 0:
        raise ValueError("years must not be negative")
    year = last_treatment_on.year + years
    try:
        return last_treatment_on.replace(year=year)
    except ValueError:  # 29 February, and the year has none
        return date(year, 3, 1)


def may_delete(keep_until_on: date | None, *, today: date, on_hold: bool) -> bool:
    """Whether the retention period is over and nothing holds the record (a legal hold)."""
    return not on_hold and keep_until_on is not None and keep_until_on <= today
