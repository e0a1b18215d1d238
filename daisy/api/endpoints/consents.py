"""Consent (issue 14 item 4; DOMAIN.md 6.4): a client's signed consents, and whether an
appointment's consent is signed and current. Staff read any client's; a client token only its
own (another client's id answers 404). Each read is a view of the health record and audited.
The signed text and signature are not sent: the clinic's pages show them (and their PDF)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from pydantic import Field

from daisy.api.auth import EVERYONE, TokenAuth, actor_of
from daisy.api.docs import errors
from daisy.api.endpoints.appointments import scoped_appointment
from daisy.api.endpoints.clients import scoped_client
from daisy.clients.services import client_view_record
from daisy.records.consent_selectors import (
    consent_current,
    consent_list_for_client,
    consent_status,
)

router = Router(tags=["consent"])

ConsentKind = Literal["treatment", "photos_record", "photos_marketing"]
ConsentState = Literal["signed", "missing", "out_of_date", "not_needed"]


class ConsentOut(Schema):
    id: uuid.UUID
    kind: ConsentKind
    title: str
    version: int = Field(description="The template version signed.")
    treatment: str | None = Field(None, description="The treatment's slug (treatment consents).")
    appointment: uuid.UUID | None = None
    signed_at: datetime
    via: Literal["desk", "portal"]
    method: Literal["drawn", "typed"]
    taken_by: str | None = Field(None, description="The clinician who took it at the clinic.")
    text_sha256: str = Field(description="SHA-256 (hex) of the exact text signed, as UTF-8.")
    is_current: bool = Field(
        description="Not withdrawn and signed on the template's current version."
    )
    withdrawn_at: datetime | None = None


class ConsentList(Schema):
    count: int
    items: list[ConsentOut]


class ConsentStatusOut(Schema):
    appointment: uuid.UUID
    state: ConsentState = Field(
        description="`signed` (current), `missing` (never signed, or withdrawn), `out_of_date` "
        "(the template or the plan changed since), `not_needed` (the clinic asks none)."
    )
    reason: str = Field(description="Why, in words a person reads.")
    consent: ConsentOut | None = Field(None, description="The latest treatment consent.")
    photos_record: bool = Field(description="A current consent to clinical-record photos.")
    photos_marketing: bool = Field(description="A current consent to marketing photos.")


def _name(user: Any) -> str | None:
    if user is None:
        return None
    return user.get_full_name() or user.get_username()


def consent_out(consent: Any) -> dict[str, Any]:
    current = consent_current(consent.client, kind=consent.kind, treatment=consent.treatment)
    return {
        "id": consent.pk,
        "kind": consent.kind,
        "title": consent.title,
        "version": consent.version,
        "treatment": consent.treatment.slug if consent.treatment_id else None,
        "appointment": consent.appointment_id,
        "signed_at": consent.signed_at,
        "via": consent.via,
        "method": consent.method,
        "taken_by": _name(consent.taken_by) if consent.taken_by_id else None,
        "text_sha256": consent.text_sha256,
        "is_current": current is not None and current.pk == consent.pk,
        "withdrawn_at": consent.withdrawn_at,
    }


@router.get(
    "/clients/{client_id}/consents",
    response={200: ConsentList, **errors(401, 404, 422)},
    auth=TokenAuth(roles=EVERYONE),
    operation_id="client_consents",
    summary="A client's signed consents",
    description="Newest first, withdrawn ones included (with `withdrawn_at`). Staff: any "
    "client; a client token: only its own (another id answers 404).",
)
def client_consents_view(request: HttpRequest, client_id: uuid.UUID) -> Any:
    actor = actor_of(request)
    client = scoped_client(actor, client_id)
    if actor.is_staff:  # as for the client record itself: staff reads are audited
        client_view_record(client=client, by=actor.user, now=timezone.now(), via="api, consents")
    items = [consent_out(c) for c in consent_list_for_client(client)]
    return {"count": len(items), "items": items}


@router.get(
    "/appointments/{appointment_id}/consent",
    response={200: ConsentStatusOut, **errors(401, 404, 422)},
    auth=TokenAuth(roles=EVERYONE),
    operation_id="appointment_consent",
    summary="Whether an appointment's consent is signed and current",
    description="Compared with the clinic's current consent text and the session's plan "
    "(zones, depth, products): a change since signing makes it `out_of_date`.",
)
def appointment_consent_view(request: HttpRequest, appointment_id: uuid.UUID) -> Any:
    actor = actor_of(request)
    appt = scoped_appointment(actor, appointment_id)
    if actor.is_staff:
        client_view_record(
            client=appt.client, by=actor.user, now=timezone.now(), via="api, consent status"
        )
    status = consent_status(appt)
    return {
        "appointment": appt.pk,
        "state": status.state,
        "reason": status.reason,
        "consent": consent_out(status.consent) if status.consent is not None else None,
        "photos_record": status.photos_record is not None,
        "photos_marketing": status.photos_marketing is not None,
    }
