"""`daisy worker`: the background worker (DESIGN.md 5).

Four loops in one process:
- a heartbeat thread (WorkerHeartbeat row; the health endpoint turns red after 5 minutes);
- the outbox thread: every poll interval, sweep expired leases and deliver due messages
  (daisy.notifications.delivery) — the safety net that needs no task at all;
- the task queue (django-tasks-db, in every set-up: REDIS_URL does not change it) in the main
  thread, which runs `deliver_due` promptly after a message is scheduled, and any other task;
- periodic jobs the apps declare (`periodic_jobs` on their AppConfig), e.g. course follow-ups:
  each idempotent, as every worker runs them.

SIGTERM/SIGINT stop it gracefully: the message being handed off is finished and recorded, the
rest of its group is released for other workers. SIGKILL loses nothing either: the sweep
recovers the leases after DAISY_MESSAGE_LEASE_SECONDS."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import task_backends

from daisy.notifications.delivery import lease_owner, run_outbox_loop
from daisy.notifications.services import worker_heartbeat_beat

logger = logging.getLogger("daisy.worker")


def periodic_jobs() -> list[tuple[str, Callable[..., Any], float]]:
    """(name, function taking `now`, every N seconds) from each app's `periodic_jobs`. The apps
    declare them, so the worker knows nothing of what they do (DESIGN.md 3: notifications knows
    nothing of scheduling). Each job must be idempotent: every worker runs it."""
    jobs = []
    for config in apps.get_app_configs():
        for path, seconds in getattr(config, "periodic_jobs", ()):
            jobs.append((path, import_string(path), float(seconds)))
    return jobs


def run_periodic_jobs(
    jobs: list[tuple[str, Callable[..., Any], float]],
    *,
    stop: threading.Event,
    clock: Callable[[], Any] = timezone.now,
) -> None:
    """Run each job at start and then every its own interval, until `stop` is set. A failing
    job is logged and tried again at its next turn; it never stops the others."""
    next_at = {path: 0.0 for path, _, _ in jobs}
    while jobs and not stop.is_set():
        for path, job, seconds in jobs:
            if time.monotonic() < next_at[path]:
                continue
            try:
                job(now=clock())
            except Exception:  # noqa: BLE001 - a periodic job must not kill the worker
                logger.exception("periodic job %s failed", path)
                close_old_connections()
            next_at[path] = time.monotonic() + seconds
        stop.wait(max(1.0, min(next_at.values()) - time.monotonic()))


class Command(BaseCommand):
    # A worker restarted after a crash should be delivering within a second; the system checks
    # (URLs, the API schema...) belong to deploys and `daisy check`, not to every start.
    requires_system_checks: list[str] = []
    help = (
        "Run the background worker: message delivery (outbox), the task queue, and a heartbeat "
        "the health check reads."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="task queue poll (s)")
        parser.add_argument("--heartbeat", type=float, default=30.0)
        parser.add_argument("--worker-id", default=f"{socket.gethostname()}-{os.getpid()}")
        parser.add_argument(
            "--poll",
            type=float,
            default=None,
            help="outbox poll interval in seconds (default DAISY_MESSAGE_POLL_SECONDS)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=None,
            help="outbox threads, each with its own connections (default "
            "DAISY_MESSAGE_WORKER_THREADS): overlaps the waits on the mail server",
        )
        parser.add_argument(
            "--no-tasks", action="store_true", help="deliver messages only; run no task queue"
        )
        parser.add_argument(
            "--no-periodic",
            action="store_true",
            help="run no periodic jobs (the apps' periodic_jobs, e.g. course follow-ups)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        worker_id = options["worker_id"][:64]
        started = timezone.now()
        stop = threading.Event()

        def beat() -> None:
            try:
                while not stop.is_set():
                    try:
                        worker_heartbeat_beat(
                            worker_id=worker_id, started_at=started, now=timezone.now()
                        )
                    except Exception:  # keep beating through a transient database error
                        logger.exception("heartbeat failed")
                        close_old_connections()
                    stop.wait(options["heartbeat"])
            finally:
                connection.close()

        def outbox(n: int) -> None:
            try:
                run_outbox_loop(
                    owner=lease_owner(f"{worker_id}/{n}"), stop=stop, poll_seconds=options["poll"]
                )
            finally:
                connection.close()

        def periodic() -> None:
            try:
                run_periodic_jobs(periodic_jobs(), stop=stop)
            finally:
                connection.close()

        count = options["threads"] or settings.DAISY_MESSAGE_WORKER_THREADS
        threads = [threading.Thread(target=beat, name="heartbeat", daemon=True)] + [
            threading.Thread(target=outbox, args=(n,), name=f"outbox-{n}", daemon=True)
            for n in range(max(1, count))
        ]
        if not options["no_periodic"]:
            threads.append(threading.Thread(target=periodic, name="periodic", daemon=True))
        for thread in threads:
            thread.start()
        self.stdout.write(f"Worker {worker_id} started.")
        self.stdout.flush()
        try:
            if options["no_tasks"] or not self._has_db_queue():
                self._wait_for_signal(stop)
            else:
                self._run_task_queue(worker_id, options["interval"])
        finally:
            stop.set()
            # Let the outbox finish the hand-off in progress and record it.
            for thread in threads:
                thread.join(timeout=settings.DAISY_MESSAGE_LEASE_SECONDS)
            self.stdout.write(f"Worker {worker_id} stopped.")

    @staticmethod
    def _has_db_queue() -> bool:
        from django_tasks_db.backend import DatabaseBackend

        return isinstance(task_backends["default"], DatabaseBackend)

    @staticmethod
    def _wait_for_signal(stop: threading.Event) -> None:
        def shutdown(signum: int, frame: Any) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, shutdown)
        signal.signal(signal.SIGINT, shutdown)
        while not stop.wait(1.0):
            pass

    @staticmethod
    def _run_task_queue(worker_id: str, interval: float) -> None:
        from django_tasks_db.management.commands.db_worker import Worker

        worker = Worker(
            queue_names=["*"],
            interval=interval,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        worker.configure_signals()
        worker.run()  # returns, or raises SystemExit from its signal handler
