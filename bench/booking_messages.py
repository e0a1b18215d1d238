"""schedule_booking_messages_ms: what enqueuing a booking's messages adds to the booking.

Times `appointment_messages_schedule` itself (daisy/aftercare/services.py), the call the booking
services make inside their transaction: read the treatment's protocol, date the timeline, word
and validate the confirmation (with its .ics), the reminders, the aftercare steps and the
check-ins, and insert them. Each sample runs in a transaction that is rolled back, on a client
who gets email and SMS (the most messages). Median and p90 of 200 samples after 20 warm-ups.
Issue 6 target: under 5 ms.

    python -m bench.booking_messages [DATABASE_URL]   # default: SQLite under DAISY_VAR_DIR

Give it a scratch database: it migrates it and adds a small clinic and one appointment. The
default SQLite file is deleted and made afresh on every run."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLES, WARMUP = 200, 20


def measure(database_url: str, *, profile: bool = False) -> dict[str, Any]:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "daisy.settings")
    os.environ["DAISY_MESSAGE_ENQUEUE_TASK"] = "0"
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import django

    django.setup()
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import connection, transaction

    from daisy.aftercare.services import appointment_messages_schedule, protocol_presets_install
    from daisy.booking.services import appointment_book
    from daisy.scheduling.models import Appointment
    from tests.support.testing import MONDAY, at, booking_now, make_clinic

    call_command("migrate", verbosity=0)
    day = MONDAY + timedelta(days=7 * 52 * 3)  # far from any earlier run's bookings
    with transaction.atomic():
        clinic = make_clinic(email="bench@clinic.example")
        protocol_presets_install()
    appt = appointment_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=at(day, 10),
        booked_by=clinic.reception,
        now=booking_now(day),
        location=clinic.location,
    ).appointment
    now = booking_now(day)

    class Rollback(Exception):
        pass

    def once(version: int) -> tuple[float, int]:
        # As the booking service has it: the appointment with its relations loaded.
        fresh = Appointment.objects.select_related("client", "treatment", "location").get(
            pk=appt.pk
        )
        start = time.perf_counter()
        try:
            with transaction.atomic():
                made = appointment_messages_schedule(appointment=fresh, now=now, version=version)
                elapsed = time.perf_counter() - start
                raise Rollback
        except Rollback:
            pass
        return elapsed * 1000, len(made)

    for n in range(WARMUP):
        once(1000 + n)
    if profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        for n in range(50):
            once(5000 + n)
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
    samples, count = [], 0
    for n in range(SAMPLES):
        ms, count = once(2000 + n)
        samples.append(ms)
    samples.sort()
    return {
        "engine": connection.vendor,
        "schedule_booking_messages_ms": round(statistics.median(samples), 3),
        "schedule_booking_messages_p90_ms": round(samples[int(len(samples) * 0.9)], 3),
        "messages_per_booking": count,
        "samples": SAMPLES,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.booking_messages")
    var = Path(os.environ.get("DAISY_VAR_DIR") or REPO_ROOT / "var")
    p.add_argument("database_url", nargs="?", default=f"sqlite:///{var / 'bench-booking.sqlite3'}")
    p.add_argument("--profile", action="store_true", help="print a cProfile of 50 calls first")
    args = p.parse_args(argv)
    if args.database_url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(args.database_url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    print(json.dumps(measure(args.database_url, profile=args.profile), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
