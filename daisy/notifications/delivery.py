"""The delivery loop that `daisy worker` and the `deliver_due` task run.

One round: sweep expired leases, claim one hand-off group of due messages (lease and hand-off
mark in one committed statement), then render each, call the channel, and record the results
(committed). A worker killed at any point leaves rows the sweep recovers: after their lease they
become outcome_unknown and are re-sent with the same Message-ID (the receiver de-duplicates).

The group size trades commits for exposure: a lost worker's group counts as "outcome unknown"
(at most DAISY_MESSAGE_HANDOFF_GROUP messages, each re-sent once under its own Message-ID),
while each commit pays one fsync on PostgreSQL. Only the group in hand is claimed: the rest of
the backlog stays pending, for any worker to take and for a cancel to stop.

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

from daisy.notifications.channels import Channel, Outgoing, PermanentFailure, channel_for
from daisy.notifications.models import Message
from daisy.notifications.rendering import render_message
from daisy.notifications.services import (
    DeliveryResult,
    messages_claim_due,
    messages_record_results,
    messages_sweep_expired_leases,
)

logger = logging.getLogger("daisy.notifications")


def lease_owner(prefix: str) -> str:
    """A lease owner unique to this process run: a restarted worker with the same --worker-id
    (or a recycled pid) must not mistake its predecessor's leases for its own."""
    return f"{prefix}:{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"[:100]


@dataclass
class DeliveryStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    released: int = 0
    swept: int = 0

    def add(self, other: DeliveryStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass
class Deliverer:
    owner: str
    clock: Callable[[], datetime] = timezone.now
    lease_seconds: float = field(default_factory=lambda: settings.DAISY_MESSAGE_LEASE_SECONDS)
    group: int = field(default_factory=lambda: settings.DAISY_MESSAGE_HANDOFF_GROUP)
    channel_factory: Callable[[str], Channel] = channel_for
    stop: threading.Event = field(default_factory=threading.Event)
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
                if not stats.claimed:
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
            owner=self.owner, now=self.clock(), limit=self.group, lease_seconds=self.lease_seconds
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
        now = self.clock()
        results: list[DeliveryResult] = []
        for row in group:
            attempts = row.attempts  # the claim counted this attempt
            # Stopping (SIGTERM) or out of lease time: give back what never went out, so that
            # no one waits for the lease to run out.
            if self.stop.is_set() or time.monotonic() > send_until:
                results.append(DeliveryResult(row.pk, "release", self.clock()))
                continue
            if row.expires_at is not None and row.expires_at <= now:
                results.append(
                    DeliveryResult(row.pk, "failed", now, error="expired before it could be sent")
                )
                continue
            try:
                out = self._outgoing(row)
            except Exception as exc:  # noqa: BLE001 - a broken template fails this message only
                logger.exception("message %s: rendering failed", row.pk)
                results.append(
                    DeliveryResult(row.pk, "failed", now, error=f"rendering failed: {exc!r}")
                )
                continue
            try:
                channel = self._channels.get(row.channel)
                if channel is None:
                    channel = self._channels[row.channel] = self.channel_factory(row.channel)
                    channel.open()
                provider_id = channel.send(out)
            except PermanentFailure as exc:
                results.append(DeliveryResult(row.pk, "failed", self.clock(), error=str(exc)))
                logger.warning("message %s failed for good: %s", row.pk, exc)
            except Exception as exc:  # noqa: BLE001 - any other error is worth another try
                error = str(exc) or type(exc).__name__
                results.append(
                    DeliveryResult(
                        row.pk,
                        "retry",
                        self.clock(),
                        attempts=attempts,
                        max_attempts=row.max_attempts,
                        error=error,
                    )
                )
                logger.warning("message %s attempt %d failed: %s", row.pk, attempts, error)
            else:
                results.append(
                    DeliveryResult(
                        row.pk,
                        "sent",
                        self.clock(),
                        provider_id=provider_id,
                        subject=out.subject,
                    )
                )
        messages_record_results(owner=self.owner, results=results)
        for r in results:
            if r.outcome == "sent":
                stats.sent += 1
            elif r.outcome == "retry" and r.attempts < r.max_attempts:
                stats.retried += 1
            elif r.outcome in ("retry", "failed"):
                stats.failed += 1
            else:
                stats.released += 1

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
    deliverer = Deliverer(owner=lease_owner(owner_prefix))
    return deliverer.drain(max_seconds=max_seconds)


def run_outbox_loop(
    *, owner: str, stop: threading.Event, poll_seconds: float | None = None
) -> None:
    """The worker's safety net: every poll interval, sweep and deliver what is due, until stop
    is set. Survives database outages (logs, waits, retries)."""
    poll = settings.DAISY_MESSAGE_POLL_SECONDS if poll_seconds is None else poll_seconds
    deliverer = Deliverer(owner=owner, stop=stop)
    while not stop.is_set():
        try:
            close_old_connections()
            deliverer.drain()
        except Exception:  # noqa: BLE001 - keep delivering through a transient database error
            logger.exception("outbox round failed")
            close_old_connections()
        stop.wait(poll)
