"""Aftercare timelines: a treatment's pre-care and aftercare steps, anchored to one session and
read in the location's local time ("Makeup is fine again from Thursday 10 January, 10:30 GMT").

Pure: no clock (`now` is a parameter), no settings, standard library only (DESIGN.md 1.2).

**How an offset becomes a moment** (`shift_local`, used for steps, reminders and check-ins
alike). Whole days of an offset are counted on the local calendar, at the same wall-clock time;
what is left over is elapsed time. So "24 h before" a 10:00 session on the Sunday the clocks go
forward is Saturday 10:00 local (23 real hours before), and "+7 d" is next week at the session's
own clock time. That is what a client expects from "the day before" and "a week after",
and the hour it differs by is clinically immaterial for windows of days (DOMAIN.md 4.2). A wall
time that does not exist (inside a spring-forward gap) moves forward by the length of the gap; a
wall time that occurs twice (autumn) means the first of the two.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

StepKind = Literal["pre", "post"]
PRE: StepKind = "pre"
POST: StepKind = "post"
DAY = timedelta(days=1)
# English names, fixed: strftime's %A and %B follow the process locale, and these phrases must
# not change with the machine they are built on (translation happens at the edges).
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class ProtocolStep:
    """One pre-care or aftercare rule, relative to the start of the session.

    `offset_end` None means the step starts a lasting change ("normal routine from day 7").
    `title` reads as the start of a sentence: the timeline appends "from ... until ...".
    `source` cites the clinical basis ("DOMAIN.md 4.2 row Day 1"); `notify` asks for a message
    when the step begins."""

    offset_start: timedelta
    offset_end: timedelta | None
    kind: StepKind
    title: str
    detail: str = ""
    is_restriction: bool = False
    source: str = ""
    notify: bool = False
    # A stable name for the step (the clinic's row id), so a client can confirm that they
    # already follow it; empty for steps that are not stored.
    key: str = ""

    def __post_init__(self) -> None:
        if self.kind not in (PRE, POST):
            raise ValueError(f"kind must be 'pre' or 'post', not {self.kind!r}")
        if self.offset_end is not None and self.offset_end <= self.offset_start:
            raise ValueError(f"step {self.title!r} ends before it starts")
        if not self.title.strip():
            raise ValueError("a step needs a title")


@dataclass(frozen=True)
class TimelineStep:
    """A step dated for one session: local, aware start and end, and the sentence to show
    (`phrase`, as read at `seen_at`; `phrase_at` for another moment). Phrases are built only
    when asked for: a booking dates every step but words only a few of them."""

    step: ProtocolStep
    starts_at: datetime
    ends_at: datetime | None
    session: datetime  # the session's start, local
    name_zone: bool = False
    seen_at: datetime | None = None

    @property
    def phrase(self) -> str:
        return self.phrase_at(self.seen_at)

    def phrase_at(self, now: datetime | None) -> str:
        """The sentence as read at `now`: a step already under way starts "now", not on a date
        in the past. None: always the dates."""
        return _phrase(self, now)

    @property
    def kind(self) -> StepKind:
        return self.step.kind

    @property
    def title(self) -> str:
        return self.step.title

    @property
    def detail(self) -> str:
        return self.step.detail

    @property
    def is_restriction(self) -> bool:
        return self.step.is_restriction

    @property
    def source(self) -> str:
        return self.step.source

    @property
    def notify(self) -> bool:
        return self.step.notify

    def is_in_force(self, moment: datetime) -> bool:
        """Has the step started, and not yet ended, at `moment`?"""
        return self.starts_at <= moment and (self.ends_at is None or moment < self.ends_at)


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")


def at_wall_time(day: date, clock: time, tz: tzinfo) -> datetime:
    """The moment `clock` on `day` in `tz`, aware in `tz`. A time inside a DST gap moves forward
    by the gap's length; a repeated time is the first of the two (fold=0)."""
    naive = datetime.combine(day, clock.replace(tzinfo=None, fold=0))
    # fold=0 takes the offset from before a transition; the round trip through UTC then puts a
    # gap time after the gap, and leaves every real wall time as it is.
    return naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)


