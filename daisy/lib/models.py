"""Model helpers shared by the domain apps (no business rules)."""

from __future__ import annotations

import uuid

from django.db import models


class PublicModel(models.Model):
    """A row shown outside the back-office: its id is a random UUID so ids leak no volume."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)

    class Meta:
        abstract = True
