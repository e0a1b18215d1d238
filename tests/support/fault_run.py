"""The delivery fault run (issue 16 item 6), shared by the slow test
(daisy/notifications/tests/test_faults.py) and `make bench` (bench/delivery_faults.py).

Real `daisy worker` processes deliver emails to a real SMTP server on loopback (aiosmtpd) and
texts to the fake SMS provider, while:
- the SMTP server misbehaves on purpose: some messages get their reply after the client's
  timeout (kept, answered late), some connections drop right after a message arrived (kept, no
  reply), some drop before the message (nothing kept); each only the first time;
- for `stall_seconds` (60) from `stall_at`, the SMTP server answers nothing at all;
- a running worker is killed with SIGKILL every `kill_every` seconds (never the last one
  running) and a new one started.

Reported: lost (must be 0), receptions beyond the first (duplicates), those not recorded as an
unknown outcome (must be 0), unconfirmed messages, delivery latency p50/p95 (first reception
minus due time), texts delivered during the stall, and how soon email resumed after it.

Needs Django set up on the database the workers use (the caller's connection commits)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.support.notifications import FakeTwilio, SmtpSink

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass
class FaultRun:
    emails: int = 160
    texts: int = 40
    spread_seconds: float = 30.0  # due times spread evenly over this long
    stall_at: float = 8.0  # seconds after the first message is due
    stall_seconds: float = 60.0
    kill_every: float = 2.0
    workers: int = 3
    about: str = "faults"
    timeout: float = 240.0
    seed: int = 20301216
    log_dir: Path = field(default_factory=lambda: Path("/tmp"))
    database_url: str = ""
    # SMTP: the client waits EMAIL_TIMEOUT for a reply; reaching the server has a shorter limit.
    email_timeout: int = 2
    late_seconds: float = 3.0


def _misbehaviour(seed: int) -> Any:
    """Per recipient, the first time only: ~3 % late replies, ~3 % dropped after the message,
    ~4 % dropped before it."""
    seen: Counter[tuple[str, str]] = Counter()
    lock = threading.Lock()

    def misbehave(phase: str, address: str) -> str | None:
        with lock:
            seen[(phase, address)] += 1
            first = seen[(phase, address)] == 1
        if not first:
            return None
        roll = random.Random(f"{seed}:{address}").random()
        if phase == "data" and roll < 0.03:
            return "late"
        if phase == "data" and roll < 0.06:
            return "drop"
        if phase == "mail" and 0.06 <= roll < 0.10:
            return "drop"
        return None

    return misbehave


def run(spec: FaultRun) -> dict[str, Any]:
    from django.db import connection, transaction
    from django.utils import timezone

    from daisy.notifications.models import Message, MessageStatus, WorkerHeartbeat
    from daisy.notifications.services import MessageSpec, message_schedule_many

    rng = random.Random(spec.seed)
    with SmtpSink() as sink, FakeTwilio() as twilio:
        sink.misbehave = _misbehaviour(spec.seed)
        sink.late_seconds = spec.late_seconds
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "daisy.settings",
            "DATABASE_URL": spec.database_url,
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
            ),
            **sink.env(),
            "EMAIL_TIMEOUT": str(spec.email_timeout),
            "DAISY_SMTP_CONNECT_TIMEOUT": "1",
            "DAISY_CHANNEL_PAUSE_SECONDS": "3",
            "DAISY_SMS_BACKEND": "twilio",
            "DAISY_TWILIO_BASE_URL": twilio.base_url,
            "DAISY_TWILIO_ACCOUNT_SID": twilio.account_sid,
            "DAISY_TWILIO_AUTH_TOKEN": twilio.auth_token,
            "DAISY_SMS_TIMEOUT": "2",
            "DAISY_MESSAGE_LEASE_SECONDS": "8",
            "DAISY_MESSAGE_HANDOFF_GROUP": "5",
            "DAISY_MESSAGE_POLL_SECONDS": "0.5",
            "DAISY_MESSAGE_RETRY_BASE_SECONDS": "1",
            "DAISY_MESSAGE_RETRY_MAX_SECONDS": "4",
            "DAISY_MESSAGE_MAX_ATTEMPTS": "50",
            "DAISY_MESSAGE_ENQUEUE_TASK": "0",
            "LOG_LEVEL": "WARNING",
        }
        procs: list[tuple[subprocess.Popen[bytes], str]] = []
        started_n = 0

        def start() -> None:
            nonlocal started_n
            started_n += 1
            log = open(spec.log_dir / f"fault-worker-{started_n}.log", "wb")  # noqa: SIM115
            proc = subprocess.Popen(
                [sys.executable, "-m", "daisy", "worker", "--no-tasks", "--no-periodic",
                 "--worker-id", f"{spec.about}-{started_n}", "--heartbeat", "1"],
                env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            procs.append((proc, f"{spec.about}-{started_n}"))

        def alive() -> list[tuple[subprocess.Popen[bytes], str]]:
            return [(p, t) for p, t in procs if p.poll() is None]

        ours = Message.objects.filter(about__startswith=f"{spec.about}:")
        try:
            for _ in range(spec.workers):
                start()
            deadline = time.monotonic() + 120
            while WorkerHeartbeat.objects.filter(worker_id__startswith=spec.about).count() < 1:
                if time.monotonic() > deadline:
                    raise RuntimeError("no worker started within 120 s")
                time.sleep(0.2)
            t0 = timezone.now() + timedelta(seconds=1)
            n = spec.emails + spec.texts
            every = max(1, n // spec.texts) if spec.texts else 0
            specs = []
            for i in range(n):
                sms = bool(every) and i % every == 0 and i // every < spec.texts
                specs.append(
                    MessageSpec(
                        channel="sms" if sms else "email",
                        recipient=f"+4477009{i:05d}" if sms else f"client{i}@example.com",
                        template="generic",
                        context={"paragraphs": [f"Message {i}"]},
                        send_after=t0 + timedelta(seconds=spec.spread_seconds * i / n),
                        dedupe_key=f"{spec.about}:{i}",
                        about=f"{spec.about}:{i % 50}",
                    )
                )
            with transaction.atomic():
                messages = message_schedule_many(messages=specs, now=timezone.now())
            wall_t0 = time.time() + (t0 - timezone.now()).total_seconds()
            mono_t0 = time.monotonic() + (t0 - timezone.now()).total_seconds()
            stall_start = mono_t0 + spec.stall_at
            stall_end = stall_start + spec.stall_seconds
            wall_stall_start = wall_t0 + spec.stall_at
            wall_stall_end = wall_stall_start + spec.stall_seconds
            kills = 0
            next_kill = time.monotonic() + spec.kill_every
            stalled = False
            final = [MessageStatus.SENT, MessageStatus.UNCONFIRMED, MessageStatus.FAILED]
            finished_at = None
            while True:
                now = time.monotonic()
                if not stalled and now >= stall_start:
                    sink.stall(spec.stall_seconds)
                    stalled = True
                if now >= next_kill:
                    # A worker that is running (it has beaten): a kill of one still importing
                    # Django tests nothing.
                    running = set(
                        WorkerHeartbeat.objects.filter(
                            worker_id__startswith=f"{spec.about}-"
                        ).values_list("worker_id", flat=True)
                    )
                    grown = [p for p, worker_id in alive() if worker_id in running]
                    # Never the last running worker: a clinic runs several, and a machine this
                    # busy may take longer than 2 s to start a new one.
                    if len(grown) >= 2:
                        victim = rng.choice(grown)
                        victim.send_signal(signal.SIGKILL)
                        victim.wait(timeout=10)
                        kills += 1
                        start()
                    next_kill += spec.kill_every
                if now > stall_end and not ours.exclude(status__in=final).exists():
                    finished_at = now
                    break
                if now - mono_t0 > spec.timeout:
                    break
                time.sleep(0.1)
        finally:
            for p, _t in alive():
                p.send_signal(signal.SIGTERM)
            for p, _t in procs:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        connection.close()
        rows = list(ours.values_list("id", "channel", "status", "unknown_outcomes", "send_after"))
        email_counts = sink.counts()
        firsts: dict[str, float] = {}
        for r in sorted(sink.received, key=lambda r: r.at):
            firsts.setdefault(r.message_id, r.at)
        sms_requests = [r for r in twilio.requests if r["key"]]
        sms_counts = Counter(r["key"] for r in sms_requests)
        for r in sorted(sms_requests, key=lambda r: r["at"]):
            firsts.setdefault(r["key"], r["at"])

    domain_header = {m.pk: m.message_id_header for m in messages}
    lost, dup_emails, unrecorded, latencies = [], 0, [], []
    statuses: Counter[str] = Counter()
    for pk, channel, status, unknown, due in rows:
        statuses[status] += 1
        key = domain_header[pk] if channel == "email" else str(pk)
        got = email_counts.get(key, 0) if channel == "email" else sms_counts.get(key, 0)
        delivered = key in twilio.delivered if channel == "sms" else got > 0
        if not delivered:
            lost.append(str(pk))
            continue
        if got > 1:
            dup_emails += (got - 1) if channel == "email" else 0
            if not unknown:
                unrecorded.append(str(pk))
        latencies.append(firsts[key] - due.timestamp())
    latencies.sort()
    emails_in_stall = [
        r for r in sink.received if wall_stall_start + 2 < r.at < wall_stall_end
    ]
    sms_in_stall = [r for r in sms_requests if wall_stall_start + 2 < r["at"] < wall_stall_end]
    after = [r.at for r in sink.received if r.at >= wall_stall_end]

    def pct(p: float) -> float | None:
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 2)

    return {
        "messages": len(rows),
        "emails": spec.emails,
        "texts": spec.texts,
        "kills": kills,
        "lost": len(lost),
        "lost_ids": lost[:10],
        "duplicates": dup_emails,
        "duplicates_not_recorded_unknown": len(unrecorded),
        "recorded_unknown_outcomes": sum(1 for r in rows if r[3]),
        "unconfirmed": statuses.get(MessageStatus.UNCONFIRMED, 0),
        "statuses": dict(statuses),
        "sms_repeated_requests": sum(n - 1 for n in sms_counts.values() if n > 1),
        "latency_p50_s": pct(0.50),
        "latency_p95_s": pct(0.95),
        "latency_max_s": round(latencies[-1], 2) if latencies else None,
        "stall_seconds": spec.stall_seconds,
        "emails_received_during_stall": len(emails_in_stall),
        "texts_sent_during_stall": len(sms_in_stall),
        "email_resumed_s_after_stall": round(min(after) - wall_stall_end, 2) if after else None,
        "finished_s_after_stall": (
            round(finished_at - stall_end, 1) if finished_at is not None else None
        ),
        "finished": finished_at is not None,
        "last_errors": [] if finished_at is not None else list(
            ours.exclude(status__in=final).values_list("status", "attempts", "last_error")[:5]
        ),
    }
