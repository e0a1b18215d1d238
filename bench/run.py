"""`make bench` / `daisy bench`: performance figures for availability and booking.

The orchestrator (main) prepares one database per engine, a SQLite file (var/bench.sqlite3) and
a PostgreSQL database (DAISY_BENCH_PG_URL, by default daisy_bench on 127.0.0.1:5432; the bench
creates it, marks it as its own, and never drops a database it did not mark), and runs one
worker process per engine with DATABASE_URL pointing at it (`python -m bench.run worker ...`).
A worker migrates, builds the deterministic data set if the database does not hold a complete
one (bench/dataset.py), measures, removes
the appointments it booked, and hands its figures back as JSON. The orchestrator then checks the
targets, writes var/bench.json and prints a table. Missed targets are reported, never an exit
status: the exit status is non-zero only if the bench itself failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench import config

# bench/reports.py's figures (kept here: the orchestrator imports no Django module).
REPORT_FIGURES = (
    "report_utilisation_ms",
    "report_attendance_ms",
    "report_revenue_ms",
    "report_courses_ms",
    "report_rebooking_ms",
    "report_delivery_ms",
    "report_utilisation_cold_ms",
    "report_page_ms",
)
SQLITE_FIGURES = (
    "availability_90d_ms",
    "availability_7d_ms",
    "availability_7d_last_ms",
    "availability_floor_ms",
    "availability_floor_raw_ms",
    "context_90d_ms",
    "core_90d_ms",
    "scaling",
    "profile",
    "book_ms_sqlite",
    # Through a real server process: what clients wait on, asked as visitors ask, never one
    # URL again and again unless the figure says it measures the caches (bench/realistic.py).
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
    # Booking through HTTP (bench/api_http.py).
    "http_book_sqlite",
    # Issue 5 (bench/courses.py): proposing a whole course, database reads included.
    "course_plan_ms",
    "course_plan_12_ms",
    # Issue 4 (bench/site.py): the public site's server time, in-process.
    "site_week_fragment_ms",
    "site_pages_ms",
    # Issue 13 (bench/desk.py): the front desk's day and week views, in-process and over HTTP.
    "desk_day_ms",
    "desk_week_ms",
    "http_desk_day",
    # Issue 16 item 5 (bench/reports.py): each owner report over a year, and the page.
    *REPORT_FIGURES,
    # Issue 14 (bench/client_file.py): a client's file with 12 sessions of records, 60 photos.
    "client_file_ms",
    "client_photos_ms",
    # Issue 14 (bench/records.py): lot recall over 100,000 charted sessions.
    "lot_recall_ms",
)
PG_FIGURES = (
    "availability_90d_ms_postgres",
    "availability_floor_ms_postgres",
    "book_ms_postgres",
    "bookings_per_s_8_threads_postgres",
    # The course and site figures again, on PostgreSQL (their issues name no engine, so each
    # target holds on both).
    "course_plan_ms_postgres",
    "course_plan_12_ms_postgres",
    "site_week_fragment_ms_postgres",
    "site_pages_ms_postgres",
    "desk_day_ms_postgres",
    "desk_week_ms_postgres",
    *(f"{name}_postgres" for name in REPORT_FIGURES),
    "client_file_ms_postgres",
    "client_photos_ms_postgres",
    "lot_recall_ms_postgres",
)
# Figures measured by both engines' workers (bench/courses.py, bench/site.py): PostgreSQL's are
# named with this suffix, so that one engine's figure never replaces the other's.
PG_SUFFIX = "_postgres"
# Measured by the orchestrator after the engine's worker, with bench/messages.py (its own
# driver process, `daisy worker` processes and an SMTP sink), on the same bench database.
MESSAGE_FIGURES = {
    "messages_per_s_sqlite_1_worker": ("sqlite", 1),
    "messages_per_s_postgres_3_workers": ("postgres", 3),
}
SCHEDULE_FIGURE = "schedule_6_ms"  # from the SQLite messages run (PostgreSQL's alongside)
# Issue 16 item 6: delivery under faults (kills, late replies, drops, a 60 s SMTP stall) with
# bench/delivery_faults.py in its own driver process, on this engine's bench database.
FAULT_FIGURES = {"delivery_faults_sqlite": "sqlite", "delivery_faults_postgres": "postgres"}
# Issue 6: what enqueuing a booking's real messages adds to the booking (bench/booking_messages.py
# in its own process, on a scratch database of this engine; PostgreSQL's figure alongside).
BOOKING_MESSAGES_FIGURE = "schedule_booking_messages_ms"
# Issue 16 item 7 (bench/scale.py): 2 web processes and 2 workers on PostgreSQL + Redis, from
# tests/test_scale.py run on a scratch database of the PostgreSQL bench server.
SCALE_FIGURES = (
    "scale_bookings_per_s_2_web",
    "scale_messages_per_s_2_workers",
    "scale_web_recovery_s",
    "scale_worker_recovery_s",
)
ENGINE_FIGURES = {
    "sqlite": (
        *SQLITE_FIGURES, "messages_per_s_sqlite_1_worker", SCHEDULE_FIGURE, BOOKING_MESSAGES_FIGURE,
        "delivery_faults_sqlite",
    ),
    "postgres": (
        *PG_FIGURES, "messages_per_s_postgres_3_workers", BOOKING_MESSAGES_FIGURE, *SCALE_FIGURES,
        "delivery_faults_postgres",
    ),
}
ALL_FIGURES = SQLITE_FIGURES + PG_FIGURES + (
    *MESSAGE_FIGURES, SCHEDULE_FIGURE, BOOKING_MESSAGES_FIGURE, *SCALE_FIGURES, *FAULT_FIGURES
)


def _log(message: str) -> None:
    print(message, flush=True)


def _selector(patterns: list[str]) -> Any:
    if not patterns:
        return lambda name: True
    return lambda name: any(fnmatch.fnmatchcase(name, p) for p in patterns)


# --- orchestrator ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["worker"]:
        return worker_main(argv[1:])
    parser = argparse.ArgumentParser(prog="daisy bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5 runs after 1 warm-up (smoke test)")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="measure only these figures (repeatable, comma-separated, globs allowed): "
        + ", ".join(ALL_FIGURES),
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild the bench databases")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite figures only")
    args = parser.parse_args(argv)
    patterns = [p.strip() for chunk in args.only for p in chunk.split(",") if p.strip()]
    wanted = _selector(patterns)
    unknown = [p for p in patterns if not any(fnmatch.fnmatchcase(n, p) for n in ALL_FIGURES)]
    if unknown:
        parser.error(f"unknown figure(s) {unknown}; known: {', '.join(ALL_FIGURES)}")
    runs, warmups = (5, 1) if args.quick else (30, 3)

    started = time.perf_counter()
    load_before = [round(x, 2) for x in os.getloadavg()]
    if load_before[0] > 1.5:
        _log(f"note: load average {load_before} on {os.cpu_count()} CPUs: other work is "
             "running, so the figures will be slower than on an idle machine")
    config.VAR_DIR.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"figures": {}, "meta": {}, "notes": []}
    engines = []
    if any(wanted(n) for n in ENGINE_FIGURES["sqlite"]):
        engines.append(("sqlite", config.SQLITE_URL))
    if any(wanted(n) for n in ENGINE_FIGURES["postgres"]):
        if args.no_postgres:
            results["notes"].append("PostgreSQL figures skipped (--no-postgres)")
        else:
            engines.append(("postgres", config.PG_URL))
    for engine, url in engines:
        _log(f"== {engine}: {_redact(url)}")
        try:
            rebuild = _prepare(engine, url, force=args.rebuild)
        except NotOurDatabase as exc:
            _log(f"  refused: {exc}")
            return 2
        except Exception as exc:  # noqa: BLE001 - PostgreSQL may simply not be running
            if engine == "postgres":
                note = f"PostgreSQL figures skipped: {type(exc).__name__}: {exc}"
                _log(f"  {note}")
                results["notes"].append(note)
                continue
            raise
        if rebuild:
            _log("  building the data set (first run or changed generator)")
        worker_figures = SQLITE_FIGURES if engine == "sqlite" else PG_FIGURES
        if rebuild or any(wanted(n) for n in worker_figures):
            out = _worker(engine, url, runs, warmups, patterns)
            results["figures"].update(out["figures"])
            results["meta"][engine] = out["meta"]
        _messages(engine, url, wanted, args.quick, results)
        _faults(engine, url, wanted, args.quick, results)
        if wanted(BOOKING_MESSAGES_FIGURE):
            try:
                _booking_messages(engine, url, results)
            except NotOurDatabase as exc:
                _log(f"  refused: {exc}")
                return 2
        if engine == "postgres" and any(wanted(n) for n in SCALE_FIGURES):
            _scale(url, results)

    elapsed = time.perf_counter() - started
    document = _document(results, runs, warmups, patterns, elapsed)
    document["meta"]["load_average_at_start"] = load_before
    if patterns and config.RESULTS_PATH.exists():
        _log("  (--only: figures of this run only; other figures are not in this bench.json)")
    config.RESULTS_PATH.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(render(document), flush=True)
    _log(f"Results: {config.RESULTS_PATH}   ({elapsed:.1f} s in all)")
    return 0


def _messages(
    engine: str, url: str, wanted: Any, quick: bool, results: dict[str, Any]
) -> None:
    """messages_per_s_* (and schedule_6_ms) through bench/messages.py on this engine's bench
    database."""
    name = next(n for n, (e, _w) in MESSAGE_FIGURES.items() if e == engine)
    schedule = engine == "sqlite" and wanted(SCHEDULE_FIGURE)
    if not (wanted(name) or schedule):
        return
    from bench.messages import measure_messages

    workers = MESSAGE_FIGURES[name][1]
    # Only schedule_6_ms wanted: a small outbox is enough for the driver to run.
    count = (2_000 if quick else 10_000) if wanted(name) else 200
    _log(f"  messages: {count} due messages, {workers} worker(s)")
    out = measure_messages(url, workers, count)
    _log(
        f"  {name:<36} {out['messages_per_s']:9.1f} /s    (worker CPU "
        f"{out['worker_cpu_ms_per_message']} ms/message; schedule_6 {out['schedule_6_ms']} ms)"
    )
    figures = results["figures"]
    if wanted(name):
        figures[name] = {
            "value": out["messages_per_s"],
            "unit": "messages/s",
            "db": engine,
            **out,
            "what": f"`daisy worker` x{workers} delivering {count} due emails to an SMTP sink "
            "on loopback (bench/messages.py); the sink, the workers and the database share "
            "the machine's CPUs",
        }
    six = {
        "value": out["schedule_6_ms"],
        "unit": "ms",
        "one_by_one_ms": out["schedule_6_one_by_one_ms"],
        "db": engine,
        "what": "median of 60 (10 discarded): scheduling a booking's six messages in one "
        "transaction with message_schedule_many (rolled back)",
    }
    if engine == "sqlite" and schedule:
        figures[SCHEDULE_FIGURE] = six
    elif engine == "postgres" and SCHEDULE_FIGURE in figures:
        figures[SCHEDULE_FIGURE]["postgres_ms"] = six["value"]


def _scale(url: str, results: dict[str, Any]) -> None:
    """scale_* through bench/scale.py (tests/test_scale.py on this server)."""
    from bench.scale import figures_of, measure_scale

    _log("  scale: 2 web processes + 2 workers on PostgreSQL and Redis (tests/test_scale.py)")
    out = measure_scale(url)
    if "skipped" in out:
        note = f"scale figures skipped: {out['skipped']}"
        _log(f"  {note}")
        results["notes"].append(note)
        return
    for name, fig in figures_of(out).items():
        _log(f"  {name:<36} {fig['value']:9.2f} {fig['unit']}")
        results["figures"][name] = fig


def _faults(engine: str, url: str, wanted: Any, quick: bool, results: dict[str, Any]) -> None:
    """delivery_faults_<engine> through bench/delivery_faults.py on this engine's bench
    database: lost, duplicates, unknown outcomes and latency under kills and a 60 s stall."""
    name = next(n for n, e in FAULT_FIGURES.items() if e == engine)
    if not wanted(name):
        return
    from bench.delivery_faults import measure_faults

    emails, texts = (400, 100) if quick else (1600, 400)
    _log(f"  delivery faults: {emails} emails + {texts} texts, kills every 2 s, 60 s stall")
    out = measure_faults(url, emails=emails, texts=texts)
    _log(
        f"  {name:<36} lost={out['lost']} duplicates={out['duplicates']} "
        f"(not recorded: {out['duplicates_not_recorded_unknown']}) "
        f"unconfirmed={out['unconfirmed']} p50={out['latency_p50_s']}s "
        f"p95={out['latency_p95_s']}s kills={out['kills']}"
    )
    results["figures"][name] = {
        "unit": "fault run",
        "db": engine,
        **out,
        "what": "3 `daisy worker` processes, one SIGKILLed every 2 s, delivering emails due "
        "over 60 s to an SMTP server on loopback that replies late (past EMAIL_TIMEOUT) to ~3%, "
        "drops ~7% of connections and answers nothing for 60 s, and texts to a fake provider; "
        "latency = first reception - due time (the stall is in it)",
    }


def _booking_messages(engine: str, url: str, results: dict[str, Any]) -> None:
    if engine == "sqlite":
        scratch = f"sqlite:///{config.VAR_DIR / 'bench-booking-messages.sqlite3'}"
    else:
        parts = urlsplit(url)
        scratch = urlunsplit(parts._replace(path=parts.path + "_booking_messages"))
        _pg_recreate_database(scratch)
    done = subprocess.run(
        [sys.executable, "-m", "bench.booking_messages", scratch],
        cwd=config.REPO_ROOT, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.booking_messages failed:\n{done.stderr[-2000:]}")
    out = json.loads(done.stdout)
    ms = out["schedule_booking_messages_ms"]
    _log(f"  {BOOKING_MESSAGES_FIGURE:<36} {ms:9.2f} ms   ({out['messages_per_booking']} messages)")
    figures = results["figures"]
    if engine == "sqlite":
        figures[BOOKING_MESSAGES_FIGURE] = {
            "value": ms,
            "unit": "ms",
            "db": engine,
            "p90_ms": out["schedule_booking_messages_p90_ms"],
            "messages_per_booking": out["messages_per_booking"],
            "what": "median of 200 (20 discarded): appointment_messages_schedule, the call a "
            "booking makes in its transaction (confirmation with .ics, reminders, aftercare "
            "steps, check-ins; email and SMS), rolled back",
        }
    else:
        figures.setdefault(BOOKING_MESSAGES_FIGURE, {"unit": "ms"})
        figures[BOOKING_MESSAGES_FIGURE]["postgres_ms"] = ms
        figures[BOOKING_MESSAGES_FIGURE]["postgres_p90_ms"] = out[
            "schedule_booking_messages_p90_ms"
        ]


# Every PostgreSQL database the bench creates carries this comment; the bench drops a database
# only if it does. A database of that name without it (anyone's, on a shared server) is never
# touched: the bench stops and says so.
BENCH_DB_MARK = "Daisy bench database (made by `daisy bench`, which drops and rebuilds it)"


class NotOurDatabase(RuntimeError):
    pass


def _pg_database_state(admin: str, name: str) -> str:
    """'missing', 'ours' (carries BENCH_DB_MARK) or 'foreign'."""
    import psycopg

    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as db:
        row = db.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
    if row is None:
        return "missing"
    return "ours" if row[0] == BENCH_DB_MARK else "foreign"


def _pg_make_database(url: str, *, replace: bool) -> None:
    """Create the bench database `url` names, marked as the bench's. With `replace`, one that
    exists is dropped first, but only if it carries the mark; a database the bench did not
    make is refused (NotOurDatabase), whatever its name."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    state = _pg_database_state(admin, name)
    if state == "foreign":
        raise NotOurDatabase(
            f'database "{name}" exists and was not made by the bench: it is left alone. '
            "Name another database for the bench with DAISY_BENCH_PG_URL=postgres://.../NAME"
        )
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as db:
        ident = sql.Identifier(name)
        if state == "ours":
            if not replace:
                return
            db.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(ident))
        db.execute(sql.SQL("CREATE DATABASE {}").format(ident))
        mark = sql.Literal(BENCH_DB_MARK)
        db.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(ident, mark))


