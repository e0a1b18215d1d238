"""HTTP figures (issue 3, item 9): availability and booking through a real server process.

gunicorn with 2 sync workers (as `daisy serve --workers 2`, without its access log) serves the
bench data set (the worker's own database: var/bench.sqlite3 for the SQLite figures) with rate
limits off and the clock moved to the data set's `now` (bench/api_wsgi.py). A bench
receptionist and an API token are created for the run and removed afterwards, with everything
booked through them (appointments, allocations, audit entries, scheduled messages, queued
tasks), so the data set is the same after the run as before.

The load generator is Python threads in this process, one new connection per request (a sync
gunicorn worker closes each connection after its answer), closed loop: each thread sends its
next request when the previous answer has been read. It shares the machine's cores with the
server: requests/s is bounded by both, and CPU per request is reported for each side.

Figures:
  http_book_sqlite             POST /api/v1/appointments at distinct free starts, each a
                               whole treatment after the previous (so no two compete), taken
                               from one 90-day availability call; at concurrency 1 and 2,
                               every start once per level (bookings removed between levels).
Availability through HTTP is measured by bench/realistic.py, with rotating questions (this module
used to ask one URL again and again, which an answer cache, since removed, then served).
The targets are read at concurrency 2 (one request per server worker).
"""

from __future__ import annotations

import http.client
import json
import math
import os
import statistics
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from time import perf_counter, process_time
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.db import transaction

from bench import config
from bench.dataset import newcomers
from bench.figures import audit_remove
from daisy.accounts.models import ApiToken, Role, User
from daisy.accounts.tokens import api_token_create
from daisy.api.tests.live import LiveServer, database_url, live_server
from daisy.audit.models import AuditEntry
from daisy.notifications.models import Message
from daisy.scheduling.models import Appointment

WORKERS = 2
BOOKING_LEVELS = (1, 2)
TARGET_CONCURRENCY = 2
USERNAME = "bench-http-reception"
Request = tuple[str, str, bytes | None, dict[str, str]]
# The statuses a measured request may answer with (_load raises on any other).
OK = frozenset({200})
CREATED = frozenset({201})
NO_CONTENT = frozenset({204})


def measure(bench: Any, figures: dict[str, Any], suffix: str) -> None:
    names = (f"http_book_{suffix}",)
    wanted = [name for name in names if bench.wanted(name)]
    if not wanted:
        return
    removed = cleanup()
    if removed:
        bench.log(f"  removed {removed} rows left by an interrupted HTTP bench run")
    from django_tasks_db.models import DBTaskResult

    tasks_before = set(DBTaskResult.objects.values_list("pk", flat=True))
    user = User.objects.create_user(
        username=USERNAME, password=None, role=Role.RECEPTION, is_staff=True
    )
    token = api_token_create(user=user, name="bench (removed after the run)", now=config.NOW).raw
    auth = {"Authorization": f"Bearer {token}"}
    env = {"DAISY_BENCH_NOW": config.NOW.isoformat(), "LOG_LEVEL": "WARNING"}
    try:
        with live_server(
            workers=WORKERS, app="bench.api_wsgi:application", db_url=database_url(), env=env
        ) as server:
            common = {
                "server": f"gunicorn, {WORKERS} sync workers, no access log",
                "load_generator": "Python threads in the bench worker process, new connection "
                "per request, closed loop; it shares the machine's "
                f"{os.cpu_count()} CPUs with the server (and the database)",
                "clock": f"server clock moved to {config.NOW.isoformat()} (bench/api_wsgi.py)",
                "target_concurrency": TARGET_CONCURRENCY,
            }
            figures[names[0]] = {**_booking(bench, server, auth), **common, "db": bench.db}
    finally:
        cleanup()
        DBTaskResult.objects.exclude(pk__in=tasks_before).delete()


# --- the two figures ----------------------------------------------------------------------------


