"""The start-of-needling gate (issue 14, item 3): a session does not start ("in treatment", or
"completed" without it) while this session's re-screen is missing or what it (or an earlier
visit) found is not cleared; a clinician may record an override with a reason (audited), which
covers only what stood in the way then; a hard stop and a clinical hold allow none."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from daisy.audit.models import AuditEntry
from daisy.booking.services import appointment_book, appointment_set_status
from daisy.clients.models import Contraindication, Tier
from daisy.clients.services import client_hold_place
from daisy.lib.errors import ClientContraindicated, PermissionDenied, ValidationFailed
from daisy.records import gate as gate_module
from daisy.records.gate import Blocker, blocker_check, needling_gate
from daisy.records.models import NeedlingOverride, ScreeningResponse
from daisy.records.selectors import needling_overrides_list
from daisy.records.services import needling_override_record, rescreen_record
from daisy.scheduling.models import Status
from tests.support.testing import (
    MONDAY,
    PRESCREEN_CLEAR,
    RESCREEN_CLEAR,
    at,
    booking_now,
    consent_signed,
    make_clinic,
    rescreen_clear,
)

pytestmark = pytest.mark.django_db

NOW = booking_now()
WHEN = at(MONDAY, 10)
ON_THE_DAY = WHEN - timedelta(minutes=20)


@pytest.fixture
def clinic() -> Any:
    return make_clinic()


@pytest.fixture
def appt(clinic: Any) -> Any:
    appt = appointment_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=WHEN,
        booked_by=clinic.reception,
        now=NOW,
    ).appointment
    consent_signed(appt, now=NOW)  # signed: these tests are about the health questions
    return appt


def _start(appt: Any, by: Any, status: str = Status.IN_TREATMENT) -> Any:
    return appointment_set_status(appointment=appt, status=status, by=by, now=ON_THE_DAY)


def _answers(**yes: Any) -> dict[str, Any]:
    return {**RESCREEN_CLEAR, **yes}


def test_no_rescreen_no_start_and_the_message_says_how_to_fix_it(clinic: Any, appt: Any) -> None:
    gate = needling_gate(appt, now=ON_THE_DAY)
    assert not gate.is_open
    assert gate.codes == ["rescreen_missing"]
    for status in (Status.IN_TREATMENT, Status.COMPLETED):
        with pytest.raises(ClientContraindicated) as refused:
            _start(appt, clinic.reception, status)
        assert refused.value.code == "needling_gate"
        assert "health questions" in refused.value.message
        assert "tablet" in refused.value.message
        assert refused.value.extra["blockers"][0]["code"] == "rescreen_missing"
    appt.refresh_from_db()
    assert appt.status == Status.BOOKED


def test_a_clear_rescreen_for_this_session_opens_the_gate(clinic: Any, appt: Any) -> None:
    response = rescreen_clear(appt, now=NOW + timedelta(days=5))
    assert response.is_rescreen and response.via == "reminder"
    assert response.appointment_id == appt.pk
    assert needling_gate(appt, now=ON_THE_DAY).is_open
    assert _start(appt, clinic.reception).status == Status.IN_TREATMENT
    assert _start(appt, clinic.reception, Status.COMPLETED).status == Status.COMPLETED


def test_the_online_prescreen_at_booking_is_not_this_sessions_rescreen(clinic: Any) -> None:
    from daisy.records.services import screening_evaluate, screening_record

    appt = appointment_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=WHEN,
        booked_by=clinic.reception,
        now=NOW,
    ).appointment
    evaluated = screening_evaluate(
        treatment=clinic.microneedling, answers=PRESCREEN_CLEAR, today=NOW.date()
    )
    assert evaluated is not None
    screening_record(
        client=appt.client, evaluated=evaluated, by=None, via="online", now=NOW, appointment=appt
    )
    assert needling_gate(appt, now=ON_THE_DAY).codes == ["rescreen_missing", "consent_missing"]


def test_a_hard_stop_in_the_rescreen_stops_the_session_with_no_override(
    clinic: Any, appt: Any
) -> None:
    rescreen_record(
        appointment=appt, answers=_answers(pregnant=True), by=None, via="reminder", now=NOW
    )
    gate = needling_gate(appt, now=ON_THE_DAY)
    assert [b.code for b in gate.open_blockers] == ["hard_stop"]
    assert not gate.can_override
    with pytest.raises(ClientContraindicated) as refused:
        _start(appt, clinic.reception)
    # Reception reads that there is a hard stop and who must see the file, not what it is.
    assert "hard stop" in refused.value.message and "Pregnant" not in refused.value.message
    specialist = clinic.specialists[0].user
    with pytest.raises(ClientContraindicated) as refused:
        _start(appt, specialist)
    assert "Pregnant or breastfeeding" in refused.value.message
    with pytest.raises(ClientContraindicated) as no_override:
        needling_override_record(appointment=appt, reason="She says fine", by=specialist, now=NOW)
    assert no_override.value.code == "override_not_allowed"
    assert not NeedlingOverride.objects.exists()


def test_a_hard_stop_at_session_one_stops_session_two(clinic: Any) -> None:
    client = clinic.clients[0]
    first, second = (
        appointment_book(
            client=client,
            treatment=clinic.microneedling,
            starts_at=when,
            booked_by=clinic.reception,
            now=NOW,
        ).appointment
        for when in (WHEN, WHEN + timedelta(days=28))
    )
    # Session 1: the client answers on the desk's tablet that she is pregnant.
    rescreen_record(
        appointment=first,
        answers=_answers(pregnant=True),
        by=clinic.reception,
        via="desk",
        now=ON_THE_DAY,
    )
    with pytest.raises(ClientContraindicated):
        _start(first, clinic.reception)
    # Session 2, four weeks later, with a clear re-screen: neither checked in nor started.
    day_two = second.starts_at - timedelta(minutes=20)
    rescreen_clear(second, now=day_two - timedelta(days=1))
    consent_signed(second, now=day_two - timedelta(days=1))
    for status in (Status.CHECKED_IN, Status.IN_TREATMENT, Status.COMPLETED):
        with pytest.raises(ClientContraindicated):
            appointment_set_status(
                appointment=second, status=status, by=clinic.reception, now=day_two
            )
    second.refresh_from_db()
    assert second.status == Status.BOOKED
    # Once a clinician records that it has resolved, session 2 can go ahead.
    Contraindication.objects.filter(client=client).update(resolved_at=day_two)
    assert needling_gate(second, now=day_two).is_open


def test_a_deferral_in_the_rescreen_needs_a_clinicians_override(clinic: Any, appt: Any) -> None:
    # Toxin in the area five days ago: DOMAIN.md 2.2 row 24 defers needling 14 days.
    rescreen_record(
        appointment=appt,
        answers=_answers(toxin=True, toxin_on=(WHEN - timedelta(days=5)).date().isoformat()),
        by=None,
        via="reminder",
        now=NOW + timedelta(days=5),
    )
    gate = needling_gate(appt, now=ON_THE_DAY)
    assert gate.codes == ["open_finding"] and gate.can_override
    with pytest.raises(ClientContraindicated) as refused:
        _start(appt, clinic.reception)
    assert "specialist or the clinic manager can record a reason" in refused.value.message

    with pytest.raises(PermissionDenied):
        needling_override_record(appointment=appt, reason="fine", by=clinic.reception, now=NOW)
    specialist = clinic.specialists[0].user
    with pytest.raises(ValidationFailed):
        needling_override_record(appointment=appt, reason="  ", by=specialist, now=NOW)
    override = needling_override_record(
        appointment=appt,
        reason="Toxin was in the forehead; treating the cheeks only",
        by=specialist,
        now=ON_THE_DAY,
    )
    entry = AuditEntry.objects.get(action="needling.override")
    assert entry.actor == specialist
    assert entry.data["reason"] == "Toxin was in the forehead; treating the cheeks only"
    assert entry.data["appointment"] == str(appt.pk)
    assert entry.client_ref == str(appt.client_id)
    assert needling_overrides_list(appt) == [override]
    gate = needling_gate(appt, now=ON_THE_DAY)
    assert gate.is_open and gate.is_overridden
    assert _start(appt, clinic.specialists[0].user).status == Status.IN_TREATMENT


def test_an_override_covers_only_what_stood_in_the_way_when_it_was_recorded(
    clinic: Any, appt: Any
) -> None:
    specialist = clinic.specialists[0].user
    needling_override_record(
        appointment=appt, reason="Answered on paper at the desk", by=specialist, now=NOW
    )
    assert needling_gate(appt, now=ON_THE_DAY).is_open
    # Later, a new finding: the override does not cover it.
    Contraindication.objects.create(
        client=appt.client, condition="Keloid tendency", tier=Tier.CLINICIAN_REVIEW
    )
    gate = needling_gate(appt, now=ON_THE_DAY)
    assert gate.codes == ["open_finding"]
    with pytest.raises(ClientContraindicated):
        _start(appt, clinic.reception)


def test_nothing_to_override_is_refused(clinic: Any, appt: Any) -> None:
    rescreen_clear(appt)
    with pytest.raises(ValidationFailed) as refused:
        needling_override_record(
            appointment=appt, reason="why not", by=clinic.specialists[0].user, now=NOW
        )
    assert refused.value.code == "nothing_to_override"


def test_a_clinical_hold_cannot_be_overridden_at_the_gate(clinic: Any, appt: Any) -> None:
    rescreen_clear(appt)
    client_hold_place(client=appt.client, reason="Blistering reported", source="alert:1", now=NOW)
    gate = needling_gate(appt, now=ON_THE_DAY)
    assert gate.codes == ["clinical_hold"] and not gate.can_override
    with pytest.raises(ClientContraindicated):
        needling_override_record(
            appointment=appt, reason="seen it", by=clinic.manager, now=ON_THE_DAY
        )


def test_a_treatment_without_screening_has_no_gate(clinic: Any) -> None:
    treatment = next(t for t in clinic.treatments.values() if not t.requires_screening)
    appt = appointment_book(
        client=clinic.clients[0],
        treatment=treatment,
        starts_at=WHEN,
        booked_by=clinic.reception,
        now=NOW,
    ).appointment
    assert needling_gate(appt, now=ON_THE_DAY).is_open
    assert _start(appt, clinic.reception).status == Status.IN_TREATMENT


def test_another_kind_of_blocker_is_one_function(clinic: Any, appt: Any) -> None:
    rescreen_clear(appt)

    @blocker_check
    def consent_blockers(ctx: Any) -> Any:
        yield Blocker("consent_missing", "No signed consent for this treatment.")

    try:
        gate = needling_gate(appt, now=ON_THE_DAY)
        assert gate.codes == ["consent_missing"]
        with pytest.raises(ClientContraindicated) as refused:
            _start(appt, clinic.reception)
        assert "No signed consent" in refused.value.message
    finally:
        gate_module.BLOCKER_CHECKS.remove(consent_blockers)


def test_rescreen_answers_are_stored_for_the_appointment_and_audited(
    clinic: Any, appt: Any
) -> None:
    with pytest.raises(ValidationFailed) as incomplete:
        rescreen_record(
            appointment=appt, answers={"pregnant": False}, by=None, via="reminder", now=NOW
        )
    assert incomplete.value.code == "rescreen_incomplete"
    assert "infection" in incomplete.value.fields
    assert not ScreeningResponse.objects.exists()
    response = rescreen_clear(appt, by=clinic.reception)
    assert response.via == "desk" and response.answered_by == clinic.reception
    entry = AuditEntry.objects.get(action="screening.record")
    assert entry.data["rescreen"] is True and entry.data["appointment"] == str(appt.pk)
