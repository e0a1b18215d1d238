"""Writes for the clinical record. Screening: a client's answers are evaluated by the pure rules
(`daisy.core.screening`) against the clinic's table, stored as they were given with the
questionnaire's version, and every finding they lead to becomes a Contraindication on the
client's record, so the booking gate applies it on every path (DOMAIN.md 2.1, 2.2)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import F

from daisy.audit.services import audit_record
from daisy.clients.models import Client, Tier
from daisy.clients.services import finding_record
from daisy.core import screening as core
from daisy.records import defaults
from daisy.records.models import Question, Questionnaire, Rule, ScreeningResponse
from daisy.records.selectors import Asked, question_keys_all, questionnaire_asked

# An outcome as a finding's tier on the client's record.
TIER_OF: Mapping[core.Outcome, str] = {
    core.Outcome.HARD_STOP: Tier.HARD_STOP,
    core.Outcome.DEFERRED: Tier.DEFER,
    core.Outcome.CLINICIAN_REVIEW: Tier.CLINICIAN_REVIEW,
    core.Outcome.CAUTION: Tier.CAUTION,
    core.Outcome.ZONE_EXCLUDED: Tier.ZONE_EXCLUDED,
    core.Outcome.NO_NUMBING: Tier.NO_NUMBING,
}


@dataclass(frozen=True)
class Evaluated:
    asked: Asked
    answers: dict[str, core.Answer]
    screening: core.Screening


def screening_evaluate(
    *,
    treatment: Any,
    answers: Mapping[str, object],
    today: date,
    online: bool = True,
    asked: Asked | None = None,
) -> Evaluated | None:
    """The answers against the questionnaire `treatment` asks (online: the pre-screen only),
    or against `asked` when given. Answers to the clinic's other questions are left aside (one
    set of answers may serve several treatments); a name that is no question at all is
    reported as unknown. None when the clinic has no questionnaire for the treatment."""
    if asked is None:
        asked = questionnaire_asked(treatment, online=online)
    if asked is None:
        return None
    known = question_keys_all()
    own = {q.key for q in asked.core_questions}
    relevant = {
        k: v
        for k, v in answers.items()
        if k in own or (k.endswith("_on") and k[:-3] in own) or not _known(k, known)
    }
    parsed, unknown = core.answers_parse(relevant, asked.core_questions)
    result = core.screen(
        asked.core_questions, asked.core_rules, parsed, today=today, unknown=unknown
    )
    return Evaluated(asked=asked, answers=parsed, screening=result)


def _known(key: str, known: frozenset[str]) -> bool:
    return key in known or (key.endswith("_on") and key[:-3] in known)


def screening_record(
    *,
    client: Client,
    evaluated: Evaluated,
    by: Any,
    via: str,
    now: datetime,
    appointment: Any = None,
    course: Any = None,
) -> ScreeningResponse:
    """Keep the answers and turn each finding into one on the client's record (audited), in
    the caller's transaction: a booking that rolls back keeps neither."""
    asked, result = evaluated.asked, evaluated.screening
    response = ScreeningResponse.objects.create(
        client=client,
        appointment=appointment,
        course=course,
        questionnaire=asked.questionnaire,
        questionnaire_version=asked.questionnaire.version,
        questions={q.key: q.text for q in asked.questions},
        answers={
            key: {"yes": a.yes, **({"on": a.on.isoformat()} if a.on else {})}
            for key, a in evaluated.answers.items()
        },
        outcome=result.outcome.value,
        deferred_until=result.deferred_until,
        answered_by=by if getattr(by, "pk", None) else None,
        via=via,
        answered_at=now,
    )
    rules = {r.key: r for r in Rule.objects.filter(key__in=[f.rule for f in result.findings])}
    for found in result.findings:
        rule = rules[found.rule]
        finding_record(
            client=client,
            condition=rule.condition,
            tier=TIER_OF[found.outcome],
            row=found.row,
            until_on=found.until_on,
            modification=found.modification,
            source=f"screening:{response.pk}",
            by=by,
            now=now,
        )
    audit_record(
        actor=by,
        action="screening.record",
        obj=response,
        at=now,
        data={
            "client": str(client.pk),
            "questionnaire": asked.questionnaire.slug,
            "version": asked.questionnaire.version,
            "outcome": result.outcome.value,
            "findings": [f.rule for f in result.findings],
        },
    )
    return response


def questionnaires_revise(questionnaire_ids: Iterable[Any]) -> None:
    """A question or rule changed: the questionnaires that ask it are a new version, so stored
    answers keep saying which wording and rules they were given under."""
    with transaction.atomic():
        Questionnaire.objects.filter(pk__in=list(questionnaire_ids)).update(
            version=F("version") + 1
        )


def screenings_reassign_client(*, source: Client, target: Client) -> int:
    """A merge of two records of one person: the answers move to the record kept."""
    return ScreeningResponse.objects.filter(client=source).update(client=target)


def screening_table_install() -> None:
    """The shipped screening table (migration 0002) again, for a database that was flushed;
    what the clinic changed stays."""
    with transaction.atomic():
        defaults.install(Questionnaire, Question, Rule)
