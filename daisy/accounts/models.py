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
