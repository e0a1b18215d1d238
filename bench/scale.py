"""scale_*: two web processes and two workers on PostgreSQL and Redis, under load and kills.

The figures are those of the test that shows the set-up works (tests/test_scale.py, issue 16
item 7), run here as it runs in `make test`: pytest on a test database of the bench's
PostgreSQL server (test_<bench database>_scale, made and dropped by pytest-django), a throwaway
redis-server and SMTP server of its own. The test writes its figures to DAISY_SCALE_FIGURES:

  scale_bookings_per_s_2_web      accepted bookings per second through the two web processes
                                  (each free time asked for twice at once; a web process's
                                  worker SIGKILLed a third of the way through)
  scale_messages_per_s_2_workers  400 emails due at once, per second through the two workers
                                  (one SIGKILLed a third of the way through and restarted)
  scale_web_recovery_s            from the web kill until the replacement process answers
  scale_worker_recovery_s         from the worker kill until every message it held is sent
                                  (its leases, 4 s in the test, run out first)

Run directly: python -m bench.scale [DATABASE_URL]"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
FIGURES = (
    "scale_bookings_per_s_2_web",
    "scale_messages_per_s_2_workers",
    "scale_web_recovery_s",
    "scale_worker_recovery_s",
)


def measure_scale(pg_url: str, *, timeout: float = 900.0) -> dict[str, Any]:
    """Run the scale test against `pg_url`'s server; its figures, or {"skipped": reason}."""
    parts = urlsplit(pg_url)
    scratch = urlunsplit(parts._replace(path=parts.path + "_scale"))
    with tempfile.TemporaryDirectory(prefix="daisy-bench-scale-") as tmp:
        out = Path(tmp) / "scale.json"
        env = {
            **os.environ,
            "DATABASE_URL": scratch,
            "DAISY_VAR_DIR": str(Path(tmp) / "var"),
            "DAISY_SCALE_FIGURES": str(out),
            "DJANGO_SETTINGS_MODULE": "daisy.settings",
        }
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "tests/test_scale.py",
                "-q",
                "-rs",
                "-p",
                "no:randomly",
                "--create-db",
            ],  # fmt: skip
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"tests/test_scale.py failed:\n{done.stdout[-4000:]}")
        if not out.exists():
            reason = [line for line in done.stdout.splitlines() if "SKIP" in line]
            return {"skipped": reason[-1] if reason else done.stdout[-500:]}
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def figures_of(out: dict[str, Any]) -> dict[str, dict[str, Any]]:
    common = {"scale_case": True, "db": "postgres", "detail": out}
    return {
        "scale_bookings_per_s_2_web": {
            **common,
            "value": out["bookings_per_s"],
            "unit": "bookings/s",
            "what": f"{out['bookings_accepted']} times each asked for twice at once through 2 "
            f"gunicorn processes (1 worker x 3 threads each), PostgreSQL + Redis rate limits, "
            f"a web worker SIGKILLed mid-load; {out['booking_requests_per_s']} requests/s "
            f"answered (201 or 409)",
        },
        "scale_messages_per_s_2_workers": {
            **common,
            "value": out["messages_per_s"],
            "unit": "messages/s",
            "what": f"{out['burst_messages']} emails due at once, 2 `daisy worker` processes, "
            "one SIGKILLed and restarted mid-burst, a real SMTP server on loopback",
        },
        "scale_web_recovery_s": {
            **common,
            "value": out["web_recovery_s"],
            "unit": "s",
            "what": "SIGKILL of a web process's gunicorn worker until its replacement answers",
        },
        "scale_worker_recovery_s": {
            **common,
            "value": out["worker_recovery_s"],
            "unit": "s",
            "what": f"SIGKILL of a worker holding {out['messages_in_hand_of_killed_worker']} "
            "messages until each is sent by another (lease 4 s)",
        },
    }


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ["DATABASE_URL"]
    print(json.dumps(measure_scale(url), indent=2))
