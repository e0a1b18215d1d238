"""Reads for the clinical record: which questionnaire a treatment asks, as the pure rules'
plain data, a client's stored screening answers, and a client's skin type with the clinic's
depth cap for it (the consultation's own reads are in daisy.records.consultations)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from daisy.core import screening as core
from daisy.lib.errors import NotFound
from daisy.records.models import (
    SKIN_TYPE_WORDS,
    AmendedField,
    ChartPolicy,
    Consultation,
    NeedlingOverride,
    Question,
    Questionnaire,
    ScreeningResponse,
    SkinType,
)
from daisy.scheduling.selectors import appointment_get


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


def questionnaire_asked(treatment: Any, *, online: bool, rescreen: bool = False) -> Asked | None:
    """What is asked before `treatment`: online, only the questions marked for online booking
    (the pre-screen); before a session (`rescreen`), those marked to ask again before every
    session; at the consultation, all of them."""
    questionnaire = questionnaire_for(treatment)
    if questionnaire is None:
        return None
    return questionnaire_questions(questionnaire, online=online, rescreen=rescreen)


def questionnaire_questions(
    questionnaire: Questionnaire, *, online: bool, rescreen: bool = False
) -> Asked:
    """One questionnaire as asked online (the pre-screen), before a session (the re-screen:
    `rescreen`, which wins over `online`) or at the consultation (all of it)."""
    questions = list(questionnaire.questions.all().order_by("order", "key"))
    if rescreen:
        questions = [q for q in questions if q.is_rescreen]
    elif online:
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


@dataclass(frozen=True)
class ClientSkinType:
    """A client's Fitzpatrick skin type as their latest consultation records it (amendments
    applied), and the clinic's depth cap for it (None: no cap of the clinic's own)."""

    skin_type: int
    label: str
    words: str  # what the type means, in plain words
    max_depth_mm: Decimal | None
    consultation_id: Any
    is_signed: bool


def skin_type_for(client: Any) -> ClientSkinType | None:
    """The skin type of the client's most recent consultation that records one, signed or
    not (a cap from a draft is still a cap), with the depth cap for it; None when no
    consultation records a skin type. The treatment chart refuses a depth above the cap."""
    consultations = (
        Consultation.objects.filter(client=client)
        .order_by("-created_at")
        .prefetch_related("amendments")
    )
    for consultation in consultations:
        skin_type = consultation.skin_type
        for amendment in consultation.amendments.all():
            if amendment.field == AmendedField.SKIN_TYPE:
                skin_type = amendment.after
        if skin_type:
            return ClientSkinType(
                skin_type=int(skin_type),
                label=str(SkinType(int(skin_type)).label),
                words=str(SKIN_TYPE_WORDS.get(int(skin_type), "")),
                max_depth_mm=depth_cap_for(int(skin_type)),
                consultation_id=consultation.pk,
                is_signed=consultation.is_signed,
            )
    return None


def depth_cap_for(skin_type: int) -> Decimal | None:
    """The clinic's depth cap in mm for a skin type (its charting rules, ChartPolicy), or None
    when it sets none."""
    policy = ChartPolicy.objects.filter(pk=1).first() or ChartPolicy(pk=1)
    cap = policy.caps().get(skin_type)
    return Decimal(cap) if cap is not None else None


# --- re-screening before a session (issue 14, item 3) -----------------------------------------

RESCREEN_SALT = "daisy.rescreen"
# The reminder's link opens this long before the session (the 48-hour reminder, moved out of
# quiet hours, arrives inside it) and closes when the session ends.
RESCREEN_OPENS_BEFORE = timedelta(hours=72)
# Statuses in which a session's health questions may still be answered.
RESCREEN_STATUSES = ("booked", "checked_in")


# How many earlier sets of answers the re-screen looks back through for each question's last
# answer (a pre-screen does not ask what the consultation asked, and the other way round).
RESCREEN_LOOK_BACK = 20


def rescreen_asked(treatment: Any) -> Asked | None:
    """What the health questions before a session of `treatment` ask (the reminder's link, the
    desk's tablet, the API): every question of its questionnaire marked to ask again before
    every session (DOMAIN.md 2.2, "re-screen on the day of every session"), more than the
    online pre-screen; None when the clinic asks nothing before it."""
    return questionnaire_asked(treatment, online=False, rescreen=True)


def rescreen_last_answers(appointment: Any) -> dict[str, dict[str, Any]]:
    """The client's last answer to each question of this session's questionnaire, from
    whichever earlier set asked it last (the online pre-screen, a consultation, a re-screen),
    question -> {"yes", "on"}; {} for none. They pre-fill the re-screen; the client still
    confirms each one."""
    questionnaire = questionnaire_for(appointment.treatment)
    if questionnaire is None:
        return {}
    earlier = ScreeningResponse.objects.filter(
        client_id=appointment.client_id, questionnaire=questionnaire
    ).order_by("-answered_at")
    last: dict[str, dict[str, Any]] = {}
    for answers in earlier.values_list("answers", flat=True)[:RESCREEN_LOOK_BACK]:
        for key, answer in (answers or {}).items():
            last.setdefault(key, answer)
    return last


def rescreen_token(appointment: Any) -> str:
    """The signed key to one session's re-screen (no login: it names the appointment and
    cannot be forged or pointed at another)."""
    return signing.dumps({"a": str(appointment.pk)}, salt=RESCREEN_SALT, compress=False)


def rescreen_link(appointment: Any) -> str:
    return f"{settings.DAISY_PUBLIC_URL}/before-your-visit/{rescreen_token(appointment)}"


def rescreen_target_get(*, token: str, now: datetime) -> Any:
    """The appointment behind a re-screen link. Raises NotFound with a message for the client
    and a code: `rescreen_link_invalid` (tampered, truncated, no such session: 404),
    `rescreen_not_needed` (cancelled, missed, or already under way: 410),
    `rescreen_link_expired` (the session is over: 410), `rescreen_not_open` (more than three
    days before the session: 409)."""
    invalid = NotFound(
        str(
            _(
                "This link is not valid. Please use the link from your most recent reminder, "
                "or answer the questions at the clinic when you arrive."
            )
        ),
        code="rescreen_link_invalid",
    )
    try:
        data = signing.loads(token, salt=RESCREEN_SALT)
        appointment = appointment_get(data["a"])
    except (signing.BadSignature, KeyError, TypeError, ValueError, NotFound, ValidationError):
        raise invalid from None
    if now >= appointment.ends_at:
        raise NotFound(
            str(_("This link has expired: the appointment it was for is over.")),
            code="rescreen_link_expired",
        )
    if appointment.status not in RESCREEN_STATUSES:
        raise NotFound(
            str(
                _(
                    "These questions are no longer needed for this appointment: it was "
                    "cancelled, or has already started."
                )
            ),
            code="rescreen_not_needed",
        )
    if now < appointment.starts_at - RESCREEN_OPENS_BEFORE:
        raise NotFound(
            str(
                _(
                    "These questions open three days before your appointment, so your answers "
                    "are up to date. Please use the link in your reminder then."
                )
            ),
            code="rescreen_not_open",
        )
    return appointment


def rescreen_for_appointment(appointment: Any) -> ScreeningResponse | None:
    """The latest re-screen answered for this session (from the reminder's link, on the desk's
    tablet or through the API), or None."""
    return (
        ScreeningResponse.objects.filter(appointment=appointment, is_rescreen=True)
        .select_related("answered_by")
        .order_by("-answered_at")
        .first()
    )


def needling_overrides_list(appointment: Any) -> list[NeedlingOverride]:
    """Every clinician's override of the start-of-needling gate for this session, newest first:
    who, when, why and what it covered (`blockers`: code, key, message). The appointment panel
    and the treatment chart show them."""
    return list(
        NeedlingOverride.objects.filter(appointment=appointment)
        .select_related("by")
        .order_by("-at")
    )


# Consent (DOMAIN.md 6.4) lives in its own module; its public reads are named here too.
from daisy.records.consent_selectors import consent_current as consent_current  # noqa: E402
from daisy.records.consent_selectors import consent_status as consent_status  # noqa: E402
