"""delivery_faults_*: the delivery fault run of issue 16 item 6 at bench size (tests/support/
fault_run.py; the slow test daisy/notifications/tests/test_faults.py runs it with 200).

    from bench.delivery_faults import measure_faults
    measure_faults("sqlite:////abs/path/var/bench.sqlite3", emails=1600, texts=400)

One driver subprocess (`python -m bench.delivery_faults drive ...`, DATABASE_URL=database_url)
migrates, schedules the messages (due over 60 s), starts 3 `daisy worker` processes, SIGKILLs
one every 2 s (and starts another), lets the SMTP server reply late to some messages, drop
others and stall for 60 s, waits until every message is sent or unconfirmed, then deletes its
rows again. Reported: lost (must be 0), duplicates (emails received more than once), those not
recorded as an unknown outcome (must be 0), unconfirmed, and latency p50/p95 (first reception
minus due time: the 60 s stall is in it).

Run directly: python -m bench.delivery_faults [--emails N] [--texts N] [DATABASE_URL]"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
ABOUT = "bench-faults"


def measure_faults(
    database_url: str, *, emails: int = 1600, texts: int = 400, timeout: float = 900.0
) -> dict[str, Any]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "daisy.settings",
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
        ),
    }
    cmd = [
        sys.executable, "-m", "bench.delivery_faults", "drive",
        "--emails", str(emails), "--texts", str(texts), database_url,
    ]  # fmt: skip
    done = subprocess.run(
        cmd, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.delivery_faults driver failed:\n{done.stdout}\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _drive(emails: int, texts: int, database_url: str) -> dict[str, Any]:
    import django

    django.setup()
    import tempfile

    from django.core.management import call_command

    from daisy.notifications.models import Message, WorkerHeartbeat
    from tests.support.fault_run import FaultRun, run

    def clean() -> None:
        Message.objects.filter(about__startswith=f"{ABOUT}:").delete()
        WorkerHeartbeat.objects.filter(worker_id__startswith=f"{ABOUT}-").delete()

    call_command("migrate", verbosity=0)
    clean()
    with tempfile.TemporaryDirectory(prefix="daisy-bench-faults-") as logs:
        try:
            return run(
                FaultRun(
                    emails=emails,
                    texts=texts,
                    spread_seconds=60.0,
                    stall_at=10.0,
                    stall_seconds=60.0,
                    about=ABOUT,
                    timeout=600.0,
                    log_dir=Path(logs),
                    database_url=database_url,
                )
            )
        finally:
            clean()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    drive = argv[:1] == ["drive"]
    parser = argparse.ArgumentParser(prog="bench.delivery_faults")
    parser.add_argument("--emails", type=int, default=1600)
    parser.add_argument("--texts", type=int, default=400)
    parser.add_argument("database_url", nargs="?", default=os.environ.get("DATABASE_URL", ""))
    args = parser.parse_args(argv[1:] if drive else argv)
    if drive:
        os.environ["DATABASE_URL"] = args.database_url
        print(json.dumps(_drive(args.emails, args.texts, args.database_url)), flush=True)
        return 0
    print(json.dumps(measure_faults(args.database_url, emails=args.emails, texts=args.texts)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