def _pg_recreate_database(url: str) -> None:
    # Made afresh each run, as the SQLite scratch file is (its clinic is made anew).
    _pg_make_database(url, replace=True)


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _prepare(engine: str, url: str, *, force: bool) -> bool:
    """Make sure the database exists; wipe it unless it holds the current complete data set.
    Returns True when the worker will have to build the data set."""
    marker = config.dataset_marker()
    if engine == "sqlite":
        path = config.SQLITE_PATH
        present = False
        if path.exists() and not force:
            import sqlite3

            db = sqlite3.connect(path)
            try:
                present = bool(
                    db.execute("SELECT 1 FROM clinic_location WHERE slug = ?", (marker,))
                    .fetchall()
                )
            except sqlite3.DatabaseError:
                present = False
            finally:
                db.close()
        if not present:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return not present

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    state = _pg_database_state(admin, name)
    if state == "foreign":
        _pg_make_database(url, replace=True)  # raises NotOurDatabase
    present = False
    if state == "ours" and not force:
        with psycopg.connect(url, connect_timeout=5) as db:
            try:
                present = bool(
                    db.execute("SELECT 1 FROM clinic_location WHERE slug = %s", (marker,))
                    .fetchone()
                )
            except psycopg.errors.UndefinedTable:
                present = False
    if not present:
        _pg_make_database(url, replace=True)
    return not present


