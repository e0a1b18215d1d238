from __future__ import annotations

from datetime import datetime
from typing import Any

from daisy.audit.models import AuditEntry


def person_name(user: Any) -> str:
    """How the trail names a person: their full name, else their email or login name."""
    if user is None or not getattr(user, "pk", None):
        return ""
    full = (getattr(user, "get_full_name", lambda: "")() or "").strip()
    return full or getattr(user, "email", "") or getattr(user, "username", "") or ""


def _client_ref(obj: Any, data: dict[str, Any]) -> str:
    if obj._meta.label_lower == "clients.client":
        return str(obj.pk)
    ref = getattr(obj, "client_id", None)
    if ref is None and isinstance(data.get("client"), str):
        ref = data["client"]
    return str(ref) if ref is not None else ""


def _cheap_name(obj: Any) -> str:
    # A name read without another query: a client's or a person's own. Other objects are named
    # when the trail is read (daisy.audit.selectors), or by the caller through `name`.
    label = obj._meta.label_lower
    if label == "clients.client":
        return str(getattr(obj, "full_name", "") or "")
    if label == "accounts.user":
        return person_name(obj)
    return ""


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: Any,
    at: datetime,
    data: dict[str, Any] | None = None,
    name: str | None = None,
    client: Any = None,
) -> AuditEntry:
    """Call inside the transaction of the write it describes, so both commit or neither.
    `name` is how a person would name the object (kept as it was then); `client` the client
    whose record it is about when the object does not say (it does for a client, and for
    anything with a `client`)."""
    data = data or {}
    return AuditEntry.objects.create(
        at=at,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=person_name(actor)[:200],
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_name=(name if name is not None else _cheap_name(obj))[:300],
        client_ref=str(getattr(client, "pk", client))
        if client is not None
        else _client_ref(obj, data),
        data=data,
    )


def audit_subject_reassign(*, object_type: str, source_id: Any, target_id: Any) -> int:
    """File the entries about one record under another (a client merge: the kept record's
    history then reads whole). Each moved entry keeps the id it was written about in
    `data["merged_from"]`, so nothing of what happened, or to which record, is lost; returns
    how many moved. Call inside the merge's transaction. The only rewrite of the trail."""
    moved = 0
    source, target = str(source_id), str(target_id)
    entries = AuditEntry.objects.filter(object_type=object_type, object_id=source)
    for entry in entries.only("pk", "data").iterator():
        data = dict(entry.data) if isinstance(entry.data, dict) else {"data": entry.data}
        data.setdefault("merged_from", source)
        AuditEntry.objects.filter(pk=entry.pk)._refile(
            object_id=target, client_ref=target, data=data
        )
        moved += 1
    if object_type == "clients.client":
        # Entries about the merged client's findings, appointments, courses...: their objects
        # moved to the kept record, and so does the client they are filed under.
        AuditEntry.objects.filter(client_ref=source)._refile(client_ref=target)
    return moved
