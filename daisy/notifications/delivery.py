"""The delivery loop that `daisy worker` and the `deliver_due` task run.

One round: sweep expired leases, claim (lease) one group of due messages, then for each: render
it, mark its hand-off in the commit that records the previous message's result, call the
channel. So results are recorded per message: a worker killed at any point leaves at most one
row marked without a result (the sweep makes it outcome_unknown and it is re-sent with the same
Message-ID), and the rest of its group simply goes back to pending when its lease runs out.

A channel that cannot reach its server (connect or greeting timed out, refused) is paused for
DAISY_CHANNEL_PAUSE_SECONDS in this worker process: its messages stay pending, unclaimed, while
the other channels and the rest of the work go on; after the pause one message tries again,
and delivery resumes when the server answers. A message the server had received in full but
never confirmed (a reply after the timeout, a dropped connection) ends `unconfirmed` and is not
sent again by itself: staff decide.

This module reads the clock (it runs for a long time); the services it calls take `now`."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from daisy.notifications.channels import (
    Channel,
    HandedOverUnconfirmed,
    Outgoing,
    PermanentFailure,
    ServerUnavailable,
    channel_for,
)
from daisy.notifications.models import Message
from daisy.notifications.rendering import render_message
from daisy.notifications.services import (
    DeliveryResult,
    messages_claim_due,
    messages_handoff,
    messages_record_results,
    messages_sweep_expired_leases,
)

logger = logging.getLogger("daisy.notifications")


def lease_owner(prefix: str) -> str:
    """A lease owner unique to this process run: a restarted worker with the same --worker-id
    (or a recycled pid) must not mistake its predecessor's leases for its own."""
    return f"{prefix}:{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"[:100]


class ChannelPauses:
    """Channels whose server did not answer, paused until a moment (monotonic seconds); shared
    by the outbox threads of one process, so one thread's timeout spares the others theirs."""

    def __init__(self, seconds: float | None = None) -> None:
        self._seconds = seconds
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def seconds(self) -> float:
        if self._seconds is not None:
            return self._seconds
        return float(settings.DAISY_CHANNEL_PAUSE_SECONDS)

    def pause(self, channel: str, reason: str) -> None:
        with self._lock:
            already = self._until.get(channel, 0.0) > time.monotonic()
            self._until[channel] = time.monotonic() + self.seconds
        if not already:
            logger.warning(
                "%s paused for %.0f s: the server did not answer (%s); its messages wait",
                channel,
                self.seconds,
                reason,
            )

    def resume(self, channel: str) -> None:
        with self._lock:
            self._until.pop(channel, None)

    def paused(self) -> set[str]:
        now = time.monotonic()
        with self._lock:
            return {name for name, until in self._until.items() if until > now}


# The pauses of the `deliver_due` tasks run in this process (each task makes a new Deliverer).
PROCESS_PAUSES = ChannelPauses()


