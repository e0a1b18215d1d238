"""Erasure and retention (DOMAIN.md 6.6, 6.7; issue 14, item 8).

A client's erasure request deletes at once what the clinic may delete (their account, contact
details used only for service, marketing consent, important dates, the waitlist) and keeps the
clinical record (sessions, screening answers, consultations, findings, charts, consents,
photos) for the retention period, counted from the last treatment. When that period is over
the retention sweep deletes the clinical record too, unless a legal hold is open."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from daisy.clients.models import Client


class ErasureStatus(models.TextChoices):
    KEPT = "kept", _("Clinical record kept until its retention ends")
    DONE = "done", _("Erased")


class ErasureRequest(models.Model):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="erasure_requests")
    requested_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=ErasureStatus.choices)
    last_treatment_on = models.DateField(null=True, blank=True)
    keep_until = models.DateField(
        null=True, blank=True, help_text=_("The clinical record is kept until this day.")
    )
    erased = models.JSONField(default=list, blank=True, help_text=_("What was deleted, when."))
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"Erasure request {self.pk} ({self.get_status_display()})"


class LegalHold(models.Model):
    """While open, nothing of the client's clinical record is deleted (DOMAIN.md 6.7)."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="legal_holds")
    reason = models.TextField()
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField()
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-placed_at"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="legal_hold_has_a_reason"),
            models.CheckConstraint(
                condition=models.Q(lifted_at__isnull=True)
                | (models.Q(lifted_by__isnull=False) & ~models.Q(lift_reason="")),
                name="legal_hold_lifted_by_someone_for_a_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Legal hold on {self.client} ({'open' if self.lifted_at is None else 'lifted'})"

    @property
    def is_open(self) -> bool:
        return self.lifted_at is None
