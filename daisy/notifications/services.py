from __future__ import annotations

import os
import socket
from datetime import datetime

from daisy.notifications.models import WorkerHeartbeat

HEARTBEAT_STALE_AFTER_SECONDS = 300  # DESIGN.md 5: red when no worker has beaten for 5 minutes


def worker_heartbeat_beat(*, worker_id: str, started_at: datetime, now: datetime) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": socket.gethostname()[:200],
            "pid": os.getpid(),
            "started_at": started_at,
            "beat_at": now,
        },
    )
