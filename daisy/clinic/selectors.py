from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Any

from django.db.models import Prefetch, QuerySet

from daisy.clinic.models import Location, Specialist, Weekday, WeeklyHours
from daisy.lib.errors import NotFound


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
