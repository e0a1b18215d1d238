"""Erasure requests and legal holds (issue 14, item 8; DOMAIN.md 6.6, 6.7), for the clinic
manager's token only: what an erasure would delete now and what is kept until when (a read of
the record, audited), recording a request the client made, and placing and lifting a legal
hold with a reason. The same services as the desk's page. A client asks in the portal."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Status
from pydantic import BaseModel, Field

from daisy.api.auth import MANAGER, TokenAuth, actor_of
from daisy.api.docs import errors
from daisy.api.errors import ApiError
from daisy.api.schemas import Out
from daisy.api.throttles import WRITE
from daisy.clients.selectors import client_get
from daisy.clients.services import client_view_record
from daisy.records.retention import (
    erasure_preview,
    erasure_request,
    legal_hold_get,
    legal_hold_lift,
    legal_hold_place,
)

router = Router(tags=["erasure"], auth=TokenAuth(roles={MANAGER}))


class ErasureRequestOut(Out):
    id: int
    requested_at: datetime
    status: Literal["kept", "done"] = Field(
        description="`kept`: the clinical record is kept until `keep_until`; `done`: erased."
    )
    keep_until: date | None = Field(description="The clinical record is kept until this day.")
    done_at: datetime | None
    erased: list[str] = Field(description="What was deleted, in the order it went.")


class LegalHoldOut(Out):
    id: int
    client: uuid.UUID
    reason: str
    placed_at: datetime
    lifted_at: datetime | None
    lift_reason: str


class ErasurePreviewOut(Out):
    deleted_now: list[str] = Field(description="What a request would delete at once.")
    kept: list[str] = Field(description="What is kept until `keep_until`.")
    last_treatment_on: date | None
    keep_until: date | None = Field(
        description="The day the kept record is deleted (later while a legal hold is open)."
    )
    retention_years: int
    legal_hold: LegalHoldOut | None = Field(description="The open legal hold, if any.")
    request: ErasureRequestOut | None = Field(description="The latest request, if any.")


class ErasureIn(BaseModel):
    confirm: bool = Field(
        description="Must be true: the client asked for their data to be erased, and who they "
        "are was checked."
    )


class ReasonIn(BaseModel):
    reason: str = Field(max_length=2000, description="Why, in a few words (kept and audited).")


def _request_out(r: Any) -> ErasureRequestOut:
    return ErasureRequestOut(
        id=r.pk,
        requested_at=r.requested_at,
        status=r.status,  # type: ignore[arg-type]
        keep_until=r.keep_until,
        done_at=r.done_at,
        erased=list(r.erased),
    )


def _hold_out(h: Any) -> LegalHoldOut:
    return LegalHoldOut(
        id=h.pk,
        client=h.client_id,
        reason=h.reason,
        placed_at=h.placed_at,
        lifted_at=h.lifted_at,
        lift_reason=h.lift_reason,
    )


@router.get(
    "/clients/{client_id}/erasure",
    response={200: ErasurePreviewOut, **errors(401, 403, 404, 422)},
    operation_id="client_erasure_get",
    summary="What an erasure would delete, and what is kept until when (manager)",
    description="Counts only, no health detail; audited as a view of the client's record.",
)
def erasure_get_view(request: HttpRequest, client_id: uuid.UUID) -> Any:
    actor = actor_of(request)
    client = client_get(client_id)
    now = timezone.now()
    client_view_record(client=client, by=actor.user, now=now, via="api, erasure")
    p = erasure_preview(client=client, now=now)
    return ErasurePreviewOut(
        deleted_now=p.deleted_now,
        kept=p.kept,
        last_treatment_on=p.last_treatment_on,
        keep_until=p.keep_until,
        retention_years=p.years,
        legal_hold=_hold_out(p.hold) if p.hold else None,
        request=_request_out(p.request) if p.request else None,
    )


@router.post(
    "/clients/{client_id}/erasure",
    response={201: ErasureRequestOut, **errors(400, 401, 403, 404, 409, 413, 422, 429)},
    throttle=WRITE,
    operation_id="client_erasure_request",
    summary="Record a client's erasure request (manager)",
    description=(
        "Deletes at once what may go (future bookings, cancelled without a message; the "
        "waitlist; important dates; marketing permission; the online account) and keeps the "
        "clinical record until the retention period from the last treatment is over, when "
        "the hourly sweep deletes it unless a legal hold is open. A client with no clinical "
        "record is erased at once (`status` `done`). 422 `confirm_required` unless `confirm` "
        "is true; 409 when a request is already open."
    ),
)
def erasure_post_view(request: HttpRequest, client_id: uuid.UUID, payload: ErasureIn) -> Any:
    if payload.confirm is not True:
        msg = _("Confirm that the client asked for their data to be erased.")
        raise ApiError(422, "confirm_required", msg, fields={"confirm": msg})
    client = client_get(client_id)
    done = erasure_request(client=client, by=actor_of(request).user, now=timezone.now())
    return Status(201, _request_out(done))


@router.post(
    "/clients/{client_id}/legal-holds",
    response={201: LegalHoldOut, **errors(400, 401, 403, 404, 409, 413, 422, 429)},
    throttle=WRITE,
    operation_id="legal_hold_place",
    summary="Place a legal hold on a client's record (manager)",
    description="While it is open nothing of the clinical record is deleted. 409 when one is "
    "already open; 422 without a reason.",
)
def legal_hold_place_view(request: HttpRequest, client_id: uuid.UUID, payload: ReasonIn) -> Any:
    client = client_get(client_id)
    hold = legal_hold_place(
        client=client, reason=payload.reason, by=actor_of(request).user, now=timezone.now()
    )
    return Status(201, _hold_out(hold))


@router.post(
    "/legal-holds/{hold_id}/lift",
    response={200: LegalHoldOut, **errors(400, 401, 403, 404, 409, 413, 422, 429)},
    throttle=WRITE,
    operation_id="legal_hold_lift",
    summary="Lift a legal hold (manager)",
    description="409 when it was already lifted; 422 without a reason.",
)
def legal_hold_lift_view(request: HttpRequest, hold_id: int, payload: ReasonIn) -> Any:
    hold = legal_hold_get(hold_id)
    lifted = legal_hold_lift(
        hold=hold, reason=payload.reason, by=actor_of(request).user, now=timezone.now()
    )
    return _hold_out(lifted)
