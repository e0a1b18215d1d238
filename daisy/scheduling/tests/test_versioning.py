"""The cached set-up is never stale: the database's own triggers change the stamp that keys
every set-up cache in the same transaction as any change of the set-up, whoever makes it
(services, the admin's saves, queryset updates, raw SQL). Bookings and holds change no stamp:
availability reads busy time afresh on every call."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.db import connection, transaction

from daisy.booking.services import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    slot_hold_create,
    slot_hold_release,
)
from daisy.clinic.models import Closure, DeviceStatus, TimeOff, WeeklyHours
from daisy.scheduling import selectors, versioning
from tests.support.testing import MONDAY, at, booking_now, make_clinic

pytestmark = pytest.mark.django_db

NOW = booking_now()
TEN = at(MONDAY, 10)


def starts(clinic):
    found = selectors.availability_list(
        treatment=clinic.microneedling,
        window_start=at(MONDAY, 0),
        window_end=at(MONDAY, 23),
        now=NOW,
        location=clinic.location,
    )
    return {ls.slot.start for ls in found}


def test_every_watched_table_carries_its_trigger():
    assert versioning.expected() <= versioning.installed()
    tables = versioning.watched_tables()
    assert "scheduling_allocation" not in tables  # busy time is never cached
    for table in ("clinic_weeklyhours", "clinic_timeoff", "clinic_closure", "clinic_dateoverride"):
        assert tables[table] == "config"
    assert "clinic_specialist_skills" in tables  # many-to-many tables too
    assert "treatments_phase" in tables


def test_a_lost_trigger_is_put_back_by_the_post_migrate_hook():
    table = "clinic_timeoff"
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"DROP TRIGGER {versioning.trigger_name(table, 'INSERT')}")
        else:
            cursor.execute(f"DROP TRIGGER {versioning.trigger_name(table)} ON {table}")
    assert not versioning.expected() <= versioning.installed()
    from django.apps import apps

    versioning.on_post_migrate(apps.get_app_config("scheduling"), using="default")
    assert versioning.expected() <= versioning.installed()


def _changes(write, *, config: bool) -> None:
    before = selectors.diary_stamps()
    write()
    after = selectors.diary_stamps()
    assert (after.config != before.config) is config


def test_the_stamp_changes_with_every_set_up_change_and_not_with_bookings():
    clinic = make_clinic(specialists=2, rooms=2, pens=2)
    holder = {}

    def book():
        holder["appt"] = appointment_book(
            client=clinic.clients[0],
            treatment=clinic.microneedling,
            starts_at=TEN,
            booked_by=clinic.reception,
            now=NOW,
        ).appointment

    def hold():
        holder["hold"] = slot_hold_create(
            treatment=clinic.microneedling, starts_at=at(MONDAY, 14), now=NOW, held_by="o"
        )

    _changes(book, config=False)
    _changes(
        lambda: appointment_reschedule(
            appointment=holder["appt"], starts_at=at(MONDAY, 11), by=clinic.reception, now=NOW
        ),
        config=False,
    )
    _changes(
        lambda: appointment_cancel(appointment=holder["appt"], by=clinic.reception, now=NOW),
        config=False,
    )
    _changes(hold, config=False)
    _changes(
        lambda: slot_hold_release(hold_id=holder["hold"].pk, held_by="o", now=NOW), config=False
    )
    specialist, device = clinic.specialists[0], clinic.devices[0]
    _changes(
        lambda: TimeOff.objects.create(
            resource=specialist, starts_at=at(MONDAY, 9), ends_at=at(MONDAY, 12)
        ),
        config=True,
    )
    _changes(
        lambda: WeeklyHours.objects.filter(location=clinic.location, weekday=0).update(
            closes_at=time(17)
        ),
        config=True,
    )
    _changes(lambda: Closure.objects.create(on=MONDAY + timedelta(days=1)), config=True)
    _changes(lambda: specialist.skills.clear(), config=True)
    _changes(
        lambda: type(device).objects.filter(pk=device.pk).update(status=DeviceStatus.MAINTENANCE),
        config=True,
    )
    phase = clinic.microneedling.phases.first()
    _changes(
        lambda: type(phase).objects.filter(pk=phase.pk).update(duration_minutes=25), config=True
    )


def test_set_up_changes_show_at_once_in_cached_availability():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    assert TEN in starts(clinic)
    assert TEN in starts(clinic)  # now answered from the cache

    off = TimeOff.objects.create(
        resource=clinic.specialists[0], starts_at=at(MONDAY, 9), ends_at=at(MONDAY, 12)
    )
    assert TEN not in starts(clinic)
    off.delete()
    assert TEN in starts(clinic)

    WeeklyHours.objects.filter(location=clinic.location, weekday=MONDAY.weekday()).update(
        opens_at=time(11)
    )
    assert TEN not in starts(clinic)
    assert at(MONDAY, 11) in starts(clinic)

    clinic.specialists[0].skills.clear()  # no one left who may needle
    assert starts(clinic) == set()


def test_a_rolled_back_change_leaves_no_trace_in_the_cache():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    before = starts(clinic)
    stamps = selectors.diary_stamps()
    with pytest.raises(RuntimeError), transaction.atomic():
        TimeOff.objects.create(
            resource=clinic.specialists[0], starts_at=at(MONDAY, 9), ends_at=at(MONDAY, 19)
        )
        assert starts(clinic) == set()  # cached under the uncommitted stamp
        raise RuntimeError("the admin form failed")
    assert selectors.diary_stamps() == stamps
    assert starts(clinic) == before
    # The next real change draws a new stamp, never the rolled-back one.
    Closure.objects.create(on=MONDAY + timedelta(days=30))
    assert starts(clinic) == before
