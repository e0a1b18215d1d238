"""Erasure requests and legal holds at the desk (issue 14, item 8; DOMAIN.md 6.6, 6.7): the
manager sees what an erasure would delete now and what is kept until when and why, records the
request only after confirming the client asked, and places and lifts a legal hold with a
reason. Who may open these pages is in test_permissions.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from daisy.audit.models import AuditEntry
from daisy.booking.services import appointment_book, appointment_set_status
from daisy.records.models import ErasureRequest, ErasureStatus, LegalHold
from daisy.scheduling.models import Status
from tests.support.testing import MONDAY, at, consent_signed, rescreen_clear, staff_login

from .conftest import DESK_NOW, book

pytestmark = pytest.mark.django_db


@pytest.fixture
def treated(clinic: Any, on_monday: Any) -> Any:
    """A client treated this morning at 9:00, with a booking five weeks on."""
    person = clinic.clients[0]
    session = book(clinic, person, 9)
    rescreen_clear(session)
    consent_signed(session)
    for status in (Status.CHECKED_IN, Status.IN_TREATMENT, Status.COMPLETED):
        appointment_set_status(
            appointment=session, status=status, by=clinic.specialists[0].user, now=DESK_NOW
        )
    appointment_book(
        client=person,
        treatment=clinic.microneedling,
        starts_at=at(MONDAY + timedelta(weeks=5), 10),
        booked_by=clinic.reception,
        now=DESK_NOW,
        location=clinic.location,
    )
    return person


def _manager(clinic: Any) -> HttpClient:
    return staff_login(HttpClient(), clinic.manager)


def test_the_page_says_what_goes_now_and_what_is_kept_until_when(clinic: Any, treated: Any) -> None:
    page = _manager(clinic).get(reverse("desk:client-erasure", args=[treated.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "1 future booking (cancelled; no message is sent)" in text
    assert "1 session that took place" in text
    assert "1 signed consent" in text
    assert "8 years after the last treatment (7 January 2030)" in text
    assert "deleted automatically on 7 January 2038" in text
    assert AuditEntry.objects.filter(action="client.view", data__via="desk, erasure").exists()


def test_recording_needs_the_tick_then_deletes_what_may_go(clinic: Any, treated: Any) -> None:
    http = _manager(clinic)
    url = reverse("desk:client-erasure", args=[treated.pk])
    refused = http.post(url, {})
    assert refused.status_code == 422
    assert "Tick the box to confirm the client asked." in refused.content.decode()
    assert not ErasureRequest.objects.exists()

    done = http.post(url, {"confirm": "on"}, follow=True)
    text = done.content.decode()
    assert "the clinical record is kept until 7 January 2038" in text
    request = ErasureRequest.objects.get(client=treated)
    assert request.status == ErasureStatus.KEPT and request.recorded_by == clinic.manager
    assert not treated.appointments.filter(status=Status.BOOKED).exists()
    assert AuditEntry.objects.filter(action="records.erasure_request").count() == 1
    # Asked twice: said plainly, nothing new recorded.
    again = http.post(url, {"confirm": "on"})
    assert again.status_code == 422
    assert "An erasure request is already open for this client." in again.content.decode()
    assert ErasureRequest.objects.filter(client=treated).count() == 1


def test_a_client_with_no_health_record_is_erased_at_once(clinic: Any, on_monday: Any) -> None:
    person = clinic.clients[1]
    http = _manager(clinic)
    url = reverse("desk:client-erasure", args=[person.pk])
    assert "everything is erased now" in http.get(url).content.decode()
    http.post(url, {"confirm": "on"})
    person.refresh_from_db()
    assert person.first_name == "Erased" and person.email == ""
    page = http.get(url).content.decode()
    assert "Erased on 7 January 2030." in page and "Record the erasure request" not in page


def test_a_legal_hold_is_placed_and_lifted_with_a_reason(clinic: Any, treated: Any) -> None:
    http = _manager(clinic)
    place = reverse("desk:client-legal-hold-place", args=[treated.pk])
    blank = http.post(place, {"reason": "  "})
    assert blank.status_code == 422 and "Say why the record is held." in blank.content.decode()
    assert not LegalHold.objects.exists()

    page = http.post(place, {"reason": "A claim about the March session"}, follow=True)
    assert "Open since 7 January 2030. Why: A claim about the March session" in (
        page.content.decode()
    )
    hold = LegalHold.objects.get(client=treated)
    lift = reverse("desk:client-legal-hold-lift", args=[treated.pk, hold.pk])
    assert http.post(lift, {}).status_code == 422
    page = http.post(lift, {"reason": "The claim is settled"}, follow=True)
    assert "No legal hold is open." in page.content.decode()
    hold.refresh_from_db()
    assert hold.lifted_by == clinic.manager and hold.lift_reason == "The claim is settled"
    audited = AuditEntry.objects.filter(action__startswith="records.legal_hold")
    assert sorted(audited.values_list("action", flat=True)) == [
        "records.legal_hold_lift",
        "records.legal_hold_place",
    ]


def test_only_the_manager_sees_the_way_to_it_on_the_client_file(clinic: Any, treated: Any) -> None:
    url = reverse("desk:client", args=[treated.pk])
    assert "Erasure and legal hold" in _manager(clinic).get(url).content.decode()
    other = staff_login(HttpClient(), clinic.specialists[0].user).get(url)
    assert "Erasure and legal hold" not in other.content.decode()
