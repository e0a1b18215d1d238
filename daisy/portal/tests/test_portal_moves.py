"""Issue 12 item 3: a move that tells the truth. The portal offers times with the client's own
specialist first (any specialist on request), and its confirm step says, before anything
moves, who the client will see and whether the new time falls inside the no-change window;
the messages name the specialist."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client as HttpClient
from django.utils import timezone

from daisy.accounts.models import Role
from daisy.booking.services import appointment_book
from daisy.notifications.models import Message
from tests.support.testing import MONDAY, at, booking_now, make_clinic, make_user

pytestmark = pytest.mark.django_db

NOW = booking_now()  # Monday 31 December 2029, 08:00 London
DAY = timedelta(days=1)


@pytest.fixture
def world() -> Any:
    with time_machine.travel(NOW, tick=False):
        clinic = make_clinic()
        user = make_user(
            role=Role.CLIENT, email="mover@example.com", email_verified_at=timezone.now()
        )
        client = clinic.clients[0]
        client.user = user
        client.save()
        own = clinic.specialists[0]
        appt = appointment_book(
            client=client,
            treatment=clinic.microneedling,
            starts_at=at(MONDAY, 10),
            booked_by=clinic.reception,
            now=NOW,
            specialist=own,
        ).appointment
        http = HttpClient()
        http.force_login(user)
    return clinic, appt, http


def _url(appt: Any) -> str:
    return f"/portal/appointments/{appt.pk}/reschedule/"


def test_times_are_with_the_clients_own_specialist_first(world: Any) -> None:
    clinic, appt, http = world
    own, other = clinic.specialists[0], clinic.specialists[1]
    with time_machine.travel(NOW, tick=False):
        page = http.get(_url(appt), {"week": MONDAY.isoformat()})
        assert f"Showing times with {own.name}, your specialist." in page.text
        assert "who=any" in page.text
        asked = http.post(_url(appt), {"start": at(MONDAY, 14).isoformat()})
    assert asked.status_code == 200
    assert f"With: {own.name}, as before." in asked.text
    assert other.name not in asked.text
    # Outside the window: the confirm step says until when it can still change online.
    assert "you can still move or cancel it online free of charge until Sat 5 Jan 2030" in (
        asked.text
    )


def test_any_specialist_names_the_new_one_before_confirming_and_the_email_too(
    world: Any,
) -> None:
    clinic, appt, http = world
    own, other = clinic.specialists[0], clinic.specialists[1]
    start = at(MONDAY, 14).isoformat()
    with time_machine.travel(NOW, tick=False):
        page = http.get(_url(appt), {"week": MONDAY.isoformat(), "who": "any"})
        assert "Showing times with any specialist." in page.text
        asked = http.post(_url(appt), {"start": start, "who": "any"})
        # The slot finder gives 14:00 to the least booked that day: the other specialist.
        assert f"you will see {other.name} instead of {own.name}" in asked.text
        moved = http.post(
            _url(appt),
            {"start": start, "who": "any", "specialist": str(other.pk), "confirm": "yes"},
        )
    assert moved.status_code == 302
    appt.refresh_from_db()
    assert appt.specialist == other and appt.starts_at == at(MONDAY, 14)
    moved_email = Message.objects.filter(
        template__endswith="confirmed", context__changed=True
    ).latest("created_at")
    assert moved_email.context["specialist"] == other.name


def test_a_new_time_inside_the_no_change_window_is_said_before_confirming(world: Any) -> None:
    clinic, appt, http = world
    friday = at(MONDAY - 3 * DAY, 9)  # Friday 4 January: the appointment can still move
    new_time = at(MONDAY - 2 * DAY, 12)  # Saturday 5 January 12:00, 27 hours later
    with time_machine.travel(friday, tick=False):
        http.force_login(appt.client.user)  # days later: a fresh sign-in
        asked = http.post(_url(appt), {"start": new_time.isoformat()})
    assert asked.status_code == 200, asked.text
    assert "This new time is less than 48 hours away" in asked.text
    assert "cannot be moved online again" in asked.text
    assert "late cancellation" in asked.text
