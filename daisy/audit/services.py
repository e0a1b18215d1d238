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