@dataclass
class DeliveryStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unconfirmed: int = 0
    released: int = 0
    swept: int = 0

    def add(self, other: DeliveryStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    def count(self, results: Sequence[DeliveryResult]) -> None:
        for r in results:
            if r.outcome == "sent":
                self.sent += 1
            elif r.outcome == "retry" and r.attempts < r.max_attempts:
                self.retried += 1
            elif r.outcome in ("retry", "failed"):
                self.failed += 1
            elif r.outcome == "unconfirmed":
                self.unconfirmed += 1
            else:
                self.released += 1


@dataclass
class Deliverer:
    owner: str
    clock: Callable[[], datetime] = timezone.now
    lease_seconds: float = field(default_factory=lambda: settings.DAISY_MESSAGE_LEASE_SECONDS)
    group: int = field(default_factory=lambda: settings.DAISY_MESSAGE_HANDOFF_GROUP)
    channel_factory: Callable[[str], Channel] = channel_for
    stop: threading.Event = field(default_factory=threading.Event)
    pauses: ChannelPauses = field(default_factory=ChannelPauses)
    # Open channels (one SMTP connection...) kept across the groups of one drain.
    _channels: dict[str, Channel] = field(default_factory=dict, repr=False)

    def run_once(self) -> DeliveryStats:
        """Sweep, claim one group, deliver it. Returns what happened."""
        try:
            return self._round()
        finally:
            self._close_channels()

    def drain(self, *, max_seconds: float | None = None) -> DeliveryStats:
        """Deliver until nothing is due (or the time is up, or stop is set)."""
        total = DeliveryStats()
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        try:
            while not self.stop.is_set():
                stats = self._round()
                total.add(stats)
                if not stats.claimed or stats.released == stats.claimed:
                    break
                if deadline is not None and time.monotonic() > deadline:
                    break
        finally:
            self._close_channels()
        return total

    def _round(self) -> DeliveryStats:
        stats = DeliveryStats()
        stats.swept = messages_sweep_expired_leases(now=self.clock()).total
        claimed_at = time.monotonic()
        rows = messages_claim_due(
            owner=self.owner,
            now=self.clock(),
            limit=self.group,
            lease_seconds=self.lease_seconds,
            exclude_channels=self.pauses.paused(),
        )
        stats.claimed = len(rows)
        if rows:
            # Stop handing off well before the lease runs out, or the sweep would re-send what
            # this worker is still sending.
            margin = min(30.0, self.lease_seconds / 4)
            self._deliver_group(rows, stats, send_until=claimed_at + self.lease_seconds - margin)
        return stats

    def _close_channels(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()

    def _deliver_group(
        self, group: Sequence[Message], stats: DeliveryStats, *, send_until: float
    ) -> None:
        # The result of the message just handed off, recorded with the next one's hand-off mark.
        previous: list[DeliveryResult] = []
        released: list[DeliveryResult] = []
        for row in group:
            # Stopping (SIGTERM), out of lease time or its channel paused: give back what never
            # went out, so that no one waits for the lease to run out.
            if (
                self.stop.is_set()
                or time.monotonic() > send_until
                or row.channel in self.pauses.paused()
            ):
                released.append(DeliveryResult(row.pk, "release", self.clock()))
                continue
            now = self.clock()
            early = self._before_handoff(row, now)
            if isinstance(early, DeliveryResult):
                # Nothing goes out: recorded at once, on its own (a row not handed off).
                messages_record_results(owner=self.owner, results=[early])
                stats.count([early])
                continue
            if not messages_handoff(owner=self.owner, message_id=row.pk, now=now, results=previous):
                # Cancelled since the claim (or no longer ours): it must not go out.
                stats.count(previous)
                previous = []
                continue
            stats.count(previous)
            previous = [self._send(row, early, attempts=row.attempts + 1)]
        if previous:
            messages_record_results(owner=self.owner, results=previous)
            stats.count(previous)
        if released:
            messages_record_results(owner=self.owner, results=released)
            stats.count(released)

    def _before_handoff(self, row: Message, now: datetime) -> DeliveryResult | Outgoing:
        """What to send, or why this message fails without being handed off."""
        if row.expires_at is not None and row.expires_at <= now:
            return DeliveryResult(row.pk, "failed", now, error="expired before it could be sent")
        try:
            return self._outgoing(row)
        except Exception as exc:  # noqa: BLE001 - a broken template fails this message only
            logger.exception("message %s: rendering failed", row.pk)
            return DeliveryResult(row.pk, "failed", now, error=f"rendering failed: {exc!r}")

    def _send(self, row: Message, out: Outgoing, *, attempts: int) -> DeliveryResult:
        try:
            channel = self._channels.get(row.channel)
            if channel is None:
                channel = self._channels[row.channel] = self.channel_factory(row.channel)
                channel.open()
            provider_id = channel.send(out)
        except PermanentFailure as exc:
            logger.warning("message %s failed for good: %s", row.pk, exc)
            return DeliveryResult(row.pk, "failed", self.clock(), error=str(exc))
        except HandedOverUnconfirmed as exc:
            logger.warning("message %s handed over, not confirmed: %s", row.pk, exc)
            return DeliveryResult(
                row.pk, "unconfirmed", self.clock(), attempts=attempts, error=str(exc)
            )
        except Exception as exc:  # noqa: BLE001 - any other error is worth another try
            error = str(exc) or type(exc).__name__
            if isinstance(exc, ServerUnavailable):
                self.pauses.pause(row.channel, error)
            logger.warning("message %s attempt %d failed: %s", row.pk, attempts, error)
            return DeliveryResult(
                row.pk,
                "retry",
                self.clock(),
                attempts=attempts,
                max_attempts=row.max_attempts,
                error=error,
            )
        self.pauses.resume(row.channel)
        return DeliveryResult(
            row.pk, "sent", self.clock(), provider_id=provider_id, subject=out.subject
        )

    @staticmethod
    def _outgoing(row: Message) -> Outgoing:
        rendered = render_message(row)
        return Outgoing(
            message_id=row.pk,
            message_id_header=row.message_id_header,
            idempotency_key=row.idempotency_key,
            recipient=row.recipient,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            attachments=rendered.attachments,
            # A re-send after an unknown outcome: the provider may already have it.
            is_resend=row.unknown_outcomes > 0,
        )


def deliver_due_now(*, owner_prefix: str = "task", max_seconds: float = 60.0) -> DeliveryStats:
    """What the `deliver_due` task runs: drain what is due, for at most `max_seconds`."""
    deliverer = Deliverer(owner=lease_owner(owner_prefix), pauses=PROCESS_PAUSES)
    return deliverer.drain(max_seconds=max_seconds)


def run_outbox_loop(
    *,
    owner: str,
    stop: threading.Event,
    poll_seconds: float | None = None,
    pauses: ChannelPauses | None = None,
) -> None:
    """The worker's safety net: every poll interval, sweep and deliver what is due, until stop
    is set. Survives database outages (logs, waits, retries)."""
    poll = settings.DAISY_MESSAGE_POLL_SECONDS if poll_seconds is None else poll_seconds
    deliverer = Deliverer(owner=owner, stop=stop, pauses=pauses or PROCESS_PAUSES)
    while not stop.is_set():
        try:
            close_old_connections()
            deliverer.drain()
        except Exception:  # noqa: BLE001 - keep delivering through a transient database error
            logger.exception("outbox round failed")
            close_old_connections()
        stop.wait(poll)