def _worker(engine: str, url: str, runs: int, warmups: int, patterns: list[str]) -> Any:
    env = dict(os.environ)
    env["DATABASE_URL"] = url
    env["DJANGO_SETTINGS_MODULE"] = "daisy.settings"
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(config.REPO_ROOT), env.get("PYTHONPATH", "")) if p
    )
    with tempfile.TemporaryDirectory(prefix="daisy-bench-") as tmp:
        out = Path(tmp) / "figures.json"
        cmd = [
            sys.executable, "-m", "bench.run", "worker", "--engine", engine, "--out", str(out),
            "--runs", str(runs), "--warmups", str(warmups),
        ]
        for p in patterns:
            cmd += ["--only", p]
        done = subprocess.run(cmd, cwd=config.REPO_ROOT, env=env, check=False)
        if done.returncode != 0 or not out.exists():
            raise SystemExit(f"the {engine} bench worker failed (exit {done.returncode})")
        return json.loads(out.read_text())


# --- targets, JSON and table ----------------------------------------------------------------


def _target(value: float | None, limit: float | None, op: str, **info: Any) -> dict[str, Any]:
    if value is None or limit is None:
        return {"pass": None, "status": "not measured", **info}
    ok = {"<=": value <= limit, "<": value < limit, ">=": value >= limit, ">": value > limit}[op]
    return {
        "value": round(value, 3),
        "limit": round(limit, 3),
        "op": op,
        "pass": ok,
        "status": "PASS" if ok else "FAIL",
        **info,
    }


