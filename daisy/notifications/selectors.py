from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Min, Q, QuerySet

from daisy.notifications.models import CLAIMABLE, Message, MessageStatus, WorkerHeartbeat
from daisy.notifications.services import HEARTBEAT_STALE_AFTER_SECONDS


@dataclass(frozen=True)
class WorkerHealth:
    last_beat_at: datetime | None
    age_seconds: float | None
    is_healthy: bool
    # The send_after of the oldest message that is due but not sent (claimable, or held by a
    # lease that ran out): how far behind delivery is. None when nothing is waiting.
    oldest_due_at: datetime | None = None
    oldest_due_age_seconds: float | None = None


def oldest_due_message_at(*, now: datetime) -> datetime | None:
    waiting = Q(status__in=CLAIMABLE, send_after__lte=now) | Q(
        status=MessageStatus.SENDING, lease_until__lt=now
    )
    return Message.objects.filter(waiting).aggregate(oldest=Min("send_after"))["oldest"]


def worker_health(*, now: datetime) -> WorkerHealth:
    last = WorkerHeartbeat.objects.order_by("-beat_at").values_list("beat_at", flat=True).first()
    oldest = oldest_due_message_at(now=now)
    oldest_age = (now - oldest).total_seconds() if oldest is not None else None
    if last is None:
        return WorkerHealth(None, None, False, oldest, oldest_age)
    age = (now - last).total_seconds()
    return WorkerHealth(last, age, age <= HEARTBEAT_STALE_AFTER_SECONDS, oldest, oldest_age)


def messages_list_for_about(*, about: str) -> QuerySet[Message]:
    """Every message about one thing ("appointment:<uuid>"), newest due first."""
    return Message.objects.filter(about=about).order_by("-send_after")


def messages_for_client(*, client_id: Any, limit: int = 200) -> list[Message]:
    """The messages sent (or to be sent) to a client, newest first, for their file at the desk."""
    return list(Message.objects.filter(client_id=client_id).order_by("-send_after")[:limit])
