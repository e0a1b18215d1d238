"""Reads for the clinical record: which questionnaire a treatment asks, as the pure rules'
plain data, and a client's stored screening answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from daisy.core import screening as core
from daisy.records.models import Question, Questionnaire, ScreeningResponse


@dataclass(frozen=True)
class Asked:
    """A questionnaire as asked: its rows, and the same as the pure rules' data."""

    questionnaire: Questionnaire
    questions: tuple[Question, ...]
    core_questions: tuple[core.Question, ...]
    core_rules: tuple[core.Rule, ...]

    def question(self, key: str) -> Question | None:
        return next((q for q in self.questions if q.key == key), None)


def questionnaire_for(treatment: Any) -> Questionnaire | None:
    """The questionnaire of the first device the treatment uses (in phase order), or the one
    for treatments without such a device; None when the clinic has neither."""
    kinds = [p.device_kind for p in treatment.phases.all() if p.device_kind]
    found = {q.device_kind: q for q in Questionnaire.objects.filter(device_kind__in=[*kinds, ""])}
    for kind in kinds:
        if kind in found:
            return found[kind]
    return found.get("")


def questionnaire_asked(treatment: Any, *, online: bool) -> Asked | None:
    """What is asked before `treatment`: online, only the questions marked for online booking
    (the pre-screen); at the clinic, all of them."""
    questionnaire = questionnaire_for(treatment)
    if questionnaire is None:
        return None
    questions = list(questionnaire.questions.all().order_by("order", "key"))
    if online:
        questions = [q for q in questions if q.is_online]
    keys = {q.key for q in questions}
    rules = [
        r
        for r in questionnaire.rules.filter(is_active=True).select_related("question")
        if r.question.key in keys
    ]
    return Asked(
        questionnaire=questionnaire,
        questions=tuple(questions),
        core_questions=tuple(
            core.Question(q.key, asks_when=q.asks_when, look_back_days=q.look_back_days)
            for q in questions
        ),
        core_rules=tuple(
            core.Rule(
                key=r.key,
                question=r.question.key,
                outcome=core.Outcome(r.outcome),
                wait_days=r.wait_days,
                modification=r.modification,
                row=r.row,
            )
            for r in rules
        ),
    )


def question_keys_all() -> frozenset[str]:
    return frozenset(Question.objects.values_list("key", flat=True))


def screening_list_for_client(client: Any) -> QuerySet[ScreeningResponse]:
    return ScreeningResponse.objects.filter(client=client).select_related(
        "questionnaire", "answered_by", "appointment"
    )


# Consent (DOMAIN.md 6.4) lives in its own module; its public reads are named here too.
from daisy.records.consent_selectors import consent_current as consent_current  # noqa: E402
from daisy.records.consent_selectors import consent_status as consent_status  # noqa: E402
