"""The consultation (issue 14, item 2): writes and reads of the record a clinician fills in
before a course and signs.

- `consultation_start` opens one for a client, for a course plan (one consultation per plan)
  and/or the visit it is held at;
- `consultation_update` changes the skin type, concerns, goals, notes or plan while it is a
  draft;
- `consultation_history_record` asks the whole screening questionnaire in person (the rows the
  online pre-screen leaves to a specialist, and the online ones again, since a client booked
  at the desk was never asked them) through the same rules as booking, stored as a
  ScreeningResponse with via=consultation whose findings go on the client's record;
- `consultation_sign`: a clinician signs; from then on it is read-only, and
- `consultation_amend` appends a change with who, when and why.

Every opening (`consultation_view_record`) and every change is audited."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from daisy.audit.services import audit_record
from daisy.clinic.models import DeviceKind
from daisy.courses.models import Concern
from daisy.lib.errors import NotFound, PermissionDenied, PolicyViolation, ValidationFailed
from daisy.records.models import (
    DARK_SKIN_FROM,
    SKIN_TYPE_WORDS,
    AmendedField,
    Consultation,
    ConsultationAmendment,
    Questionnaire,
    ScreeningResponse,
    SkinType,
    Via,
)
from daisy.records.selectors import Asked, questionnaire_for, questionnaire_questions
from daisy.records.services import screening_evaluate, screening_record
from daisy.records.zones import ZONE_KEYS, zone_label


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
# The screening question the skin type answers (DOMAIN.md 2.2 row 31).
DARK_SKIN_QUESTION = "dark_skin"
MAX_CONCERNS = 20
# A concern is on a zone of the face map, or on the body (its note says where): the face map
# draws no body zones (daisy.records.zones).
BODY = "body"
CONCERN_ZONES = (*ZONE_KEYS, BODY)


# What the forms offer: the course planner's concerns, and each skin type with its meaning.
CONCERN_CHOICES: list[tuple[str, Any]] = list(Concern.choices)
SKIN_TYPE_CHOICES: list[tuple[int, str]] = [
    (value, f"{str(label).split(':')[0]}: {SKIN_TYPE_WORDS[value]}")
    for value, label in SkinType.choices
]


def concern_zone_label(key: str) -> str:
    return _("Body") if key == BODY else zone_label(key)


MAX_TEXT = 4000


def _require_clinician(user: Any) -> None:
    if not getattr(user, "is_clinician", False):
        raise PermissionDenied(
            _("Only a specialist or the clinic manager can fill in or sign a consultation.")
        )


# --- reads -------------------------------------------------------------------------------------


def consultation_list_for_client(client: Any) -> list[Consultation]:
    return list(
        Consultation.objects.filter(client=client)
        .select_related("plan__treatment", "appointment__treatment", "signed_by", "created_by")
        .prefetch_related("amendments__amended_by")
    )


def consultation_get_for_client(client: Any, consultation_id: Any) -> Consultation:
    try:
        return (
            Consultation.objects.select_related(
                "plan__treatment",
                "appointment__treatment",
                "appointment__location",
                "screening__questionnaire",
                "signed_by",
                "created_by",
                "client",
            )
            .prefetch_related("amendments__amended_by")
            .get(pk=consultation_id, client=client)
        )
    except (Consultation.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("That consultation does not exist.")) from None


def consultation_get(consultation_id: Any) -> Consultation:
    try:
        consultation = Consultation.objects.select_related("client").get(pk=consultation_id)
    except (Consultation.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("That consultation does not exist.")) from None
    return consultation_get_for_client(consultation.client, consultation.pk)


@dataclass(frozen=True)
class Current:
    """A consultation as it reads now: the signed (or draft) values with every amendment
    applied in order."""

    skin_type: int | None
    concerns: list[dict[str, str]]
    goals: str
    notes: str
    screening_id: Any
    plan_id: Any

    @property
    def skin_type_label(self) -> str:
        return str(SkinType(self.skin_type).label) if self.skin_type else ""


def consultation_current(consultation: Consultation) -> Current:
    values: dict[str, Any] = {
        "skin_type": consultation.skin_type,
        "concerns": list(consultation.concerns or []),
        "goals": consultation.goals,
        "notes": consultation.notes,
        "screening": str(consultation.screening_id) if consultation.screening_id else None,
        "plan": str(consultation.plan_id) if consultation.plan_id else None,
    }
    for amendment in consultation.amendments.all():
        values[amendment.field] = amendment.after
    return Current(
        skin_type=values["skin_type"],
        concerns=values["concerns"] or [],
        goals=values["goals"] or "",
        notes=values["notes"] or "",
        screening_id=values["screening"],
        plan_id=values["plan"],
    )


def consultation_questionnaire(consultation: Consultation) -> Asked | None:
    """The whole questionnaire of the consultation's treatment (its plan's, else its visit's),
    or micro-needling's when it has neither: the course the consultation is for."""
    treatment = None
    if consultation.plan_id:
        treatment = consultation.plan.treatment
    elif consultation.appointment_id:
        treatment = consultation.appointment.treatment
    questionnaire = questionnaire_for(treatment) if treatment is not None else None
    if questionnaire is None:
        questionnaire = Questionnaire.objects.filter(
            device_kind=DeviceKind.MICRONEEDLING_PEN
        ).first()
    if questionnaire is None:
        return None
    return questionnaire_questions(questionnaire, online=False)


