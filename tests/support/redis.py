"""A throwaway Redis for the tests that need one, as scripts/with-postgres is for PostgreSQL.

    with redis_server() as server:      # server.url: redis://127.0.0.1:PORT/0
        ...
        server.stop(); server.start()   # an outage, on the same port

Debian's `redis-server` program (package redis-server; .ci/run installs it) is started on a free
loopback port with a data directory of its own, nothing saved to disk, and stopped and deleted
afterwards: the tests never touch a Redis someone else uses (the machine's own on 6379 included),
so they may flush it, stop it and count on every key being theirs. REDIS_TEST_URL instead names a
server to use as given (it is flushed: point it at a database of its own).

Without either the test is skipped, except under CI=true, where it fails: the multi-process and
Redis tests are never skipped silently in CI."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unavailable(reason: str) -> None:
    """Skip, or fail under CI=true."""
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"Redis is needed and {reason} (CI=true: not skipped)")
    pytest.skip(f"Redis is needed and {reason}")


@dataclass
class RedisServer:
    port: int
    directory: Path
    external: str = ""
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return self.external or f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        if self.external:
            return
        log = open(self.directory / "redis.log", "ab")  # noqa: SIM115 - closed by the OS
        self.process = subprocess.Popen(
            [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.directory), "--save", "", "--appendonly", "no",
                "--protected-mode", "yes", "--daemonize", "no",
            ],  # fmt: skip
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited:\n{self.log()}")
            if self.ping():
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer within {timeout:.0f} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def flush(self) -> None:
        import redis

        redis.Redis.from_url(self.url, socket_timeout=5).flushdb()

    def log(self) -> str:
        path = self.directory / "redis.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    try:
        import redis  # noqa: F401 - the `scale` extra, in requirements.lock
    except ImportError:
        unavailable("the redis package is not installed (requirements.lock has it)")
    external = os.environ.get("REDIS_TEST_URL", "")
    if not external and shutil.which("redis-server") is None:
        unavailable("no redis-server program (Debian: apt-get install redis-server)")
    with tempfile.TemporaryDirectory(prefix="daisy-redis-") as tmp:
        server = RedisServer(port=_free_port(), directory=Path(tmp), external=external)
        server.start()
        if external:
            server.flush()
        try:
            yield server
        finally:
            server.stop()