def _booking(bench: Any, server: LiveServer, auth: dict[str, str]) -> Any:
    query = urlencode(
        {
            "treatment": "microneedling",
            "start": config.START.isoformat(),
            "end": (config.START + timedelta(days=config.DAYS - 1)).isoformat(),
        }
    )
    status, body = _once(server, ("GET", f"/api/v1/availability?{query}", None, auth))
    if status != 200:
        raise RuntimeError(f"availability answered {status}: {body[:300]!r}")
    starts = _spaced(json.loads(body)["slots"])
    if len(starts) < 50:
        raise RuntimeError(f"only {len(starts)} spaced free starts to book")
    warm, starts = starts[:5], starts[5:]
    # A client's needling sessions are at least 28 days apart (DOMAIN.md 1.2), and the bench's
    # regular clients have sessions all over the 90 days: each start goes to a newcomer.
    clients = [str(c.pk) for c in newcomers(len(warm) + len(starts))]

    def booking(at: list[str]) -> Callable[[int], Request]:
        def make(k: int) -> Request:
            payload = {
                "client": clients[k % len(clients)],
                "treatment": "microneedling",
                "start": at[k],
            }
            headers = {
                **auth,
                "Content-Type": "application/json",
                "Idempotency-Key": str(uuid.uuid4()),
            }
            return ("POST", "/api/v1/appointments", json.dumps(payload).encode(), headers)

        return make

    _load(server, booking(warm), concurrency=1, count=len(warm), expect=CREATED)
    levels = {}
    for c in BOOKING_LEVELS:
        removed_appointments()
        levels[str(c)] = _load(
            server, booking(starts), concurrency=c, count=len(starts), expect=CREATED
        )
        _log_level(bench, "http_book", c, levels[str(c)])
    return {
        **_headline(levels),
        "levels": levels,
        "free_spaced_starts": len(starts),
        "what": "POST /api/v1/appointments (new Idempotency-Key each) at distinct free starts "
        "a whole treatment apart, from one 90-day availability call; each level books every "
        "start once (removed between levels)",
    }


def _headline(levels: dict[str, Any]) -> dict[str, Any]:
    at = levels[str(TARGET_CONCURRENCY)]
    return {
        "req_per_s": at["req_per_s"],
        "p50_ms": at["p50_ms"],
        "p95_ms": at["p95_ms"],
        "p99_ms": at["p99_ms"],
        "requests": at["requests"],
        "concurrency": TARGET_CONCURRENCY,
        "best_req_per_s": max(level["req_per_s"] for level in levels.values()),
    }


