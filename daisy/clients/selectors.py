"""Reads for clients. Callers scope access (DESIGN.md 6): these only find rows."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q, QuerySet

from daisy.clients.models import Client, ClinicalHold, Contraindication, Tier
from daisy.clients.services import email_key, phone_key
from daisy.lib.errors import NotFound


def client_live() -> QuerySet[Client]:
    """Every client record that stands for a person: not one merged into another."""
    return Client.objects.filter(merged_into__isnull=True)


def client_get(client_id: Any) -> Client:
    """A client record in use; one merged into another is not found (its rows moved)."""
    client = client_live().filter(pk=client_id).first()
    if client is None:
        raise NotFound("That client does not exist.")
    return client


def client_for_user(user: Any) -> Client | None:
    """The client record a client login belongs to, if any."""
    if user is None or not getattr(user, "pk", None):
        return None
    return Client.objects.filter(user_id=user.pk).first()


def client_find(*, email: str | None = None, phone: str | None = None) -> Client | None:
    """The client this email address or phone number belongs to, however it is typed
    (`ADA@Example.com `, `07700 900017`, `+44 7700 900017`): by email first, then by phone;
    among several records with the same key (duplicates not merged yet), the oldest."""
    for field, key in (
        ("email_key", email_key(email or "")),
        ("phone_key", phone_key(phone or "")),
    ):
        if key:
            found = client_live().filter(**{field: key}).order_by("created_at", "id").first()
            if found is not None:
                return found
    return None


def client_possible_duplicates(
    *,
    email: str = "",
    phone: str = "",
    first_name: str = "",
    last_name: str = "",
    date_of_birth: date | None = None,
    exclude: Any = None,
) -> list[Client]:
    """Records that may be this same person, for staff to check before making another: the
    same email or phone (however typed), or the same name (any case) and date of birth.
    Oldest first; `exclude` leaves out one record (the one being edited)."""
    match = Q()
    if key := email_key(email):
        match |= Q(email_key=key)
    if key := phone_key(phone):
        match |= Q(phone_key=key)
    if first_name.strip() and last_name.strip() and date_of_birth is not None:
        match |= Q(
            first_name__iexact=first_name.strip(),
            last_name__iexact=last_name.strip(),
            date_of_birth=date_of_birth,
        )
    if not match:
        return []
    qs = client_live().filter(match)
    if exclude is not None:
        qs = qs.exclude(pk=getattr(exclude, "pk", exclude))
    return list(qs.order_by("created_at", "id")[:20])


def client_list(*, search: str = "") -> QuerySet[Client]:
    """All clients, A-Z by surname; `search` matches any part of a name, the email or phone.
    Records merged into another are left out: their rows now belong to the kept one."""
    qs = client_live().order_by("last_name", "first_name", "id")
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


def client_search(query: str, *, limit: int = 50) -> list[Client]:
    """Clients for the desk's search box: every word must match part of a name, the email or
    the phone; a phone number matches however it is typed (`07700 900017`, `+44 7700 900017`,
    `7700900017`), and an email address in any case."""
    query = (query or "").strip()
    if not query:
        return []
    qs = client_live().order_by("last_name", "first_name", "id")
    whole = Q()
    key = phone_key(query) if sum(ch.isdigit() for ch in query) >= 6 else ""
    if key:
        whole |= Q(phone_key=key)
    digits = "".join(ch for ch in query if ch.isdigit())
    if len(digits) >= 6 and not query.strip("+()- 0123456789"):
        # Part of a number, with its leading 0 or country code dropped either way.
        whole |= Q(phone_key__contains=digits.lstrip("0"))
    if "@" in query:
        whole |= Q(email_key=email_key(query)) | Q(email__icontains=query)
    words = Q()
    for word in query.split():
        words &= (
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
            | Q(phone__icontains=word)
        )
    return list(qs.filter(whole | words)[:limit])


def findings_for_client(client_id: Any) -> QuerySet[Contraindication]:
    """Every screening finding recorded for the client, newest first."""
    return Contraindication.objects.filter(client_id=client_id).order_by("-recorded_at")


def holds_for_client(client_id: Any) -> QuerySet[ClinicalHold]:
    """Every clinical hold, open or cleared, newest first."""
    return (
        ClinicalHold.objects.filter(client_id=client_id)
        .select_related("cleared_by")
        .order_by("-placed_at")
    )


def client_deferred_until(client_id: Any) -> date | None:
    """The day the client's last open deferral ends (eligible again from then), or None: a
    course's first session is planned no earlier (DOMAIN.md 2.1, DEFER)."""
    ends = Contraindication.objects.filter(
        client_id=client_id, tier=Tier.DEFER, resolved_at__isnull=True, until_on__isnull=False
    ).values_list("until_on", flat=True)
    return max(ends, default=None)


def finding_tier_choices() -> list[tuple[str, str]]:
    """What a finding can mean (DOMAIN.md 2.1 tiers), as (value, label) for a form."""
    return [(str(v), str(label)) for v, label in Tier.choices]
