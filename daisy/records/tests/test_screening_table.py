"""The shipped screening table, row by row (DOMAIN.md 2.2): each contraindication is asked
where it can be and gives its outcome and wait through the clinic's rules; the table is
consistent; laser and LED get their own questions."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from daisy.core import screening as core
from daisy.records.models import Question, Questionnaire, Rule
from daisy.records.selectors import questionnaire_asked, questionnaire_for
from daisy.records.services import screening_evaluate
from tests.support.testing import make_clinic

pytestmark = pytest.mark.django_db

TODAY = date(2030, 1, 7)
LAST_WEEK = TODAY - timedelta(days=1)

# Each row of the contraindication table: (row, rule, outcome, wait in days). Stated here from
# the research notes on their own, so a change to the shipped data that drifts from them fails.
# Row 30 (age) is the treatment's age limit: test_row_30_age_is_the_treatment_age_limit.
ROWS: list[tuple[str, str, str, int | None]] = [
    ("1, 2", "infection", "hard_stop", None),
    ("3", "cold_sores", "caution", None),
    ("4", "acne", "hard_stop", None),
    ("5", "isotretinoin", "hard_stop", None),
    ("6", "isotretinoin_stopped", "deferred", 180),
    ("7", "keloid", "clinician_review", None),
    ("8", "pregnant", "hard_stop", None),
    ("9", "bleeding", "hard_stop", None),
    ("10", "anticoagulant", "clinician_review", None),
    ("11", "nsaids", "caution", None),
    ("12", "flare", "hard_stop", None),
    ("12", "koebner", "clinician_review", None),
    ("13", "lesion", "hard_stop", None),
    ("14", "raised_lesions", "zone_excluded", None),
    ("15", "tattoo", "zone_excluded", None),
    ("16", "radiotherapy", "clinician_review", None),
    ("17", "immunosuppression", "clinician_review", None),
    ("18", "diabetes", "clinician_review", None),
    ("19", "autoimmune", "clinician_review", None),
    ("20", "sunburn", "hard_stop", None),
    ("20", "tan", "deferred", 14),
    ("20", "self_tan", "deferred", 2),
    ("21", "retinoids", "deferred", 5),
    ("22", "acids", "deferred", 3),
    ("23", "waxing", "deferred", 7),
    ("24", "toxin", "deferred", 14),
    ("25", "filler", "deferred", 28),
    ("25", "filler_review", "clinician_review", None),
    ("26", "resurfacing", "deferred", 90),
    ("26", "light_treatment", "deferred", 21),
    ("27", "surgery", "deferred", 365),
    ("28", "trauma", "clinician_review", None),
    ("29", "allergy", "hard_stop", None),
    ("29", "numbing_allergy", "no_numbing", None),
    ("31", "dark_skin", "caution", None),
    ("32", "orbital_rim", "zone_excluded", None),
    ("33", "granuloma", "clinician_review", None),
    ("34", "expectations", "clinician_review", None),
]


@pytest.fixture
def clinic() -> Any:
    return make_clinic()


def _all_no(treatment: Any, *, online: bool) -> dict[str, object]:
    asked = questionnaire_asked(treatment, online=online)
    assert asked is not None
    return {q.key: False for q in asked.questions}


def _yes(rule: Rule) -> dict[str, object]:
    answer: dict[str, object] = {rule.question.key: True}
    if rule.question.asks_when:
        answer[f"{rule.question.key}_on"] = LAST_WEEK.isoformat()
    return answer


def test_every_row_of_the_table_is_applied() -> None:
    rows = {row for row, *_ in ROWS} | {"30"}
    for n in range(1, 35):
        assert any(str(n) in r.replace(" ", "").split(",") for r in rows), n


@pytest.mark.parametrize(("row", "key", "outcome", "wait"), ROWS)
def test_each_row_gives_its_outcome_and_wait(
    clinic: Any, row: str, key: str, outcome: str, wait: int | None
) -> None:
    rule = Rule.objects.select_related("question").get(key=key)
    assert rule.row == row
    treatment = clinic.microneedling
    answers = _all_no(treatment, online=False) | _yes(rule)
    evaluated = screening_evaluate(treatment=treatment, answers=answers, today=TODAY, online=False)
    assert evaluated is not None and evaluated.screening.is_complete
    found = [f for f in evaluated.screening.findings if f.rule == key]
    assert len(found) == 1, evaluated.screening.findings
    (finding,) = found
    assert finding.outcome == outcome
    assert finding.until_on == (LAST_WEEK + timedelta(days=wait) if wait else None)
    if outcome in {"hard_stop", "clinician_review"}:
        assert not evaluated.screening.allows_on(TODAY + timedelta(days=400))
    elif wait and not evaluated.screening.stops:  # (filler also asks for a review)
        assert not evaluated.screening.allows_on(LAST_WEEK + timedelta(days=wait - 1))
        assert evaluated.screening.allows_on(LAST_WEEK + timedelta(days=wait))
    elif not wait:  # changes how the session goes, not whether
        assert evaluated.screening.allows_on(TODAY)
        assert finding.modification


def test_row_30_age_is_the_treatment_age_limit(clinic: Any) -> None:
    assert clinic.microneedling.min_age == 18


def test_the_table_is_consistent() -> None:
    questions = {q.key: q for q in Question.objects.prefetch_related("questionnaires")}
    for rule in Rule.objects.select_related("question").prefetch_related("questionnaires"):
        q = rule.question
        asked = core.Question(q.key, asks_when=q.asks_when, look_back_days=q.look_back_days)
        core_rule = core.Rule(rule.key, q.key, core.Outcome(rule.outcome), wait_days=rule.wait_days)
        assert core.rule_problems(core_rule, {q.key: asked}) == [], rule.key
        where = set(rule.questionnaires.all())
        assert where and where <= set(questions[q.key].questionnaires.all()), rule.key
        assert rule.condition and rule.source, rule.key
    # Every question a questionnaire asks has a rule there: no question is asked for nothing.
    for questionnaire in Questionnaire.objects.prefetch_related("questions", "rules"):
        ruled = {r.question_id for r in questionnaire.rules.all()}
        for question in questionnaire.questions.all():
            assert question.pk in ruled, (questionnaire.slug, question.key)


def test_each_treatment_gets_the_questionnaire_of_its_device(clinic: Any) -> None:
    t = clinic.treatments
    assert questionnaire_for(t["microneedling"]).slug == "microneedling"
    assert questionnaire_for(t["laser-hair-removal"]).slug == "laser"
    assert questionnaire_for(t["led-therapy"]).slug == "led"
    assert questionnaire_for(t["chemical-peel"]).slug == "general"


@pytest.mark.parametrize("slug", ["laser-hair-removal", "led-therapy"])
def test_light_treatments_ask_about_tan_light_sensitising_medicines_and_tattoos(
    clinic: Any, slug: str
) -> None:
    asked = questionnaire_asked(clinic.treatments[slug], online=True)
    keys = [q.key for q in asked.questions]
    assert {"tan", "photosensitising", "tattoo"} <= set(keys)
    # Numbing creams and needles are not part of a light treatment.
    assert "numbing_allergy" not in keys and "allergy" not in keys and "bleeding" not in keys


def test_laser_waits_longer_after_a_tan_than_needling(clinic: Any) -> None:
    tanned = {"tan": True, "tan_on": LAST_WEEK.isoformat()}
    by_slug = {}
    for slug in ("microneedling", "laser-hair-removal", "led-therapy"):
        treatment = clinic.treatments[slug]
        answers = _all_no(treatment, online=True) | tanned
        evaluated = screening_evaluate(treatment=treatment, answers=answers, today=TODAY)
        by_slug[slug] = evaluated.screening
    assert by_slug["microneedling"].deferred_until == LAST_WEEK + timedelta(days=14)
    assert by_slug["laser-hair-removal"].deferred_until == LAST_WEEK + timedelta(days=28)
    # LED: a caution (lower dose), no wait.
    assert by_slug["led-therapy"].outcome == core.Outcome.CAUTION


def test_online_questions_are_the_subset_marked_for_online(clinic: Any) -> None:
    online = questionnaire_asked(clinic.microneedling, online=True)
    everything = questionnaire_asked(clinic.microneedling, online=False)
    assert set(online.questions) < set(everything.questions)
    assert all(q.is_online for q in online.questions)
    # The questions a specialist asks in person are not asked online.
    assert "dark_skin" not in {q.key for q in online.questions}


def test_answers_for_another_treatment_are_left_aside(clinic: Any) -> None:
    # One complete set of answers serves every treatment; a name no question has is reported.
    answers = _all_no(clinic.treatments["led-therapy"], online=True)
    answers |= _all_no(clinic.microneedling, online=True) | {"nonsense": True}
    evaluated = screening_evaluate(treatment=clinic.microneedling, answers=answers, today=TODAY)
    assert evaluated.screening.unknown == ("nonsense",)
    assert evaluated.screening.missing == ()
