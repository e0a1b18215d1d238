"""The front desk (issue 13): the diary and the desk's actions, for clinic staff.

Views are thin (DESIGN.md 6): they read the request, call one selector or one service from
`daisy.booking`, and render; a refusal becomes a message on the page. Every page works without
JavaScript; with htmx, the diary redraws itself when another desk changes something."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from daisy.backoffice.access import staff_required
from daisy.booking.diary import (
    MODE_ROOMS,
    MODE_SPECIALISTS,
    desk_default_location,
    desk_locations,
    desk_specialist_of,
    diary_day,
    diary_version,
    diary_week,
)
from daisy.lib.errors import NotFound
from daisy.scheduling.selectors import location_get

# How often an open diary asks whether anything changed (issue 13, item 7: within 5 seconds).
POLL_SECONDS = 4
EVERYONE = "all"


def _day(raw: str | None, location: Any) -> date:
    if raw is None:
        return timezone.now().astimezone(location.tz).date()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Http404 from None


def _location(request: HttpRequest) -> Any:
    raw = request.GET.get("location") or request.POST.get("location")
    if raw:
        try:
            return location_get(raw)
        except (NotFound, ValueError, Exception):
            raise Http404 from None
    location = desk_default_location(request.user)
    if location is None:
        raise Http404
    return location


def _who(request: HttpRequest) -> str:
    """Whose column(s): a specialist opens on their own, everyone else on everyone."""
    raw = request.GET.get("who")
    if raw:
        return raw
    own = desk_specialist_of(request.user)
    return str(own) if own else EVERYONE


def _query(location: Any, mode: str, who: str) -> str:
    parts = [f"location={location.pk}"]
    if mode != MODE_SPECIALISTS:
        parts.append(f"view={mode}")
    if who != EVERYONE:
        parts.append(f"who={who}")
    return "?" + "&".join(parts)


def _diary_context(request: HttpRequest, on: str | None) -> dict[str, Any]:
    location = _location(request)
    day = _day(on, location)
    mode = MODE_ROOMS if request.GET.get("view") == MODE_ROOMS else MODE_SPECIALISTS
    who = _who(request)
    now = timezone.now()
    data = diary_day(location=location, on=day, now=now, mode=mode)
    everyone = [(c.id, c.name) for c in data.columns if c.kind == "specialist"]
    if mode == MODE_SPECIALISTS and who != EVERYONE:
        shown = [c for c in data.columns if str(c.id) == who]
        if shown:
            data.columns = shown
            for i, column in enumerate(shown, start=2):
                column.index = i
        else:
            who = EVERYONE
    query = _query(location, mode, who)
    today = now.astimezone(location.tz).date()
    return {
        "diary": data,
        "day": day,
        "today": today,
        "is_today": day == today,
        "mode": mode,
        "who": who,
        "everyone": everyone,
        "own_specialist": desk_specialist_of(request.user),
        "locations": desk_locations(),
        "location": location,
        "query": query,
        "prev_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "poll_seconds": POLL_SECONDS,
        "desk_section": "diary",
        "grid_url": reverse("desk:diary-grid", args=[day.isoformat()]) + query,
    }


@staff_required
def diary(request: HttpRequest, on: str | None = None) -> HttpResponse:
    if on is None and request.GET.get("on"):
        # The "Day" field of the filter form: the day's own address.
        query = request.GET.copy()
        picked = query.pop("on")[-1]
        try:
            date.fromisoformat(picked)
        except ValueError:
            raise Http404 from None
        target = reverse("desk:diary-day", args=[picked])
        return redirect(f"{target}?{query.urlencode()}" if query else target)
    context = _diary_context(request, on)
    return render(request, "backoffice/diary_day.html", context)


@staff_required
def diary_grid(request: HttpRequest, on: str) -> HttpResponse:
    """The diary's grid alone, for htmx. Polled with the version the page shows: unchanged,
    it answers 204 (no body, nothing redrawn) after one cheap query."""
    since = request.GET.get("since")
    if since:
        location = _location(request)
        day = _day(on, location)
        if diary_version(location=location, first_day=day, last_day=day) == since:
            return HttpResponse(status=204)
    context = _diary_context(request, on)
    return render(request, "backoffice/diary_day.html#grid", context)


@staff_required
def diary_week_view(request: HttpRequest, on: str) -> HttpResponse:
    location = _location(request)
    day = _day(on, location)
    who = _who(request)
    now = timezone.now()
    data = diary_week(
        location=location, on=day, now=now, specialist_id=None if who == EVERYONE else who
    )
    if who != EVERYONE and not data.rows:
        who = EVERYONE
        data = diary_week(location=location, on=day, now=now)
    return render(
        request,
        "backoffice/diary_week.html",
        {
            "week": data,
            "location": location,
            "locations": desk_locations(),
            "who": who,
            "own_specialist": desk_specialist_of(request.user),
            "query": _query(location, MODE_SPECIALISTS, who),
            "prev_week": data.first_day - timedelta(days=7),
            "next_week": data.first_day + timedelta(days=7),
            "today": now.astimezone(location.tz).date(),
            "desk_section": "diary",
        },
    )