def _get(figures: dict[str, Any], *path: str) -> Any:
    node: Any = figures
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


# Targets with a fixed limit: name -> (path to the value in the figures, op, limit, rule).
# Issue 2 item 9; issue 3 item 9 (HTTP, gunicorn with 2 workers, concurrency 2); issues 4, 5
# and 6. "info_" rows come from research/performance.md section 7 (P1) and only inform.
FIXED_TARGETS: dict[str, tuple[tuple[str, ...], str, float, str]] = {
    "availability_7d_p95_lt_15ms": (
        ("availability_7d_ms", "p95_ms"), "<", 15.0,
        'availability_7d_ms p95 < 15 ms (SQLite)',
    ),
    "scaling_days_ratio_le_2.2": (
        ("scaling", "days", "ratio"), "<=", 2.2,
        'availability median, 90 days / 45 days <= 2.2 (GC on)',
    ),
    "scaling_specialists_ratio_le_2.2": (
        ("scaling", "specialists", "ratio"), "<=", 2.2,
        'availability median (90 days), whole clinic / half the specialists, rooms and pens '
        '<= 2.2 (GC on)',
    ),
    "info_scaling_days_by_specialist_ratio_le_2.2": (
        ("scaling", "days_by_specialist", "ratio"), "<=", 2.2,
        "availability by specialist (largest answers), 90 days / 45 days <= 2.2 (GC on)",
    ),
    "info_P1_availability_90d_p95_le_150ms_sqlite": (
        ("availability_90d_ms", "p95_ms"), "<=", 150.0,
        'performance.md P1 (in-process, not HTTP)',
    ),
    "info_P1_availability_90d_p95_le_150ms_postgres": (
        ("availability_90d_ms_postgres", "p95_ms"), "<=", 150.0,
        'performance.md P1 (in-process, not HTTP)',
    ),
    # Issue 15 item 5: read on the rotating, realistic set, against yardsticks measured in
    # the same run on the same server (so the ratios hold on any machine).
    "week_page_c8_ge_40pct_of_health": (
        ("http_ratios", "week_page_share_of_health_c8"), ">=", 0.40,
        "public week page (uncached, 8 connections) >= 40% of /api/v1/health's requests/s",
    ),
    "week_page_c8_p99_le_150ms": (
        ("http_week_page_c8", "p99_ms"), "<=", 150.0,
        "public week page (uncached) p99 <= 150 ms at 8 connections",
    ),
    "availability_7d_uncached_ge_50pct_of_one_query": (
        ("http_ratios", "availability_7d_uncached_share_of_one_query_c2"), ">=", 0.50,
        "7-day availability API, uncached >= 50% of a one-query Django view's requests/s "
        "(2 connections)",
    ),
    # Issue 3 item 9's figures measured the answer cache (one URL asked again and again). The
    # cache is gone (issue 15: no gain a client would notice on the rotating figures), so they
    # only inform: the same few questions, each computed again.
    "info_http_availability_7d_cached_p95_lt_25ms": (
        ("http_availability_7d_cached", "p95_ms"), "<", 25.0,
        "GET /api/v1/availability (7 days, six questions repeated, no answer cache) p95 < 25 ms, "
        "concurrency 2, SQLite (issue 3's target, set for the removed answer cache)",
    ),
    "info_http_availability_7d_cached_ge_300_req_s": (
        ("http_availability_7d_cached", "req_per_s"), ">=", 300.0,
        "GET /api/v1/availability (7 days, six questions repeated, no answer cache) >= 300 "
        "requests/s, concurrency 2 (issue 3's target, set for the removed answer cache)",
    ),
    "http_book_p99_lt_100ms": (
        ("http_book_sqlite", "p99_ms"), "<", 100.0,
        'POST /api/v1/appointments p99 < 100 ms, concurrency 2, SQLite',
    ),
    "messages_per_s_sqlite_1_worker_ge_200": (
        ("messages_per_s_sqlite_1_worker", "value"), ">=", 200.0,
        '1 `daisy worker`, SQLite: >= 200 messages/s',
    ),
    "messages_per_s_postgres_3_workers_ge_500": (
        ("messages_per_s_postgres_3_workers", "value"), ">=", 500.0,
        '3 `daisy worker` processes, PostgreSQL: >= 500 messages/s',
    ),
    **{
        f"{target}{suffix}": ((f"{figure}{suffix}", "p95_ms"), "<", limit, f"{rule} ({engine})")
        for suffix, engine in (("", "SQLite"), (PG_SUFFIX, "PostgreSQL"))
        for target, figure, limit, rule in (
            (
                "course_plan_6_p95_lt_100ms",
                "course_plan_ms",
                100.0,
                "6-session course plan, 3 important dates, bench clinic: p95 < 100 ms",
            ),
            (
                "course_plan_12_p95_lt_250ms",
                "course_plan_12_ms",
                250.0,
                "12-session course plan, bench clinic: p95 < 250 ms",
            ),
            (
                "site_week_fragment_p95_lt_30ms",
                "site_week_fragment_ms",
                30.0,
                "booking page's week of times (htmx fragment), server time p95 < 30 ms",
            ),
            (
                "site_pages_p95_lt_50ms",
                "site_pages_ms",
                50.0,
                "every public page, server time p95 < 50 ms (slowest page shown)",
            ),
        )
    },
    **{
        f"desk_day_p95_lt_60ms{suffix}": (
            (f"desk_day_ms{suffix}", "p95_ms"), "<", 60.0,
            "front desk day view, 20 specialists, 150 appointments: service p95 < 60 ms "
            f"({engine})",
        )
        for suffix, engine in (("", "SQLite"), (PG_SUFFIX, "PostgreSQL"))
    },
    **{
        f"{figure.removesuffix('_ms')}_p95_lt_1s{suffix}": (
            (f"{figure}{suffix}", "p95_ms"), "<", 1000.0,
            f"{what} over a year of a 20-specialist clinic: p95 < 1 s ({engine})",
        )
        for suffix, engine in (("", "SQLite"), (PG_SUFFIX, "PostgreSQL"))
        for figure, what in (
            ("report_utilisation_ms", "utilisation report"),
            ("report_attendance_ms", "no-show and late-cancellation report"),
            ("report_revenue_ms", "revenue report"),
            ("report_courses_ms", "course completion report"),
            ("report_rebooking_ms", "rebooking report"),
            ("report_delivery_ms", "message delivery report"),
            ("report_page_ms", "the reports page (all six, charts and tables)"),
        )
    },
    **{
        f"lot_recall_p95_lt_1s{suffix}": (
            (f"lot_recall_ms{suffix}", "p95_ms"), "<", 1000.0,
            "every client treated with a lot (list and CSV), 100,000 charted sessions: "
            f"p95 < 1 s ({engine})",
        )
        for suffix, engine in (("", "SQLite"), (PG_SUFFIX, "PostgreSQL"))
    },
    "http_desk_day_p99_lt_150ms": (
        ("http_desk_day", "p99_ms"), "<", 150.0,
        "GET /desk/<day>/ through gunicorn (2 workers), concurrency 2: p99 < 150 ms (SQLite)",
    ),
    "schedule_booking_messages_lt_5ms": (
        (BOOKING_MESSAGES_FIGURE, "value"), "<", 5.0,
        "enqueuing a real booking's messages < 5 ms (SQLite; PostgreSQL alongside)",
    ),
    # Six generic messages, not a booking's: the booking's real figure is the row above.
    "info_schedule_6_generic_lt_5ms": (
        (SCHEDULE_FIGURE, "value"), "<", 5.0,
        "scheduling 6 generic messages < 5 ms (SQLite); not a real booking's messages",
    ),
}


