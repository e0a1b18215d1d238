"""Issue 14's acceptance, row by row: every row of the contraindication table (DOMAIN.md 2.2) is
asked where it can be (the online pre-screen, the consultation, the re-screen before every
session), and each row the re-screen asks, answered "yes" there, gives the table's outcome on
the client's record and shuts or leaves open the start-of-needling gate as it should."""

from __future__ import annotations

import importlib
from datetime import date, timedelta
from typing import Any

import pytest

from daisy.booking.services import appointment_book
from daisy.clients.models import Contraindication, Tier
from daisy.records import defaults
from daisy.records.consultations import consultation_questionnaire, consultation_start
from daisy.records.gate import FINDING, HARD_STOP, needling_gate
from daisy.records.models import Question, Questionnaire
from daisy.records.selectors import questionnaire_asked, rescreen_asked, rescreen_last_answers
from daisy.records.services import rescreen_record, screening_evaluate, screening_record
from daisy.records.tests.test_screening_table import ROWS
from tests.support.testing import (
    MICRONEEDLING_RESCREEN,
    MONDAY,
    at,
    booking_now,
    consent_signed,
    make_client,
    make_clinic,
)

pytestmark = pytest.mark.django_db

WHEN = at(MONDAY, 10)
ON_THE_DAY = WHEN - timedelta(hours=1)  # answered on the desk's tablet at arrival
YESTERDAY = MONDAY - timedelta(days=1)

# Rows only a specialist can answer, asked at the consultation and nowhere else: a scar
# tendency the clinician judges (row 7), the skin type (31), what the plan includes (32), the
# clinician's view of expectations (34). Everything else can change between sessions and is
# asked again before each one (DOMAIN.md 2.2, "re-screen on the day of every session").
CONSULTATION_ONLY = {"keloid", "dark_skin", "orbital_rim", "expectations"}
TIER = {
    "hard_stop": Tier.HARD_STOP,
    "clinician_review": Tier.CLINICIAN_REVIEW,
    "deferred": Tier.DEFER,
    "caution": Tier.CAUTION,
    "zone_excluded": Tier.ZONE_EXCLUDED,
    "no_numbing": Tier.NO_NUMBING,
}
QUESTION_OF = {r["key"]: r["question"] for r in defaults.RULES}
ASKS_WHEN = {q["key"]: q["asks_when"] for q in defaults.QUESTIONS}
# Each rule the re-screen applies (its question is asked again before every session).
RESCREEN_ROWS = [row for row in ROWS if QUESTION_OF[row[1]] not in CONSULTATION_ONLY]


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
        now=booking_now(),
    ).appointment
    consent_signed(appt, now=booking_now())  # signed: only the health questions are in question
    return appt


def _rows(row: str) -> set[str]:
    return {r.strip() for r in row.split(",")}


def test_every_row_of_the_table_is_asked_at_one_moment_at_least(clinic: Any) -> None:
    prescreen = questionnaire_asked(clinic.microneedling, online=True)
    rescreen = rescreen_asked(clinic.microneedling)
    consultation = consultation_questionnaire(
        consultation_start(client=make_client(), by=clinic.manager, now=booking_now())
    )
    assert prescreen is not None and rescreen is not None and consultation is not None
    moments = {
        "pre-screen": {q.key for q in prescreen.questions},
        "consultation": {q.key for q in consultation.questions},
        "re-screen": {q.key for q in rescreen.questions},
    }
    asked_rows: set[str] = set()
    for row, rule, _outcome, _wait in ROWS:
        key = QUESTION_OF[rule]
        where = {moment for moment, keys in moments.items() if key in keys}
        assert where, f"DOMAIN.md 2.2 row {row} ({key}) is never asked"
        assert "consultation" in where, f"row {row}: the consultation asks every question"
        if key in CONSULTATION_ONLY:
            assert where == {"consultation"}, f"row {row} ({key}) is the specialist's alone"
        else:
            assert "re-screen" in where, f"row {row} ({key}) can change: ask it every session"
        asked_rows |= _rows(row)
    # Row 30 (age) is the treatment's minimum age, not a question (test_screening_table.py).
    assert asked_rows | {"30"} == {str(n) for n in range(1, 35)}
    # The re-screen asks at least what the pre-screen asks, and more.
    assert moments["pre-screen"] < moments["re-screen"] < moments["consultation"]
    assert moments["re-screen"] == set(MICRONEEDLING_RESCREEN)


def test_the_rescreen_asks_the_client_in_their_own_words(clinic: Any) -> None:
    rescreen = rescreen_asked(clinic.microneedling)
    assert rescreen is not None
    for question in rescreen.questions:
        first = question.text.split()[0]
        assert first in {"Are", "Do", "Is", "Did", "Have", "In"}, question.text
        assert question.text.endswith("?"), question.text
        assert question.why and "clinician's review" not in question.why, question.key


def _answers_with_yes(key: str, on: date | None) -> dict[str, object]:
    answers: dict[str, object] = dict.fromkeys(MICRONEEDLING_RESCREEN, False)
    answers[key] = True
    if ASKS_WHEN[key]:
        assert on is not None
        answers[f"{key}_on"] = on.isoformat()
    return answers


