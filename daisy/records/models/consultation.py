"""The consultation: one record per client and course (plan) that a clinician fills in before
the first session and signs (issue 14, item 2): the medical history (the whole screening
questionnaire asked in person, stored as a ScreeningResponse with via=consultation), the
Fitzpatrick skin type (DOMAIN.md 1.3), the concerns by zone and the client's goals, the photo
set (linked by consultation and appointment: photos point here), and the course plan.

A signed consultation is never changed: later changes are amendments, appended with who, when
and why, and the record reads as the signed values with the amendments applied in order."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from daisy.clients.models import Client
from daisy.courses.models import Plan
from daisy.lib.models import PublicModel
from daisy.records.models.chart import SkinType
from daisy.records.models.screening import ScreeningResponse
from daisy.scheduling.models import Appointment

# DOMAIN.md 2.2 row 31: types IV-VI are the caution for dark marks (PIH).
DARK_SKIN_FROM = SkinType.IV
# What each Fitzpatrick type means in plain words, read out with the client (DOMAIN.md 1.3;
# the scale's usual description, StatPearls and NCBI Bookshelf table NBK481857).
SKIN_TYPE_WORDS: dict[int, Any] = {
    1: _("Very pale skin, often with freckles: always burns, never tans."),
    2: _("Fair skin: usually burns, tans a little with difficulty."),
    3: _("Light brown skin: sometimes burns mildly, tans gradually."),
    4: _("Moderate brown skin: rarely burns, tans easily."),
    5: _("Dark brown skin: very rarely burns, tans very easily."),
    6: _("Deeply pigmented dark brown to black skin: never burns."),
}


class Consultation(PublicModel):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="consultations")
    plan = models.OneToOneField(
        Plan,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="consultation",
        help_text=_("The course this consultation plans."),
    )
    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="consultations",
        help_text=_("The visit it was held at (its photos are the baseline set)."),
    )
    screening = models.ForeignKey(
        ScreeningResponse,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The medical history: the questionnaire asked at the consultation."),
    )
    skin_type = models.PositiveSmallIntegerField(choices=SkinType.choices, null=True, blank=True)
    # [{"zone": Zone, "concern": courses.Concern or "", "note": str}], in the order given.
    concerns = models.JSONField(default=list, blank=True)
    goals = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["client", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(signed_by__isnull=True, signed_at__isnull=True)
                | models.Q(signed_by__isnull=False, signed_at__isnull=False),
                name="consultation_signed_by_someone_at_a_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client}: consultation of {self.created_at:%Y-%m-%d}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


class AmendedField(models.TextChoices):
    SKIN_TYPE = "skin_type", _("Skin type")
    CONCERNS = "concerns", _("Concerns by area")
    GOALS = "goals", _("Goals")
    NOTES = "notes", _("Notes")
    SCREENING = "screening", _("Medical history")
    PLAN = "plan", _("Course plan")


class ConsultationAmendment(models.Model):
    """A change to a signed consultation: appended, never edited."""

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="amendments"
    )
    field = models.CharField(max_length=20, choices=AmendedField.choices)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField()
    amended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    amended_at = models.DateTimeField()

    class Meta:
        ordering = ["amended_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="consultation_amendment_has_a_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.consultation}: {self.get_field_display()} amended"
