"""Clients of the clinic and the contraindications recorded for them."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from daisy.lib.models import PublicModel


class ContactChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message (SMS)")
    BOTH = "both", _("Email and text message")


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
    # How a person is found again (issue 11: one person, one client record): the email wholly
    # lower-cased with its domain in IDNA form, and the phone in E.164, whatever way either was
    # typed. Written by clients.services with every change of `email` or `phone`.
    email_key = models.CharField(max_length=254, blank=True, db_index=True, editable=False)
    phone_key = models.CharField(max_length=20, blank=True, db_index=True, editable=False)
    date_of_birth = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    # How service messages (confirmations, reminders, aftercare, check-ins) reach the client.
    # "Both" was the behaviour before the choice existed: everything by email, reminders also
    # by SMS. Changed through clients.services.client_preferences_update (audited).
    contact_channel = models.CharField(
        max_length=5, choices=ContactChannel.choices, default=ContactChannel.BOTH
    )
    # Marketing is a separate, opt-in consent (UK GDPR/PECR): it never affects service messages.
    marketing_consent = models.BooleanField(default=False)
    marketing_consent_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # A duplicate merged into another record (daisy.booking.merge.client_merge) is kept, empty,
    # pointing at the record that now holds everything: old links and audit entries still lead
    # somewhere, and nothing finds or lists it as a client any more.
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_from"
    )
    merged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(contact_channel__in=["email", "sms", "both"]),
                name="client_contact_channel_known",
            ),
            models.CheckConstraint(
                condition=models.Q(merged_into__isnull=True, merged_at__isnull=True)
                | models.Q(merged_into__isnull=False, merged_at__isnull=False),
                name="client_merged_into_with_a_time",
            ),
            models.CheckConstraint(
                condition=~models.Q(merged_into=models.F("id")),
                name="client_not_merged_into_itself",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None


class Tier(models.TextChoices):
    # DOMAIN.md 2.1 rule tiers
    HARD_STOP = "hard_stop", _("Hard stop: do not treat")
    DEFER = "defer", _("Defer until a date")
    CLINICIAN_REVIEW = "clinician_review", _("Clinician review needed")
    CAUTION = "caution", _("Caution: modify treatment")
    ZONE_EXCLUDED = "zone_excluded", _("Zone excluded: do not treat over it")
    NO_NUMBING = "no_numbing", _("Treat without numbing")


BLOCKING_TIERS = frozenset({Tier.HARD_STOP, Tier.DEFER, Tier.CLINICIAN_REVIEW})


class Contraindication(models.Model):
    """A screening finding that stops or delays treatment (DOMAIN.md 2.2). While one is active,
    booking the client needs a clinician's recorded override."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contraindications")
    condition = models.CharField(max_length=200)
    tier = models.CharField(max_length=20, choices=Tier.choices)
    domain_row = models.CharField(
        max_length=20,
        blank=True,
        help_text=_("The screening rule it follows, e.g. its row in the contraindication table"),
    )
    until_on = models.DateField(
        null=True, blank=True, help_text=_("For deferrals: eligible again from this date.")
    )
    modification = models.CharField(
        max_length=300,
        blank=True,
        help_text=_("What changes at the session, e.g. a depth cap or no numbing cream."),
    )
    source = models.CharField(
        max_length=100,
        blank=True,
        help_text=_("Where it came from: a client's screening answers, or empty when typed in."),
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

    def blocks_on(self, day: date) -> bool:
        """Whether this finding stands in the way of a session on `day` (the local date):
        open, of a blocking tier, and for a deferral not yet over (DOMAIN.md 2.1)."""
        if self.resolved_at is not None or self.tier not in BLOCKING_TIERS:
            return False
        return not (self.tier == Tier.DEFER and self.until_on is not None and self.until_on <= day)


class ClinicalHold(models.Model):
    """While a hold is open, the client's next session cannot be booked or moved: a check-in
    reported a warning sign (DOMAIN.md 5.1) and a clinician must review the client first
    (DOMAIN.md 5.2 row "Each session"). Placed and cleared only through clients.services."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="clinical_holds")
    reason = models.CharField(max_length=300)
    source = models.CharField(
        max_length=100, help_text=_('What placed it, e.g. "alert:<id>"; cleared by it.')
    )
    placed_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    clear_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-placed_at"]
        constraints = [
            # One open hold per cause: raising the same alert twice cannot stack holds.
            models.UniqueConstraint(
                fields=["client", "source"],
                condition=models.Q(cleared_at__isnull=True),
                name="clinical_hold_open_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(cleared_at__isnull=True)
                | (models.Q(cleared_by__isnull=False) & ~models.Q(clear_reason="")),
                name="clinical_hold_cleared_by_someone_for_a_reason",
            ),
        ]

    def __str__(self) -> str:
        state = "cleared" if self.cleared_at else "open"
        return f"{self.client}: {self.reason} ({state})"

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None
