"""The SQLite write gate (daisy/lib/sqlite): a second writer starts as soon as the first one
commits or rolls back, instead of after SQLite's busy-handler sleeps."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import OperationalError, connection, transaction

from daisy.clinic.models import Skill

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only"),
]


def _hold_write_lock(seconds: float, started: threading.Event, fail: bool = False) -> None:
    try:
        with transaction.atomic():
            Skill.objects.create(slug=f"held-{time.monotonic_ns()}", name="held")
            started.set()
            time.sleep(seconds)
            if fail:
                raise RuntimeError("rolled back on purpose")
    except RuntimeError:
        pass
    finally:
        connection.close()


@pytest.mark.parametrize("fail", [False, True], ids=["commit", "rollback"])
def test_second_writer_starts_within_milliseconds_of_the_first_finishing(fail):
    assert connection.settings_dict["ENGINE"] == "daisy.lib.sqlite"
    started = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(0.24, started, fail))
    holder.start()
    assert started.wait(10)
    asked = time.monotonic()
    with transaction.atomic():
        got = time.monotonic()
        Skill.objects.create(slug="second", name="second")
    holder.join(10)
    waited = got - asked
    # It had to wait for the holder (about 0.24 s) and not much longer. SQLite's busy handler
    # alone retries after 228 ms and then 328 ms of sleeping: ~90 ms after the release.
    assert 0.15 < waited < 0.24 + 0.04, waited
    assert Skill.objects.filter(slug="second").exists()


def test_a_writer_that_waits_too_long_gets_database_is_locked():
    started = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(1.0, started))
    holder.start()
    assert started.wait(10)
    options = connection.settings_dict.setdefault("OPTIONS", {})
    before = options.get("timeout")
    options["timeout"] = 0.1
    try:
        with pytest.raises(OperationalError), transaction.atomic():
            Skill.objects.create(slug="impatient", name="impatient")
    finally:
        options["timeout"] = before
        holder.join(10)
    with transaction.atomic():  # the gate is free again afterwards
        Skill.objects.create(slug="patient", name="patient")
