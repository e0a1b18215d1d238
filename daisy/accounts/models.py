from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CLIENT = "client", _("Client")
    RECEPTION = "reception", _("Reception")
    SPECIALIST = "specialist", _("Specialist")
    MANAGER = "manager", _("Manager")


STAFF_ROLES = frozenset({Role.RECEPTION, Role.SPECIALIST, Role.MANAGER})


class User(AbstractUser):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CLIENT)

    @property
    def is_clinic_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_clinician(self) -> bool:
        """May record a clinical override (specialists and the manager/medical lead)."""
        return self.role in {Role.SPECIALIST, Role.MANAGER}


class ApiToken(models.Model):
    """A bearer token for the API (DESIGN.md 6). The secret is shown once, at creation; only its
    SHA-256 is stored. Tokens are 256-bit random strings, so a fast hash is enough: there is
    nothing to brute-force that a slow hash would protect."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True, help_text=_("What the token is for."))
    # The public part of the token, for lookup and for naming it in lists and logs.
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("API token")

    def __str__(self) -> str:
        return f"{self.prefix} ({self.name or self.user})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
