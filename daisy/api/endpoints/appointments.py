"""Appointments: book (idempotent), list, read, reschedule, cancel, through the same services
as the pages. Client tokens work on their own appointments only; staff on all."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header, Query, Router, Status

from daisy.api.auth import Actor, TokenAuth, actor_of
from daisy.api.docs import errors
from daisy.api.errors import ApiError
from daisy.api.refs import client_ref, location_ref, specialist_ref, treatment_ref
from daisy.api.schemas import (
    ApiDate,
    AppointmentIn,
    AppointmentOut,
    AppointmentPage,
    AppointmentStatus,
    CancelIn,
    IdempotencyKey,
    RescheduleIn,
    appointment_out,
)
from daisy.api.throttles import WRITE
from daisy.booking.services import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
)
from daisy.lib.errors import NotFound
from daisy.scheduling.selectors import appointment_get, appointment_list

router = Router(tags=["appointments"], auth=TokenAuth())

REPLAYED_HEADER = "Idempotent-Replayed"


def scoped_appointment(actor: Actor, appointment_id: uuid.UUID) -> Any:
    """The appointment, if this actor may see it; otherwise 404, whether or not it exists."""
    appt = appointment_get(appointment_id)
    if actor.is_client and not actor.owns_client(appt.client_id):
        raise NotFound(_("That appointment does not exist."))
    return appt


@router.post(
    "/appointments",
    response={201: AppointmentOut, **errors(400, 401, 403, 409, 413, 422, 429)},
    throttle=WRITE,
    operation_id="appointment_create",
    summary="Book an appointment",
    description=(
        "Books through the same service as the front desk, all or nothing.\n\n"
        "**Idempotency-Key is required.** Retrying with the same key and the same body "
        "returns the appointment booked the first time (201 again, with the header "
        f"`{REPLAYED_HEADER}: true`, showing the appointment as it is now); the same key with "
        "a different body is a 422 `idempotency_key_reused`. A request that failed stored "
        "nothing, so its key may be retried. Keys are scoped to the token's user.\n\n"
        "409 `slot_unavailable` carries up to 3 nearest `alternatives`; 409 "
        "`contraindicated` means an open screening finding needs a clinician first; 409 "
        "`important_date_conflict` that the recovery window covers one of the client's "
        "important dates (send `confirm_important_dates: true` to book anyway); 409 "
        "`clinical_hold`, `age_limit` or `prescreen_stop` that the client cannot be booked "
        "for it now. A client token booking a treatment that needs screening sends the "
        "`prescreen` answers (422 `prescreen_required` otherwise). A client token's time must "
        "leave the treatment's preparation steps their full time, or the client confirms the "
        "steps they already follow in `precare_confirmed` (409 `precare_too_soon` otherwise, "
        "with `precare_steps` and `ready_at`). 409 `interval_too_short`: a needling "
        "session less than 28 days before or after another of the client's; staff send a "
        "clinician's `gap_reason` (DOMAIN.md 1.2). A client "
        "token may book only for its own client (403 otherwise), only treatments bookable "
        "online, and within the treatment's notice and horizon."
    ),
)
def appointment_create_view(
    request: HttpRequest,
    response: HttpResponse,
    payload: AppointmentIn,
    idempotency_key: IdempotencyKey = Header(
        ...,
        alias="Idempotency-Key",
        description="A unique key per booking attempt (e.g. a UUID), 1-255 visible ASCII "
        "characters. Reuse it only to retry the same request.",
    ),
) -> Any:
    actor = actor_of(request)
    if actor.is_client and not actor.owns_client(payload.client):
        raise ApiError(403, "forbidden", _("A client can only book for themselves."))
    result = appointment_book(
        client=client_ref(payload.client),
        treatment=treatment_ref(payload.treatment),
        starts_at=payload.start,
        booked_by=actor.user,
        now=timezone.now(),
        location=location_ref(payload.location) if payload.location else None,
        specialist=specialist_ref(payload.specialist) if payload.specialist else None,
        idempotency_key=idempotency_key,
        confirm_important_dates=payload.confirm_important_dates,
        prescreen=payload.prescreen.answers() if payload.prescreen else None,
        prescreen_via="api",
        precare_confirmed=payload.precare_confirmed,
        gap_reason=payload.gap_reason or "",
    )
    if result.replayed:
        response[REPLAYED_HEADER] = "true"
    appt = appointment_get(result.appointment.pk)
    return Status(201, appointment_out(appt))


@router.get(
    "/appointments",
    response={200: AppointmentPage, **errors(400, 401, 422)},
    operation_id="appointment_list",
    summary="List appointments",
    description=(
        "In start order. `start`/`end` are calendar dates (both inclusive) in each "
        "appointment's location's zone. Client tokens only ever see their own appointments."
    ),
)
def appointment_list_view(
    request: HttpRequest,
    start: ApiDate | None = Query(None, description="From this local date, inclusive."),
    end: ApiDate | None = Query(None, description="Up to this local date, inclusive."),
    client: uuid.UUID | None = Query(None, description="Only this client's."),
    specialist: uuid.UUID | None = Query(None, description="Only this specialist's."),
    status: AppointmentStatus | None = Query(None, description="Only this status."),
    limit: int = Query(50, ge=1, le=100, description="Page size, at most 100."),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> Any:
    actor = actor_of(request)
    if start is not None and end is not None and end < start:
        msg = _("The end date must be on or after the start date.")
        raise ApiError(422, "validation_error", msg, fields={"end": msg})
    if actor.is_client:
        own = actor.client.pk if actor.client is not None else None
        if own is None or (client is not None and client != own):
            return {"count": 0, "limit": limit, "offset": offset, "items": []}
        client = own
    qs = appointment_list(
        first_day=start, last_day=end, client_id=client, specialist_id=specialist, status=status
    )
    return {
        "count": qs.count(),
        "limit": limit,
        "offset": offset,
        "items": [appointment_out(a) for a in qs[offset : offset + limit]],
    }


@router.get(
    "/appointments/{appointment_id}",
    response={200: AppointmentOut, **errors(401, 404, 422)},
    operation_id="appointment_get",
    summary="One appointment",
)
def appointment_get_view(request: HttpRequest, appointment_id: uuid.UUID) -> Any:
    return appointment_out(scoped_appointment(actor_of(request), appointment_id))


@router.post(
    "/appointments/{appointment_id}/reschedule",
    response={200: AppointmentOut, **errors(400, 401, 403, 404, 409, 413, 422, 429)},
    throttle=WRITE,
    operation_id="appointment_reschedule",
    summary="Move an appointment",
    description=(
        "All or nothing: if the new time cannot be had (409 `slot_unavailable`, with "
        "`alternatives`), the appointment stays where it was. Only booked appointments move "
        "(409 `policy_violation`); clients cannot move one inside the treatment's "
        "cancellation window (409 `late_change`). The appointment keeps its specialist unless "
        "`specialist` names another or `any_specialist` is true. The answer's `change_until` "
        "says until when the new time can be changed online: a new time inside the window "
        "cannot be moved online again, and cancelling it is late."
    ),
)
def appointment_reschedule_view(
    request: HttpRequest, appointment_id: uuid.UUID, payload: RescheduleIn
) -> Any:
    actor = actor_of(request)
    appt = scoped_appointment(actor, appointment_id)
    moved = appointment_reschedule(
        appointment=appt,
        starts_at=payload.start,
        by=actor.user,
        now=timezone.now(),
        specialist=specialist_ref(payload.specialist)
        if payload.specialist
        else (None if payload.any_specialist else appt.specialist),
        confirm_important_dates=payload.confirm_important_dates,
        gap_reason=payload.gap_reason or "",
    )
    return appointment_out(appointment_get(moved.pk))


@router.post(
    "/appointments/{appointment_id}/cancel",
    response={200: AppointmentOut, **errors(400, 401, 403, 404, 409, 413, 422, 429)},
    throttle=WRITE,
    operation_id="appointment_cancel",
    summary="Cancel an appointment",
    description=(
        "Releases the time. Inside the treatment's cancellation window it is still cancelled "
        "but marked `is_late_cancellation`. Only booked appointments can be cancelled (409 "
        "`policy_violation`); clients cannot cancel one that has started. The body is optional."
    ),
)
def appointment_cancel_view(
    request: HttpRequest, appointment_id: uuid.UUID, payload: CancelIn | None = None
) -> Any:
    actor = actor_of(request)
    appt = scoped_appointment(actor, appointment_id)
    cancelled = appointment_cancel(
        appointment=appt,
        by=actor.user,
        now=timezone.now(),
        reason=(payload.reason or "") if payload is not None else "",
    )
    return appointment_out(appointment_get(cancelled.pk))
