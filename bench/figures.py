"""The measurements, run inside a worker process whose Django talks to one bench database."""

from __future__ import annotations

import cProfile
import gc
import io
import math
import pstats
import sqlite3
import statistics
import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from time import perf_counter, process_time
from typing import Any
from zoneinfo import ZoneInfo

from django.db import close_old_connections, connection, transaction
from django.test.utils import CaptureQueriesContext

from bench import config
from daisy.accounts.models import User
from daisy.audit.models import AuditEntry
from daisy.booking import services
from daisy.clients.models import Client
from daisy.clinic.models import Device, DeviceKind, Location, Resource, Room, Specialist
from daisy.core import slots
from daisy.lib.errors import SlotUnavailable
from daisy.records.defaults import QUESTIONS as SCREENING_QUESTIONS
from daisy.scheduling import selectors
from daisy.scheduling.models import Allocation, Appointment
from daisy.treatments.models import Treatment
from daisy.treatments.selectors import treatment_get
from tests.support.testing import precare_keys

Log = Callable[[str], None]


def stats(samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)
    n = len(ordered)
    return {
        "median_ms": round(statistics.median(ordered), 3),
        # Nearest rank: the smallest sample that at least 95% of the samples do not exceed.
        "p95_ms": round(ordered[max(0, math.ceil(0.95 * n) - 1)], 3),
        "min_ms": round(ordered[0], 3),
        "max_ms": round(ordered[-1], 3),
        "mean_ms": round(statistics.fmean(ordered), 3),
        "runs": n,
    }


@dataclass
class Timed:
    """One figure to time: `fn` is timed, `setup` (if any) runs untimed before every call."""

    name: str
    fn: Callable[[], Any]
    extra: dict[str, Any] = field(default_factory=dict)
    setup: Callable[[], Any] | None = None


@dataclass
class Bench:
    db: str
    location: Location
    treatment: Treatment
    runs: int
    warmups: int
    wanted: Callable[[str], bool]
    log: Log

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.location.time_zone)

    def day(self, offset: int) -> datetime:
        """Local midnight `offset` days after the data set's first day."""
        return datetime.combine(config.START + timedelta(days=offset), time(0), tzinfo=self.tz)

    def availability(self, days: int, first: int = 0) -> list[selectors.LocatedSlot]:
        return selectors.availability_list(
            treatment=self.treatment,
            window_start=self.day(first),
            window_end=self.day(first + days),
            now=config.NOW,
            location=self.location,
        )

    def time(
        self, items: list[Timed], *, diagnostic: bool = False, collect: bool = True
    ) -> dict[str, dict[str, Any]]:
        """Median and p95 of `runs` timed calls of each item after `warmups` untimed ones.

        Several items are timed round-robin (A B C A B C ...), so figures that are compared
        with each other (availability against its floor, 45 against 90 days) see the same
        machine load. Diagnostic figures (no target) take a third of the runs. With
        `collect`, a full garbage collection runs (untimed) before each call; without it, the
        collector runs whenever the calls' own allocations trigger it, as in a server."""
        runs = max(5, self.runs // 3) if diagnostic else self.runs
        warmups = min(1, self.warmups) if diagnostic else self.warmups
        for _ in range(warmups):
            for item in items:
                if item.setup:
                    item.setup()
                item.fn()
        samples: dict[str, list[float]] = {item.name: [] for item in items}
        cpu: dict[str, list[float]] = {item.name: [] for item in items}
        for _ in range(runs):
            for item in items:
                if item.setup:
                    item.setup()
                if collect:
                    gc.collect()
                started, started_cpu = perf_counter(), process_time()
                item.fn()
                samples[item.name].append((perf_counter() - started) * 1000)
                cpu[item.name].append((process_time() - started_cpu) * 1000)
        out = {}
        for item in items:
            fig = {**stats(samples[item.name]), "warmups": warmups, "db": self.db}
            # CPU time of this process (not the database server's): less sensitive to other
            # load on the machine than the wall-clock figures above.
            cpu_stats = stats(cpu[item.name])
            fig["cpu_median_ms"], fig["cpu_p95_ms"] = cpu_stats["median_ms"], cpu_stats["p95_ms"]
            fig.update(item.extra)
            if len(items) > 1:
                fig["interleaved_with"] = [i.name for i in items if i is not item]
            self.log(
                f"  {item.name:<36} median {fig['median_ms']:9.2f} ms   "
                f"p95 {fig['p95_ms']:9.2f} ms"
            )
            out[item.name] = fig
        return out


def run(bench: Bench) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    if bench.db == "sqlite":
        _sqlite(bench, figures)
    else:
        _postgres(bench, figures)
    return figures



def warm_queries(fn: Any) -> int:
    """How many queries `fn()` makes once warm: called once untimed (caches fill), then counted."""
    fn()
    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured.captured_queries)

