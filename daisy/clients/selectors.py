"""Reads for clients. Callers scope access (DESIGN.md 6): these only find rows."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from daisy.clients.models import Client, ClinicalHold
from daisy.lib.errors import NotFound


def client_get(client_id: Any) -> Client:
    client = Client.objects.filter(pk=client_id).first()
    if client is None:
        raise NotFound("That client does not exist.")
    return client


def client_for_user(user: Any) -> Client | None:
    """The client record a client login belongs to, if any."""
    if user is None or not getattr(user, "pk", None):
        return None
    return Client.objects.filter(user_id=user.pk).first()


def client_list(*, search: str = "") -> QuerySet[Client]:
    """All clients, A-Z by surname; `search` matches any part of a name, the email or phone."""
    qs = Client.objects.order_by("last_name", "first_name", "id")
    for word in search.split():
        qs = qs.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
            | Q(phone__icontains=word)
        )
    return qs


def client_open_hold(client_id: Any) -> ClinicalHold | None:
    """The oldest open clinical hold on the client, if any: while there is one, their next
    session is neither booked nor moved (DOMAIN.md 5.2 row "Each session")."""
    return (
        ClinicalHold.objects.filter(client_id=client_id, cleared_at__isnull=True)
        .order_by("placed_at")
        .first()
    )
