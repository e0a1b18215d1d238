"""SQLite through Django's stock backend (transaction_mode IMMEDIATE, a busy timeout): a second
writer waits for the first one and then goes ahead; one that waits past the timeout is refused."""

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
def test_a_second_writer_waits_for_the_first_and_then_writes(fail):
    assert connection.settings_dict["ENGINE"] == "django.db.backends.sqlite3"
    started = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(0.24, started, fail))
    holder.start()
    assert started.wait(10)
    asked = time.monotonic()
    with transaction.atomic():
        got = time.monotonic()
        Skill.objects.create(slug="second", name="second")
    holder.join(10)
    assert got - asked > 0.15  # it waited for the holder's lock instead of failing
    assert Skill.objects.filter(slug="second").exists()


def test_a_writer_that_waits_too_long_gets_database_is_locked():
    started = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(1.0, started))
    holder.start()
    assert started.wait(10)
    options = connection.settings_dict.setdefault("OPTIONS", {})
    before = options.get("timeout")
    options["timeout"] = 0.1
    connection.close()  # the timeout is read when the connection is opened
    try:
        with pytest.raises(OperationalError), transaction.atomic():
            Skill.objects.create(slug="impatient", name="impatient")
    finally:
        options["timeout"] = before
        connection.close()
        holder.join(10)
    with transaction.atomic():  # the lock is free again afterwards
        Skill.objects.create(slug="patient", name="patient")
