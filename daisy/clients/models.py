"""Clients of the clinic and the contraindications recorded for them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from daisy.lib.models import PublicModel


class Client(PublicModel):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="client",
    )
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    email = models.EmailField(blank=True, db_index=True)
    phone = models.CharField(max_length=20, blank=True, help_text=_("E.164, e.g. +447700900123"))
    date_of_birth = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Tier(models.TextChoices):
    # DOMAIN.md 2.1 rule tiers
    HARD_STOP = "hard_stop", _("Hard stop: do not treat")
    DEFER = "defer", _("Defer until a date")
    CLINICIAN_REVIEW = "clinician_review", _("Clinician review needed")
    CAUTION = "caution", _("Caution: modify treatment")


BLOCKING_TIERS = frozenset({Tier.HARD_STOP, Tier.DEFER, Tier.CLINICIAN_REVIEW})


class Contraindication(models.Model):
    """A screening finding that stops or delays treatment (DOMAIN.md 2.2). While one is active,
    booking the client needs a clinician's recorded override."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contraindications")
    condition = models.CharField(max_length=200)
    tier = models.CharField(max_length=20, choices=Tier.choices)
    domain_row = models.CharField(
        max_length=20, blank=True, help_text=_("e.g. DOMAIN.md 2.2 row 8")
    )
    until_on = models.DateField(
        null=True, blank=True, help_text=_("For deferrals: eligible again from this date.")
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"{self.client}: {self.condition} ({self.get_tier_display()})"
