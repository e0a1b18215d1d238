"""Erasure and retention (issue 14, item 8; DOMAIN.md 6.6, 6.7): an erasure request deletes at
once what may go and keeps the clinical record for the retention period from the last
treatment; the sweep erases it when the period is over, and not while a legal hold is open."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from daisy.accounts.models import Role
from daisy.audit.models import AuditEntry
from daisy.booking.services import appointment_book, appointment_set_status
from daisy.clients.models import Client, Contraindication
from daisy.lib.errors import PermissionDenied, PolicyViolation, ValidationFailed
from daisy.records.charting import AreaIn, ChartIn, ProductIn, chart_amend, chart_save
from daisy.records.consultations import (
    consultation_history_record,
    consultation_questionnaire,
    consultation_start,
)
from daisy.records.models import (
    Chart,
    ChartAmendment,
    ChartArea,
    ChartLocked,
    ChartProduct,
    Consultation,
    ErasureStatus,
    ScreeningResponse,
)
from daisy.records.retention import (
    erasure_request,
    legal_hold_lift,
    legal_hold_open,
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


def _treated(clinic: Any, client: Any, hour: int = 10) -> Appointment:
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
        starts_at=at(TREATED_ON, hour),
        booked_by=clinic.reception,
        now=at(TREATED_ON - timedelta(days=20), 9),
        location=clinic.location,
    ).appointment
    rescreen_clear(appointment)  # the session's health questions (issue 14, the needling gate)
    consent_signed(appointment)
    for status in (Status.CHECKED_IN, Status.IN_TREATMENT, Status.COMPLETED):
        appointment_set_status(
            appointment=appointment, status=status, by=specialist, now=at(TREATED_ON, hour + 1)
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


def test_a_legal_hold_keeps_even_a_client_with_no_clinical_record(clinic: Any) -> None:
    person = make_client(email="held@example.com")
    legal_hold_place(client=person, reason="A claim", by=clinic.manager, now=at(TREATED_ON, 8))
    request = erasure_request(client=person, by=clinic.manager, now=at(TREATED_ON, 9))
    assert request.status == ErasureStatus.KEPT
    person.refresh_from_db()
    assert person.email == "held@example.com"
    with time_machine.travel(datetime(2031, 1, 1, 12, tzinfo=LONDON), tick=False):
        assert records_retention_sweep() == []
    hold = legal_hold_open(person)
    assert hold is not None
    # Placing and lifting the hold are on the client's "who saw and changed what" trail.
    legal_hold_lift(hold=hold, reason="Settled", by=clinic.manager, now=at(TREATED_ON, 10))
    assert set(
        AuditEntry.objects.filter(client_ref=str(person.pk)).values_list("action", flat=True)
    ) >= {"records.legal_hold_place", "records.legal_hold_lift"}
    with time_machine.travel(datetime(2031, 1, 1, 12, tzinfo=LONDON), tick=False):
        assert len(records_retention_sweep()) == 1
    person.refresh_from_db()
    assert person.email != "held@example.com"


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


def _charted(clinic: Any, appointment: Appointment) -> Any:
    """A signed chart of the session, with a cartridge lot and an amendment adding a serum."""
    by = clinic.specialists[0].user
    chart = chart_save(
        appointment=appointment,
        data=ChartIn(
            areas=[AreaIn("forehead", Decimal("0.5"), 2, "erythema")],
            products=[ProductIn("cartridge", "Cartridge", f"C-{appointment.pk}", date(2031, 1, 1))],
            device=clinic.devices[0],
            operator=clinic.specialists[0],
            cartridge_opened_at_chair=True,
        ),
        by=by,
        now=appointment.starts_at,
        sign=True,
    ).chart
    chart_amend(
        chart=chart,
        by=by,
        now=appointment.starts_at,
        reason="Serum lot missed",
        text="Serum applied.",
        products=[ProductIn("glide", "Serum", f"S-{appointment.pk}", date(2031, 1, 1))],
    )
    return chart


def _raw_delete_refused(chart: Any) -> bool:
    """Whether the database itself refuses deleting this signed chart's rows (PostgreSQL's
    triggers; on SQLite the models and querysets refuse, and raw SQL is not guarded)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM records_chartarea WHERE chart_id = %s", [chart.pk.hex])
    except DatabaseError:
        return True
    return False


def test_signed_charts_go_with_the_record_when_the_retention_is_over(clinic: Any) -> None:
    person, other = make_client(), make_client()
    chart = _charted(clinic, _treated(clinic, person))
    kept = _charted(clinic, _treated(clinic, other, hour=14))
    erasure_request(client=person, by=clinic.manager, now=at(TREATED_ON, 18))
    # Before the period is over a signed chart cannot be deleted, by the model or in bulk.
    with pytest.raises(ChartLocked):
        chart.delete()
    with pytest.raises(ChartLocked):
        Chart.objects.filter(pk=chart.pk).delete()
    with pytest.raises(ChartLocked):
        ChartAmendment.objects.filter(chart=chart).delete()

    with time_machine.travel(datetime(2038, 1, 7, 12, tzinfo=LONDON), tick=False):
        (done,) = records_retention_sweep()
    assert "1 treatment records" in done.erased
    assert not Chart.objects.filter(client=person).exists()
    assert not ChartArea.objects.filter(chart_id=chart.pk).exists()
    assert not ChartProduct.objects.filter(chart_id=chart.pk).exists()
    assert not ChartAmendment.objects.filter(chart_id=chart.pk).exists()
    # The other client's signed chart is untouched, and still refuses deletion and change.
    assert Chart.objects.filter(pk=kept.pk).exists()
    assert ChartProduct.objects.filter(chart=kept).count() == 2
    with pytest.raises(ChartLocked):
        Chart.objects.filter(pk=kept.pk).delete()
    if connection.vendor == "postgresql":
        assert _raw_delete_refused(kept)


def test_a_legal_hold_keeps_signed_charts_past_the_period(clinic: Any) -> None:
    person = make_client()
    chart = _charted(clinic, _treated(clinic, person))
    erasure_request(client=person, by=clinic.manager, now=at(TREATED_ON, 18))
    legal_hold_place(client=person, reason="A claim", by=clinic.manager, now=at(TREATED_ON, 18))
    with time_machine.travel(datetime(2040, 1, 7, 12, tzinfo=LONDON), tick=False):
        assert records_retention_sweep() == []
    chart.refresh_from_db()
    assert chart.is_signed and chart.amendments.count() == 1
