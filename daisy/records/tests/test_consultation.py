"""The consultation (issue 14, item 2): every row of the contraindication table is asked
somewhere (online or at the consultation), the medical history runs through the same rules and
is stored with via=consultation, a clinician signs, a signed record is read-only and changes
are appended as amendments with who, when and why; the skin type and its depth cap."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from daisy.audit.models import AuditEntry
from daisy.clients.models import Contraindication
from daisy.courses.services import plan_create
from daisy.lib.errors import NotFound, PermissionDenied, PolicyViolation, ValidationFailed
from daisy.records.charting import client_skin_type
from daisy.records.consultations import (
    consultation_amend,
    consultation_current,
    consultation_history_record,
    consultation_prefill,
    consultation_questionnaire,
    consultation_sign,
    consultation_start,
    consultation_update,
)
from daisy.records.models import (
    ChartPolicy,
    Consultation,
    ConsultationAmendment,
    Rule,
    ScreeningResponse,
    Via,
)
from daisy.records.selectors import questionnaire_asked, skin_type_for
from tests.support.testing import make_client, make_clinic

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 1, 7, 10, 0, tzinfo=UTC)
TODAY = date(2030, 1, 7)
LAST_WEEK = TODAY - timedelta(days=7)
# DOMAIN.md 2.2 has 34 rows; row 30 (age) is the treatment's minimum age, not a question
# (daisy/records/tests/test_screening_table.py::test_row_30_age_is_the_treatment_age_limit).
DOMAIN_ROWS = [str(n) for n in range(1, 35)]
NOT_A_QUESTION = {"30"}


@pytest.fixture
def clinic() -> Any:
    return make_clinic()


@pytest.fixture
def specialist(clinic: Any) -> Any:
    return clinic.specialists[0].user


def _rows(rule: Rule) -> set[str]:
    return {r.strip() for r in rule.row.split(",")}


def _no_to_all(consultation: Consultation) -> dict[str, object]:
    asked = consultation_questionnaire(consultation)
    assert asked is not None
    return {q.key: False for q in asked.questions}


def _filled(clinic: Any, by: Any, **kw: Any) -> Consultation:
    client = kw.pop("client", None) or make_client()
    consultation = consultation_start(
        client=client,
        by=by,
        now=NOW,
        skin_type=kw.pop("skin_type", 2),
        concerns=kw.pop("concerns", [{"zone": "cheek_right", "concern": "acne_scars", "note": ""}]),
        goals="Smoother cheeks before summer",
        **kw,
    )
    consultation_history_record(
        consultation=consultation, answers=_no_to_all(consultation), by=by, now=NOW, today=TODAY
    )
    consultation.refresh_from_db()
    return consultation


def test_every_row_of_the_table_is_asked_online_or_at_the_consultation(clinic: Any) -> None:
    """Walks DOMAIN.md 2.2 row by row: each row has a micro-needling rule whose question is
    asked either in the online pre-screen or at the consultation, and the consultation asks
    every question the pre-screen leaves out."""
    online = questionnaire_asked(clinic.microneedling, online=True)
    consultation = consultation_start(client=make_client(), by=clinic.manager, now=NOW)
    at_consultation = consultation_questionnaire(consultation)
    assert online is not None and at_consultation is not None
    online_keys = {q.key for q in online.questions}
    consultation_keys = {q.key for q in at_consultation.questions}
    rules = list(
        Rule.objects.filter(questionnaires__slug="microneedling").select_related("question")
    )
    for row in DOMAIN_ROWS:
        if row in NOT_A_QUESTION:
            continue
        applied = [r for r in rules if row in _rows(r)]
        assert applied, f"DOMAIN.md 2.2 row {row} has no rule"
        for rule in applied:
            key = rule.question.key
            assert key in online_keys | consultation_keys, f"row {row}: {key} is never asked"
    in_person = {q.key for q in at_consultation.questions if not q.is_online}
    assert in_person, "the consultation is where the in-person rows are asked"
    assert in_person <= consultation_keys
    assert online_keys <= consultation_keys  # a client booked at the desk is asked them here


@pytest.mark.parametrize(
    "key",
    [
        "keloid",
        "nsaids",
        "koebner",
        "raised_lesions",
        "radiotherapy",
        "immunosuppression",
        "diabetes",
        "autoimmune",
        "trauma",
        "orbital_rim",
        "granuloma",
        "expectations",
    ],
)
def test_each_question_only_the_consultation_asks_gives_its_finding(
    clinic: Any, specialist: Any, key: str
) -> None:
    client = make_client()
    consultation = consultation_start(client=client, by=specialist, now=NOW)
    asked = consultation_questionnaire(consultation)
    assert asked is not None
    question = asked.question(key)
    assert question is not None and not question.is_online
    answers = _no_to_all(consultation) | {key: True}
    if question.asks_when:
        answers[f"{key}_on"] = LAST_WEEK.isoformat()
    response = consultation_history_record(
        consultation=consultation, answers=answers, by=specialist, now=NOW, today=TODAY
    )
    assert response.via == Via.CONSULTATION
    rule = Rule.objects.get(question__key=key, questionnaires__slug="microneedling")
    finding = Contraindication.objects.get(client=client, source=f"screening:{response.pk}")
    assert finding.domain_row == rule.row
    consultation.refresh_from_db()
    assert consultation.screening_id == response.pk


def test_the_skin_type_answers_the_skin_type_question(clinic: Any, specialist: Any) -> None:
    client = make_client()
    consultation = consultation_start(client=client, by=specialist, now=NOW, skin_type=5)
    answers = _no_to_all(consultation)  # says "no" to skin type IV-VI: the skin type wins
    response = consultation_history_record(
        consultation=consultation, answers=answers, by=specialist, now=NOW, today=TODAY
    )
    assert response.answers["dark_skin"] == {"yes": True}
    (finding,) = Contraindication.objects.filter(client=client)
    assert finding.domain_row == "31" and "Conservative depth" in finding.modification


def test_an_incomplete_history_is_refused_naming_each_question(
    clinic: Any, specialist: Any
) -> None:
    consultation = consultation_start(client=make_client(), by=specialist, now=NOW)
    answers = _no_to_all(consultation)
    del answers["keloid"]
    answers["toxin"] = True  # a "when" question without its date
    with pytest.raises(ValidationFailed) as refused:
        consultation_history_record(
            consultation=consultation, answers=answers, by=specialist, now=NOW, today=TODAY
        )
    assert {"keloid", "toxin_on"} <= set(refused.value.fields)
    assert not ScreeningResponse.objects.exists()


def test_earlier_answers_are_offered_again(clinic: Any, specialist: Any) -> None:
    client = make_client()
    first = _filled(clinic, specialist, client=client)
    again = consultation_start(client=client, by=specialist, now=NOW)
    prefill = consultation_prefill(client, consultation_questionnaire(again))
    assert prefill["pregnant"] is False and "keloid" in prefill
    assert first.pk != again.pk


def test_only_clinicians_fill_in_a_consultation(clinic: Any) -> None:
    with pytest.raises(PermissionDenied):
        consultation_start(client=make_client(), by=clinic.reception, now=NOW)


def test_one_consultation_per_course_plan(clinic: Any, specialist: Any) -> None:
    client = make_client()
    plan = plan_create(client=client, treatment=clinic.microneedling, by=specialist, now=NOW)
    consultation_start(client=client, by=specialist, now=NOW, plan=plan)
    with pytest.raises(PolicyViolation):
        consultation_start(client=client, by=specialist, now=NOW, plan=plan)
    with pytest.raises(NotFound):  # another client's plan
        consultation_start(client=make_client(), by=specialist, now=NOW, plan=plan)


def test_signing_needs_skin_type_history_and_a_concern(clinic: Any, specialist: Any) -> None:
    consultation = consultation_start(client=make_client(), by=specialist, now=NOW)
    with pytest.raises(ValidationFailed) as refused:
        consultation_sign(consultation=consultation, by=specialist, now=NOW)
    assert set(refused.value.fields) == {"skin_type", "screening", "concerns"}
    with pytest.raises(PermissionDenied):
        consultation_sign(consultation=consultation, by=clinic.reception, now=NOW)


def test_a_signed_consultation_is_read_only_and_changes_are_amendments(
    clinic: Any, specialist: Any
) -> None:
    consultation = _filled(clinic, specialist)
    signed = consultation_sign(consultation=consultation, by=specialist, now=NOW)
    assert signed.signed_by == specialist and signed.signed_at == NOW
    with pytest.raises(PolicyViolation):
        consultation_update(consultation=signed, by=specialist, now=NOW, goals="Other")
    with pytest.raises(PolicyViolation):
        consultation_sign(consultation=signed, by=specialist, now=NOW)
    with pytest.raises(ValidationFailed):  # an amendment needs a reason
        consultation_amend(consultation=signed, by=specialist, now=NOW, reason=" ", skin_type=4)

    later = NOW + timedelta(days=3)
    (amendment,) = consultation_amend(
        consultation=signed,
        by=clinic.manager,
        now=later,
        reason="Skin looked darker in daylight at the second visit",
        skin_type=4,
    )
    assert (amendment.field, amendment.before, amendment.after) == ("skin_type", 2, 4)
    assert amendment.amended_by == clinic.manager and amendment.amended_at == later
    signed.refresh_from_db()
    assert signed.skin_type == 2  # the signed record itself is never overwritten
    assert consultation_current(signed).skin_type == 4
    consultation_amend(
        consultation=signed, by=specialist, now=later, reason="Typo", skin_type=3, goals="Less"
    )
    assert ConsultationAmendment.objects.filter(consultation=signed).count() == 3
    assert consultation_current(signed).skin_type == 3
    assert consultation_current(signed).goals == "Less"
    with pytest.raises(ValidationFailed):
        consultation_amend(consultation=signed, by=specialist, now=later, reason="x", skin_type=3)

    actions = list(
        AuditEntry.objects.filter(object_id=str(signed.pk)).values_list("action", flat=True)
    )
    assert actions.count("consultation.amend") == 3
    assert {"consultation.start", "consultation.update", "consultation.sign"} <= set(actions)


def test_the_history_asked_again_after_signing_is_an_amendment(
    clinic: Any, specialist: Any
) -> None:
    consultation = consultation_sign(
        consultation=_filled(clinic, specialist), by=specialist, now=NOW
    )
    first = consultation.screening_id
    answers = _no_to_all(consultation) | {"keloid": True}
    with pytest.raises(ValidationFailed):
        consultation_history_record(
            consultation=consultation, answers=answers, by=specialist, now=NOW, today=TODAY
        )
    response = consultation_history_record(
        consultation=consultation,
        answers=answers,
        by=specialist,
        now=NOW,
        today=TODAY,
        reason="Remembered a raised scar on the shoulder",
    )
    consultation.refresh_from_db()
    assert consultation.screening_id == first
    assert consultation_current(consultation).screening_id == str(response.pk)


def test_skin_type_for_gives_the_latest_skin_type_and_its_cap(clinic: Any, specialist: Any) -> None:
    client = make_client()
    assert skin_type_for(client) is None
    consultation = _filled(clinic, specialist, client=client, skin_type=3)
    found = skin_type_for(client)
    assert found is not None and found.skin_type == 3 and found.max_depth_mm is None
    assert found.label.startswith("III") and "Light brown" in found.words and not found.is_signed
    # The clinic's charting rules cap type V; an amendment makes the client type V.
    ChartPolicy.objects.update_or_create(pk=1, defaults={"cap_type_v_mm": Decimal("0.75")})
    consultation_sign(consultation=consultation, by=specialist, now=NOW)
    consultation_amend(consultation=consultation, by=specialist, now=NOW, reason="r", skin_type=5)
    found = skin_type_for(client)
    assert found.skin_type == 5 and found.max_depth_mm == Decimal("0.75") and found.is_signed
    # The chart reads the consultation's skin type first.
    assert client_skin_type(client) == 5


def test_concerns_name_known_areas(clinic: Any, specialist: Any) -> None:
    with pytest.raises(ValidationFailed):
        consultation_start(
            client=make_client(), by=specialist, now=NOW, concerns=[{"zone": "elbow"}]
        )
    with pytest.raises(ValidationFailed):
        consultation_start(client=make_client(), by=specialist, now=NOW, skin_type=7)
