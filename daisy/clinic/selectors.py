from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from daisy.clinic.models import Closure, DateOverride, Location, Specialist, Weekday, WeeklyHours
from daisy.core.calendars import DayHours, open_intervals
from daisy.lib.errors import NotFound

# How far ahead "when does the clinic open again" looks: past a fortnight's closure the answer
# is "not soon", and the client is sent elsewhere anyway.
OPENING_LOOKAHEAD_DAYS = 14


@dataclass(frozen=True)
class DayOpening:
    weekday: int
    label: str
    spans: list[tuple[time, time]]


@dataclass(frozen=True)
class LocationHours:
    location: Location
    days: list[DayOpening]


def location_list_with_hours() -> list[LocationHours]:
    """Active locations with their weekly opening hours, Monday first."""
    locations = Location.objects.filter(is_active=True).prefetch_related(
        Prefetch(
            "weekly_hours",
            queryset=WeeklyHours.objects.filter(resource__isnull=True).order_by(
                "weekday", "opens_at"
            ),
            to_attr="opening_hours",
        )
    )
    out = []
    for loc in locations:
        by_day: dict[int, list[tuple[time, time]]] = {d: [] for d in range(7)}
        for row in loc.opening_hours:  # type: ignore[attr-defined]
            by_day[row.weekday].append((row.opens_at, row.closes_at))
        days = [DayOpening(d, str(Weekday(d).label), by_day[d]) for d in range(7)]
        out.append(LocationHours(loc, days))
    return out


def specialist_list_public() -> QuerySet[Specialist]:
    """Active specialists with their active locations (ids), A-Z."""
    return Specialist.objects.filter(is_active=True).prefetch_related(
        Prefetch("locations", queryset=Location.objects.filter(is_active=True).order_by("name"))
    )


def specialist_get(specialist_id: Any) -> Specialist:
    specialist = Specialist.objects.filter(pk=specialist_id, is_active=True).first()
    if specialist is None:
        raise NotFound("That specialist does not exist.", fields={"specialist": "unknown"})
    return specialist


def specialist_get_public(slug: str) -> Specialist:
    """An active specialist's public profile by its address; NotFound for an unknown or
    inactive one, or for a specialist with no profile page (an empty slug)."""
    specialist = specialist_list_public().prefetch_related("skills").filter(slug=slug).first()
    if not slug or specialist is None:
        raise NotFound("That specialist is not on our team.", fields={"slug": "unknown"})
    return specialist


@dataclass(frozen=True)
class Opening:
    """Whether a location is open at one moment, and when it next opens (None: not within
    OPENING_LOOKAHEAD_DAYS). `closes_at`: when the current opening ends (open only)."""

    is_open: bool
    opens_at: datetime | None
    closes_at: datetime | None


def location_opening_at(location: Location, moment: datetime) -> Opening:
    """The location's own opening hours (not a resource's) at `moment`, with its date overrides
    and closures, read in its zone (core.calendars: DST-correct)."""
    tz = location.tz
    start_on: date = moment.astimezone(tz).date() - timedelta(days=1)
    end_on = start_on + timedelta(days=OPENING_LOOKAHEAD_DAYS + 1)
    weekly: dict[int, list[DayHours]] = {}
    for row in WeeklyHours.objects.filter(location=location, resource__isnull=True):
        weekly.setdefault(row.weekday, []).append(DayHours(row.opens_at, row.closes_at))
    overrides: dict[date, list[DayHours]] = {}
    for o in DateOverride.objects.filter(
        location=location, resource__isnull=True, on__range=(start_on, end_on)
    ):
        day = overrides.setdefault(o.on, [])
        if not o.is_closed and o.opens_at is not None and o.closes_at is not None:
            day.append(DayHours(o.opens_at, o.closes_at))
    closed = set(
        Closure.objects.filter(
            Q(location=location) | Q(location__isnull=True), on__range=(start_on, end_on)
        ).values_list("on", flat=True)
    )
    # A closed override wins over the open rows of the same date.
    closed |= {
        o.on
        for o in DateOverride.objects.filter(
            location=location, resource__isnull=True, is_closed=True, on__range=(start_on, end_on)
        )
    }
    spans = open_intervals(
        tz=tz,
        start_on=start_on,
        end_on=end_on,
        weekly=weekly,
        overrides=overrides,
        closed_on=closed,
    )
    for span in spans:
        if span.start <= moment < span.end:
            return Opening(True, None, span.end)
        if span.start > moment:
            return Opening(False, span.start, None)
    return Opening(False, None, None)


def clinic_zone() -> zoneinfo.ZoneInfo:
    """The zone staff pages that are about no one location show times in: the first open
    location's (each time shown names it)."""
    zone = (
        Location.objects.filter(is_active=True)
        .order_by("name")
        .values_list("time_zone", flat=True)
        .first()
    )
    return zoneinfo.ZoneInfo(zone or "UTC")


def active_locations() -> QuerySet[Location]:
    return Location.objects.filter(is_active=True).order_by("name")


def active_specialists() -> QuerySet[Specialist]:
    return Specialist.objects.filter(is_active=True).order_by("name")
