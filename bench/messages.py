"""messages_per_s: how fast `daisy worker` processes deliver due messages to a real SMTP server.

    from bench.messages import measure_messages
    measure_messages("sqlite:////abs/path/var/bench.sqlite3", workers=1)          # target >= 200
    measure_messages("postgres://postgres@127.0.0.1:5432/daisy_bench", workers=3)  # target >= 500

Django-free in the calling process: it starts an aiosmtpd server on loopback in a thread and
one driver subprocess (`python -m bench.messages drive ...`, DATABASE_URL=database_url). The
driver migrates, inserts `count` messages due far in the future, starts the workers
(`python -m daisy worker --no-tasks`), waits for their heartbeats, makes every message due in
one UPDATE (t0), polls until all are sent (t1), stops the workers and deletes its rows again.
messages_per_s = count / (t1 - t0): worker start-up is not counted, the poll interval is (0.25 s).

It also reports `schedule_6_ms`: the median cost of scheduling a booking's six messages
(confirmation, two reminders, three check-ins) inside one transaction: what enqueuing adds to a
booking (issue 6 target: under 5 ms).

Run directly: python -m bench.messages [--workers N] [--count N] [DATABASE_URL]"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
ABOUT = "bench:messages"
POLL_SECONDS = "0.25"
STALL_SECONDS = 3.0


def measure_messages(
    database_url: str, workers: int, count: int = 10_000, *, timeout: float = 600.0
) -> dict[str, Any]:
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import resource

    from tests.support.notifications import SmtpSink

    with SmtpSink() as sink:
        before = resource.getrusage(resource.RUSAGE_SELF)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "daisy.settings",
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
            ),
            **sink.env(),
        }
        cmd = [
            sys.executable,
            "-m",
            "bench.messages",
            "drive",
            "--workers",
            str(workers),
            "--count",
            str(count),
            "--timeout",
            str(timeout),
        ]
        done = subprocess.run(
            cmd, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout + 120
        )
        if done.returncode != 0:
            raise RuntimeError(f"bench.messages driver failed:\n{done.stdout}\n{done.stderr}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        counts = sink.counts()
        result["smtp_received"] = sum(counts.values())
        result["smtp_unique"] = len(counts)
        after = resource.getrusage(resource.RUSAGE_SELF)
        smtp_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        result["smtp_server_cpu_ms_per_message"] = round(smtp_cpu * 1000 / count, 3)
        # What the measured CPU allows on this machine's cores with nothing else running: the
        # figure to compare with the target when the machine is busy with other work.
        total = (
            result["worker_cpu_ms_per_message"]
            + result["database_cpu_ms_per_message"]
            + result["smtp_server_cpu_ms_per_message"]
        )
        # Bounded by all cores together, by each worker process (one core: the GIL) and by the
        # single-threaded test SMTP server.
        worker_cpu = result["worker_cpu_ms_per_message"]
        smtp = result["smtp_server_cpu_ms_per_message"]
        limits = [1000 * (result["cpus"] or 1) / total] if total else []
        limits += [1000 * workers / worker_cpu] if worker_cpu else []
        limits += [1000 / smtp] if smtp else []
        result["cpu_bound_messages_per_s"] = round(min(limits), 1) if limits else None
    return result


# --- the driver (runs with Django set up on DATABASE_URL) ----------------------------------------


def _drive(workers: int, count: int, timeout: float) -> dict[str, Any]:
    import django

    django.setup()
    from datetime import UTC, datetime, timedelta

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from daisy.notifications.models import Message, MessageStatus, WorkerHeartbeat

    call_command("migrate", verbosity=0)
    Message.objects.filter(about__startswith="bench:").delete()
    WorkerHeartbeat.objects.filter(worker_id__startswith="bench-messages-").delete()
    created = timezone.now()
    far = datetime(2100, 1, 1, tzinfo=UTC)
    batch = []
    for i in range(count):
        batch.append(
            Message(
                channel="email",
                recipient=f"client{i % 500}@example.com",
                template="generic",
                context={
                    "name": f"Client {i}",
                    "subject": "Your appointment tomorrow",
                    "paragraphs": [
                        "We look forward to seeing you tomorrow at 10:30.",
                        "Please arrive ten minutes early.",
                    ],
                },
                dedupe_key=f"bench:{i}",
                about=ABOUT,
                send_after=far,
                created_at=created,
            )
        )
        if len(batch) == 1000:
            Message.objects.bulk_create(batch)
            batch = []
    Message.objects.bulk_create(batch)

    schedule_ms = _schedule_cost(transaction, timezone, timedelta)

    env = {
        **os.environ,
        "DAISY_MESSAGE_POLL_SECONDS": POLL_SECONDS,
        "LOG_LEVEL": "WARNING",
        "DAISY_MESSAGE_ENQUEUE_TASK": "0",
    }
    import tempfile

    logs = [tempfile.TemporaryFile(mode="w+") for _ in range(workers)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daisy",
                "worker",
                "--no-tasks",
                "--heartbeat",
                "1",
                "--worker-id",
                f"bench-messages-{n}",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            # A file, not a pipe: nobody reads a pipe during the run, and a worker that fills
            # one would block on its next log line.
            stderr=logs[n],
        )
        for n in range(workers)
    ]
    try:
        deadline = time.monotonic() + 60
        while (
            WorkerHeartbeat.objects.filter(
                worker_id__startswith="bench-messages-", beat_at__gte=created
            ).count()
            < workers
        ):
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError("the workers did not start")
            time.sleep(0.1)
        time.sleep(0.5)  # let each worker reach its outbox loop

        due = timezone.now()
        backends = _database_backends(connection)
        cpu_before = sum(_cpu_seconds(p.pid) for p in procs)
        db_cpu_before = {pid: _cpu_seconds(pid) for pid in backends}
        t0 = time.perf_counter()
        Message.objects.filter(about=ABOUT).update(send_after=due)
        deadline = time.monotonic() + timeout
        sent = 0
        stalls: list[dict[str, Any]] = []
        progress_at, stall_reported = time.monotonic(), False
        timeline: list[tuple[float, int]] = []  # (seconds after t0, sent), about once a second
        while sent < count:
            time.sleep(0.05)
            now_sent = Message.objects.filter(about=ABOUT, status=MessageStatus.SENT).count()
            elapsed = time.perf_counter() - t0
            if not timeline or elapsed - timeline[-1][0] >= 1.0:
                timeline.append((round(elapsed, 2), now_sent))
            if now_sent != sent:
                sent, progress_at, stall_reported = now_sent, time.monotonic(), False
            elif not stall_reported and time.monotonic() - progress_at > STALL_SECONDS:
                stalls.append(_stall_snapshot(t0, sent))
                stall_reported = True
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out with {sent}/{count} sent")
        t1 = time.perf_counter()
        cpu_seconds = sum(_cpu_seconds(p.pid) for p in procs) - cpu_before
        db_cpu_seconds = sum(
            _cpu_seconds(pid) - before
            for pid, before in db_cpu_before.items()
            if pid in _database_backends(connection)
        )
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
    worker_log_tails = []
    for log in logs:
        log.seek(0)
        text = log.read()
        log.close()
        if text.strip():
            worker_log_tails.append(text[-2000:])
    rows = Message.objects.filter(about=ABOUT)
    unknown = rows.filter(unknown_outcomes__gt=0).count()
    # Sent on a later attempt: a temporary failure, then a retry after the back-off.
    retried = rows.filter(attempts__gt=1).count()
    errors = sorted(set(rows.exclude(last_error="").values_list("last_error", flat=True)[:5]))
    per_worker = len(set(rows.values_list("leased_by", flat=True)))
    rows.delete()
    Message.objects.filter(about__startswith="bench:").delete()
    WorkerHeartbeat.objects.filter(worker_id__startswith="bench-messages-").delete()
    seconds = t1 - t0
    return {
        "engine": connection.vendor,
        "workers": workers,
        "count": count,
        "seconds": round(seconds, 3),
        "messages_per_s": round(count / seconds, 1),
        "unknown_outcomes": unknown,
        "retried": retried,
        "errors": errors,
        "workers_that_sent": per_worker,
        "schedule_6_ms": schedule_ms["many"],
        "schedule_6_one_by_one_ms": schedule_ms["one_by_one"],
        # CPU the workers used per message (a machine busy with other work slows the wall-clock
        # figure, not this one).
        "worker_cpu_ms_per_message": round(cpu_seconds * 1000 / count, 3),
        # PostgreSQL only: CPU of the workers' server processes (same machine).
        "database_cpu_ms_per_message": round(db_cpu_seconds * 1000 / count, 3),
        "cpus": os.cpu_count(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        # Each time delivery made no progress for STALL_SECONDS: where the undelivered rows were.
        "stalls": stalls,
        "timeline": timeline,
        "worker_logs": worker_log_tails,
    }


def _stall_snapshot(t0: float, sent: int) -> dict[str, Any]:
    """Where the undelivered bench messages are: counts by status, lease holder and whether their
    hand-off started, with each group's lease expiry; and what the database sessions wait on."""
    from django.db import connection
    from django.db.models import Count, Max, Min

    from daisy.notifications.models import Message, MessageStatus

    groups = (
        Message.objects.filter(about=ABOUT)
        .exclude(status=MessageStatus.SENT)
        .values("status", "leased_by", "handoff_started_at__isnull", "attempts", "last_error")
        .annotate(
            n=Count("pk"),
            lease_min=Min("lease_until"),
            lease_max=Max("lease_until"),
            due_min=Min("send_after"),
        )
        .order_by("status", "leased_by")
    )
    waits: list[Any] = []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid, state, wait_event_type, wait_event, "
                "now() - xact_start, left(query, 160) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            waits = [[str(c) for c in row] for row in cursor.fetchall()]
    return {
        "at_s": round(time.perf_counter() - t0, 2),
        "sent": sent,
        "undelivered": [
            {
                **g,
                "lease_min": str(g["lease_min"]),
                "lease_max": str(g["lease_max"]),
                "due_min": str(g["due_min"]),
            }
            for g in groups
        ],
        "sessions": waits,
    }