def shift_local(moment: datetime, offset: timedelta, tz: tzinfo) -> datetime:
    """`moment` moved by `offset`: whole days on the local calendar at the same wall-clock time,
    the rest as elapsed time (see the module docstring). Aware, in `tz`."""
    _require_aware("moment", moment)
    local = moment.astimezone(tz)
    sign = -1 if offset < timedelta(0) else 1
    days = sign * (abs(offset) // DAY)  # truncated toward zero: -90 min is 0 days, -90 min
    rest = offset - days * DAY
    moved = at_wall_time(local.date() + days * DAY, local.time(), tz) if days else local
    if rest:
        moved = (moved.astimezone(UTC) + rest).astimezone(tz)
    return moved


def describe(moment: datetime, *, session: datetime, name_zone: bool = True) -> str:
    """'Thursday 25 March, 09:00 GMT': always the date, never a bare weekday, which a reader
    takes as this week's whatever the session's date (issue 12: "pause aspirin from Thursday"
    read in early March for a late-March session). The year is added when it is not the
    session's ('Monday 30 December 2030, 10:00 GMT' before a January session). The zone's
    abbreviation is always named, so a reader never wonders which hour is meant, also across a
    clock change; `name_zone` is kept for callers and no longer changes anything."""
    del name_zone
    local = moment.astimezone(session.tzinfo)
    day = f"{WEEKDAYS[local.weekday()]} {local.day} {MONTHS[local.month - 1]}"
    if local.year != session.year:
        day += f" {local.year}"
    return f"{day}, {local:%H:%M} {local.tzname()}"


def describe_appointment(moment: datetime, tz: tzinfo, zone_name: str = "") -> str:
    """'Monday 7 January 2030, 10:00 GMT (Europe/London)': the appointment itself, always with
    the date and the zone named."""
    _require_aware("moment", moment)
    local = moment.astimezone(tz)
    day = f"{WEEKDAYS[local.weekday()]} {local.day} {MONTHS[local.month - 1]} {local.year}"
    text = f"{day}, {local:%H:%M} {local.tzname()}"
    return f"{text} ({zone_name})" if zone_name else text


def _phrase(item: TimelineStep, now: datetime | None) -> str:
    step, start, end = item.step, item.starts_at, item.ends_at

    def at(offset: timedelta, moment: datetime) -> str:
        if offset == timedelta(0):
            return "your appointment"
        return describe(moment, session=item.session, name_zone=item.name_zone)

    begun = now is not None and start <= now and (end is None or now < end)
    text = f"{step.title} from {'now' if begun else at(step.offset_start, start)}"
    if end is None or step.offset_end is None:
        return text
    return f"{text} until {at(step.offset_end, end)}"


def timeline(
    *,
    session_start: datetime,
    steps: Iterable[ProtocolStep],
    tz: tzinfo,
    name_zone: bool = False,
    now: datetime | None = None,
) -> list[TimelineStep]:
    """The steps dated for a session starting at `session_start`, in `tz`: earliest first; at the
    same moment pre-care first, then the step that ends soonest. With `now` (the moment the
    reader sees it), a step already under way reads "from now" instead of from a past date."""
    _require_aware("session_start", session_start)
    if now is not None:
        _require_aware("now", now)
    session = session_start.astimezone(tz)
    dated = []
    for step in steps:
        start = shift_local(session, step.offset_start, tz)
        end = None if step.offset_end is None else shift_local(session, step.offset_end, tz)
        dated.append(TimelineStep(step, start, end, session, name_zone, now))
    dated.sort(key=_order)
    return dated


def precare_too_soon(
    *,
    session_start: datetime,
    steps: Iterable[ProtocolStep],
    tz: tzinfo,
    now: datetime,
) -> list[TimelineStep]:
    """The pre-care steps that should already have begun at `now` for a session at
    `session_start`, so they can no longer be followed in full ("no sun from 2 weeks before"
    for a session tomorrow). Earliest-starting first; empty when the time leaves room for all."""
    _require_aware("now", now)
    return [
        item
        for item in timeline(session_start=session_start, steps=steps, tz=tz)
        if item.kind == PRE and item.step.offset_start < timedelta(0) and item.starts_at < now
    ]


def precare_ready_at(
    *,
    now: datetime,
    steps: Iterable[ProtocolStep],
    tz: tzinfo,
) -> datetime:
    """The earliest session start for which every pre-care step in `steps` can still be
    followed in full from `now` (each step begins at or after `now`): `now` itself when none
    asks for preparation. Counted like the steps themselves (whole local days)."""
    _require_aware("now", now)
    ready = now.astimezone(tz)
    for step in steps:
        if step.kind == PRE and step.offset_start < timedelta(0):
            moment = shift_local(now, -step.offset_start, tz)
            # A wall time moved by a DST gap can land a little early: walk it forward.
            while shift_local(moment, step.offset_start, tz) < now:
                moment += timedelta(minutes=1)
            ready = max(ready, moment)
    return ready


def _order(item: TimelineStep) -> tuple[datetime, bool, bool, datetime, str]:
    # Earliest first; pre-care first; then what ends soonest, then lasting changes.
    end = item.ends_at or item.starts_at
    return (item.starts_at, item.kind != PRE, item.ends_at is None, end, item.title)


def local_day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day, which lasts 23 or 25 hours on a DST change."""
    return at_wall_time(day, time(0), tz), at_wall_time(day + DAY, time(0), tz)


def today(
    *,
    session_start: datetime,
    steps: Iterable[ProtocolStep],
    tz: tzinfo,
    now: datetime,
) -> list[TimelineStep]:
    """Your aftercare today: the steps that apply on the local calendar day containing `now`.

    A step with an end applies on every day it overlaps ("no sauna until Thursday 10:30" is
    shown on Monday to Thursday). A step without an end is a change that happens once ("makeup
    is fine again from Tuesday 10:00"): it is shown on the day it starts."""
    _require_aware("now", now)
    day_start, day_end = local_day_bounds(now.astimezone(tz).date(), tz)
    out = []
    for item in timeline(session_start=session_start, steps=steps, tz=tz):
        if item.ends_at is None:
            applies = day_start <= item.starts_at < day_end
        else:
            applies = item.starts_at < day_end and item.ends_at > day_start
        if applies:
            out.append(item)
    return out