def targets(figures: dict[str, Any]) -> dict[str, Any]:
    def thrice(name: str) -> float | None:
        floor = _get(figures, name, "p95_ms")
        return None if floor is None else 3 * floor

    found = {
        name: _target(_get(figures, *path), limit, op, rule=rule)
        for name, (path, op, limit, rule) in FIXED_TARGETS.items()
    }
    # Targets whose limit is another figure, or whose value is a count.
    found["availability_90d_p95_le_3x_floor"] = _target(
        _get(figures, "availability_90d_ms", "p95_ms"), thrice("availability_floor_ms"), "<=",
        rule="availability_90d_ms p95 <= 3 x availability_floor_ms p95 (SQLite)",
    )
    found["info_P1_availability_90d_p95_le_3x_floor_postgres"] = _target(
        _get(figures, "availability_90d_ms_postgres", "p95_ms"),
        thrice("availability_floor_ms_postgres"),
        "<=",
        rule="performance.md P1 on PostgreSQL",
    )
    limit = _get(figures, "http_ratios", "availability_limit_per_address_per_s")
    capacity = _get(figures, "http_ratios", "availability_uncached_capacity_per_s")
    found["availability_rate_limit_per_address_above_uncached_capacity"] = _target(
        limit, capacity, ">",
        rule="default availability limit per address (requests/s) > one server's uncached "
        "availability requests/s (2 workers)",
    )
    for fault_figure in FAULT_FIGURES:
        for key in ("lost", "duplicates_not_recorded_unknown"):
            value = _get(figures, fault_figure, key)
            found[f"{fault_figure}_{key}_eq_0"] = _target(
                None if value is None else float(value), 0.0, "<=",
                rule=f"delivery under faults: {key.replace('_', ' ')} = 0",
            )
    queries = _get(figures, "availability_90d_ms", "queries")
    found["info_P1_availability_queries_le_8"] = _target(
        None if queries is None else float(queries), 8.0, "<=",
        rule="performance.md P1: <= 8 SQL queries per availability call",
    )
    return found


