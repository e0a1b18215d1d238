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
from django.utils.translation import gettext as _

from daisy.audit.services import audit_record
from daisy.clients.models import Client, Tier
from daisy.clients.services import finding_record
from daisy.core import screening as core
from daisy.lib.errors import ClientContraindicated, PermissionDenied, ValidationFailed
from daisy.records import defaults
from daisy.records.gate import Gate, needling_gate
from daisy.records.models import (
    IntervalOverride,
    NeedlingOverride,
    Question,
    Questionnaire,
    Rule,
    ScreeningResponse,
)
from daisy.records.selectors import (
    RESCREEN_STATUSES,
    Asked,
    question_keys_all,
    questionnaire_asked,
    rescreen_asked,
)

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
    is_rescreen: bool = False,
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
        is_rescreen=is_rescreen,
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
            **({"appointment": str(appointment.pk)} if appointment is not None else {}),
            **({"rescreen": True, "via": via} if is_rescreen else {}),
        },
    )
    return response


# --- the start of needling (daisy/records/gate.py) --------------------------------------------


def needling_gate_check(*, appointment: Any, now: datetime, by: Any = None) -> Gate:
    """Refuse to start the session while the gate is shut (409 `needling_gate`, with each
    blocker's code and message in `extra`); returns the gate when it is open. What a finding
    is stays out of the words shown to `by` unless they are a clinician."""
    gate = needling_gate(appointment, now=now)
    if gate.is_open:
        return gate
    who = (
        _(" A specialist or the clinic manager can record a reason to start anyway.")
        if gate.can_override
        else ""
    )
    raise ClientContraindicated(
        _("The session cannot start yet. %(why)s") % {"why": gate.message(by)} + who,
        code="needling_gate",
        extra={
            "blockers": [
                {**b.as_data(), "message": b.message_for(by) if by is not None else b.message}
                for b in gate.open_blockers
            ]
        },
    )


def needling_override_record(
    *, appointment: Any, reason: str, by: Any, now: datetime
) -> NeedlingOverride:
    """A clinician starts this session despite what the gate names: kept with the blockers it
    covers (never later ones), who, when and why, and audited. Refused for anyone but a
    clinician, without a reason, when nothing needs overriding, or when a blocker allows no
    override (a hard stop, a clinical hold)."""
    if not getattr(by, "is_clinician", False):
        raise PermissionDenied(
            _("Only a specialist or the clinic manager can record a reason to start anyway.")
        )
    reason = (reason or "").strip()
    if not reason:
        msg = _("Say why the session can start: it goes into the client's record.")
        raise ValidationFailed(msg, fields={"reason": msg})
    with transaction.atomic():
        gate = needling_gate(appointment, now=now)
        if gate.is_open:
            raise ValidationFailed(
                _("Nothing stands in the way of this session: there is nothing to override."),
                code="nothing_to_override",
            )
        if not gate.can_override:
            fixed = [b for b in gate.open_blockers if not b.can_override]
            raise ClientContraindicated(
                _("This cannot be overridden: %(why)s")
                % {"why": " ".join(b.message for b in fixed)},
                code="override_not_allowed",
                extra={"blockers": [b.as_data() for b in fixed]},
            )
        override = NeedlingOverride.objects.create(
            appointment=appointment,
            blockers=[b.as_data() for b in gate.open_blockers],
            reason=reason[:2000],
            by=by,
            at=now,
        )
        audit_record(
            actor=by,
            action="needling.override",
            obj=override,
            at=now,
            client=appointment.client_id,
            name=str(appointment.treatment.name),
            data={
                "appointment": str(appointment.pk),
                "reason": override.reason,
                "blockers": [b.key for b in gate.open_blockers],
            },
        )
    return override


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


# --- re-screening before every session (issue 14, item 3; DOMAIN.md 2.2) -----------------------


def rescreen_record(
    *, appointment: Any, answers: Mapping[str, object], by: Any, via: str, now: datetime
) -> ScreeningResponse:
    """The client's answers for this session ("anything changed since your last answers?"),
    from the reminder's link (`via` "reminder", `by` None) or on the desk's tablet ("desk",
    `by` the staff member who handed it over) or the API. The questions are the re-screen's
    (`rescreen_asked`: every one that can change between sessions, more than the online
    pre-screen). Evaluated by the same rules as the pre-screen and the consultation, stored as
    this appointment's re-screen, and every finding they lead to goes on the client's record,
    where the start-of-needling gate sees it. Incomplete answers
    are refused (422 `rescreen_incomplete`, per question); answers that stop or defer the
    session are recorded, not refused: the gate then says what a clinician must do."""
    if appointment.status not in RESCREEN_STATUSES:
        raise ValidationFailed(
            _("The health questions can only be answered before the session starts."),
            code="rescreen_closed",
        )
    if not appointment.treatment.requires_screening:
        raise ValidationFailed(
            _("%(treatment)s has no health questions to answer.")
            % {"treatment": appointment.treatment.name},
            code="rescreen_not_asked",
        )
    today = now.astimezone(appointment.location.tz).date()
    asked = rescreen_asked(appointment.treatment)
    evaluated = (
        screening_evaluate(
            treatment=appointment.treatment, answers=answers, today=today, asked=asked
        )
        if asked is not None
        else None
    )
    if evaluated is None:
        raise ValidationFailed(
            _("The clinic has no health questions for %(treatment)s yet.")
            % {"treatment": appointment.treatment.name},
            code="rescreen_not_asked",
        )
    result = evaluated.screening
    if not result.is_complete:
        fields = (
            {q: _("Please answer yes or no.") for q in result.missing}
            | {q: _("This is not one of the questions.") for q in result.unknown}
            | {f"{q}_on": _("Please give the date.") for q in result.undated}
            | {f"{q}_on": _("Give the last time, not a date ahead.") for q in result.future}
        )
        raise ValidationFailed(
            _("Please answer every question (and give a date for each yes that asks when)."),
            code="rescreen_incomplete",
            fields=fields,
        )
    with transaction.atomic():
        return screening_record(
            client=appointment.client,
            evaluated=evaluated,
            by=by,
            via=via,
            now=now,
            appointment=appointment,
            is_rescreen=True,
        )


def interval_override_record(
    *, appointment: Any, neighbour: Any, gap_days: int, reason: str, by: Any, now: datetime
) -> IntervalOverride:
    """Keep a clinician's reason for a session closer than the default interval to another
    (DOMAIN.md 1.2), in the booking's transaction, and audit it."""
    override = IntervalOverride.objects.create(
        client=appointment.client,
        treatment=appointment.treatment,
        appointment=appointment,
        neighbour=neighbour,
        gap_days=gap_days,
        reason=reason[:2000],
        by=by,
        at=now,
    )
    audit_record(
        actor=by,
        action="interval.override",
        obj=override,
        at=now,
        name=str(appointment.treatment.name),
        data={
            "appointment": str(appointment.pk),
            "neighbour": str(getattr(neighbour, "pk", "")),
            "gap_days": gap_days,
            "reason": override.reason,
        },
    )
    return override
