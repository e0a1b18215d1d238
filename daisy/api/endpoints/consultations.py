"""Consultations (issue 14, items 2 and 10): for clinicians (specialist and manager tokens);
reception and client tokens get 403. The same services as the desk's pages: a signed
consultation is read-only (409 `consultation_signed`) and changes go to its amendments, each
with a reason. Every read is audited as `consultation.view`."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Status
from pydantic import Field, StringConstraints

from daisy.api.auth import MANAGER, SPECIALIST, TokenAuth, actor_of
from daisy.api.docs import errors
from daisy.api.schemas import ApiDate, InputSchema, Out
from daisy.api.throttles import WRITE
from daisy.clients.selectors import client_get
from daisy.clinic.selectors import clinic_zone
from daisy.courses.selectors import plan_get
from daisy.lib.errors import NotFound
from daisy.records.consultations import (
    UNSET,
    consultation_amend,
    consultation_current,
    consultation_get,
    consultation_get_for_client,
    consultation_history_record,
    consultation_list_for_client,
    consultation_sign,
    consultation_start,
    consultation_view_record,
)
from daisy.records.selectors import screening_list_for_client
from daisy.scheduling.selectors import appointment_list

CLINICIANS = frozenset({SPECIALIST, MANAGER})
router = Router(tags=["consultations"], auth=TokenAuth(roles=CLINICIANS))

Text = Annotated[str, StringConstraints(max_length=4000)]
Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,43}$")]


class ConcernIn(InputSchema):
    zone: Annotated[str, StringConstraints(max_length=40)] = Field(
        description="A face-map zone key (`forehead`, `cheek_right`, ...) or `body`."
    )
    concern: Annotated[str, StringConstraints(max_length=40)] = Field(
        "", description="A course concern (`acne_scars`, `fine_lines`, ...) or empty."
    )
    note: Annotated[str, StringConstraints(max_length=300)] = ""


class ConsultationIn(InputSchema):
    plan: uuid.UUID | None = Field(None, description="The client's course plan (one each).")
    appointment: uuid.UUID | None = Field(None, description="The visit it is held at.")
    skin_type: int | None = Field(None, ge=1, le=6, description="Fitzpatrick type, 1 to 6.")
    concerns: list[ConcernIn] | None = Field(None, max_length=20)
    goals: Text | None = None
    notes: Text | None = None


class AmendIn(InputSchema):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=4000)] = Field(
        description="Why the signed consultation changes."
    )
    skin_type: int | None = Field(None, ge=1, le=6)
    concerns: list[ConcernIn] | None = Field(None, max_length=20)
    goals: Text | None = None
    notes: Text | None = None


class HistoryIn(InputSchema):
    answers: dict[Key, bool | ApiDate] = Field(
        description="Every question of the questionnaire: `key: true/false`, and for a "
        "question that asks when, `key_on: YYYY-MM-DD` with a yes. A missing answer is a 422 "
        "naming it in `fields`.",
        max_length=120,
    )
    reason: Annotated[str, StringConstraints(max_length=2000)] = Field(
        "", description="Required when the consultation is already signed (an amendment)."
    )


class ConcernOut(Out):
    zone: str
    concern: str
    note: str


class HistoryOut(Out):
    id: uuid.UUID
    outcome: str
    no_session_before: date | None
    answered_at: datetime


class AmendmentOut(Out):
    field: str
    before: Any = None
    after: Any = None
    reason: str
    by: str
    at: datetime


class ConsultationOut(Out):
    id: uuid.UUID
    client: uuid.UUID
    plan: uuid.UUID | None
    appointment: uuid.UUID | None
    skin_type: int | None = Field(description="As it reads now (amendments applied).")
    skin_type_label: str
    concerns: list[ConcernOut]
    goals: str
    notes: str
    medical_history: HistoryOut | None
    created_at: datetime
    signed_by: str | None
    signed_at: datetime | None
    amendments: list[AmendmentOut]


class ConsultationList(Out):
    count: int
    items: list[ConsultationOut]


def _name(user: Any) -> str:
    return (user.get_full_name() or user.username) if user is not None else ""


def _out(consultation: Any) -> ConsultationOut:
    current = consultation_current(consultation)
    history = None
    if current.screening_id:
        response = (
            screening_list_for_client(consultation.client_id)
            .filter(pk=current.screening_id)
            .first()
        )
        if response is not None:
            history = HistoryOut(
                id=response.pk,
                outcome=response.outcome,
                no_session_before=response.deferred_until,
                answered_at=response.answered_at,
            )
    return ConsultationOut(
        id=consultation.pk,
        client=consultation.client_id,
        plan=current.plan_id,
        appointment=consultation.appointment_id,
        skin_type=current.skin_type,
        skin_type_label=current.skin_type_label,
        concerns=[ConcernOut(**c) for c in current.concerns],
        goals=current.goals,
        notes=current.notes,
        medical_history=history,
        created_at=consultation.created_at,
        signed_by=_name(consultation.signed_by) if consultation.signed_by_id else None,
        signed_at=consultation.signed_at,
        amendments=[
            AmendmentOut(
                field=a.field,
                before=a.before,
                after=a.after,
                reason=a.reason,
                by=_name(a.amended_by),
                at=a.amended_at,
            )
            for a in consultation.amendments.all()
        ],
    )


def _fetch(consultation_id: uuid.UUID) -> Any:
    return consultation_get(consultation_id)


def _given(payload: Any, *names: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        value = getattr(payload, name)
        if value is None:
            out[name] = UNSET
        elif name == "concerns":
            out[name] = [c.model_dump() for c in value]
        else:
            out[name] = value
    return out


@router.get(
    "/clients/{client_id}/consultations",
    response={200: ConsultationList, **errors(400, 401, 403, 404, 422)},
    operation_id="consultation_list",
    summary="A client's consultations (clinicians)",
)
def consultation_list_view(request: HttpRequest, client_id: uuid.UUID) -> Any:
    actor = actor_of(request)
    client = client_get(client_id)
    items = consultation_list_for_client(client)
    now = timezone.now()
    for item in items:
        consultation_view_record(consultation=item, by=actor.user, now=now, via="api")
    return {"count": len(items), "items": [_out(c) for c in items]}


@router.post(
    "/clients/{client_id}/consultations",
    response={201: ConsultationOut, **errors(400, 401, 403, 404, 409, 413, 422, 429)},
    throttle=WRITE,
    operation_id="consultation_create",
    summary="Start a consultation (clinicians)",
    description="For a course plan of the client (one consultation each: 409 otherwise) "
    "and/or the visit it is held at. Skin type, concerns, goals and notes may be given now or "
    "later with amendments once signed.",
)
def consultation_create_view(
    request: HttpRequest, client_id: uuid.UUID, payload: ConsultationIn
) -> Any:
    actor = actor_of(request)
    client = client_get(client_id)
    plan = appointment = None
    if payload.plan is not None:
        plan = plan_get(payload.plan)
    if payload.appointment is not None:
        appointment = appointment_list(client_id=client.pk).filter(pk=payload.appointment).first()
        if appointment is None:
            raise NotFound(_("That visit does not exist."))
    consultation = consultation_start(
        client=client,
        by=actor.user,
        now=timezone.now(),
        plan=plan,
        appointment=appointment,
        **_given(payload, "skin_type", "concerns", "goals", "notes"),
    )
    return Status(201, _out(consultation_get_for_client(client, consultation.pk)))


@router.get(
    "/consultations/{consultation_id}",
    response={200: ConsultationOut, **errors(400, 401, 403, 404, 422)},
    operation_id="consultation_get",
    summary="One consultation, as it reads now (clinicians)",
)
def consultation_get_view(request: HttpRequest, consultation_id: uuid.UUID) -> Any:
    actor = actor_of(request)
    consultation = _fetch(consultation_id)
    consultation_view_record(
        consultation=consultation, by=actor.user, now=timezone.now(), via="api"
    )
    return _out(consultation)


@router.post(
    "/consultations/{consultation_id}/history",
    response={200: ConsultationOut, **errors(400, 401, 403, 404, 409, 413, 422, 429)},
    throttle=WRITE,
    operation_id="consultation_history",
    summary="Record the medical history (clinicians)",
    description="Every question of the treatment's questionnaire, asked in person, through the "
    "same rules as booking; each finding goes on the client's record. The skin type, when "
    "recorded, answers `dark_skin`. On a signed consultation it is an amendment and needs "
    "`reason`.",
)
def consultation_history_view(
    request: HttpRequest, consultation_id: uuid.UUID, payload: HistoryIn
) -> Any:
    actor = actor_of(request)
    consultation = _fetch(consultation_id)
    now = timezone.now()
    consultation_history_record(
        consultation=consultation,
        answers=dict(payload.answers),
        by=actor.user,
        now=now,
        today=timezone.localdate(now, clinic_zone()),
        reason=payload.reason,
    )
    return _out(_fetch(consultation_id))


@router.post(
    "/consultations/{consultation_id}/sign",
    response={200: ConsultationOut, **errors(400, 401, 403, 404, 409, 413, 422, 429)},
    throttle=WRITE,
    operation_id="consultation_sign",
    summary="Sign (clinicians)",
    description="Needs the skin type, the medical history and a concern (422 naming what is "
    "missing); 409 `consultation_signed` when already signed. Read-only afterwards.",
)
def consultation_sign_view(request: HttpRequest, consultation_id: uuid.UUID) -> Any:
    actor = actor_of(request)
    consultation_sign(consultation=_fetch(consultation_id), by=actor.user, now=timezone.now())
    return _out(_fetch(consultation_id))


@router.post(
    "/consultations/{consultation_id}/amendments",
    response={201: ConsultationOut, **errors(400, 401, 403, 404, 409, 413, 422, 429)},
    throttle=WRITE,
    operation_id="consultation_amend",
    summary="Amend a signed consultation (clinicians)",
    description="Each given field that differs from the consultation as it reads now is "
    "appended as an amendment with the reason, who and when; nothing is overwritten. 409 "
    "`consultation_not_signed` on a draft; 422 `nothing_changed` when nothing differs.",
)
def consultation_amend_view(
    request: HttpRequest, consultation_id: uuid.UUID, payload: AmendIn
) -> Any:
    actor = actor_of(request)
    consultation_amend(
        consultation=_fetch(consultation_id),
        by=actor.user,
        now=timezone.now(),
        reason=payload.reason,
        **_given(payload, "skin_type", "concerns", "goals", "notes"),
    )
    return Status(201, _out(_fetch(consultation_id)))
