"""Quiet hours: no reminder should buzz a phone at 3 a.m. local time.

`quiet_hours_shift` moves a send time that falls inside the location's quiet hours to the end of
them, in the location's own wall-clock time (DST-correct); a time outside them is returned
unchanged. Pure: no clock, no settings, standard library only (DESIGN.md 1.2)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo


def is_quiet(local: time, start: time, end: time) -> bool:
    """Is this wall-clock time inside the quiet hours [start, end)? The window may wrap past
    midnight (21:00-08:00); start == end means no quiet hours at all."""
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_hours_shift(
    send_after: datetime,
    tz: tzinfo,
    start: time = time(21),
    end: time = time(8),
) -> datetime:
    """The first moment at or after `send_after` that is outside the quiet hours [start, end)
    in `tz`. Returned in send_after's own time zone.

    The end of the quiet hours is a wall-clock time on the local calendar: "08:00" is 08:00 in
    winter and in summer. When that wall-clock time does not exist (it falls into a DST gap), the
    first instant after the gap is used; when it occurs twice, the first."""
    if send_after.tzinfo is None or send_after.utcoffset() is None:
        raise ValueError("send_after must be an aware datetime")
    local = send_after.astimezone(tz)
    wall = local.time().replace(tzinfo=None, fold=0)
    start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    if not is_quiet(wall, start, end):
        return send_after
    day = local.date()
    if start > end and wall >= start:
        day += timedelta(days=1)  # the evening part of a window that wraps past midnight
    resume = datetime.combine(day, end, tzinfo=tz)  # fold=0: the first of a repeated time
    # A wall time in a spring-forward gap does not exist; the round trip through UTC maps it to
    # the instant after the gap.
    resume_utc = resume.astimezone(UTC)
    if resume_utc.astimezone(tz).replace(tzinfo=None) != resume.replace(tzinfo=None):
        resume_utc = _end_of_gap(resume_utc, tz)
    return max(resume_utc, send_after.astimezone(UTC)).astimezone(send_after.tzinfo)


def _end_of_gap(moment: datetime, tz: tzinfo) -> datetime:
    """The instant the clocks jumped at, for a wall time that fell into the gap: step back to
    the transition (offsets differ on either side of it)."""
    after = moment.astimezone(tz).utcoffset()
    step = timedelta(hours=3)
    low, high = moment - step, moment
    # Binary search to the minute for the transition between low (old offset) and high.
    while high - low > timedelta(minutes=1):
        mid = low + (high - low) / 2
        if mid.astimezone(tz).utcoffset() == after:
            high = mid
        else:
            low = mid
    return high.replace(second=0, microsecond=0)
