"""A client asks for their data to be erased from the portal (issue 14, item 8; DOMAIN.md
6.6, 6.7): the page says what goes now and what is kept until when and why; confirming records
the request, deletes what may go and signs the client out for good."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client as HttpClient

from daisy.accounts.models import Role
from daisy.audit.models import AuditEntry
from daisy.booking.services import appointment_book, appointment_set_status
from daisy.records.models import ErasureRequest, ErasureStatus
from daisy.scheduling.models import Status
from tests.support.testing import (
    MONDAY,
    at,
    consent_signed,
    make_clinic,
    make_user,
    rescreen_clear,
    staff_login,
)

pytestmark = pytest.mark.django_db

NOW = at(MONDAY + timedelta(days=1), 9)


@pytest.fixture
def world() -> Any:
    with time_machine.travel(NOW, tick=False):
        clinic = make_clinic()
        user = make_user(role=Role.CLIENT, email="erase@example.com", email_verified_at=NOW)
        person = clinic.clients[0]
        person.user = user
        person.save()
        book = dict(
            client=person,
            treatment=clinic.microneedling,
            booked_by=clinic.reception,
            now=at(MONDAY - timedelta(days=7), 8),
        )
        treated = appointment_book(starts_at=at(MONDAY, 10), **book).appointment
        rescreen_clear(treated)
        consent_signed(treated)
        for status in (Status.CHECKED_IN, Status.IN_TREATMENT, Status.COMPLETED):
            appointment_set_status(
                appointment=treated,
                status=status,
                by=clinic.specialists[0].user,
                now=at(MONDAY, 11),
            )
        appointment_book(starts_at=at(MONDAY + timedelta(days=35), 10), **book)
        http = HttpClient()
        http.force_login(user)
    with time_machine.travel(NOW, tick=False):
        yield clinic, person, user, http


def test_the_page_says_what_goes_now_and_what_is_kept_until_when(world: Any) -> None:
    _clinic, _person, _user, http = world
    page = http.get("/portal/my-data/erase/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "1 future booking (cancelled; no message is sent)" in text
    assert "The online account (signing in stops working)" in text
    assert "1 signed consent" in text
    assert "Your last treatment was on 7 January 2030, so we keep these until 7 January 2038" in (
        text
    )
    assert "/portal/my-data/erase/" in http.get("/portal/my-data/").content.decode()


def test_confirming_records_the_request_and_signs_the_client_out(world: Any) -> None:
    _clinic, person, user, http = world
    refused = http.post("/portal/my-data/erase/", {})
    assert refused.status_code == 422 and "Tick the box to confirm." in refused.content.decode()
    assert not ErasureRequest.objects.exists()

    done = http.post("/portal/my-data/erase/", {"confirm": "on"})
    assert done.status_code == 200
    assert "We keep your health records until 7 January 2038" in done.content.decode()
    request = ErasureRequest.objects.get(client=person)
    assert request.status == ErasureStatus.KEPT and request.recorded_by == user
    assert not person.appointments.filter(status=Status.BOOKED).exists()
    user.refresh_from_db()
    assert not user.is_active
    assert AuditEntry.objects.filter(action="records.erasure_request", actor_id=user.pk).exists()
    # Signed out: the portal now asks them to sign in.
    assert http.get("/portal/").status_code == 302


def test_staff_cannot_use_the_client_page(world: Any) -> None:
    clinic, _person, _user, _http = world
    http = staff_login(HttpClient(), clinic.manager)
    assert http.post("/portal/my-data/erase/", {"confirm": "on"}).status_code == 403
    assert not ErasureRequest.objects.exists()