# --- SQLite: availability, floor, core, scaling, profile, booking ---------------------------


def _availability(bench: Bench, name: str, days: int, first: int = 0, **extra: Any) -> Timed:
    # Cold: the clinic's set-up is read as well (first call after any change to it); warm:
    # what every other call costs (the set-up cached under the database's stamp).
    selectors.caches_clear()
    with CaptureQueriesContext(connection) as cold:
        bench.availability(days, first)
    with CaptureQueriesContext(connection) as captured:
        found = bench.availability(days, first)
    return Timed(
        name,
        lambda: bench.availability(days, first),
        {
            "days": days,
            "first_day": (config.START + timedelta(days=first)).isoformat(),
            **extra,
            "slots": len(found),
            "queries": len(captured.captured_queries),
            "queries_cold": len(cold.captured_queries),
            "query_sql": [q["sql"][:240] for q in captured.captured_queries],
            "cache": "none: availability_list computes every answer; only the "
            "set-up (hours, overrides, closures, time off, eligible resources) is reused",
        },
    )


def _window_ids(bench: Bench) -> tuple[list[str], timedelta]:
    by_role = selectors.eligible_resources(bench.treatment, bench.location)
    ids = [info.id for infos in by_role.values() for info in infos]
    return ids, selectors.treatment_template(bench.treatment).total_duration


def _floor(bench: Bench, name: str) -> Timed:
    ids, total = _window_ids(bench)
    start, end = bench.day(0) - total, bench.day(config.DAYS) + total
    rows = sum(map(len, selectors.busy_rows(ids, start, end, now=config.NOW).values()))
    return Timed(
        name,
        lambda: selectors.busy_rows(ids, start, end, now=config.NOW),
        {
            "days": config.DAYS,
            "rows": rows,
            "resources": len(ids),
            "what": "selectors.busy_rows(all eligible resource ids, window +/- treatment "
            "length), exactly as booking_context calls it",
        },
    )


