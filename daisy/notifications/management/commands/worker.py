from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker

from daisy.notifications.services import worker_heartbeat_beat

logger = logging.getLogger("daisy.worker")


class Command(BaseCommand):
    help = "Run the background worker: task queue plus a heartbeat the health check reads."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=1.0)
        parser.add_argument("--heartbeat", type=float, default=30.0)
        parser.add_argument("--worker-id", default=f"{socket.gethostname()}-{os.getpid()}")

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

        thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
        thread.start()
        self.stdout.write(f"Worker {worker_id} started.")
        worker = Worker(
            queue_names=["*"],
            interval=options["interval"],
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        worker.configure_signals()
        try:
            worker.run()
        finally:
            stop.set()
            thread.join(timeout=5)
            self.stdout.write(f"Worker {worker_id} stopped.")
