"""Issue 13, item 2: booking a phone caller and a walk-in at the desk."""

from __future__ import annotations

import pytest
import time_machine

from daisy.audit.models import AuditEntry
from daisy.backoffice.tests.conftest import book
from daisy.clients.models import Client
from daisy.scheduling.models import Appointment
from tests.support.testing import MONDAY, at, staff_login

pytestmark = [pytest.mark.django_db]


def _times(page: str) -> list[str]:
    return [chunk.split('"')[0] for chunk in page.split('name="choice" value="')[1:]]


def test_a_caller_is_found_by_their_phone_typed_any_way_and_booked(client, clinic, on_monday):
    ada = clinic.clients[0]
    ada.phone, ada.phone_key = "+447700900017", "+447700900017"
    ada.save()
    staff_login(client, clinic.reception)
    page = client.get(
        "/desk/book/", {"q": "07700 900017", "location": clinic.location.pk}
    ).content.decode()
    assert f"Choose {ada.first_name} {ada.last_name}" in page
    page = client.get(
        "/desk/book/",
        {"client": ada.pk, "treatment": "microneedling", "on": "2030-01-08"},
    ).content.decode()
    choice = _times(page)[0]
    assert choice.startswith("2030-01-08T")
    r = client.post(
        "/desk/book/",
        {"client": ada.pk, "treatment": "microneedling", "on": "2030-01-08", "choice": choice},
    )
    assert r.status_code == 302 and r.url.startswith("/desk/2030-01-08/")
    appt = Appointment.objects.get()
    assert appt.client == ada and appt.booked_by == clinic.reception
    assert AuditEntry.objects.get(action="appointment.book").actor_id == clinic.reception.pk


def test_a_new_caller_with_a_known_phone_is_warned_and_nothing_is_made_unless_confirmed(
    client, clinic, on_monday
):
    known = clinic.clients[0]
    staff_login(client, clinic.reception)
    details = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "phone": known.phone.replace("+44", "0"),
        "email": "",
        "treatment": "microneedling",
        "on": "2030-01-08",
    }
    page = client.get("/desk/book/", details).content.decode()
    assert "This may be someone the clinic already knows" in page
    assert f"Use {known.first_name} {known.last_name}" in page
    choice = _times(page)[0]
    r = client.post("/desk/book/", {**details, "choice": choice})
    assert r.status_code == 409
    assert "already exists" in r.content.decode()
    assert not Appointment.objects.exists()
    assert Client.objects.count() == len(clinic.clients)
    r = client.post("/desk/book/", {**details, "choice": choice, "confirm_duplicate": "on"})
    assert r.status_code == 302
    new = Client.objects.get(last_name="Lovelace")
    assert Appointment.objects.get().client == new


def test_a_walk_in_is_offered_times_from_now_today(client, clinic, on_monday):
    staff_login(client, clinic.reception)
    page = client.get(
        "/desk/book/",
        {"walk_in": "1", "client": clinic.clients[0].pk, "treatment": "microneedling"},
    ).content.decode()
    times = _times(page)
    assert times, page
    # Now is 09:30: the first time is within the next quarter hour, today (no online notice).
    assert times[0].startswith("2030-01-07T09:30") or times[0].startswith("2030-01-07T09:45")
    r = client.post(
        "/desk/book/",
        {
            "walk_in": "1",
            "client": clinic.clients[0].pk,
            "treatment": "microneedling",
            "choice": times[0],
        },
    )
    assert r.status_code == 302
    walk_in = Appointment.objects.get(client=clinic.clients[0])
    assert walk_in.starts_at < at(MONDAY, 10)


def test_a_time_taken_meanwhile_is_explained_with_the_nearest_free_ones(client, clinic):
    with time_machine.travel(at(MONDAY, 8), tick=False):
        staff_login(client, clinic.reception)
        specialist = clinic.specialists[0]
        page = client.get(
            "/desk/book/",
            {
                "client": clinic.clients[0].pk,
                "treatment": "microneedling",
                "specialist": specialist.pk,
                "on": "2030-01-07",
            },
        ).content.decode()
        choice = _times(page)[0]
        book(clinic, clinic.clients[1], 9, specialist=specialist)
        r = client.post(
            "/desk/book/",
            {
                "client": clinic.clients[0].pk,
                "treatment": "microneedling",
                "specialist": specialist.pk,
                "on": "2030-01-07",
                "choice": choice,
            },
        )
    assert r.status_code == 409
    assert "Nearest free times" in r.content.decode()
    assert Appointment.objects.count() == 1
