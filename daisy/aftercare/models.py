"""Pre-care and aftercare protocols as data (issue 6 item 1): one protocol per treatment, each
step an offset from the start of the session with what to do or avoid and the clinical source it
comes from (DOMAIN.md 4.1, 4.2). The clinic edits them in the admin; `daisy/core/aftercare.py`
turns them into a dated, local-time timeline for one session."""

from __future__ import annotations

from datetime import timedelta

from django.core.validators import validate_comma_separated_integer_list
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from daisy.treatments.models import Treatment


class StepKind(models.TextChoices):
    PRE = "pre", _("Pre-care")
    POST = "post", _("Aftercare")


class Protocol(models.Model):
    treatment = models.OneToOneField(
        Treatment, on_delete=models.CASCADE, related_name="aftercare_protocol"
    )
    recovery_hours = models.PositiveIntegerField(
        default=0,
        help_text=_(
            "How long after a session the skin is still recovering (no other treatment of the "
            "area), e.g. 72 for micro-needling (DOMAIN.md 4.2)."
        ),
    )
    checkin_hours = models.CharField(
        max_length=100,
        blank=True,
        validators=[validate_comma_separated_integer_list],
        help_text=_(
            "Hours after the session at which the client is asked how the skin is healing, "
            "comma-separated, e.g. 24,72,168 (DOMAIN.md 5.2). Empty: no check-ins."
        ),
    )
    general_advice = models.TextField(
        blank=True,
        help_text=_(
            "Shown to the client as general advice, not as a rule of the protocol "
            "(e.g. drinking water: DOMAIN.md section 0)."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["treatment__display_order", "treatment__name"]

    def __str__(self) -> str:
        return f"Pre-care and aftercare: {self.treatment.name}"

    @property
    def checkin_offsets(self) -> list[int]:
        return checkin_offsets(self.checkin_hours)


def checkin_offsets(raw: str) -> list[int]:
    """Check-in hours from their text form: "24,72,168" -> [24, 72, 168]."""
    return sorted({int(h) for h in raw.split(",") if h.strip()})


class ProtocolStep(models.Model):
    protocol = models.ForeignKey(Protocol, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=4, choices=StepKind.choices)
    offset_start_minutes = models.IntegerField(
        help_text=_(
            "From the start of the session, in minutes: -10080 is 7 days before, 1440 a day "
            "after. Whole days are counted on the local calendar at the same clock time."
        )
    )
    offset_end_minutes = models.IntegerField(
        null=True, blank=True, help_text=_("Empty: the step starts a lasting change.")
    )
    title = models.CharField(
        max_length=200,
        help_text=_(
            'Reads as the start of a sentence: "Makeup is fine again" becomes "Makeup is fine '
            'again from Thursday 10:30".'
        ),
    )
    detail = models.TextField(blank=True)
    is_restriction = models.BooleanField(
        default=False, help_text=_("Something to avoid while the step lasts.")
    )
    notify = models.BooleanField(
        default=False, help_text=_("Send the client a message when the step begins.")
    )
    source = models.CharField(
        max_length=300, help_text=_('The clinical source, e.g. "DOMAIN.md 4.2 row Day 1".')
    )

    class Meta:
        ordering = ["protocol", "offset_start_minutes", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(offset_end_minutes__isnull=True)
                | Q(offset_end_minutes__gt=F("offset_start_minutes")),
                name="aftercare_step_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["pre", "post"]), name="aftercare_step_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offset_label}: {self.title}"

    @property
    def offset_start(self) -> timedelta:
        return timedelta(minutes=self.offset_start_minutes)

    @property
    def offset_end(self) -> timedelta | None:
        if self.offset_end_minutes is None:
            return None
        return timedelta(minutes=self.offset_end_minutes)

    @property
    def offset_label(self) -> str:
        """'-7 d', '+24 h', '0 h -> +72 h': the offsets as a clinician writes them."""
        start = _offset_label(self.offset_start_minutes)
        if self.offset_end_minutes is None:
            return start
        return f"{start} → {_offset_label(self.offset_end_minutes)}"


def _offset_label(minutes: int) -> str:
    sign = "-" if minutes < 0 else ("+" if minutes > 0 else "")
    m = abs(minutes)
    if m % 1440 == 0 and m > 72 * 60:  # up to 72 h clinicians count hours (DOMAIN.md 4.2)
        return f"{sign}{m // 1440} d"
    if m % 60 == 0:
        return f"{sign}{m // 60} h"
    return f"{sign}{m} min"