def _machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "node": platform.node(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
    }


def _git() -> dict[str, Any]:
    git = shutil.which("git")
    if not git:
        return {}
    def out(*args: str) -> str:
        done = subprocess.run(
            [git, *args], cwd=config.REPO_ROOT, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()
    return {"commit": out("rev-parse", "HEAD"), "dirty": bool(out("status", "--porcelain"))}


def _document(
    results: dict[str, Any], runs: int, warmups: int, patterns: list[str], elapsed: float
) -> dict[str, Any]:
    figures = results["figures"]
    engines = results["meta"]
    first = next(iter(engines.values()), {})
    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "python": platform.python_version(),
        "django": first.get("django"),
        "databases": {name: m.get("database") for name, m in engines.items()},
        "dataset": first.get("dataset"),
        "dataset_built_this_run": {name: m.get("built") for name, m in engines.items()},
        "runs": runs,
        "warmups": warmups,
        "only": patterns or None,
        "git": _git(),
        "seconds": round(elapsed, 1),
        "notes": results["notes"],
    }
    if any(name.startswith("http_") for name in figures):
        meta["http"] = {
            "server": "gunicorn, 2 sync workers (daisy serve's settings, no access log), "
            "rate limits off, on the SQLite bench data set (var/bench.sqlite3), clock moved "
            "to the data set's now (bench/api_wsgi.py)",
            "load_generator": "Python threads inside the bench worker process, one new "
            "connection per request, closed loop. It runs on the same "
            f"{os.cpu_count()} CPUs as the server and takes its share of them: figures are "
            "lower than a load generator on another machine would see; each level reports "
            "server and load-generator CPU ms per request.",
            "targets_read_at": "concurrency 2 (one request in flight per server worker)",
        }
    return {**figures, "meta": meta, "targets": targets(figures)}


