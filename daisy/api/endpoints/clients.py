"""Clients. Staff read them all (each opening of a record is audited as `client.view`);
reception and the manager create and change them; a client token sees and changes only its
own record, and cannot list or create."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from daisy.api.auth import EVERYONE, FRONT_DESK, STAFF, Actor, TokenAuth, actor_of
from daisy.api.docs import errors
from daisy.api.errors import ApiError
from daisy.api.schemas import ClientIn, ClientOut, ClientPage, ClientPatch, Search, client_out
from daisy.api.throttles import WRITE
from daisy.clients.selectors import client_get, client_list
from daisy.clients.services import client_create, client_update, client_view_record
from daisy.lib.errors import NotFound

router = Router(tags=["clients"])

_WRITERS = FRONT_DESK | {"client"}


def scoped_client(actor: Actor, client_id: uuid.UUID) -> Any:
    """The client, if this actor may see it; otherwise 404, whether or not it exists."""
    if actor.is_client and not actor.owns_client(client_id):
        raise NotFound(_("That client does not exist."))
    return client_get(client_id)


@router.get(
    "/clients",
    response={200: ClientPage, **errors(400, 401, 403, 422)},
    auth=TokenAuth(roles=STAFF),
    operation_id="client_list",
    summary="List clients (staff)",
    description="A-Z by surname. `search` matches parts of names, email or phone.",
)
def client_list_view(
    request: HttpRequest,
    search: Search = Query("", description="Words that must all match."),
    limit: int = Query(50, ge=1, le=100, description="Page size, at most 100."),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> Any:
    qs = client_list(search=search)
    return {
        "count": qs.count(),
        "limit": limit,
        "offset": offset,
        "items": [client_out(c) for c in qs[offset : offset + limit]],
    }


@router.post(
    "/clients",
    response={201: ClientOut, **errors(400, 401, 403, 409, 413, 422, 429)},
    auth=TokenAuth(roles=FRONT_DESK),
    throttle=WRITE,
    operation_id="client_create",
    summary="Create a client (reception, manager)",
    description=(
        "The phone is stored as E.164 (a number without a country code is read as one of the "
        "clinic's country, GB unless configured; only assigned numbers are accepted). One "
        "person, one record: an email address (in any case) or phone number (in any format) "
        "that already belongs to a client answers 409 `client_exists`, with that client's id "
        "in `error.fields.client` and the matching field (`email` or `phone`) beside it; "
        "nothing is created. Use that client, or change theirs with PATCH."
    ),
)
def client_create_view(request: HttpRequest, payload: ClientIn) -> Any:
    client = client_create(
        first_name=payload.first_name,
        last_name=payload.last_name,
        email=payload.email or "",
        phone=payload.phone or "",
        date_of_birth=payload.date_of_birth,
        by=actor_of(request).user,
        now=timezone.now(),
    )
    return Status(201, client_out(client))


@router.get(
    "/clients/{client_id}",
    response={200: ClientOut, **errors(401, 404, 422)},
    auth=TokenAuth(roles=EVERYONE),
    operation_id="client_get",
    summary="One client",
    description="Staff: any client (audited as a view of a health record). Client: only itself.",
)
def client_get_view(request: HttpRequest, client_id: uuid.UUID) -> Any:
    actor = actor_of(request)
    client = scoped_client(actor, client_id)
    if actor.is_staff:
        client_view_record(client=client, by=actor.user, now=timezone.now(), via="api")
    return client_out(client)


@router.patch(
    "/clients/{client_id}",
    response={200: ClientOut, **errors(400, 401, 403, 404, 413, 422, 429)},
    auth=TokenAuth(roles=_WRITERS),
    throttle=WRITE,
    operation_id="client_update",
    summary="Change a client (reception, manager; a client its own record)",
    description="Only the fields sent change. Specialists may not change client details (403).",
)
def client_update_view(request: HttpRequest, client_id: uuid.UUID, payload: ClientPatch) -> Any:
    actor = actor_of(request)
    client = scoped_client(actor, client_id)
    changes = payload.model_dump(exclude_unset=True)
    for name in ("first_name", "last_name"):
        if name in changes and changes[name] is None:
            msg = _("This field cannot be empty.")
            raise ApiError(422, "validation_error", msg, fields={name: msg})
    for name in ("email", "phone"):
        if name in changes and changes[name] is None:
            changes[name] = ""
    client = client_update(client=client, by=actor.user, now=timezone.now(), **changes)
    return client_out(client)
