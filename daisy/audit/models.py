"""Who did what, when: one row per write and per view of a health record.

The trail is evidence, so it is append only: a saved entry cannot be changed or deleted
through the model or its querysets (`AuditEntry.Immutable`). The one sanctioned rewrite is
filing a merged client's entries under the record kept (`daisy.audit.services`), which keeps
where each came from."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class AuditImmutable(Exception):
    """An attempt to change or delete an audit entry."""


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        if kwargs == {"actor": None}:
            # Deleting a login (on_delete=SET_NULL): the entry keeps the person's name.
            return super().update(**kwargs)
        raise AuditImmutable("Audit entries cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditImmutable("Audit entries cannot be deleted.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise AuditImmutable("Audit entries cannot be changed.")

    def _refile(self, **kwargs: Any) -> int:
        # Only for audit_subject_reassign (a client merge); see the module's docstring.
        return super().update(**kwargs)


class AuditEntry(models.Model):
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The names as they were when it happened: a renamed or deleted person or object still
    # reads as it did then.
    actor_name = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, db_index=True)
    object_name = models.CharField(max_length=300, blank=True)
    # The client whose record the entry is about (their own record, a finding, an appointment,
    # a course...), so "who saw and changed what" for one client is one indexed query.
    client_ref = models.CharField(max_length=64, blank=True, db_index=True)
    data = models.JSONField(default=dict, blank=True)

    objects = AuditQuerySet.as_manager()

    Immutable = AuditImmutable

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        who = self.actor_name or (str(self.actor) if self.actor_id else "system")
        return (
            f"{self.at:%Y-%m-%d %H:%M} {who} {self.action} {self.object_name or self.object_type}"
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditImmutable("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditImmutable("Audit entries cannot be deleted.")
