"""A real server process for the API tests that need one (the schemathesis fuzz, the booking
race) and for the HTTP bench: gunicorn on a free loopback port, on the *test* database (or the
one given), with rate limits off.

    with live_server(workers=2) as server:
        urllib.request.urlopen(f"{server.url}/api/v1/health")

The test must use `@pytest.mark.django_db(transaction=True)`: the server process sees only what
the test has committed. `server.log()` returns what gunicorn and Django wrote (errors with
their request ids), for failure messages."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.testing import current_database_url as database_url

REPO_ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self, tail: int = 6000) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return text[-tail:]


def _wait_ready(server: LiveServer, timeout: float) -> bool:
    """True once the server answers /api/v1/health; False if the process exited first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{server.url}/api/v1/health", timeout=2) as response:
                response.read()
            return True
        except urllib.error.HTTPError:  # 503: up, but the database is not (yet) answering
            return True
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer within {timeout:.0f} s:\n{server.log()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # gunicorn: graceful stop of the arbiter and workers
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def live_server(
    *,
    workers: int = 2,
    threads: int = 1,
    env: dict[str, str] | None = None,
    app: str = "daisy.wsgi:application",
    db_url: str | None = None,
    startup_timeout: float = 60.0,
) -> Iterator[LiveServer]:
    """gunicorn serving `app` on `db_url` (by default, the database this process uses: in a
    test, the test database); rate limits off unless `env` says so."""
    server_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "daisy.settings",
        "DATABASE_URL": db_url or database_url(),
        "DAISY_API_RATE_LIMITS": "{}",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
        ),
        **(env or {}),
    }
    with tempfile.TemporaryDirectory(prefix="daisy-live-") as tmp:
        log_path = Path(tmp) / "server.log"
        for _attempt in range(3):  # another process may take the free port before gunicorn
            port = free_port()
            argv = [
                sys.executable, "-m", "gunicorn", app,
                "--bind", f"127.0.0.1:{port}",
                "--workers", str(workers),
                "--threads", str(threads),
                "--timeout", "120",
                "--graceful-timeout", "5",
                "--log-level", "warning",
            ]  # fmt: skip
            with log_path.open("ab") as log:
                process = subprocess.Popen(
                    argv, cwd=REPO_ROOT, env=server_env, stdout=log, stderr=subprocess.STDOUT
                )
            server = LiveServer(f"http://127.0.0.1:{port}", process, log_path)
            try:
                if _wait_ready(server, startup_timeout):
                    break
            except BaseException:
                _stop(process)
                raise
            _stop(process)
        else:
            raise RuntimeError(f"the server would not start:\n{server.log()}")
        try:
            yield server
        finally:
            _stop(server.process)
