"""Treatments as templates of phases (DESIGN.md 4): each phase has a duration and the resources
it occupies; buffers (clean-down) come last and occupy resources but not the client."""

from __future__ import annotations

from datetime import timedelta

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from daisy.clinic.models import DeviceKind, RoomKind, Skill
from daisy.lib.models import PublicModel


class Treatment(PublicModel):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120)
    summary = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="GBP")
    is_online_bookable = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)
    min_notice_minutes = models.PositiveIntegerField(
        default=120, help_text=_("Earliest a client may book, counted from now.")
    )
    max_advance_days = models.PositiveIntegerField(
        default=180,
        validators=[MinValueValidator(1)],
        help_text=_("Latest a client may book ahead."),
    )
    cancellation_window_hours = models.PositiveIntegerField(
        default=48, help_text=_("Cancelling or moving later than this before the start is late.")
    )
    step_minutes = models.PositiveIntegerField(
        default=15,
        validators=[MinValueValidator(5)],
        help_text=_("Start times offered every N minutes."),
    )
    requires_screening = models.BooleanField(
        default=True,
        help_text=_(
            "Blocked by active contraindications unless a clinician overrides. "
            "Off for consultations, which is where screening happens."
        ),
    )
    min_age = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_(
            "Youngest age, in years on the day of the session, at which a client may have this "
            "treatment. Empty for no limit."
        ),
    )
    display_order = models.PositiveIntegerField(default=100)

    class Meta:
        ordering = ["display_order", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def min_notice(self) -> timedelta:
        return timedelta(minutes=self.min_notice_minutes)

    @property
    def max_advance(self) -> timedelta:
        return timedelta(days=self.max_advance_days)

    @property
    def cancellation_window(self) -> timedelta:
        return timedelta(hours=self.cancellation_window_hours)


class Phase(models.Model):
    treatment = models.ForeignKey(Treatment, on_delete=models.CASCADE, related_name="phases")
    order = models.PositiveIntegerField()
    name = models.CharField(max_length=80)
    duration_minutes = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    needs_specialist = models.BooleanField(default=False)
    specialist_skill = models.ForeignKey(
        Skill,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("Skill the specialist needs for this phase."),
    )
    room_kind = models.CharField(max_length=32, choices=RoomKind.choices, blank=True)
    device_kind = models.CharField(max_length=32, choices=DeviceKind.choices, blank=True)
    is_buffer = models.BooleanField(
        default=False, help_text=_("Clean-down time after the client leaves.")
    )

    class Meta:
        ordering = ["treatment", "order"]
        constraints = [
            models.UniqueConstraint(fields=["treatment", "order"], name="phase_unique_order"),
            models.CheckConstraint(
                condition=models.Q(needs_specialist=True)
                | ~models.Q(room_kind="")
                | ~models.Q(device_kind=""),
                name="phase_uses_a_resource",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.treatment.name}: {self.name} ({self.duration_minutes} min)"

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)
