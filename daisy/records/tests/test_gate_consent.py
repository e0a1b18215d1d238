"""The needling gate's consent blocker (issue 14 items 3 and 4; DOMAIN.md 6.4): a session
does not start without the client's current signed consent; it opens once they sign, closes
again when the text or the plan changes or the consent is withdrawn, and a clinician's recorded
reason covers only the state of the consent it was recorded over."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from daisy.booking.services import appointment_book, appointment_set_status
from daisy.lib.errors import ClientContraindicated
from daisy.records.consent_selectors import consent_template_for
from daisy.records.consent_services import consent_template_save, consent_withdraw
from daisy.records.gate import CONSENT, needling_gate
from daisy.records.services import needling_override_record
from daisy.scheduling.models import Status
from tests.support.testing import (
    MONDAY,
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
    rescreen_clear(appt)  # the health questions are answered: only consent is in question
    return appt


def _start(appt: Any, by: Any) -> Any:
    return appointment_set_status(
        appointment=appt, status=Status.IN_TREATMENT, by=by, now=ON_THE_DAY
    )


def test_no_consent_no_start_and_the_message_says_how_to_fix_it(clinic: Any, appt: Any) -> None:
    gate = needling_gate(appt, now=ON_THE_DAY)
    assert gate.codes == [CONSENT] and gate.can_override
    assert "not signed the consent" in gate.message() and "tablet" in gate.message()
    # Reception reads that consent is missing, not the clinical reason.
    assert "specialist hands them the tablet" in gate.message(clinic.reception)
    with pytest.raises(ClientContraindicated):
        _start(appt, clinic.reception)
    consent_signed(appt, by=clinic.specialists[0].user)
    assert needling_gate(appt, now=ON_THE_DAY).is_open
    assert _start(appt, clinic.reception).status == Status.IN_TREATMENT


def test_a_new_text_or_a_withdrawal_closes_the_gate_again(clinic: Any, appt: Any) -> None:
    consent = consent_signed(appt)
    assert needling_gate(appt, now=ON_THE_DAY).is_open
    template = consent_template_for(kind="treatment", treatment=clinic.microneedling)
    template.body += "\nA risk explained better.\n"
    consent_template_save(template=template, by=clinic.manager, now=NOW, is_new=False)
    gate = needling_gate(appt, now=ON_THE_DAY)
    assert gate.codes == [CONSENT] and "version 1, now 2" in gate.message()
    consent = consent_signed(appt, now=WHEN - timedelta(minutes=30))
    assert needling_gate(appt, now=ON_THE_DAY).is_open
    consent_withdraw(
        consent=consent, by=AnonymousUser(), reason="Wants to think again", now=NOW, via="portal"
    )
    gate = needling_gate(appt, now=ON_THE_DAY)
    assert gate.codes == [CONSENT] and "Wants to think again" in gate.message()


def test_an_override_covers_this_state_of_the_consent_only(clinic: Any, appt: Any) -> None:
    specialist = clinic.specialists[0].user
    needling_override_record(
        appointment=appt,
        reason="Signed the paper consent at the desk; the tablet is broken",
        by=specialist,
        now=ON_THE_DAY,
    )
    gate = needling_gate(appt, now=ON_THE_DAY)
    assert gate.is_open and gate.is_overridden
    # Signed, then the text changes: out of date is another state, not covered.
    consent_signed(appt)
    template = consent_template_for(kind="treatment", treatment=clinic.microneedling)
    template.title += " (2027)"
    consent_template_save(template=template, by=clinic.manager, now=NOW, is_new=False)
    assert needling_gate(appt, now=ON_THE_DAY).codes == [CONSENT]
