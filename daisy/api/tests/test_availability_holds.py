"""Availability and booking through the API around online holds (issue 11, item 6): a time held
by a visitor who is not signed in is bookable for staff (and shown to them), not for anyone
else; a signed-in client's hold blocks everyone."""

from __future__ import annotations

from datetime import datetime

import pytest

from daisy.scheduling.models import Appointment, SlotHold
from daisy.scheduling.services import slot_hold_create
from daisy.scheduling.tests.test_races import overlapping_allocations
from tests.support.testing import MONDAY, at, booking_now, make_user

pytestmark = pytest.mark.django_db

TEN = at(MONDAY, 10)


def offered(cast, role: str) -> set[datetime]:
    response = cast.as_(role).get(
        "/availability",
        {"treatment": "microneedling", "start": MONDAY.isoformat(), "end": MONDAY.isoformat()},
    )
    assert response.status_code == 200, response.content
    return {datetime.fromisoformat(s["start"]) for s in response.json()["slots"]}


def take_every_pen(cast, *, by=None) -> list[SlotHold]:
    """Hold 10:00 on every pen, so 10:00 is free only if those holds are gone."""
    return [
        slot_hold_create(
            treatment=cast.clinic.microneedling,
            starts_at=TEN,
            now=booking_now(),
            held_by=f"visitor-{i}",
            location=cast.clinic.location,
            by=by,
        )
        for i in range(len(cast.clinic.devices))
    ]


def test_staff_see_and_book_a_time_only_anonymous_visitors_hold(cast):
    held = take_every_pen(cast)
    assert TEN in offered(cast, "reception")
    assert TEN in offered(cast, "manager")
    assert TEN not in offered(cast, "anonymous")
    assert TEN not in offered(cast, "client_a")

    response = cast.as_("reception").post(
        "/appointments",
        {"client": str(cast.client_a.pk), "treatment": "microneedling", "start": TEN.isoformat()},
        headers={"Idempotency-Key": "desk-1"},
    )

    assert response.status_code == 201, response.content
    assert not SlotHold.objects.filter(pk__in=[h.pk for h in held]).exists()
    assert Appointment.objects.get().starts_at == TEN
    assert overlapping_allocations() == []


def test_a_signed_in_clients_hold_blocks_staff_too(cast):
    take_every_pen(cast, by=make_user())
    assert TEN not in offered(cast, "reception")
    response = cast.as_("reception").post(
        "/appointments",
        {"client": str(cast.client_a.pk), "treatment": "microneedling", "start": TEN.isoformat()},
        headers={"Idempotency-Key": "desk-2"},
    )
    assert response.status_code == 409
    assert SlotHold.objects.count() == len(cast.clinic.devices)
