from __future__ import annotations

from typing import Any

import pytest
import time_machine

from daisy.booking.services import appointment_book
from tests.support.testing import MONDAY, Clinic, at, booking_now, make_clinic

# The desk's "now" in these tests: Monday 2030-01-07, 09:30 in London (GMT, so UTC too).
DESK_NOW = at(MONDAY, 9, 30)


@pytest.fixture
def clinic(db: Any) -> Clinic:
    return make_clinic(specialists=2, rooms=2, pens=1, clients=4)


@pytest.fixture
def on_monday() -> Any:
    with time_machine.travel(DESK_NOW, tick=False):
        yield DESK_NOW


def book(clinic: Clinic, client: Any, hh: int, mm: int = 0, specialist: Any = None) -> Any:
    """A booking made a week ahead by reception, as the phone would."""
    return appointment_book(
        client=client,
        treatment=clinic.microneedling,
        starts_at=at(MONDAY, hh, mm),
        booked_by=clinic.reception,
        now=booking_now(),
        location=clinic.location,
        specialist=specialist,
    ).appointment