def render(doc: dict[str, Any]) -> str:
    lines = [
        "",
        f"{'figure':<38}{'median':>11}{'p95':>11}{'runs':>6}{'cpu med':>11}  notes",
        "-" * 110,
    ]
    for name, fig in doc.items():
        if name in {"meta", "targets", "scaling", "profile", "http_ratios"} or not isinstance(
            fig, dict
        ):
            continue
        if fig.get("scale_case"):
            lines.append(f"{name:<38}{fig['value']:>9.2f} {fig['unit']:<12}  {fig['what']}")
        elif "median_ms" in fig:
            notes = []
            for key in ("slots", "queries", "rows", "busy_intervals", "booked"):
                if key in fig:
                    notes.append(f"{key}={fig[key]}")
            cpu = f"{fig['cpu_median_ms']:>9.2f}ms" if "cpu_median_ms" in fig else " " * 11
            lines.append(
                f"{name:<38}{fig['median_ms']:>9.2f}ms{fig['p95_ms']:>9.2f}ms{fig['runs']:>6}"
                f"{cpu}  " + " ".join(notes)
            )
        elif "req_per_s" in fig:
            levels = fig.get("levels") or {}
            size = f", {fig['example_bytes']} B/answer" if "example_bytes" in fig else ""
            lines.append(
                f"{name:<38}{fig['p50_ms']:>9.2f}ms{fig['p95_ms']:>9.2f}ms{fig['requests']:>6}"
                f"{'':>11}  {fig['req_per_s']:.1f} req/s at concurrency {fig['concurrency']}, "
                f"p99 {fig['p99_ms']:.1f} ms{size}"
                + ("; " if levels else "")
                + "  ".join(
                    f"c={c}: {lv['req_per_s']:.0f}/s p95 {lv['p95_ms']:.1f}"
                    for c, lv in levels.items()
                )
            )
        elif fig.get("unit") == "messages/s":
            lines.append(
                f"{name:<38}{fig['value']:>9.1f}/s{'':>11}{fig['count']:>6}{'':>11}  "
                f"in {fig['seconds']}s, worker CPU {fig['worker_cpu_ms_per_message']} ms/msg, "
                f"CPU-bound {fig['cpu_bound_messages_per_s']}/s, "
                f"unknown_outcomes={fig['unknown_outcomes']}"
            )
        elif fig.get("unit") == "fault run":
            lines.append(
                f"{name:<38}{fig['latency_p50_s']:>10}s{fig['latency_p95_s']:>10}s"
                f"{fig['messages']:>6}{'':>11}  lost={fig['lost']} "
                f"duplicates={fig['duplicates']} (not recorded as unknown: "
                f"{fig['duplicates_not_recorded_unknown']}) unconfirmed={fig['unconfirmed']} "
                f"kills={fig['kills']} texts during stall={fig['texts_sent_during_stall']} "
                f"email resumed {fig['email_resumed_s_after_stall']}s after it"
            )
        elif fig.get("unit") == "ms":
            pg = f", PostgreSQL {fig['postgres_ms']} ms" if "postgres_ms" in fig else ""
            detail = (
                f"one call per message: {fig['one_by_one_ms']} ms"
                if "one_by_one_ms" in fig
                else f"p90 {fig.get('p90_ms')} ms, {fig.get('messages_per_booking')} messages"
            )
            value = f"{fig['value']:>9.2f}ms" if "value" in fig else f"{'-':>11}"
            lines.append(f"{name:<38}{value}{'':>11}{'':>6}{'':>11}  {detail}{pg}")
        elif "value" in fig:
            lat = fig.get("latency") or {}
            lines.append(
                f"{name:<38}{fig['value']:>9.1f}/s{'':>11}{'':>6}{'':>11}  booked={fig['booked']} "
                f"unavailable={fig['slot_unavailable']} errors={sum(fig['errors'].values())} "
                f"in {fig['seconds']}s, latency p50/p95 "
                f"{lat.get('median_ms', 0):.1f}/{lat.get('p95_ms', 0):.1f} ms"
                + (" (queue ran out)" if fig.get("queue_exhausted") else "")
            )
    scaling = doc.get("scaling")
    if scaling:
        days, sp = scaling["days"], scaling["specialists"]
        lines.append("")
        lines.append(
            f"scaling (medians): days 45->90 x{days['ratio']}   "
            f"clinic halved->whole x{sp['ratio']}   (p95: x{days['ratio_p95']}, "
            f"x{sp['ratio_p95']}; process CPU: x{days.get('ratio_cpu')}, x{sp.get('ratio_cpu')})"
        )
        by = scaling.get("days_by_specialist")
        if by:
            lines.append(
                f"scaling, one slot per start and specialist: days 45->90 x{by['ratio']} "
                f"(process CPU x{by['ratio_cpu']})"
            )
    ratios = doc.get("http_ratios")
    if ratios:
        lines.append("")
        lines.append("ratios: " + "   ".join(f"{k} {v}" for k, v in ratios.items()))
    lines.append("")
    lines.append("targets:")
    for name, t in doc["targets"].items():
        if t["pass"] is None:
            lines.append(f"  [ -- ] {name}: not measured")
        else:
            lines.append(
                f"  [{t['status']}] {name}: {t['value']} {t['op']} {t['limit']}"
                f"   ({t.get('rule', '')})"
            )
    ds = doc["meta"].get("dataset") or {}
    if ds:
        lines.append("")
        lines.append(
            f"data set: {ds.get('specialists')} specialists, {ds.get('rooms')} rooms, "
            f"{ds.get('pens')} pens, {ds.get('appointments')} appointments, "
            f"{ds.get('allocations')} allocations, {ds.get('window')}; booked share of "
            f"open time {ds.get('booked_share')}"
        )
    if "profile" in doc:
        lines.append(f"profile: {doc['profile']['path']}")
    return "\n".join(lines)