def consultation_prefill(client: Any, asked: Asked) -> dict[str, object]:
    """The client's latest answers to these questions (from booking or an earlier visit), for
    the clinician to go through with them again: never taken as given."""
    keys = {q.key for q in asked.questions}
    prefill: dict[str, object] = {}
    for response in ScreeningResponse.objects.filter(client=client).order_by("-answered_at")[:5]:
        for key, answer in (response.answers or {}).items():
            if key in keys and key not in prefill and isinstance(answer, dict):
                prefill[key] = bool(answer.get("yes"))
                if answer.get("on"):
                    prefill[f"{key}_on"] = answer["on"]
    return prefill


def consultation_view_record(
    *, consultation: Consultation, by: Any, now: datetime, via: str
) -> None:
    """Someone read the consultation (health data): audited, like every view of a record."""
    audit_record(
        actor=by,
        action="consultation.view",
        obj=consultation,
        at=now,
        data={"via": via},
        name=_("Consultation"),
        client=consultation.client_id,
    )


# --- writes ------------------------------------------------------------------------------------


def _clean_concerns(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
        raise ValidationFailed(_("List the concerns by area."), fields={"concerns": _("A list.")})
    if len(raw) > MAX_CONCERNS:
        raise ValidationFailed(
            _("At most %(n)s concerns.") % {"n": MAX_CONCERNS}, fields={"concerns": _("Too many.")}
        )
    zones, concerns = set(CONCERN_ZONES), set(Concern.values)
    cleaned = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise ValidationFailed(_("Each concern names an area."), fields={"concerns": "?"})
        zone = item.get("zone")
        concern = item.get("concern") or ""
        note = item.get("note") or ""
        if zone not in zones:
            raise ValidationFailed(
                _("Choose the area from the list."), fields={"concerns": _("Unknown area.")}
            )
        if concern not in concerns and concern != "":
            raise ValidationFailed(
                _("Choose the concern from the list."), fields={"concerns": _("Unknown concern.")}
            )
        if not isinstance(note, str) or len(note) > 300:
            raise ValidationFailed(
                _("A note is at most 300 characters."), fields={"concerns": _("Note too long.")}
            )
        cleaned.append({"zone": zone, "concern": concern, "note": note.strip()})
    return cleaned


def _clean_text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise ValidationFailed(_("Text expected."), fields={field: _("Text expected.")})
    if len(value) > MAX_TEXT:
        raise ValidationFailed(
            _("At most %(n)s characters.") % {"n": MAX_TEXT}, fields={field: _("Too long.")}
        )
    return value.strip()


def _clean_skin_type(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value not in SkinType.values:
        raise ValidationFailed(
            _("Choose a skin type from I to VI."), fields={"skin_type": _("I to VI.")}
        )
    return int(value)


def _clean_plan(consultation: Consultation | None, client: Any, plan: Any) -> Any:
    if plan is None:
        return None
    if plan.client_id != client.pk:
        raise NotFound(_("That course plan does not exist."))
    taken = Consultation.objects.filter(plan=plan)
    if consultation is not None:
        taken = taken.exclude(pk=consultation.pk)
    if taken.exists():
        raise PolicyViolation(
            _("That course already has a consultation: open it instead."),
            fields={"plan": _("Already has a consultation.")},
        )
    return plan


def _changes(*, skin_type: Any, concerns: Any, goals: Any, notes: Any) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if skin_type is not UNSET:
        changes["skin_type"] = _clean_skin_type(skin_type)
    if concerns is not UNSET:
        changes["concerns"] = _clean_concerns(concerns)
    if goals is not UNSET:
        changes["goals"] = _clean_text(goals, "goals")
    if notes is not UNSET:
        changes["notes"] = _clean_text(notes, "notes")
    return changes


def consultation_start(
    *,
    client: Any,
    by: Any,
    now: datetime,
    plan: Any = None,
    appointment: Any = None,
    skin_type: Any = UNSET,
    concerns: Any = UNSET,
    goals: Any = UNSET,
    notes: Any = UNSET,
) -> Consultation:
    _require_clinician(by)
    if appointment is not None and appointment.client_id != client.pk:
        raise NotFound(_("That visit does not exist."))
    changes = _changes(skin_type=skin_type, concerns=concerns, goals=goals, notes=notes)
    with transaction.atomic():
        plan = _clean_plan(None, client, plan)
        consultation = Consultation.objects.create(
            client=client,
            plan=plan,
            appointment=appointment,
            created_by=by,
            created_at=now,
            updated_at=now,
            **changes,
        )
        audit_record(
            actor=by,
            action="consultation.start",
            obj=consultation,
            at=now,
            data={
                "plan": str(plan.pk) if plan else None,
                "appointment": str(appointment.pk) if appointment else None,
                "fields": sorted(changes),
            },
            name=_("Consultation"),
        )
    return consultation


def _locked(consultation: Consultation) -> Consultation:
    return Consultation.objects.select_for_update().get(pk=consultation.pk)


def consultation_update(
    *,
    consultation: Consultation,
    by: Any,
    now: datetime,
    skin_type: Any = UNSET,
    concerns: Any = UNSET,
    goals: Any = UNSET,
    notes: Any = UNSET,
    plan: Any = UNSET,
) -> Consultation:
    """Change a draft. A signed consultation is read-only: use consultation_amend."""
    _require_clinician(by)
    changes = _changes(skin_type=skin_type, concerns=concerns, goals=goals, notes=notes)
    with transaction.atomic():
        locked = _locked(consultation)
        if locked.is_signed:
            raise PolicyViolation(
                _("This consultation is signed and cannot be changed: add an amendment instead."),
                code="consultation_signed",
            )
        if plan is not UNSET:
            changes["plan"] = _clean_plan(locked, locked.client, plan)
        changed = [k for k, v in changes.items() if getattr(locked, k) != v]
        for key, value in changes.items():
            setattr(locked, key, value)
        locked.updated_at = now
        locked.save()
        if changed:
            audit_record(
                actor=by,
                action="consultation.update",
                obj=locked,
                at=now,
                data={"fields": sorted(changed)},
                name=_("Consultation"),
            )
    return locked


def consultation_history_record(
    *,
    consultation: Consultation,
    answers: Mapping[str, object],
    by: Any,
    now: datetime,
    today: date,
    reason: str = "",
) -> ScreeningResponse:
    """The medical history: every question of the questionnaire, asked in person, through the
    same rules as booking. The skin type answers the skin-type question (DOMAIN.md 2.2 row 31)
    when it is recorded. Incomplete answers are refused, naming each question left. On a
    signed consultation it is an amendment, and needs a reason."""
    _require_clinician(by)
    asked = consultation_questionnaire(consultation)
    if asked is None:
        raise PolicyViolation(_("The clinic has no health questionnaire for this treatment."))
    given = dict(answers)
    current = consultation_current(consultation)
    if current.skin_type and asked.question(DARK_SKIN_QUESTION) is not None:
        given[DARK_SKIN_QUESTION] = current.skin_type >= DARK_SKIN_FROM
    evaluated = screening_evaluate(treatment=None, answers=given, today=today, asked=asked)
    assert evaluated is not None
    result = evaluated.screening
    if not result.is_complete:
        fields: dict[str, str] = {}
        for key in result.missing:
            fields[key] = _("Answer yes or no.")
        for key in result.undated:
            fields[f"{key}_on"] = _("Give the date it last happened.")
        for key in result.future:
            fields[f"{key}_on"] = _("That date has not happened yet.")
        for key in result.unknown:
            fields[key] = _("No such question.")
        raise ValidationFailed(
            _("Some health questions need an answer."), fields=fields, code="screening_incomplete"
        )
    with transaction.atomic():
        locked = _locked(consultation)
        if locked.is_signed and not reason.strip():
            raise ValidationFailed(
                _("The consultation is signed: say why the medical history is asked again."),
                fields={"reason": _("Say why.")},
            )
        response = screening_record(
            client=locked.client,
            evaluated=evaluated,
            by=by,
            via=Via.CONSULTATION,
            now=now,
            appointment=locked.appointment,
            course=locked.plan,
        )
        if locked.is_signed:
            _amendment(
                locked,
                AmendedField.SCREENING,
                str(current.screening_id) if current.screening_id else None,
                str(response.pk),
                reason,
                by,
                now,
            )
        else:
            locked.screening = response
            locked.updated_at = now
            locked.save(update_fields=["screening", "updated_at"])
            audit_record(
                actor=by,
                action="consultation.update",
                obj=locked,
                at=now,
                data={"fields": ["screening"], "outcome": response.outcome},
                name=_("Consultation"),
            )
    return response


def consultation_sign(*, consultation: Consultation, by: Any, now: datetime) -> Consultation:
    """A clinician signs: the skin type, the medical history and at least one concern must be
    there. From then on the record is read-only."""
    _require_clinician(by)
    with transaction.atomic():
        locked = _locked(consultation)
        if locked.is_signed:
            raise PolicyViolation(
                _("This consultation is already signed."), code="consultation_signed"
            )
        missing = {}
        if not locked.skin_type:
            missing["skin_type"] = _("Record the skin type.")
        if not locked.screening_id:
            missing["screening"] = _("Ask the medical history.")
        if not locked.concerns:
            missing["concerns"] = _("Record at least one concern and its area.")
        if missing:
            raise ValidationFailed(
                _("Before signing: %(what)s") % {"what": " ".join(missing.values())},
                fields=missing,
                code="consultation_incomplete",
            )
        locked.signed_by = by
        locked.signed_at = now
        locked.updated_at = now
        locked.save(update_fields=["signed_by", "signed_at", "updated_at"])
        audit_record(
            actor=by, action="consultation.sign", obj=locked, at=now, name=_("Consultation")
        )
    return locked


def _amendment(
    consultation: Consultation,
    field: str,
    before: Any,
    after: Any,
    reason: str,
    by: Any,
    now: datetime,
) -> ConsultationAmendment:
    amendment = ConsultationAmendment.objects.create(
        consultation=consultation,
        field=field,
        before=before,
        after=after,
        reason=reason.strip(),
        amended_by=by,
        amended_at=now,
    )
    audit_record(
        actor=by,
        action="consultation.amend",
        obj=consultation,
        at=now,
        data={"field": field, "reason": reason.strip()[:500]},
        name=_("Consultation"),
    )
    return amendment


def consultation_amend(
    *,
    consultation: Consultation,
    by: Any,
    now: datetime,
    reason: str,
    skin_type: Any = UNSET,
    concerns: Any = UNSET,
    goals: Any = UNSET,
    notes: Any = UNSET,
    plan: Any = UNSET,
) -> list[ConsultationAmendment]:
    """Append changes to a signed consultation, each with who, when and why. Nothing of the
    signed record is overwritten."""
    _require_clinician(by)
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed(
            _("Say why the signed consultation is amended."), fields={"reason": _("Say why.")}
        )
    if len(reason) > MAX_TEXT:
        raise ValidationFailed(_("The reason is too long."), fields={"reason": _("Too long.")})
    changes = _changes(skin_type=skin_type, concerns=concerns, goals=goals, notes=notes)
    with transaction.atomic():
        locked = _locked(consultation)
        if not locked.is_signed:
            raise PolicyViolation(
                _("This consultation is not signed yet: change it directly."),
                code="consultation_not_signed",
            )
        if plan is not UNSET:
            changes["plan"] = str(_clean_plan(locked, locked.client, plan).pk) if plan else None
        current = consultation_current(locked)
        before_of = {
            "skin_type": current.skin_type,
            "concerns": current.concerns,
            "goals": current.goals,
            "notes": current.notes,
            "plan": current.plan_id,
        }
        made = [
            _amendment(locked, key, before_of[key], value, reason, by, now)
            for key, value in changes.items()
            if before_of[key] != value
        ]
        if not made:
            raise ValidationFailed(_("Nothing was changed."), code="nothing_changed")
    return made
