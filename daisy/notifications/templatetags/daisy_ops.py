"""The delivery health banner on staff pages (DESIGN.md 5, issue 6 item 7): red when no worker
has beaten for 5 minutes, amber when workers run but a due message has waited over 5 minutes,
nothing when all is well. The same reading as the health endpoint (worker_health)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from daisy.notifications.selectors import worker_health
from daisy.notifications.services import HEARTBEAT_STALE_AFTER_SECONDS

register = template.Library()


def _minutes(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds // 60)


@register.inclusion_tag("notifications/_health_banner.html")
def delivery_health_banner() -> dict[str, Any]:
    health = worker_health(now=timezone.now())
    backlog = health.oldest_due_age_seconds
    lagging = backlog is not None and backlog > HEARTBEAT_STALE_AFTER_SECONDS
    return {
        "show": not health.is_healthy or lagging,
        "level": "error" if not health.is_healthy else "warning",
        "healthy": health.is_healthy,
        "last_beat_at": health.last_beat_at,
        "beat_minutes": _minutes(health.age_seconds),
        "oldest_due_at": health.oldest_due_at,
        "oldest_minutes": _minutes(backlog),
    }
