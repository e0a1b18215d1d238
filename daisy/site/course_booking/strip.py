"""The calendar strip of a proposed course: one small month calendar per month, drawn on the
server as inline SVG (no JavaScript; the CSP allows no inline style, so colours are SVG
presentation attributes), with session days, recovery windows and important dates marked."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.utils.dateformat import format as date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from daisy.site.course_booking.forms import WEEKDAYS


@dataclass(frozen=True)
class ShownDate:
    """An important date as the pages show it."""

    kind: str
    kind_name: str
    label: str
    start_on: date
    end_on: date
    stored: bool  # kept in the client's account (otherwise in this session until booking)
    index: int | None = None  # position in the session's list, for removing it

    @property
    def name(self) -> str:
        return self.label or self.kind_name


@dataclass(frozen=True)
class ShownSession:
    number: int
    starts_at: datetime
    ends_at: datetime
    specialist_name: str
    recovery_until: datetime


# Colours of the calendar strip: the stylesheet's tokens (daisy.css), as SVG presentation
# attributes because the CSP allows no inline style. Every text colour meets WCAG AA on its fill.
_INK, _MUTED, _ACCENT, _ACCENT_SOFT = "#1f2a2e", "#4a5a60", "#2f6b5e", "#e3efeb"
_WARN, _WARN_SOFT, _ERROR, _ERROR_SOFT = "#7a4b00", "#fdf3e1", "#a3261b", "#fbeceb"
_CELL_W, _CELL_H, _HEAD = 36, 30, 22


def _local_days(start: datetime, end: datetime, tz: Any) -> list[date]:
    """The local days that [start, end) touches."""
    first = start.astimezone(tz).date()
    last_moment = (end - timedelta(microseconds=1)).astimezone(tz)
    return [first + timedelta(days=i) for i in range((last_moment.date() - first).days + 1)]


@dataclass(frozen=True)
class Month:
    ident: str
    title: str
    svg: SafeString


def calendar_strip(
    *,
    sessions: Sequence[ShownSession],
    dates: Sequence[ShownDate],
    tz: Any,
    ident: str,
) -> list[Month]:
    """One small month calendar per month the course spans: session days filled, the
    recovery window after each shaded, the client's important dates outlined (in red where a
    session or its recovery window would cover one). Each month says what it shows in its
    title and description, so a screen reader hears what the eye sees."""
    if not sessions:
        return []
    session_day: dict[date, int] = {}
    recovering: dict[date, int] = {}
    last_day: dict[int, date] = {}
    for s in sessions:
        days = _local_days(s.starts_at, s.recovery_until, tz)
        session_day[days[0]] = s.number
        last_day[s.number] = days[-1]
        for d in days[1:]:
            recovering.setdefault(d, s.number)
    special: dict[date, ShownDate] = {}
    for item in dates:
        day = item.start_on
        while day <= item.end_on:
            special.setdefault(day, item)
            day += timedelta(days=1)
    first, last = min(session_day), max([*session_day, *recovering])
    months: list[Month] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        marks = _Marks(session_day, recovering, last_day, special)
        months.append(_month(year, month, marks, f"{ident}-{len(months) + 1}"))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


@dataclass(frozen=True)
class _Marks:
    session_day: dict[date, int]
    recovering: dict[date, int]
    last_day: dict[int, date]
    special: dict[date, ShownDate]


def _said(day: date) -> str:
    return date_format(day, "l j F")


def _month(year: int, month: int, marks: _Marks, ident: str) -> Month:
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    width, height = 7 * _CELL_W, _HEAD + len(weeks) * _CELL_H
    title = date_format(date(year, month, 1), "F Y")
    said: list[tuple[date, int, str]] = []
    parts = [
        f'<text x="{i * _CELL_W + _CELL_W // 2}" y="15" text-anchor="middle" font-size="11" '
        f'fill="{_MUTED}">{escape(str(label)[:2])}</text>'
        for i, (_n, label) in enumerate(WEEKDAYS)
    ]
    for row, week in enumerate(weeks):
        for col, day in enumerate(week):
            if day.month != month:
                continue
            x, y = col * _CELL_W + 2, _HEAD + row * _CELL_H + 2
            w, h = _CELL_W - 4, _CELL_H - 4
            item = marks.special.get(day)
            number = marks.session_day.get(day)
            healing = marks.recovering.get(day)
            fill, stroke, ink, weight = "none", "none", _MUTED, "400"
            if number is not None:
                fill, ink, weight = _ACCENT, "#ffffff", "700"
                said.append(
                    (
                        day,
                        0,
                        _("session %(n)s on %(day)s, recovering until %(until)s")
                        % {"n": number, "day": _said(day), "until": _said(marks.last_day[number])},
                    )
                )
            elif healing is not None:
                fill, ink = _ACCENT_SOFT, _INK
                if day.day == 1:
                    said.append(
                        (
                            day,
                            0,
                            _("recovering from session %(n)s until %(until)s")
                            % {"n": healing, "until": _said(marks.last_day[healing])},
                        )
                    )
            if item is not None:
                clash = number is not None or healing is not None
                stroke, weight = (_ERROR if clash else _WARN), "700"
                if number is None:
                    fill, ink = (_ERROR_SOFT, _ERROR) if clash else (_WARN_SOFT, _WARN)
                if day == item.start_on or day.day == 1:
                    text = (
                        _("%(name)s on %(day)s")
                        if item.start_on == item.end_on
                        else _("%(name)s until %(day)s")
                    )
                    shown_day = item.start_on if item.start_on == item.end_on else item.end_on
                    said.append((day, 1, text % {"name": item.name, "day": _said(shown_day)}))
            parts.append(
                f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="4" fill="{fill}" '
                f'stroke="{stroke}" stroke-width="2"/>'
                f'<text x="{x + w // 2}" y="{y + h // 2 + 4}" text-anchor="middle" '
                f'font-size="12" font-weight="{weight}" fill="{ink}">{day.day}</text>'
            )
    description = (
        "; ".join(text for _d, _o, text in sorted(said))
        if said
        else _("Nothing planned this month.")
    )
    svg = (
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="{ident}-t {ident}-d" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{ident}-t">{escape(title)}</title>'
        f'<desc id="{ident}-d">{escape(description)}</desc>' + "".join(parts) + "</svg>"
    )
    return Month(ident, title, mark_safe(svg))  # noqa: S308 - every text part is escaped above