@pytest.mark.parametrize(
    ("row", "rule", "outcome", "wait"), RESCREEN_ROWS, ids=[r[1] for r in RESCREEN_ROWS]
)
def test_a_yes_at_the_rescreen_gives_the_rows_outcome_and_the_gate_follows(
    clinic: Any, appt: Any, row: str, rule: str, outcome: str, wait: int | None
) -> None:
    key = QUESTION_OF[rule]
    response = rescreen_record(
        appointment=appt,
        answers=_answers_with_yes(key, YESTERDAY),
        by=clinic.reception,
        via="desk",
        now=ON_THE_DAY,
    )
    found = Contraindication.objects.get(
        client=appt.client, source=f"screening:{response.pk}", domain_row=row, tier=TIER[outcome]
    )
    assert found.until_on == (YESTERDAY + timedelta(days=wait) if wait else None)
    if outcome not in {"hard_stop", "deferred", "clinician_review"}:
        assert found.modification  # what changes at the session: it goes ahead
    # The gate weighs every rule of the question (filler defers and asks for a review).
    outcomes = {o for _r, k, o, _w in ROWS if QUESTION_OF[k] == key}
    gate = needling_gate(appt, now=ON_THE_DAY)
    if "hard_stop" in outcomes:
        assert HARD_STOP in gate.codes and not gate.can_override
    elif outcomes & {"deferred", "clinician_review"}:
        assert gate.codes and set(gate.codes) == {FINDING} and gate.can_override
    else:
        assert gate.is_open, gate.message()


DEFERRALS = [r for r in RESCREEN_ROWS if r[2] == "deferred"]


@pytest.mark.parametrize(
    ("row", "rule", "outcome", "wait"), DEFERRALS, ids=[r[1] for r in DEFERRALS]
)
def test_a_wait_over_by_the_session_leaves_the_gate_open(
    clinic: Any, appt: Any, row: str, rule: str, outcome: str, wait: int
) -> None:
    key = QUESTION_OF[rule]
    response = rescreen_record(
        appointment=appt,
        answers=_answers_with_yes(key, MONDAY - timedelta(days=wait)),
        by=clinic.reception,
        via="desk",
        now=ON_THE_DAY,
    )
    assert not Contraindication.objects.filter(
        source=f"screening:{response.pk}", tier=Tier.DEFER
    ).exists()
    gate = needling_gate(appt, now=ON_THE_DAY)
    if key == "filler":  # a clinician still checks the filler site (row 25)
        assert gate.codes == [FINDING]
    else:
        assert gate.is_open, gate.message()


def test_the_rescreen_prefills_each_question_from_the_last_set_that_asked_it(
    clinic: Any, appt: Any
) -> None:
    # The consultation asked about self-taken painkillers; the online booking later did not.
    asked = consultation_questionnaire(
        consultation_start(client=appt.client, by=clinic.manager, now=booking_now())
    )
    assert asked is not None
    at_consultation = {q.key: False for q in asked.questions} | {"nsaids": True}
    earlier = booking_now() - timedelta(days=30)
    evaluated = screening_evaluate(
        treatment=clinic.microneedling, answers=at_consultation, today=earlier.date(), asked=asked
    )
    screening_record(
        client=appt.client, evaluated=evaluated, by=clinic.manager, via="consultation", now=earlier
    )
    online = questionnaire_asked(clinic.microneedling, online=True)
    assert online is not None
    evaluated = screening_evaluate(
        treatment=clinic.microneedling,
        answers={q.key: False for q in online.questions},
        today=booking_now().date(),
    )
    screening_record(
        client=appt.client, evaluated=evaluated, by=None, via="online", now=booking_now()
    )
    last = rescreen_last_answers(appt)
    assert last["nsaids"] == {"yes": True}  # from the consultation
    assert last["pregnant"] == {"yes": False}  # from the booking, the newer set
    assert set(MICRONEEDLING_RESCREEN) <= set(last)


def test_the_migration_rewords_only_what_the_clinic_left_as_shipped() -> None:
    from django.apps import apps

    migration = importlib.import_module("daisy.records.migrations.0011_question_is_rescreen")
    shipped = {q["key"]: q for q in defaults.QUESTIONS}
    for key, (_old, (text, why)) in migration.REWORDED.items():
        assert (text, why) == (shipped[key]["text"], shipped[key]["why"]), key
        assert shipped[key]["is_rescreen"]
    assert {k for k, q in shipped.items() if not q["is_rescreen"]} == set(
        migration.CONSULTATION_ONLY
    )
    # A database from before: the old wording, everything asked again; one text the clinic
    # changed itself.
    (old_text, old_why), _new = migration.REWORDED["nsaids"]
    Question.objects.filter(key="nsaids").update(text=old_text, why=old_why)
    Question.objects.filter(key="trauma").update(text="Our own wording?")
    Question.objects.update(is_rescreen=True)
    version = Questionnaire.objects.get(slug="microneedling").version
    migration.forwards(apps, None)
    assert Question.objects.get(key="nsaids").text == shipped["nsaids"]["text"]
    assert Question.objects.get(key="trauma").text == "Our own wording?"
    assert set(Question.objects.filter(is_rescreen=False).values_list("key", flat=True)) == set(
        CONSULTATION_ONLY
    )
    assert Questionnaire.objects.get(slug="microneedling").version == version + 1