def _database_backends(connection: Any) -> set[int]:
    """PIDs of the other server processes on this database (the workers' connections)."""
    if connection.vendor != "postgresql":
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return {int(row[0]) for row in cursor.fetchall()}


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process, from /proc (0 where there is no /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _schedule_cost(transaction: Any, timezone: Any, timedelta: Any) -> dict[str, float]:
    """Median ms to schedule a booking's six messages in one transaction (rolled back), in one
    statement (message_schedule_many) and one call each (message_schedule)."""
    import statistics

    from daisy.notifications.services import MessageSpec, message_schedule, message_schedule_many

    class Rollback(Exception):
        pass

    kinds = (
        "confirmation",
        "reminder-48h",
        "reminder-24h",
        "checkin-1d",
        "checkin-3d",
        "checkin-7d",
    )
    out = {}
    for mode in ("many", "one_by_one"):
        samples = []
        for run in range(60):
            now = timezone.now()
            specs = [
                MessageSpec(
                    channel="email",
                    recipient="ada@example.com",
                    template="generic",
                    context={"name": "Ada", "paragraphs": ["See you on Thursday 10:30."]},
                    send_after=now + timedelta(hours=k),
                    dedupe_key=f"bench:{run}:{kind}",
                    about=f"bench:appointment:{run}",
                )
                for k, kind in enumerate(kinds)
            ]
            start = time.perf_counter()
            try:
                with transaction.atomic():
                    if mode == "many":
                        message_schedule_many(messages=specs, now=now)
                    else:
                        for sp in specs:
                            message_schedule(**vars(sp), now=now)
                    samples.append((time.perf_counter() - start) * 1000)
                    raise Rollback
            except Rollback:
                pass
        out[mode] = round(statistics.median(samples[10:]), 3)
    return out


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["drive"]:
        p = argparse.ArgumentParser()
        p.add_argument("--workers", type=int, required=True)
        p.add_argument("--count", type=int, required=True)
        p.add_argument("--timeout", type=float, default=600)
        args = p.parse_args(argv[1:])
        print(json.dumps(_drive(args.workers, args.count, args.timeout)), flush=True)
        return 0
    p = argparse.ArgumentParser(prog="python -m bench.messages")
    p.add_argument(
        "database_url",
        nargs="?",
        default=f"sqlite:///{REPO_ROOT / 'var' / 'bench-messages.sqlite3'}",
    )
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--count", type=int, default=10_000)
    args = p.parse_args(argv)
    print(json.dumps(measure_messages(args.database_url, args.workers, args.count), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
