"""The start of needling (issue 14, item 3): a clinician's recorded decision to start a session
despite what the gate (daisy/records/gate.py) says is missing, and a clinician's reason to book a
course session closer than the default interval to the one before (DOMAIN.md 1.2).

Both are evidence: written once through daisy.records.services, audited, never changed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from daisy.clients.models import Client
from daisy.lib.models import PublicModel
from daisy.scheduling.models import Appointment
from daisy.treatments.models import Treatment


class NeedlingOverride(PublicModel):
    """A clinician starts this session although the gate named blockers: which ones (codes and
    the words shown then), who, when and why. It covers those blockers only: one that appears
    afterwards (a new answer, a new finding) stops the session again."""

    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, related_name="needling_overrides"
    )
    blockers = models.JSONField(
        help_text=_("What stood in the way when the override was recorded: code and message.")
    )
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="needling_override_has_reason"
            )
        ]

    def __str__(self) -> str:
        return f"{self.appointment}: override ({self.reason[:40]})"

    @property
    def keys(self) -> frozenset[str]:
        """The blockers it covers (daisy.records.gate.Blocker.key)."""
        return frozenset(str(b.get("key", "")) for b in self.blockers or [])


class IntervalOverride(PublicModel):
    """A session booked or moved closer than the default interval to the client's previous
    session of the same treatment (DOMAIN.md 1.2: below 28 days needs a clinician's override)."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    treatment = models.ForeignKey(Treatment, on_delete=models.PROTECT, related_name="+")
    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    neighbour = models.ForeignKey(
        Appointment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The session it is close to."),
    )
    gap_days = models.PositiveIntegerField()
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="interval_override_has_reason"
            )
        ]

    def __str__(self) -> str:
        return f"{self.client}: {self.gap_days} days ({self.reason[:40]})"
