"""What clients wait on, through a real server, asked as a clinic's visitors ask (issue 15).

One gunicorn (2 sync workers, `daisy serve`'s settings, rate limits off) serves the SQLite bench
clinic, 65% booked (bench/dataset.py). The load generator is Python threads in the bench worker
process, one new connection per request, closed loop (bench/api_http.py's). No figure asks one
URL again and again, unless it says it asks the same questions again:

* http_health_c8, http_health_c2: GET /api/v1/health (one `SELECT 1`, the worker beat query).
* http_one_query_c2, http_one_query_c8: GET /bench/one-query/, a Django view doing one query
  (bench/urls.py): the yardstick the availability targets are read against.
* http_availability_7d_uncached: GET /api/v1/availability for 7 days, each request a question
  not asked before in the run (start dates across the 90 days, each specialist or anyone):
  what every request costs in a clinic where each hold or booking changes the answers.
* http_availability_7d_cached: six 7-day questions asked over and over. Daisy keeps no answer
  cache (issue 15: it showed no gain a client would notice and was removed), so this is the
  uncached figure for repeated questions; the name is kept for comparison with older runs.
* http_availability_days_7d_uncached: the same questions (other ones, never repeated) through
  /api/v1/availability/days, the compact form.
* http_availability_windows_uncached: windows of 1, 7, 14 and 28 days, rotating start dates
  and specialists, never repeated.
* http_week_page_c8: GET /book/time/?day=... (the booking page's times, htmx fragment) by
  21 visitors (anyone, or one of the 20 specialists) at 8 connections, each (visitor, week)
  once: what a client waits on when the page is not in any cache.
* http_week_page_c8_cached: 4 visitors asking about 2 weeks over and over (no answer cache:
  only the set-up and the page's own fixed parts are reused).

Targets (bench/run.py): the week page >= 40% of health's requests/s and p99 <= 150 ms at 8
connections; 7-day availability uncached >= 50% of the one-query view's requests/s (both at 2
connections, one per server worker); the availability rate limit per address above the
uncached capacity.
"""

from __future__ import annotations

import json
import os
import random
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.test import Client

from bench import config
from bench.api_http import OK, WORKERS, Request, _load, _log_level, _once, cleanup
from daisy.accounts.models import Role, User
from daisy.accounts.tokens import api_token_create
from daisy.api.tests.live import LiveServer, database_url, live_server
from daisy.clinic.models import Specialist

FIGURES = (
    "http_health_c8",
    "http_health_c2",
    "http_one_query_c2",
    "http_one_query_c8",
    "http_availability_7d_uncached",
    "http_availability_7d_cached",
    "http_availability_days_7d_uncached",
    "http_availability_windows_uncached",
    "http_week_page_c8",
    "http_week_page_c8_cached",
)
SEED = 15
WINDOWS = (1, 7, 14, 28)


