"""One booking attempt in its own process, for test_races.py (real processes, real connections).

Run as `python -m daisy.scheduling.tests.race_worker '<job json>'` with DATABASE_URL pointing at
the test database. The worker sets Django up, loads its rows and opens its connection, prints
READY, then waits for the go file so that every process calls `appointment_book` at the same
moment. Its last stdout line is a JSON outcome; the exit code says the same thing."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

EXIT_BOOKED = 0
EXIT_SLOT_UNAVAILABLE = 3
EXIT_OTHER_ERROR = 4


def _emit(payload: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def main(raw_job: str) -> int:
    job = json.loads(raw_job)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "daisy.settings")
    import django

    django.setup()

    from django.db import connection

    from daisy.accounts.models import User
    from daisy.booking.services import appointment_book
    from daisy.clients.models import Client
    from daisy.clinic.models import Location
    from daisy.lib.errors import SlotUnavailable
    from daisy.treatments.models import Treatment

    client = Client.objects.get(pk=job["client"])
    treatment = Treatment.objects.prefetch_related("phases").get(pk=job["treatment"])
    location = Location.objects.get(pk=job["location"])
    booked_by = User.objects.get(pk=job["booked_by"])
    starts_at = datetime.fromisoformat(job["starts_at"])
    now = datetime.fromisoformat(job["now"])
    connection.ensure_connection()

    _emit({"ready": True, "pid": os.getpid()})
    go = Path(job["go"])
    deadline = time.monotonic() + float(job.get("wait_seconds", 60))
    while not go.exists():
        if time.monotonic() > deadline:
            _emit({"outcome": "no_start_signal"})
            return EXIT_OTHER_ERROR
        time.sleep(0.0005)

    try:
        result = appointment_book(
            client=client,
            treatment=treatment,
            starts_at=starts_at,
            booked_by=booked_by,
            now=now,
            location=location,
        )
    except SlotUnavailable as exc:
        _emit({"outcome": "slot_unavailable", "code": exc.code, "message": exc.message})
        return EXIT_SLOT_UNAVAILABLE
    except Exception as exc:  # noqa: BLE001 - the test reports any other failure verbatim
        _emit({"outcome": "error", "type": type(exc).__qualname__, "message": str(exc)})
        return EXIT_OTHER_ERROR
    finally:
        connection.close()
    _emit({"outcome": "booked", "appointment": str(result.appointment.pk)})
    return EXIT_BOOKED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
