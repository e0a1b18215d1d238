"""Times as a client reads them: in the location's own zone, with the zone named
("Tue 3 Dec, 10:30 London time"), whatever zone the server or the browser is in (DESIGN.md 6)."""

from __future__ import annotations

import functools
import zoneinfo
from datetime import datetime
from typing import Any

from django import template
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.translation import gettext as _

register = template.Library()


def zone_of(place: Any) -> zoneinfo.ZoneInfo:
    """A location (anything with `time_zone`), a ZoneInfo, or an IANA name -> ZoneInfo."""
    if isinstance(place, zoneinfo.ZoneInfo):
        return place
    name = getattr(place, "time_zone", place)
    return zoneinfo.ZoneInfo(str(name))


def zone_label(place: Any) -> str:
    """ "Europe/London" -> "London", "America/New_York" -> "New York": the city people say."""
    return _zone_label(zone_of(place).key)


@functools.lru_cache(maxsize=64)
def _zone_label(key: str) -> str:
    return key.rsplit("/", 1)[-1].replace("_", " ")


# A booking page formats a hundred or more times: these spell exactly what Django's date
# filter spells for "D j M Y" and "H:i" (same translated names), without building a
# DateFormat for each.
def _day(when: datetime) -> str:
    """ "Tue 3 Dec 2030" (Django's "D j M Y")."""
    weekday, month = str(WEEKDAYS_ABBR[when.weekday()]), str(MONTHS_3[when.month]).title()
    return f"{weekday} {when.day} {month} {when.year}"


def _clock(when: datetime) -> str:
    """ "10:30" (Django's "H:i")."""
    return f"{when.hour:02d}:{when.minute:02d}"


def local(value: datetime, place: Any) -> datetime:
    if value.tzinfo is None:
        raise ValueError("local_time needs an aware datetime")
    return value.astimezone(zone_of(place))


@register.filter
def local_time(value: datetime | None, place: Any) -> str:
    """{{ appointment.starts_at|local_time:location }} -> "Tue 3 Dec 2030, 10:30 London time"."""
    if value is None:
        return ""
    when = local(value, place)
    return _("%(day)s, %(time)s %(zone)s time") % {
        "day": _day(when),
        "time": _clock(when),
        "zone": zone_label(place),
    }


@register.filter
def local_clock(value: datetime | None, place: Any) -> str:
    """Only the wall-clock time at the place: "10:30"."""
    return "" if value is None else _clock(local(value, place))


@register.filter
def local_day(value: datetime | None, place: Any) -> str:
    """Only the date at the place: "Tue 3 Dec 2030"."""
    return "" if value is None else _day(local(value, place))


@register.filter
def zone_name(place: Any) -> str:
    return zone_label(place)