def _spaced(slots: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    last_end: datetime | None = None
    for slot in slots:
        start = datetime.fromisoformat(slot["start"])
        end = max(datetime.fromisoformat(p["end"]) for p in slot["phases"])  # buffers included
        if last_end is None or start >= last_end:
            out.append(slot["start"])
            last_end = end
    return out


# --- the load generator -------------------------------------------------------------------------


def _once(server: LiveServer, request: Request) -> tuple[int, bytes]:
    url = urlsplit(server.url)
    method, path, body, headers = request
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _load(
    server: LiveServer,
    make: Callable[[int], Request],
    *,
    concurrency: int,
    expect: frozenset[int],
    seconds: float | None = None,
    count: int | None = None,
) -> dict[str, Any]:
    """`concurrency` threads send requests back to back until `seconds` have passed or `count`
    requests were sent: latency per request (connect to last byte), and requests/s.

    Every answer must have a status in `expect` and every request an answer: otherwise this
    raises (a redirect to a sign-in page or an error page is fast, and must never be reported
    as the speed of the page asked for)."""
    lock = threading.Lock()
    barrier = threading.Barrier(concurrency + 1)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    state = {"issued": 0, "stop": math.inf, "last": 0.0}
    requests = [make(k) for k in range(count)] if count is not None else None

    def worker() -> None:
        barrier.wait()
        while True:
            with lock:
                k = state["issued"]
                if perf_counter() >= state["stop"] or (count is not None and k >= count):
                    return
                state["issued"] = k + 1
            request = requests[k] if requests is not None else make(k)
            began = perf_counter()
            try:
                status, _body = _once(server, request)
            except OSError as exc:
                with lock:
                    errors[type(exc).__name__] += 1
                continue
            ended = perf_counter()
            with lock:
                latencies.append((ended - began) * 1000)
                statuses[status] += 1
                state["last"] = max(state["last"], ended)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    pids = _server_pids(server)
    server_cpu, client_cpu = _cpu(pids), process_time()
    started = perf_counter()
    if seconds is not None:
        state["stop"] = started + seconds
    barrier.wait()
    for t in threads:
        t.join()
    elapsed = max(state["last"], started) - started
    server_cpu = _cpu(pids) - server_cpu
    client_cpu = process_time() - client_cpu
    n = len(latencies)
    unexpected = {k: v for k, v in statuses.items() if k not in expect}
    if unexpected or errors or not n:
        first = requests[0] if requests else make(0)
        raise RuntimeError(
            f"{first[0]} {first[1]}: expected only {sorted(expect)}, got statuses "
            f"{dict(sorted(statuses.items()))}, connection errors {dict(errors)}; "
            f"the figure is not valid:\n{server.log(3000)}"
        )
    ordered = sorted(latencies)

    def rank(q: float) -> float:
        return round(ordered[max(0, math.ceil(q * n) - 1)], 3) if n else math.nan

    return {
        "concurrency": concurrency,
        "requests": n,
        "seconds": round(elapsed, 3),
        "req_per_s": round(n / elapsed, 1) if elapsed > 0 else 0.0,
        "p50_ms": round(statistics.median(ordered), 3) if n else math.nan,
        "p95_ms": rank(0.95),
        "p99_ms": rank(0.99),
        "max_ms": round(ordered[-1], 3) if n else math.nan,
        "mean_ms": round(statistics.fmean(ordered), 3) if n else math.nan,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": dict(errors),
        # CPU used per request by the server's worker processes (the SQLite engine runs inside
        # them) and by this load generator: with 2 CPUs, req/s <= 2000 / (server + client).
        "server_cpu_ms_per_request": round(server_cpu * 1000 / n, 3) if n else None,
        "client_cpu_ms_per_request": round(client_cpu * 1000 / n, 3) if n else None,
    }


def _log_level(bench: Any, name: str, c: int, fig: dict[str, Any]) -> None:
    bench.log(
        f"  {name} c={c}: {fig['req_per_s']:7.1f} req/s   p50 {fig['p50_ms']:7.2f}   "
        f"p95 {fig['p95_ms']:7.2f}   p99 {fig['p99_ms']:7.2f} ms   statuses {fig['statuses']}"
        + (f"   errors {fig['errors']}" if fig["errors"] else "")
    )


def _server_pids(server: LiveServer) -> list[int]:
    """The gunicorn arbiter and its workers."""
    arbiter = server.process.pid
    pids = [arbiter]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == arbiter:
            pids.append(int(entry.name))
    return pids


def _cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


# --- housekeeping -------------------------------------------------------------------------------


def removed_appointments() -> int:
    """Remove what the bench receptionist booked: appointments (allocations cascade), their
    audit entries and scheduled messages."""
    ids = [
        str(pk)
        for pk in Appointment.objects.filter(booked_by__username=USERNAME).values_list(
            "pk", flat=True
        )
    ]
    if not ids:
        return 0
    with transaction.atomic():
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            audit_remove(
                AuditEntry.objects.filter(object_type="scheduling.appointment", object_id__in=part)
            )
            Message.objects.filter(about__in=[f"appointment:{i}" for i in part]).delete()
        Appointment.objects.filter(booked_by__username=USERNAME).delete()
    return len(ids)


def cleanup() -> int:
    """Everything the HTTP bench left: its bookings, its token and its user."""
    removed = removed_appointments()
    user = User.objects.filter(username=USERNAME).first()
    if user is None:
        return removed
    with transaction.atomic():
        tokens = [str(pk) for pk in ApiToken.objects.filter(user=user).values_list("pk", flat=True)]
        audit_remove(AuditEntry.objects.filter(object_id__in=[*tokens, str(user.pk)]))
        audit_remove(AuditEntry.objects.filter(actor=user))
        ApiToken.objects.filter(user=user).delete()
        user.delete()
    return removed + 1