def measure(bench: Any, figures: dict[str, Any]) -> None:
    wanted = [name for name in FIGURES if bench.wanted(name)]
    if not wanted:
        return
    seconds = 8.0 if bench.runs >= 30 else 3.0
    cleanup()
    user = User.objects.create_user(
        username="bench-http-reception", password=None, role=Role.RECEPTION, is_staff=True
    )
    token = api_token_create(user=user, name="bench (removed after the run)", now=config.NOW).raw
    auth = {"Authorization": f"Bearer {token}"}
    specialists = [
        sp.pk
        for sp in Specialist.objects.filter(locations=bench.location, is_active=True).order_by(
            "name"
        )
    ]
    visitors = _visitors(bench, specialists) if any("week_page" in n for n in wanted) else []
    env = {"DAISY_BENCH_NOW": config.NOW.isoformat(), "LOG_LEVEL": "WARNING"}
    common = {
        "server": f"gunicorn, {WORKERS} sync workers, no access log, rate limits off",
        "load_generator": "Python threads in the bench worker process, new connection per "
        f"request, closed loop, on the same {os.cpu_count()} CPUs as the server",
        "db": bench.db,
    }
    try:
        with live_server(
            workers=WORKERS, app="bench.api_wsgi:application", db_url=database_url(), env=env
        ) as server:
            run = _Runner(bench, server, seconds, figures, common)
            for c in (8, 2):
                name = f"http_health_c{c}"
                if name in wanted:
                    run.fixed(name, ("GET", "/api/v1/health", None, {}), c)
            for c in (2, 8):
                name = f"http_one_query_c{c}"
                if name in wanted:
                    run.fixed(name, ("GET", "/bench/one-query/", None, {}), c)
            questions = _questions(specialists, auth)
            if "http_availability_7d_uncached" in wanted:
                run.rotating(
                    "http_availability_7d_uncached", questions[0::3], 2,
                    "GET /api/v1/availability, 7 local days, staff token; start dates across "
                    "the data set's 90 days and each specialist or anyone, every request a "
                    "question not asked before in this run (no cache can answer)",
                )
            if "http_availability_7d_cached" in wanted:
                few = questions[1::3][:6]
                for request in few:  # each server worker computes them once
                    _once(server, request)
                    _once(server, request)
                run.rotating(
                    "http_availability_7d_cached", few, 2,
                    "GET /api/v1/availability, the same six 7-day questions over and over "
                    "(no answer cache since issue 15: each is computed again)",
                    repeat=True,
                )
            if "http_availability_days_7d_uncached" in wanted:
                compact = [
                    (m, p.replace("/availability?", "/availability/days?"), b, h)
                    for m, p, b, h in questions[2::3]
                ]
                run.rotating(
                    "http_availability_days_7d_uncached", compact, 2,
                    "GET /api/v1/availability/days (compact, a day at a time), 7 local days, "
                    "questions never repeated",
                )
            if "http_availability_windows_uncached" in wanted:
                run.rotating(
                    "http_availability_windows_uncached", _windows(specialists, auth), 2,
                    f"GET /api/v1/availability, windows of {', '.join(map(str, WINDOWS))} days, "
                    "rotating start dates and specialists, never repeated",
                )
            if "http_week_page_c8" in wanted:
                run.rotating(
                    "http_week_page_c8", _week_asks(bench, visitors, repeat=False), 8,
                    "GET /book/time/?day=... (htmx: the day strip and one day's times), 21 "
                    "visitors (anyone or one specialist each) with a booking under way, a day "
                    "of each week of the data set per visitor, each (visitor, week) once",
                    counts=(8, 2),
                )
            if "http_week_page_c8_cached" in wanted:
                asks = _week_asks(bench, visitors[:4], repeat=True)
                for request in asks:
                    _once(server, request)
                    _once(server, request)
                run.rotating(
                    "http_week_page_c8_cached", asks, 8,
                    "the week page for 4 visitors and 2 weeks, over and over (no answer cache "
                    "since issue 15: each is computed again)",
                    repeat=True,
                )
    finally:
        cleanup()
    figures["http_ratios"] = summary(figures)


