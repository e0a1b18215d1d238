"""The waitlist (issue 13, item 3): staff list, add and remove anyone; a client token its own
places only. Accepting an offered time books it through the same path as every booking."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Status

from daisy.api.auth import Actor, TokenAuth, actor_of
from daisy.api.docs import errors
from daisy.api.errors import ApiError
from daisy.api.refs import client_ref, location_ref, specialist_ref, treatment_ref
from daisy.api.schemas import (
    ApiDate,
    AppointmentOut,
    InputSchema,
    Out,
    PrecareKey,
    PrescreenIn,
    Ref,
    Slug,
    appointment_out,
)
from daisy.api.throttles import WRITE
from daisy.booking.waitlist import (
    waitlist_entry_get,
    waitlist_for_client,
    waitlist_join,
    waitlist_leave,
    waitlist_offer_accept,
    waitlist_offer_by_id,
    waitlist_waiting,
)
from daisy.lib.errors import NotFound
from daisy.scheduling.selectors import appointment_get

router = Router(tags=["waitlist"], auth=TokenAuth())

EntryState = Literal["waiting", "booked", "withdrawn"]
OfferState = Literal["open", "accepted", "gone", "declined", "expired"]


class WaitlistIn(InputSchema):
    client: uuid.UUID = Field(description="Client id. A client token may only give its own.")
    treatment: Slug = Field(description="Treatment slug, e.g. `microneedling`.")
    specialist: uuid.UUID | None = Field(None, description="Only with this specialist.")
    location: uuid.UUID | None = Field(None, description="Only at this location.")
    from_on: ApiDate | None = Field(None, description="Not before this local date.")
    until_on: ApiDate | None = Field(None, description="Not after this local date.")
    note: str | None = Field(None, max_length=300, description="For the desk.")


class OfferOut(Out):
    id: uuid.UUID
    start: datetime
    location: Ref
    specialist: Ref | None
    status: OfferState
    expires_at: datetime
    appointment: uuid.UUID | None


class WaitlistOut(Out):
    id: uuid.UUID
    client: Ref
    treatment: str
    specialist: Ref | None
    location: Ref | None
    from_on: date | None
    until_on: date | None
    note: str
    status: EntryState
    created_at: datetime
    offers: list[OfferOut]


class WaitlistPage(Out):
    count: int
    items: list[WaitlistOut]


class AcceptIn(InputSchema):
    prescreen: PrescreenIn | None = Field(
        None,
        description="Required when a client token accepts a treatment that needs screening "
        "(otherwise 422 `prescreen_required`).",
    )
    precare_confirmed: list[PrecareKey] = Field(
        default_factory=list,
        max_length=50,
        description="Keys of the preparation steps the client already follows, when the time "
        "is too soon for them (409 `precare_too_soon` otherwise, for a client token).",
    )


def _ref(obj: Any) -> dict[str, Any] | None:
    return {"id": obj.pk, "name": str(obj.name)} if obj is not None else None


def _out(entry: Any) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "client": {"id": entry.client.pk, "name": entry.client.full_name},
        "treatment": entry.treatment.slug,
        "specialist": _ref(entry.specialist),
        "location": _ref(entry.location),
        "from_on": entry.from_on,
        "until_on": entry.until_on,
        "note": entry.note,
        "status": entry.status,
        "created_at": entry.created_at,
        "offers": [
            {
                "id": o.pk,
                "start": o.starts_at.astimezone(o.location.tz),
                "location": _ref(o.location),
                "specialist": _ref(o.specialist),
                "status": o.status,
                "expires_at": o.expires_at,
                "appointment": o.appointment_id,
            }
            for o in entry.offers.all()
        ],
    }


def _entry_for(actor: Actor, entry_id: uuid.UUID) -> Any:
    entry = waitlist_entry_get(entry_id)
    if actor.is_client and not actor.owns_client(entry.client_id):
        raise NotFound(_("That waitlist place does not exist."))
    return entry


@router.get(
    "/waitlist",
    response={200: WaitlistPage, **errors(400, 401, 422)},
    operation_id="waitlist_list",
    summary="Who is waiting",
    description=(
        "Staff: everyone waiting, first come first (or every place of one `client`, whatever "
        "its state). A client token: its own places only."
    ),
)
def waitlist_list_view(
    request: HttpRequest,
    client: uuid.UUID | None = Query(None, description="Every place of this client."),
) -> Any:
    actor = actor_of(request)
    if actor.is_client:
        entries = waitlist_for_client(actor.client.pk) if actor.client is not None else []
    elif client is not None:
        entries = waitlist_for_client(client_ref(client).pk)
    else:
        entries = waitlist_waiting()
    return {"count": len(entries), "items": [_out(e) for e in entries]}


@router.post(
    "/waitlist",
    response={201: WaitlistOut, **errors(400, 401, 403, 413, 422, 429)},
    throttle=WRITE,
    operation_id="waitlist_join",
    summary="Put a client on the waitlist",
    description=(
        "Waits for a treatment, optionally with one specialist, at one location, or between "
        "two local dates. When a time that suits comes free, the client is offered it by "
        "message, in the order people joined. 422 `already_waiting` when the client already "
        "waits for the treatment. A client token may only add itself (403 otherwise)."
    ),
)
def waitlist_join_view(request: HttpRequest, payload: WaitlistIn) -> Any:
    actor = actor_of(request)
    if actor.is_client and not actor.owns_client(payload.client):
        raise ApiError(403, "forbidden", _("A client can only put themselves on the waitlist."))
    entry = waitlist_join(
        client=client_ref(payload.client),
        treatment=treatment_ref(payload.treatment),
        by=actor.user,
        now=timezone.now(),
        specialist=specialist_ref(payload.specialist) if payload.specialist else None,
        location=location_ref(payload.location) if payload.location else None,
        from_on=payload.from_on,
        until_on=payload.until_on,
        note=payload.note or "",
    )
    return Status(201, _out(waitlist_entry_get(entry.pk)))


@router.delete(
    "/waitlist/{entry_id}",
    response={200: WaitlistOut, **errors(401, 404, 422, 429)},
    throttle=WRITE,
    operation_id="waitlist_leave",
    summary="Take a place off the waitlist",
    description="Its open offers end. A client token: its own places only (404 otherwise).",
)
def waitlist_leave_view(request: HttpRequest, entry_id: uuid.UUID) -> Any:
    actor = actor_of(request)
    entry = _entry_for(actor, entry_id)
    waitlist_leave(entry=entry, by=actor.user, now=timezone.now())
    return _out(waitlist_entry_get(entry.pk))


@router.post(
    "/waitlist/offers/{offer_id}/accept",
    response={201: AppointmentOut, **errors(400, 401, 404, 409, 413, 422, 429)},
    throttle=WRITE,
    operation_id="waitlist_offer_accept",
    summary="Accept an offered time",
    description=(
        "Books the offered time for the waiting client through the same path as every "
        "booking (its checks and messages). The first acceptance wins: a later one is a 409 "
        "`offer_gone`, and so is an expired offer. Accepting the same offer again returns the "
        "booking made. A client token: its own offers only (404 otherwise)."
    ),
)
def waitlist_offer_accept_view(
    request: HttpRequest, offer_id: uuid.UUID, payload: AcceptIn | None = None
) -> Any:
    actor = actor_of(request)
    offer = waitlist_offer_by_id(offer_id)
    if actor.is_client and not actor.owns_client(offer.entry.client_id):
        raise NotFound(_("That offer does not exist."))
    appt = waitlist_offer_accept(
        offer=offer,
        by=actor.user,
        now=timezone.now(),
        prescreen=payload.prescreen.model_dump() if payload and payload.prescreen else None,
        precare_confirmed=payload.precare_confirmed if payload else [],
    )
    return Status(201, appointment_out(appointment_get(appt.pk)))
