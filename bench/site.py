"""Server time of the public site (issue 4, "Performance"), measured in-process through Django's
test client: the whole request path (middleware, session, CSP header, view, selectors, template)
without a network or a server process in the way.

* site_week_fragment_ms: GET /book/time/?day=... as htmx asks for it (HX-Request): the day
  strip of a week and that day's micro-needling times at the bench clinic (20 specialists, 10
  rooms, 6 pens, 65% of the rooms' time booked: heavier than the demo clinic), for a visitor
  part-way through the booking flow. Each call asks for another day (30 days in turn across the
  data set's 90), never one URL again and again.
  Target: p95 < 30 ms.
* site_pages_ms: each public page (home, treatments, the micro-needling page, specialists,
  locations, prices, FAQ, contact). Target: every page's p95 < 50 ms; the figure's value is the
  slowest page's p95.

The views read the clock through django.utils.timezone.now; it is moved to the data set's `now`
for the duration (as bench/api_wsgi.py does for the HTTP bench). Nothing is written except the
session rows of the test client's visitor."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from itertools import cycle
from typing import Any

from django.test import Client
from django.utils import timezone

from bench import config
from bench.figures import Bench, Timed

PAGES = {
    "home": "/",
    "treatments": "/treatments/",
    "microneedling": "/treatments/microneedling/",
    "specialists": "/specialists/",
    "locations": "/locations/",
    "prices": "/prices/",
    "faq": "/faq/",
    "contact": "/contact/",
}
FIGURES = ("site_week_fragment_ms", "site_pages_ms")


@contextmanager
def _clock_at(now: datetime) -> Iterator[None]:
    real = timezone.now
    offset = now - real()
    timezone.now = lambda: real() + offset
    try:
        yield
    finally:
        timezone.now = real


def _get(client: Client, path: str, **headers: Any) -> None:
    response = client.get(path, **headers)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}")


def run(bench: Bench) -> dict[str, Any]:
    wanted = [name for name in FIGURES if bench.wanted(name)]
    if not wanted:
        return {}
    out: dict[str, Any] = {}
    with _clock_at(config.NOW):
        if "site_week_fragment_ms" in wanted:
            out.update(_week_fragment(bench))
        if "site_pages_ms" in wanted:
            out.update(_pages(bench))
    return out


def _week_fragment(bench: Bench) -> dict[str, Any]:
    client = Client()
    # Walk the flow's first steps as a visitor would, so the session holds a real booking.
    response = client.get("/book/?treatment=microneedling")
    if response.status_code != 302:
        raise RuntimeError(f"/book/ answered {response.status_code}")
    if response.url.endswith("/book/areas/"):
        client.post("/book/areas/", {"areas": ["Full face"]})
    client.post("/book/clinic/", {"location": str(bench.location.pk), "specialist": "anyone"})
    # Rotating questions: 30 days in turn, every third day of the data set's 90.
    paths = [
        f"/book/time/?day={(config.START + timedelta(days=3 * n)).isoformat()}"
        for n in range(config.DAYS // 3)
    ]
    offered = []
    for path in paths:
        probe = client.get(path, HTTP_HX_REQUEST="true")
        html = probe.content.decode()
        if probe.status_code != 200 or not html.lstrip().startswith('<section id="picker"'):
            raise RuntimeError(f"the week fragment did not render ({probe.status_code})")
        offered.append(html.count('name="start"'))
    turn = cycle(paths)
    item = Timed(
        "site_week_fragment_ms",
        lambda: _get(client, next(turn), HTTP_HX_REQUEST="true"),
        {
            "times_offered_median": sorted(offered)[len(offered) // 2],
            "days_asked": len(paths),
            "what": "GET /book/time/?day=... with HX-Request (the htmx fragment: a week's day "
            "strip and one day's times), a different day each call (30 in turn), "
            "Django test client in-process, bench clinic",
        },
    )
    return bench.time([item])


def _pages(bench: Bench) -> dict[str, Any]:
    client = Client()
    items = [
        Timed(f"site_page_{name}_ms", lambda p=path: _get(client, p))
        for name, path in PAGES.items()
    ]
    for item in items:
        item.fn()  # fail early, untimed, if a page does not render
    timed = bench.time(items)
    slowest = max(timed.values(), key=lambda fig: fig["p95_ms"])
    return {
        "site_pages_ms": {
            **slowest,
            "slowest": next(n for n, f in timed.items() if f is slowest),
            "pages": {
                name: {"median_ms": f["median_ms"], "p95_ms": f["p95_ms"]}
                for name, f in timed.items()
            },
            "what": "every public page, Django test client in-process, bench clinic; "
            "median/p95 here are the slowest page's",
        }
    }
