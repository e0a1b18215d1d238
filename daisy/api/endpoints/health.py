"""Health: is the database reachable, is a worker beating, which version. No token needed."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Status

from daisy.api.docs import errors
from daisy.api.schemas import HealthOut
from daisy.lib import limits
from daisy.notifications.selectors import worker_health

logger = logging.getLogger("daisy.api")
router = Router(tags=["health"])


@router.get(
    "/health",
    auth=None,
    response={200: HealthOut, 503: HealthOut, **errors()},
    operation_id="health",
    summary="Service health (no token)",
    description=(
        "200 while the database answers (`status` is `degraded` when no worker has beaten "
        "for 5 minutes: pages and the API work, messages wait; or when Redis does not answer: "
        "rate-limited requests are refused); 503 when it does not."
    ),
)
def health(request: HttpRequest) -> Any:
    now = timezone.now()
    worker: dict[str, Any] = {
        "last_beat_at": None,
        "age_seconds": None,
        "healthy": False,
        "oldest_due_at": None,
        "oldest_due_age_seconds": None,
    }
    cache = "ok" if limits.ping() else "error"
    if cache == "error":
        logger.error("health check: Redis (REDIS_URL) does not answer")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        beat = worker_health(now=now)
    except Exception:  # noqa: BLE001 - reporting the outage is this endpoint's job
        logger.exception("health check: database unreachable")
        return Status(
            503,
            {
                "status": "error",
                "database": "error",
                "cache": cache,
                "worker": worker,
                "version": _version(),
            },
        )
    backlog = getattr(beat, "oldest_due_age_seconds", None)
    worker = {
        "last_beat_at": beat.last_beat_at,
        "age_seconds": _rounded(beat.age_seconds),
        "healthy": beat.is_healthy,
        "oldest_due_at": getattr(beat, "oldest_due_at", None),
        "oldest_due_age_seconds": _rounded(backlog),
    }
    return {
        "status": "ok" if beat.is_healthy and cache == "ok" else "degraded",
        "database": "ok",
        "cache": cache,
        "worker": worker,
        "version": _version(),
    }


def _rounded(seconds: float | None) -> float | None:
    return round(seconds, 3) if seconds is not None else None


def _version() -> str:
    return str(settings.DAISY_VERSION)
