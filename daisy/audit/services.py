from __future__ import annotations

from datetime import datetime
from typing import Any

from daisy.audit.models import AuditEntry


def audit_record(
    *, actor: Any, action: str, obj: Any, at: datetime, data: dict[str, Any] | None = None
) -> AuditEntry:
    """Call inside the transaction of the write it describes, so both commit or neither."""
    return AuditEntry.objects.create(
        at=at,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        data=data or {},
    )


def audit_subject_reassign(*, object_type: str, source_id: Any, target_id: Any) -> int:
    """File the entries about one record under another (a client merge: the kept record's
    history then reads whole). Each moved entry keeps the id it was written about in
    `data["merged_from"]`, so nothing of what happened, or to which record, is lost; returns
    how many moved. Call inside the merge's transaction."""
    moved = 0
    entries = AuditEntry.objects.filter(object_type=object_type, object_id=str(source_id))
    for entry in entries.only("pk", "data").iterator():
        data = dict(entry.data) if isinstance(entry.data, dict) else {"data": entry.data}
        data.setdefault("merged_from", str(source_id))
        AuditEntry.objects.filter(pk=entry.pk).update(object_id=str(target_id), data=data)
        moved += 1
    return moved
