"""The health questions before a session, for integrations (issue 14, item 3): whether this
session's re-screen is answered and what stands in the way of starting it (the start-of-
needling gate), and the answers given on a tablet of the clinic's own. The same services as the
desk. Staff tokens only; what a finding is shows to specialists and the manager only."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Status
from pydantic import BaseModel, ConfigDict, Field

from daisy.api.auth import STAFF, TokenAuth, actor_of
from daisy.api.docs import errors
from daisy.api.schemas import Out, PrescreenIn
from daisy.records.gate import needling_gate
from daisy.records.selectors import (
    needling_overrides_list,
    rescreen_asked,
    rescreen_for_appointment,
    rescreen_last_answers,
)
from daisy.records.services import rescreen_record
from daisy.scheduling.selectors import appointment_get

router = Router(tags=["records"], auth=TokenAuth(roles=STAFF))


class BlockerOut(Out):
    code: str = Field(
        description="`rescreen_missing`, `open_finding`, `hard_stop`, `clinical_hold`, or "
        "another kind the clinic's rules add (e.g. consent)."
    )
    message: str = Field(description="What is missing and how to put it right.")
    can_override: bool = Field(description="A clinician may record a reason to start anyway.")


class OverrideOut(Out):
    at: datetime
    by: str = Field(description="Who recorded it.")
    reason: str = Field(description="Their reason (empty for staff who do not see it).")


class RescreenQuestionOut(Out):
    key: str
    text: str
    asks_when: bool
    last_answer: bool | None = Field(
        description="The client's last answer, to confirm or change; null when never asked."
    )
    last_on: str | None = Field(description="The date given with a last yes, YYYY-MM-DD.")


class RescreenOut(Out):
    appointment: uuid.UUID
    required: bool = Field(description="The treatment needs the health questions before it.")
    answered: bool = Field(description="Answered for this session.")
    answered_at: datetime | None
    via: str | None = Field(description="`reminder`, `desk` or `api`.")
    can_start: bool = Field(description="Nothing stands in the way of starting the session.")
    blockers: list[BlockerOut] = Field(description="What stands in the way, if anything.")
    overrides: list[OverrideOut]
    questions: list[RescreenQuestionOut] = Field(
        description="What the client is asked, with their last answers."
    )


class RescreenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: PrescreenIn = Field(
        description="The client's answers, in the same form as the online pre-screen's: one "
        "per question that `GET .../rescreen` lists (true = yes), and `<question>_on` for a yes "
        "that asks when. The questions before a session are more than the pre-screen's: "
        "everything that can change between sessions (the shipped micro-needling "
        "questionnaire also asks `nsaids`, `koebner`, `raised_lesions`, `radiotherapy`, "
        "`immunosuppression`, `diabetes`, `autoimmune`, `trauma` with `trauma_on`, and "
        "`granuloma`)."
    )


def _out(appointment: Any, viewer: Any) -> dict[str, Any]:
    now = timezone.now()
    gate = needling_gate(appointment, now=now)
    answered = rescreen_for_appointment(appointment)
    clinical = bool(getattr(viewer, "is_clinician", False))
    asked = (
        rescreen_asked(appointment.treatment) if appointment.treatment.requires_screening else None
    )
    last = rescreen_last_answers(appointment) if asked is not None else {}
    return {
        "appointment": appointment.pk,
        "required": gate.applies,
        "answered": answered is not None,
        "answered_at": answered.answered_at if answered else None,
        "via": answered.via if answered else None,
        "can_start": gate.is_open,
        "blockers": [
            {"code": b.code, "message": b.message_for(viewer), "can_override": b.can_override}
            for b in gate.open_blockers
        ],
        "overrides": [
            {
                "at": o.at,
                "by": o.by.get_full_name() or o.by.username,
                "reason": o.reason if clinical else "",
            }
            for o in needling_overrides_list(appointment)
        ],
        "questions": [
            {
                "key": q.key,
                "text": q.text,
                "asks_when": q.asks_when,
                "last_answer": last[q.key].get("yes") if q.key in last else None,
                "last_on": last[q.key].get("on") if q.key in last else None,
            }
            for q in (asked.questions if asked is not None else ())
        ],
    }


@router.get(
    "/appointments/{appointment_id}/rescreen",
    response={200: RescreenOut, **errors(401, 403, 404, 422, 429)},
    operation_id="rescreen_get",
    summary="This session's health questions and whether it can start",
    description=(
        "Whether the client has answered the health questions for this session (from the link "
        "in their reminder, on the desk's tablet, or through this API), the questions with "
        "their last answers, and what stands in the way of starting the session "
        "(`can_start`, `blockers`). Staff tokens only; what a finding is, and a clinician's "
        "reason, show to specialists and the manager only."
    ),
)
def rescreen_get_view(request: HttpRequest, appointment_id: uuid.UUID) -> Any:
    actor = actor_of(request)
    return _out(appointment_get(appointment_id), actor.user)


@router.post(
    "/appointments/{appointment_id}/rescreen",
    response={201: RescreenOut, **errors(400, 401, 403, 404, 409, 413, 422, 429)},
    operation_id="rescreen_submit",
    summary="Record the client's answers for this session",
    description=(
        "The client's answers to this session's health questions (given on a device of the "
        "clinic's), evaluated by the clinic's rules and kept with the appointment. Every "
        "question needs an answer (422 `rescreen_incomplete`, naming them in `fields`); only "
        "before the session starts (422 `rescreen_closed`). Answers that stop or defer the "
        "session are recorded, and the session then cannot start (`blockers`) until a "
        "clinician decides. Staff tokens only."
    ),
)
def rescreen_submit_view(
    request: HttpRequest, appointment_id: uuid.UUID, payload: RescreenIn
) -> Any:
    actor = actor_of(request)
    appointment = appointment_get(appointment_id)
    rescreen_record(
        appointment=appointment,
        answers=payload.answers.answers(),
        by=actor.user,
        via="api",
        now=timezone.now(),
    )
    return Status(201, _out(appointment_get(appointment.pk), actor.user))
