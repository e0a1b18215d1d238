"""Shared fixtures for the notifications tests: a real SMTP server on loopback, a clock, and
real `daisy worker` processes pointed at the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from daisy.notifications.models import Message
from daisy.notifications.services import message_schedule, messages_handoff
from tests.support.notifications import SmtpSink
from tests.support.testing import current_database_url

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def sink(settings: Any) -> Iterator[SmtpSink]:
    with SmtpSink() as smtp:
        for key, value in smtp.settings().items():
            setattr(settings, key, value)
        yield smtp


@pytest.fixture(autouse=True)
def _quick_retries(settings: Any) -> None:
    settings.DAISY_MESSAGE_RETRY_BASE_SECONDS = 60
    settings.DAISY_MESSAGE_RETRY_MAX_SECONDS = 3600
    settings.DAISY_MESSAGE_ENQUEUE_TASK = False


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def schedule(
    n: int = 1,
    *,
    send_after: datetime = NOW,
    now: datetime = NOW,
    prefix: str = "t",
    about: str = "appointment:1",
    **overrides: Any,
) -> list[Message]:
    """n generic emails, due at send_after, in one transaction."""
    out = []
    with transaction.atomic():
        for i in range(n):
            values: dict[str, Any] = {
                "channel": "email",
                "recipient": f"client{i}@example.com",
                "template": "generic",
                "context": {"name": f"Client {i}", "paragraphs": [f"Message {prefix}{i}."]},
                "send_after": send_after,
                "dedupe_key": f"{prefix}:{i}",
                "about": about,
                "now": now,
            }
            values.update(overrides)
            out.append(message_schedule(**values))
    return out


def hand_off(owner: str, *messages: Message, now: datetime = NOW) -> None:
    """Mark the hand-off of claimed messages, as a worker does just before calling the channel."""
    for m in messages:
        assert messages_handoff(owner=owner, message_id=m.pk, now=now)


@pytest.fixture
def no_other_messages(db: None) -> None:
    """Start from an empty outbox (inside the test's transaction): a test about which due
    messages a claim takes must not see ones another test left committed."""
    Message.objects.all().delete()


# --- real worker processes ------------------------------------------------------------------


@dataclass
class Workers:
    """Start, kill and stop `python -m daisy worker` processes on the test database."""

    log_dir: Path
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    started: int = 0

    def start(self, **extra_env: str) -> subprocess.Popen[bytes]:
        self.started += 1
        n = self.started
        log = open(self.log_dir / f"worker-{n}.log", "wb")  # noqa: SIM115 - closed by the OS
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daisy",
                "worker",
                "--worker-id",
                f"test-worker-{n}",
                "--heartbeat",
                "1",
            ],
            env={**self.env, **extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def alive(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.procs if p.poll() is None]

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for p in self.alive():
            p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
            for path in sorted(self.log_dir.glob("worker-*.log"))
        )


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., Workers]]:
    made: list[Workers] = []

    def make(smtp: SmtpSink, **env: str) -> Workers:
        base = {**os.environ, "DJANGO_SETTINGS_MODULE": "daisy.settings"}
        base["DATABASE_URL"] = current_database_url()
        base.update(smtp.env())
        base.update(
            {
                "DAISY_MESSAGE_LEASE_SECONDS": "3",
                "DAISY_MESSAGE_POLL_SECONDS": "0.5",
                "DAISY_MESSAGE_RETRY_BASE_SECONDS": "1",
                "DAISY_MESSAGE_ENQUEUE_TASK": "0",
                "LOG_LEVEL": "WARNING",
            }
        )
        base.update(env)
        w = Workers(tmp_path, base)
        made.append(w)
        return w

    yield make
    for w in made:
        w.stop_all()