# --- worker ---------------------------------------------------------------------------------


def worker_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench.run worker")
    parser.add_argument("--engine", required=True, choices=("sqlite", "postgres"))
    parser.add_argument("--out", required=True)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmups", type=int, default=3)
    parser.add_argument("--only", action="append", default=[])
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "daisy.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench import client_file, courses, dataset, desk, figures, records, reports, site

    began = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    _log(f"  migrated: {time.perf_counter() - began:.1f}s")
    built = None
    if dataset.bench_location() is None:
        built = dataset.build(_log)
        if connection.vendor == "postgresql":
            # Statistics as autovacuum would have them on a live database.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
    removed = figures.cleanup()
    if removed:
        _log(f"  removed {removed} appointments left by an interrupted run")
    bench = figures.make_bench(args.engine, args.runs, args.warmups, _selector(args.only), _log)
    suffix = "" if args.engine == "sqlite" else PG_SUFFIX
    both = dataclasses.replace(bench, wanted=lambda name: bench.wanted(name + suffix))
    try:
        measured = figures.run(bench)
        for module in (courses, site, desk, reports, client_file, records):
            measured.update({f"{k}{suffix}": v for k, v in module.run(both).items()})
    finally:
        figures.cleanup()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            version = f"SQLite {cursor.fetchone()[0]}"
        else:
            cursor.execute("SHOW server_version")
            version = f"PostgreSQL {cursor.fetchone()[0]}"
    meta = {
        "django": django.get_version(),
        "database": version,
        "dataset": dataset.summary(bench.location),
        "built": built,
    }
    Path(args.out).write_text(json.dumps({"figures": measured, "meta": meta}, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
