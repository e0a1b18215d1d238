"""Issue 11 items 1 and 5: a phone booking through the site by reception is reception's, lands
on the client Daisy knows (no duplicate), and is stopped by that client's findings; a finding or
clinical hold recorded after a booking flags it for the desk."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from daisy.audit.models import AuditEntry
from daisy.booking.services import appointment_book
from daisy.clients.accounts import client_login_grant
from daisy.clients.models import Client, Contraindication, Tier
from daisy.clients.services import client_hold_clear, client_hold_place
from daisy.scheduling.models import Appointment
from daisy.scheduling.selectors import FLAG_CLINICAL_HOLD, FLAG_SCREENING, appointment_flags
from tests.support.testing import FORM_NO_TO_ALL, MONDAY, at, booking_now, make_clinic, staff_login

pytestmark = [pytest.mark.django_db]

NO_TO_ALL = FORM_NO_TO_ALL
WILLOW = {
    "first_name": "Willow",
    "last_name": "Hall",
    "email": "willow.hall@example.com",
    "phone": "07700 900017",
    "date_of_birth": "1988-04-02",
}


@pytest.fixture
def clinic():
    return make_clinic()


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(booking_now(), tick=False):
        yield


def _reception_books_by_phone(client, clinic, details):
    staff_login(client, clinic.reception)
    client.get("/book/?treatment=microneedling")
    client.post("/book/areas/", {"areas": ["Cheeks"]})
    client.post("/book/clinic/", {"location": str(clinic.location.pk), "specialist": "anyone"})
    client.post("/book/time/", {"start": at(MONDAY, 10).isoformat(), "week": "2030-01-07"})
    assert client.post("/book/details/", details).url == "/book/health-check/"
    client.post("/book/health-check/", NO_TO_ALL)
    return client.post("/book/review/")


def test_a_phone_booking_by_reception_is_recorded_as_reception_s(client, clinic):
    r = _reception_books_by_phone(client, clinic, WILLOW)
    assert r.url == "/book/done/"
    appt = Appointment.objects.get()
    assert appt.booked_by == clinic.reception
    entry = AuditEntry.objects.get(action="appointment.book")
    assert entry.actor_id == clinic.reception.pk


def test_willow_hall_deferred_is_stopped_and_not_duplicated(client, clinic):
    """The issue's scenario: a specialist deferred Willow until after the session; reception
    books her by phone through the site with her own details."""
    willow = clinic.clients[0]
    willow.first_name, willow.last_name, willow.email = "Willow", "Hall", WILLOW["email"]
    willow.save()
    client_login_grant(client=willow, password="a-long-password-1", now=booking_now())
    Contraindication.objects.create(
        client=willow,
        condition="Botulinum toxin in the area",
        tier=Tier.DEFER,
        until_on=MONDAY + timedelta(days=30),
        recorded_by=clinic.specialists[0].user,
    )
    page = _reception_books_by_phone(client, clinic, WILLOW)
    html = page.content.decode()
    assert page.status_code == 409
    assert "Willow Hall has an open screening finding (Botulinum toxin in the area)" in html
    assert not Appointment.objects.exists()
    assert Client.objects.filter(email__iexact=WILLOW["email"]).count() == 1


def test_a_finding_or_hold_recorded_after_booking_flags_the_appointment(clinic):
    client = clinic.clients[0]
    appt = appointment_book(
        client=client,
        treatment=clinic.microneedling,
        starts_at=at(MONDAY, 10),
        booked_by=clinic.reception,
        now=booking_now(),
    ).appointment
    assert appointment_flags([appt]) == {}
    finding = Contraindication.objects.create(
        client=client, condition="Chemical peel", tier=Tier.DEFER, until_on=MONDAY + timedelta(7)
    )
    assert appointment_flags([appt]) == {appt.pk: [FLAG_SCREENING]}
    finding.until_on = MONDAY  # eligible again from the session's day: nothing to look at
    finding.save()
    assert appointment_flags([appt]) == {}
    client_hold_place(
        client=client, reason="Spreading redness", source="check-in", now=booking_now()
    )
    assert appointment_flags([appt]) == {appt.pk: [FLAG_CLINICAL_HOLD]}
    client_hold_clear(
        client=client,
        source="check-in",
        by=clinic.manager,
        reason="Seen in clinic: settled",
        now=booking_now(),
    )
    assert appointment_flags([appt]) == {}


def test_the_back_office_diary_shows_the_flag(client, clinic):
    patient = clinic.clients[0]
    appointment_book(
        client=patient,
        treatment=clinic.microneedling,
        starts_at=at(MONDAY, 10),
        booked_by=clinic.reception,
        now=booking_now(),
    )
    Contraindication.objects.create(client=patient, condition="Pregnancy", tier=Tier.HARD_STOP)
    staff_login(client, clinic.manager)
    html = client.get("/admin/scheduling/appointment/").content.decode()
    assert "Screening finding" in html
