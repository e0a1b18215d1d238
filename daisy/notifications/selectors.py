from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from daisy.notifications.models import WorkerHeartbeat
from daisy.notifications.services import HEARTBEAT_STALE_AFTER_SECONDS


@dataclass(frozen=True)
class WorkerHealth:
    last_beat_at: datetime | None
    age_seconds: float | None
    is_healthy: bool


def worker_health(*, now: datetime) -> WorkerHealth:
    last = WorkerHeartbeat.objects.order_by("-beat_at").values_list("beat_at", flat=True).first()
    if last is None:
        return WorkerHealth(None, None, False)
    age = (now - last).total_seconds()
    return WorkerHealth(last, age, age <= HEARTBEAT_STALE_AFTER_SECONDS)