class _Runner:
    def __init__(
        self, bench: Any, server: LiveServer, seconds: float, figures: dict, common: dict
    ) -> None:
        self.bench, self.server, self.seconds = bench, server, seconds
        self.figures, self.common = figures, common

    def fixed(self, name: str, request: Request, c: int) -> None:
        status, _body = _once(self.server, request)
        if status != 200:
            raise RuntimeError(f"{request[1]} answered {status}:\n{self.server.log()}")
        _load(self.server, lambda k: request, concurrency=c, count=20, expect=OK)
        level = _load(
            self.server, lambda k: request, concurrency=c, seconds=self.seconds, expect=OK
        )
        _log_level(self.bench, name, c, level)
        self.figures[name] = {
            **level,
            "path": request[1],
            "what": f"GET {request[1]} at {c} connections for {self.seconds:.0f} s",
            **self.common,
        }

    def rotating(
        self,
        name: str,
        requests: list[Request],
        c: int,
        what: str,
        *,
        repeat: bool = False,
        counts: tuple[int, ...] = (),
    ) -> None:
        """`requests` in order, each once (or round and round with `repeat`), for at most
        `seconds`. With `counts`, the other concurrency levels take the next unused ones."""
        used = 0
        levels: dict[str, Any] = {}
        for n, level_c in enumerate(counts or (c,)):
            batch = requests if repeat else requests[used:]
            if not repeat and counts and n < len(counts) - 1:
                batch = batch[: len(requests) * 2 // 3]  # the rest for the next level
            if not batch:
                raise RuntimeError(f"{name}: no unasked questions left")
            count = None if repeat else len(batch)
            level = _load(
                self.server,
                lambda k, batch=batch: batch[k % len(batch)],
                concurrency=level_c,
                seconds=self.seconds,
                count=count,
                expect=OK,
            )
            used += level["requests"] + sum(level["errors"].values())
            _log_level(self.bench, name, level_c, level)
            levels[str(level_c)] = level
        head = levels[str(c)]
        sample = requests[0]
        status, body = _once(self.server, sample)
        self.figures[name] = {
            **head,
            "levels": levels if counts else None,
            "distinct_requests": len(requests),
            "repeats": repeat,
            "example": sample[1],
            "example_bytes": len(body),
            "what": what,
            **self.common,
        }


def _questions(specialists: list[Any], auth: dict[str, str]) -> list[Request]:
    """Every 7-day question over the data set (start date x specialist or anyone), shuffled."""
    out = []
    for offset in range(config.DAYS - 6):
        first = config.START + timedelta(days=offset)
        for sp in [None, *specialists]:
            query = {
                "treatment": "microneedling",
                "start": first.isoformat(),
                "end": (first + timedelta(days=6)).isoformat(),
            }
            if sp is not None:
                query["specialist"] = str(sp)
            out.append(("GET", f"/api/v1/availability?{urlencode(query)}", None, auth))
    random.Random(SEED).shuffle(out)
    return out


def _windows(specialists: list[Any], auth: dict[str, str]) -> list[Request]:
    out = []
    rng = random.Random(SEED + 1)
    for days in WINDOWS:
        for offset in range(config.DAYS - days + 1):
            first = config.START + timedelta(days=offset)
            query = {
                "treatment": "microneedling",
                "start": first.isoformat(),
                "end": (first + timedelta(days=days - 1)).isoformat(),
                # Every window size with some specialist questions, on other days than the
                # 7-day figures' (a 7-day question here may repeat one: rarely, and only once).
                **({"specialist": str(rng.choice(specialists))} if rng.random() < 0.3 else {}),
            }
            out.append(("GET", f"/api/v1/availability?{urlencode(query)}", None, auth))
    rng.shuffle(out)
    return out


def _visitors(bench: Any, specialists: list[Any]) -> list[str]:
    """Session cookies of visitors part-way through booking micro-needling at the bench
    clinic: one choosing anyone, one per specialist. Made through the booking pages."""
    from bench.site import _clock_at

    cookies = []
    with _clock_at(config.NOW):
        for sp in [None, *specialists]:
            client = Client()
            response = client.get("/book/?treatment=microneedling")
            if response.status_code != 302:
                raise RuntimeError(f"/book/ answered {response.status_code}")
            if response.url.endswith("/book/areas/"):
                client.post("/book/areas/", {"areas": ["Full face"]})
            choice = "anyone" if sp is None else sp.hex
            response = client.post(
                "/book/clinic/", {"location": str(bench.location.pk), "specialist": choice}
            )
            if response.status_code != 302 or not response.url.endswith("/book/time/"):
                raise RuntimeError(f"choosing the clinic answered {response.status_code}")
            name = settings.SESSION_COOKIE_NAME
            cookies.append(f"{name}={client.cookies[name].value}")
    return cookies


def _week_asks(bench: Any, visitors: list[str], *, repeat: bool) -> list[Request]:
    rng = random.Random(SEED + 2)
    weeks = 2 if repeat else (config.DAYS // 7)
    out = []
    for cookie in visitors:
        for week in range(weeks):
            day: date = config.START + timedelta(days=7 * week + rng.randrange(7))
            headers = {"Cookie": cookie, "HX-Request": "true"}
            out.append(("GET", f"/book/time/?day={day.isoformat()}", None, headers))
    rng.shuffle(out)
    return out


def summary(figures: dict[str, Any]) -> dict[str, Any]:
    """Ratios the targets read, for the JSON and the table."""
    def rate(name: str) -> float | None:
        fig = figures.get(name)
        return fig["req_per_s"] if fig else None

    out: dict[str, Any] = {}
    week, health = rate("http_week_page_c8"), rate("http_health_c8")
    if week and health:
        out["week_page_share_of_health_c8"] = round(week / health, 3)
    avail, yard = rate("http_availability_7d_uncached"), rate("http_one_query_c2")
    if avail and yard:
        out["availability_7d_uncached_share_of_one_query_c2"] = round(avail / yard, 3)
    cached = rate("http_availability_7d_cached")
    if avail and cached:  # about 1 since the answer cache went (issue 15): no hidden cache
        out["availability_answer_cache_gain"] = round(cached / avail, 2)
    limits = getattr(settings, "DAISY_API_RATE_LIMITS", {}) or {}
    ip = (limits.get("availability") or {}).get("ip")
    per_s = _per_second(ip) if isinstance(ip, str) else None
    if per_s is not None:
        out["availability_limit_per_address_per_s"] = per_s
    uncached = [
        figures[n]["req_per_s"]
        for n in ("http_availability_7d_uncached", "http_availability_days_7d_uncached")
        if n in figures
    ]
    if uncached:
        out["availability_uncached_capacity_per_s"] = max(uncached)
    return json.loads(json.dumps(out))


def _per_second(rate: str) -> float | None:
    """ "600/minute", "600/min", "600/m", "10/s", "10/30" (seconds) -> requests per second."""
    count, _, period = rate.partition("/")
    period = period.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        seconds = int(period) if period.isdigit() else units[period[:1]]
        return round(int(count) / seconds, 2)
    except (KeyError, ValueError, ZeroDivisionError):
        return None
