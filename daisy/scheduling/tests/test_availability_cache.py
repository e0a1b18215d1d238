"""availability_list(cache=True): the same answers as computing afresh, and never a time that a
committed booking took, whichever connection or process committed it (the database's stamp is
read before the answer is looked up; see selectors.availability_list)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection

from daisy.booking.services import appointment_book, slot_hold_create
from daisy.clinic.models import Location
from daisy.scheduling import selectors
from daisy.scheduling.models import Appointment
from daisy.treatments.models import Treatment
from tests.support.testing import MONDAY, at, booking_now, make_clinic

pytestmark = pytest.mark.django_db

NOW = booking_now()


def listed(clinic, *, cache, now=NOW, days=2, for_staff=False, held_by=None, **kw):
    return [
        (ls.slot.start, dict(ls.slot.resources))
        for ls in selectors.availability_list(
            treatment=kw.pop("treatment", clinic.microneedling),
            window_start=at(MONDAY, 0),
            window_end=at(MONDAY + timedelta(days=days), 0),
            now=now,
            location=clinic.location,
            for_staff=for_staff,
            held_by=held_by,
            cache=cache,
            **kw,
        )
    ]


@pytest.mark.parametrize("for_staff", [False, True])
@pytest.mark.parametrize(
    "now",
    [
        NOW,  # a week ahead
        at(MONDAY, 8),  # minimum notice cuts the morning off
        at(MONDAY, 13, 7),  # the window is under way
        at(MONDAY - timedelta(days=300), 9),  # beyond the client booking horizon
    ],
)
def test_cached_answers_equal_fresh_ones_for_every_clock_and_role(now, for_staff):
    clinic = make_clinic(specialists=2, rooms=2, pens=1)
    appointment_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=at(MONDAY, 11),
        booked_by=clinic.reception,
        now=NOW,
    )
    fresh = listed(clinic, cache=False, now=now, for_staff=for_staff)
    assert listed(clinic, cache=True, now=now, for_staff=for_staff) == fresh  # miss
    assert listed(clinic, cache=True, now=now, for_staff=for_staff) == fresh  # hit
    # One cached answer serves the other role and a later clock too.
    assert listed(clinic, cache=True, now=now, for_staff=not for_staff) == listed(
        clinic, cache=False, now=now, for_staff=not for_staff
    )
    later = now + timedelta(hours=3)
    assert listed(clinic, cache=True, now=later, for_staff=for_staff) == listed(
        clinic, cache=False, now=later, for_staff=for_staff
    )
    by_specialist = {"specialist_id": clinic.specialists[1].pk}
    assert listed(clinic, cache=True, **by_specialist) == listed(
        clinic, cache=False, **by_specialist
    )


def test_a_booking_disappears_from_the_cached_answer_at_once():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    ten = at(MONDAY, 10)
    assert ten in {start for start, _ in listed(clinic, cache=True)}
    appointment_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=ten,
        booked_by=clinic.reception,
        now=NOW,
    )
    assert ten not in {start for start, _ in listed(clinic, cache=True)}
    assert listed(clinic, cache=True) == listed(clinic, cache=False)


def test_a_cached_hold_stops_blocking_when_it_expires_without_any_write():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    ten = at(MONDAY, 10)
    hold = slot_hold_create(
        treatment=clinic.microneedling, starts_at=ten, now=NOW, held_by="someone"
    )
    assert ten not in {start for start, _ in listed(clinic, cache=True)}
    assert ten in {start for start, _ in listed(clinic, cache=True, held_by="someone")}
    after = hold.expires_at
    assert ten in {start for start, _ in listed(clinic, cache=True, now=after)}
    # An earlier clock (another caller's) is not answered from the later computation.
    assert ten not in {start for start, _ in listed(clinic, cache=True)}


@pytest.mark.django_db(transaction=True)
def test_cached_answers_never_offer_a_time_committed_by_another_connection():
    """A writer thread books one time after another while a reader keeps asking (cached);
    every answer is checked against the bookings committed before it was asked for."""
    clinic = make_clinic(specialists=1, rooms=1, pens=1, clients=1)
    length = timedelta(minutes=80)  # micro-needling with its clean-down: one room, one pen
    starts = [at(MONDAY, 9) + timedelta(minutes=90 * k) for k in range(6)]
    done = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            treatment = Treatment.objects.prefetch_related("phases").get(pk=clinic.microneedling.pk)
            location = Location.objects.get(pk=clinic.location.pk)
            for start in starts:
                appointment_book(
                    client=clinic.clients[0],
                    treatment=treatment,
                    starts_at=start,
                    booked_by=clinic.reception,
                    now=NOW,
                    location=location,
                )
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            done.set()
            connection.close()

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    checked = 0
    while True:
        finished = done.is_set()
        committed = list(
            Appointment.objects.filter(status="booked").values_list("starts_at", flat=True)
        )
        answer: Any = listed(clinic, cache=True, days=1)
        for start, _resources in answer:
            for booked in committed:
                assert not (start < booked + length and booked < start + length), (start, booked)
        checked += 1
        if finished:
            break
    thread.join(timeout=60)
    assert not errors, errors
    assert checked >= 2
    assert len(committed) == len(starts)
    assert listed(clinic, cache=True, days=1) == listed(clinic, cache=False, days=1)
