"""Erasure and retention (issue 14, item 8; DOMAIN.md 6.6, 6.7): an erasure request deletes at
once what may go and keeps the clinical record for the retention period from the last
treatment; the sweep erases it when the period is over, and not while a legal hold is open."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import override_settings

from daisy.accounts.models import Role
from daisy.audit.models import AuditEntry
from daisy.booking.services import appointment_book, appointment_set_status
from daisy.clients.models import Client, Contraindication
from daisy.lib.errors import PermissionDenied, PolicyViolation, ValidationFailed
from daisy.records.consultations import (
    consultation_history_record,
    consultation_questionnaire,
    consultation_start,
)
from daisy.records.models import Consultation, ErasureStatus, ScreeningResponse
from daisy.records.retention import (
    erasure_request,
    legal_hold_lift,
    legal_hold_place,
    records_retention_sweep,
)
from daisy.scheduling.models import Appointment, Status
from tests.support.testing import (
    LONDON,
    at,
    consent_signed,
    make_client,
    make_clinic,
    make_user,
    rescreen_clear,
)

pytestmark = pytest.mark.django_db

TREATED_ON = date(2030, 1, 7)


def _treated(clinic: Any, client: Any) -> Appointment:
    """A consultation with its medical history, and a completed session on TREATED_ON."""
    specialist = clinic.specialists[0].user
    now = at(TREATED_ON, 8)
    consultation = consultation_start(client=client, by=specialist, now=now, skin_type=2)
    asked = consultation_questionnaire(consultation)
    consultation_history_record(
        consultation=consultation,
        answers={q.key: q.key == "keloid" for q in asked.questions},
        by=specialist,
        now=now,
        today=TREATED_ON,
    )
    # A clinician reviewed the keloid finding (resolved) before the session was booked.
    Contraindication.objects.filter(client=client).update(resolved_at=now)
    appointment = appointment_book(
        client=client,
        treatment=clinic.microneedling,
        starts_at=at(TREATED_ON, 10),
        booked_by=clinic.reception,
        now=at(TREATED_ON - timedelta(days=20), 9),
        location=clinic.location,
    ).appointment
    rescreen_clear(appointment)  # the session's health questions (issue 14, the needling gate)
    consent_signed(appointment)
    for status in (Status.CHECKED_IN, Status.IN_TREATMENT, Status.COMPLETED):
        appointment_set_status(
            appointment=appointment, status=status, by=specialist, now=at(TREATED_ON, 11)
        )
    return appointment


@pytest.fixture
def clinic() -> Any:
    return make_clinic()


@override_settings(DAISY_RECORD_RETENTION_YEARS=8)
def test_the_record_is_kept_8_years_from_the_last_treatment_then_erased(clinic: Any) -> None:
    login = make_user(role=Role.CLIENT)
    person = make_client(user=login, marketing_consent=True, notes="Likes mornings")
    _treated(clinic, person)
    future = appointment_book(
        client=person,
        treatment=clinic.microneedling,
        starts_at=at(TREATED_ON + timedelta(days=35), 10),
        booked_by=clinic.reception,
        now=at(TREATED_ON, 12),
        location=clinic.location,
    ).appointment

    asked_at = at(TREATED_ON + timedelta(days=30), 9)
    request = erasure_request(client=person, by=clinic.manager, now=asked_at)
    assert request.status == ErasureStatus.KEPT
    assert request.last_treatment_on == TREATED_ON
    assert request.keep_until == date(2038, 1, 7)
    future.refresh_from_db()
    login.refresh_from_db()
    person.refresh_from_db()
    assert future.status == Status.CANCELLED and not login.is_active
    assert not person.marketing_consent
    # The clinical record is still there, and still names the client.
    assert ScreeningResponse.objects.filter(client=person).exists()
    assert Consultation.objects.filter(client=person).exists()
    assert person.last_name != "client"

    with time_machine.travel(datetime(2038, 1, 6, 12, tzinfo=LONDON), tick=False):
        assert records_retention_sweep() == []
    assert Consultation.objects.filter(client=person).exists()

    with time_machine.travel(datetime(2038, 1, 7, 12, tzinfo=LONDON), tick=False):
        (done,) = records_retention_sweep()
    assert done.pk == request.pk
    request.refresh_from_db()
    assert request.status == ErasureStatus.DONE and request.done_at is not None
    assert not ScreeningResponse.objects.filter(client=person).exists()
    assert not Consultation.objects.filter(client=person).exists()
    assert not Contraindication.objects.filter(client=person).exists()
    person = Client.objects.get(pk=person.pk)
    assert (person.first_name, person.email, person.phone, person.date_of_birth, person.notes) == (
        "Erased",
        "",
        "",
        None,
        "",
    )
    # The diary keeps the session, now tied to no one identifiable.
    assert Appointment.objects.filter(client=person, status=Status.COMPLETED).exists()
    assert AuditEntry.objects.filter(action="records.retention_erase").count() == 1


def test_a_legal_hold_stops_the_erasure_until_it_is_lifted(clinic: Any) -> None:
    person = make_client()
    _treated(clinic, person)
    erasure_request(client=person, by=clinic.manager, now=at(TREATED_ON, 18))
    with pytest.raises(ValidationFailed):
        legal_hold_place(client=person, reason=" ", by=clinic.manager, now=at(TREATED_ON, 18))
    with pytest.raises(PermissionDenied):
        legal_hold_place(client=person, reason="Claim", by=clinic.reception, now=at(TREATED_ON, 18))
    hold = legal_hold_place(
        client=person,
        reason="A claim against the clinic",
        by=clinic.manager,
        now=at(TREATED_ON, 18),
    )
    with pytest.raises(PolicyViolation):
        legal_hold_place(client=person, reason="Again", by=clinic.manager, now=at(TREATED_ON, 18))

    with time_machine.travel(datetime(2045, 1, 1, 12, tzinfo=LONDON), tick=False):
        assert records_retention_sweep() == []
    assert Consultation.objects.filter(client=person).exists()

    legal_hold_lift(hold=hold, reason="Claim settled", by=clinic.manager, now=at(TREATED_ON, 19))
    with time_machine.travel(datetime(2045, 1, 1, 12, tzinfo=LONDON), tick=False):
        assert len(records_retention_sweep()) == 1
    assert not Consultation.objects.filter(client=person).exists()


def test_a_client_with_no_clinical_record_is_erased_at_once(clinic: Any) -> None:
    person = make_client(email="nobody@example.com")
    request = erasure_request(client=person, by=clinic.manager, now=at(TREATED_ON, 9))
    assert request.status == ErasureStatus.DONE and request.keep_until is None
    person.refresh_from_db()
    assert person.email == "" and person.first_name == "Erased"


def test_only_the_manager_records_an_erasure_request_once(clinic: Any) -> None:
    person = make_client()
    _treated(clinic, person)
    with pytest.raises(PermissionDenied):
        erasure_request(client=person, by=clinic.specialists[0].user, now=at(TREATED_ON, 18))
    erasure_request(client=person, by=clinic.manager, now=at(TREATED_ON, 18))
    with pytest.raises(PolicyViolation):
        erasure_request(client=person, by=clinic.manager, now=at(TREATED_ON, 18))


def test_a_client_may_ask_for_their_own_erasure_and_no_one_else_s(clinic: Any) -> None:
    own, other = make_user(role=Role.CLIENT), make_user(role=Role.CLIENT)
    person = make_client(user=own)
    _treated(clinic, person)
    with pytest.raises(PermissionDenied):
        erasure_request(client=person, by=other, now=at(TREATED_ON, 18))
    request = erasure_request(client=person, by=own, now=at(TREATED_ON, 18))
    assert request.recorded_by == own and request.status == ErasureStatus.KEPT