def _sqlite(bench: Bench, figures: dict[str, Any]) -> None:
    half = config.DAYS // 2
    # One round-robin group, so the figures compared by targets see the same machine load:
    # 90 days, its floor, 45 days, and 90 days with half the clinic. The last half of the
    # specialists, rooms and pens by name are deactivated (untimed) before each "half" call
    # and reactivated before each 90-day call, inside one transaction that is rolled back, so
    # the data set never changes. No collection is forced between calls: the garbage
    # collector runs when the answers' allocations trigger it, as in a server.
    everyone = list(
        Specialist.objects.filter(locations=bench.location, is_active=True).order_by("name")
    )
    rooms = list(Room.objects.filter(location=bench.location, is_active=True).order_by("name"))
    pens = list(
        Device.objects.filter(
            location=bench.location, is_active=True, device_kind=DeviceKind.MICRONEEDLING_PEN
        ).order_by("name")
    )
    dropped = [r.pk for group in (everyone, rooms, pens) for r in group[len(group) // 2 :]]

    def activate(active: bool) -> Callable[[], Any]:
        return lambda: Resource.objects.filter(pk__in=dropped).update(is_active=active)

    with transaction.atomic():
        group = []
        if bench.wanted("availability_90d_ms") or bench.wanted("scaling"):
            item = _availability(bench, "availability_90d_ms", config.DAYS)
            item.setup = activate(True)
            group.append(item)
        if bench.wanted("availability_floor_ms"):
            group.append(_floor(bench, "availability_floor_ms"))
        if bench.wanted("scaling"):
            group.append(_availability(bench, f"availability_{half}d_ms", half))
            activate(False)()
            eligible = selectors.eligible_resources(bench.treatment, bench.location)
            kept = len(eligible["specialist"])
            kept_all = {role: len(infos) for role, infos in eligible.items()}
            activate(True)()
            group.append(
                Timed(
                    f"availability_90d_ms_{kept}_specialists",
                    lambda: bench.availability(config.DAYS),
                    {"specialists": kept, "resources": kept_all},
                    activate(False),
                )
            )
        if bench.wanted("scaling"):
            # The biggest answers: one slot per start and specialist (the staff's view).
            for days in (config.DAYS, half):
                group.append(
                    Timed(
                        f"availability_{days}d_by_specialist_ms",
                        lambda days=days: _by_specialist(bench, days),
                        {"slots": len(_by_specialist(bench, days))},
                        activate(True),
                    )
                )
        figures.update(bench.time(group, collect=False))
        transaction.set_rollback(True)
    if bench.wanted("scaling"):
        _scaling(bench, figures, len(everyone), kept)

    group = []
    if bench.wanted("availability_7d_ms"):
        group.append(_availability(bench, "availability_7d_ms", 7))
    if bench.wanted("availability_7d_last_ms"):
        group.append(
            _availability(
                bench, "availability_7d_last_ms", 7, first=config.DAYS - 7,
                what="the data set's last week: about as many rows as the first week, but "
                "83 days of allocations start before it",
            )
        )
    figures.update(bench.time(group))

    if bench.wanted("availability_floor_raw_ms"):
        _raw_floor(bench, figures)
    if bench.wanted("context_90d_ms"):
        figures.update(
            bench.time(
                [
                    Timed(
                        "context_90d_ms",
                        lambda: selectors.booking_context(
                            treatment=bench.treatment,
                            location=bench.location,
                            window_start=bench.day(0),
                            window_end=bench.day(config.DAYS),
                        ),
                        {"what": "selectors.booking_context alone (its queries and building "
                         "the candidates)"},
                    )
                ],
                diagnostic=True,
            )
        )
    if bench.wanted("core_90d_ms"):
        _core(bench, figures)
    if bench.wanted("profile"):
        _profile(bench, figures)
    # Through HTTP (a gunicorn process on this database), before any in-process booking.
    from bench import api_http, realistic

    realistic.measure(bench, figures)
    api_http.measure(bench, figures, "sqlite")
    if bench.wanted("book_ms_sqlite"):
        _book(bench, figures, "book_ms_sqlite")


def _by_specialist(bench: Bench, days: int) -> list[selectors.LocatedSlot]:
    return selectors.availability_list(
        treatment=bench.treatment,
        window_start=bench.day(0),
        window_end=bench.day(days),
        now=config.NOW,
        location=bench.location,
        group_by_specialist=True,
    )


def _raw_floor(bench: Bench, figures: dict[str, Any]) -> None:
    """The floor's SQL through the stdlib driver with no type conversion (strings back): what
    the ORM's datetime parsing adds on top of SQLite itself."""
    ids, total = _window_ids(bench)
    start, end = bench.day(0) - total, bench.day(config.DAYS) + total
    query = Allocation.objects.filter(
        is_active=True, starts_at__lt=end, ends_at__gt=start, resource_id__in=ids
    ).values_list("resource_id", "starts_at", "ends_at")
    sql, params = query.query.sql_with_params()
    sql = sql.replace("%s", "?")  # Django's placeholders, as its SQLite backend rewrites them
    raw = sqlite3.connect(config.SQLITE_PATH)
    try:
        rows = len(raw.execute(sql, params).fetchall())
        item = Timed(
            "availability_floor_raw_ms",
            lambda: raw.execute(sql, params).fetchall(),
            {
                "rows": rows,
                "what": "same SQL as availability_floor_ms via stdlib sqlite3, strings not "
                "datetimes",
            },
        )
        figures.update(bench.time([item]))
    finally:
        raw.close()


def _core(bench: Bench, figures: dict[str, Any]) -> None:
    ctx = selectors.booking_context(
        treatment=bench.treatment,
        location=bench.location,
        window_start=bench.day(0),
        window_end=bench.day(config.DAYS),
    )
    rules = selectors.treatment_rules(bench.treatment)
    start, end = bench.day(0).astimezone(UTC), bench.day(config.DAYS).astimezone(UTC)

    def find() -> list[slots.Slot]:
        return slots.find_slots(
            template=ctx.template,
            candidates=ctx.candidates,
            window_start=start,
            window_end=end,
            tz=ctx.tz,
            now=config.NOW,
            rules=rules,
        )

    extra = {
        "slots": len(find()),
        "candidates": len(ctx.candidates),
        "busy_intervals": sum(len(c.busy) for c in ctx.candidates),
        "what": "daisy.core.slots.find_slots on candidates pre-built by "
        "selectors.booking_context",
    }
    figures.update(bench.time([Timed("core_90d_ms", find, extra)]))


def _scaling(bench: Bench, figures: dict[str, Any], everyone: int, kept: int) -> None:
    half = config.DAYS // 2
    d90 = figures["availability_90d_ms"]
    d45 = {k: v for k, v in figures.pop(f"availability_{half}d_ms").items() if k != "query_sql"}
    halved = figures.pop(f"availability_90d_ms_{kept}_specialists")
    by90 = figures.pop(f"availability_{config.DAYS}d_by_specialist_ms")
    by45 = figures.pop(f"availability_{half}d_by_specialist_ms")
    figures["scaling"] = {
        "days": {
            f"{half}d": d45,
            f"{config.DAYS}d_median_ms": d90["median_ms"],
            f"{config.DAYS}d_p95_ms": d90["p95_ms"],
            "ratio": round(d90["median_ms"] / d45["median_ms"], 3),
            "ratio_p95": round(d90["p95_ms"] / d45["p95_ms"], 3),
            "ratio_cpu": round(d90["cpu_median_ms"] / d45["cpu_median_ms"], 3),
        },
        "specialists": {
            f"{kept}_specialists": halved,
            f"{everyone}_specialists_median_ms": d90["median_ms"],
            f"{everyone}_specialists_p95_ms": d90["p95_ms"],
            "ratio": round(d90["median_ms"] / halved["median_ms"], 3),
            "ratio_p95": round(d90["p95_ms"] / halved["p95_ms"], 3),
            "ratio_cpu": round(d90["cpu_median_ms"] / halved["cpu_median_ms"], 3),
            "note": "half the specialists, rooms and pens (by name) deactivated inside a "
            "transaction that is rolled back: the clinic scaled as a whole",
            "resources_kept": halved.get("resources"),
        },
        "days_by_specialist": {
            f"{half}d": by45,
            f"{config.DAYS}d": by90,
            "ratio": round(by90["median_ms"] / by45["median_ms"], 3),
            "ratio_cpu": round(by90["cpu_median_ms"] / by45["cpu_median_ms"], 3),
            "note": "one slot per start and specialist: the largest answers, where the "
            "garbage collector's full passes show",
        },
        "ratio_basis": "median",
        "gc": "on, no collection forced between calls",
    }
    bench.log(
        f"  scaling: {half}->{config.DAYS} days x{figures['scaling']['days']['ratio']}, "
        f"{kept}->{everyone} specialists x{figures['scaling']['specialists']['ratio']}"
    )


def _profile(bench: Bench, figures: dict[str, Any]) -> None:
    out = io.StringIO()
    for days in (config.DAYS, 7):
        bench.availability(days)  # warm
        profiler = cProfile.Profile()
        profiler.enable()
        found = bench.availability(days)
        profiler.disable()
        for order in ("cumulative", "tottime"):
            out.write(f"=== availability_list {days} days ({len(found)} slots), by {order} ===\n")
            stream = io.StringIO()
            pstats.Stats(profiler, stream=stream).strip_dirs().sort_stats(order).print_stats(15)
            out.write(stream.getvalue())
            out.write("\n")
    config.PROFILE_PATH.write_text(out.getvalue())
    figures["profile"] = {"path": str(config.PROFILE_PATH)}
    bench.log(f"  profile of one 90-day and one 7-day call: {config.PROFILE_PATH}")


# --- booking ------------------------------------------------------------------------------


def _spaced_starts(bench: Bench, days: int = config.DAYS) -> list[datetime]:
    """Free starts from an availability answer, each at least one whole treatment (buffers
    included) after the previous, so that no two of them can compete for any resource."""
    total = selectors.treatment_template(bench.treatment).total_duration
    out: list[datetime] = []
    for ls in bench.availability(days):
        if not out or ls.slot.start >= out[-1] + total:
            out.append(ls.slot.start)
    return out


def audit_remove(entries: Any) -> int:
    """Remove the audit entries of the bench's own throwaway bookings, logins and tokens from
    the bench's own data set. Audit entries refuse delete() through the model (a clinic's trail
    is append-only); the bench database is not a clinic's, and a run must leave it as it was."""
    return int(entries._raw_delete(entries.db))


# An online client answers the pre-screen with no to every question (of every treatment's
# questionnaire in the shipped screening table: each treatment reads its own).
CLEAR_PRESCREEN = {q["key"]: False for q in SCREENING_QUESTIONS if q["is_online"]}


def _booker(n: int) -> tuple[User, list[Client]]:
    """The bench's booking login and `n` clients with no sessions yet (bench.dataset.newcomers:
    a client's needling sessions are at least 28 days apart)."""
    from bench.dataset import newcomers

    return User.objects.get(username="bench-client"), newcomers(n)


def _book(bench: Bench, figures: dict[str, Any], name: str) -> None:
    starts = _spaced_starts(bench)
    needed = bench.runs + bench.warmups + 1
    if len(starts) < needed:
        raise RuntimeError(f"only {len(starts)} spaced free starts for {needed} bookings")
    picks = deque(starts[:: len(starts) // needed][:needed])
    booker, clients = _booker(needed + 1)
    precare = precare_keys(bench.treatment)  # the bench's clients already follow it
    counter = iter(range(10**9))

    def book() -> None:
        services.appointment_book(
            client=clients[next(counter) % len(clients)],
            treatment=bench.treatment,
            starts_at=picks.popleft(),
            booked_by=booker,
            now=config.NOW,
            location=bench.location,
            notes=config.BENCH_NOTE,
            prescreen=CLEAR_PRESCREEN,
            precare_confirmed=precare,
        )

    with CaptureQueriesContext(connection) as captured:
        book()
    extra = {
        "queries": len(captured.captured_queries),
        "query_sql": [q["sql"][:240] for q in captured.captured_queries],
        "free_spaced_starts": len(starts),
        "what": "services.appointment_book at distinct free starts (online client, no key)",
    }
    figures.update(bench.time([Timed(name, book, extra)]))
    figures[name]["booked"] = Appointment.objects.filter(notes=config.BENCH_NOTE).count()


def _threads(bench: Bench, figures: dict[str, Any]) -> None:
    name = "bookings_per_s_8_threads_postgres"
    starts = deque(_spaced_starts(bench))
    queued = len(starts)
    booker, clients = _booker(queued)
    precare = precare_keys(bench.treatment)  # the bench's clients already follow it
    lock = threading.Lock()
    barrier = threading.Barrier(config.THREADS + 1)
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    box: dict[str, float] = {}

    def worker(k: int) -> None:
        try:
            Location.objects.filter(pk=bench.location.pk).exists()  # connect before the start
            barrier.wait()
            stop = box["stop"]
            n = 0
            while perf_counter() < stop:
                with lock:
                    if not starts:
                        outcomes["queue_empty"] += 1
                        break
                    at = starts.popleft()
                    who = clients[queued - len(starts) - 1]  # one newcomer a start
                began = perf_counter()
                try:
                    services.appointment_book(
                        client=who,
                        treatment=bench.treatment,
                        starts_at=at,
                        booked_by=booker,
                        now=config.NOW,
                        location=bench.location,
                        notes=config.BENCH_NOTE,
                        prescreen=CLEAR_PRESCREEN,
                        precare_confirmed=precare,
                    )
                    outcome = "booked"
                except SlotUnavailable:
                    outcome = "slot_unavailable"
                except Exception as exc:  # noqa: BLE001 - counted and reported
                    outcome = f"error:{type(exc).__name__}"
                ended = perf_counter()
                n += 1
                with lock:
                    outcomes[outcome] += 1
                    if outcome == "booked":
                        latencies.append((ended - began) * 1000)
                    box["last"] = max(box.get("last", 0.0), ended)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(config.THREADS)]
    for t in threads:
        t.start()
    box["stop"] = perf_counter() + config.THREAD_SECONDS  # set before releasing the barrier
    box["start"] = perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    close_old_connections()
    elapsed = box.get("last", box["start"]) - box["start"]
    booked = outcomes["booked"]
    figures[name] = {
        "value": round(booked / elapsed, 2) if elapsed > 0 else 0.0,
        "unit": "bookings/s",
        "threads": config.THREADS,
        "seconds": round(elapsed, 3),
        "booked": booked,
        "slot_unavailable": outcomes["slot_unavailable"],
        "errors": {k: v for k, v in outcomes.items() if k.startswith("error:")},
        "queue": queued,
        "queue_exhausted": outcomes["queue_empty"] > 0,
        "latency": stats(latencies) if latencies else None,
        "db": bench.db,
        "what": "8 threads, one connection each, booking distinct free starts (spaced by a "
        "whole treatment) through services.appointment_book for ~5 s",
    }
    bench.log(
        f"  {name:<36} {figures[name]['value']:9.1f} /s    ({booked} booked, "
        f"{outcomes['slot_unavailable']} unavailable, {sum(figures[name]['errors'].values())} "
        f"errors in {elapsed:.2f}s)"
    )


def _postgres(bench: Bench, figures: dict[str, Any]) -> None:
    group = []
    if bench.wanted("availability_90d_ms_postgres"):
        group.append(_availability(bench, "availability_90d_ms_postgres", config.DAYS))
    if bench.wanted("availability_floor_ms_postgres"):
        group.append(_floor(bench, "availability_floor_ms_postgres"))
    figures.update(bench.time(group))
    if bench.wanted("book_ms_postgres"):
        _book(bench, figures, "book_ms_postgres")
    if bench.wanted("bookings_per_s_8_threads_postgres"):
        _threads(bench, figures)


# --- housekeeping -------------------------------------------------------------------------


def cleanup() -> int:
    """Remove the appointments (and their audit entries) that bench runs booked."""
    ids = [str(pk) for pk in Appointment.objects.filter(notes=config.BENCH_NOTE).values_list(
        "pk", flat=True
    )]
    if not ids:
        return 0
    with transaction.atomic():
        audit_remove(
            AuditEntry.objects.filter(object_type="scheduling.appointment", object_id__in=ids)
        )
        Appointment.objects.filter(notes=config.BENCH_NOTE).delete()
    return len(ids)


def make_bench(db: str, runs: int, warmups: int, wanted: Callable[[str], bool], log: Log) -> Bench:
    from bench.dataset import bench_location

    location = bench_location()
    if location is None:
        raise RuntimeError("no bench data set in this database")
    return Bench(
        db=db,
        location=location,
        treatment=treatment_get(slug="microneedling"),
        runs=runs,
        warmups=warmups,
        wanted=wanted,
        log=log,
    )
