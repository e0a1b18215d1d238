"""Consent (DOMAIN.md 6.4): the clinic's consent templates, each version of their text kept, and
every consent a client signed, bound to the exact text they read (its SHA-256 hash), the
template version and the plan it was given for.

A signed consent is never edited. Withdrawing it fills the withdrawal fields once (who, when,
why); a new consent is a new row. Photo consents are separate, each optional: one for the
clinical record and one for marketing (DOMAIN.md 6.4, 6.6)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from daisy.clients.models import Client
from daisy.courses.models import Plan
from daisy.lib.models import PublicModel
from daisy.scheduling.models import Appointment
from daisy.treatments.models import Treatment


class ConsentKind(models.TextChoices):
    # Values match daisy.core.consent.Kind.
    TREATMENT = "treatment", _("Treatment")
    PHOTOS_RECORD = "photos_record", _("Photos for the clinical record")
    PHOTOS_MARKETING = "photos_marketing", _("Photos for marketing and teaching")


class SignatureMethod(models.TextChoices):
    DRAWN = "drawn", _("Drawn signature")
    TYPED = "typed", _("Typed full name")


class SignedVia(models.TextChoices):
    DESK = "desk", _("On the clinic's tablet")
    PORTAL = "portal", _("In the client's account")


class ConsentTemplate(models.Model):
    """The current text of one consent. Changing the title or text in the admin makes a new
    version (ConsentTemplateVersion keeps each), so every signature says which one it was."""

    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    treatment = models.ForeignKey(
        Treatment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("For a treatment consent: the treatment. Empty for the photo consents."),
    )
    title = models.CharField(max_length=200)
    body = models.TextField(
        help_text=_(
            "What the client reads and signs. Blank lines separate paragraphs; a line that "
            "starts with '- ' is a list item."
        )
    )
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text=_("Goes up by one whenever the title or text change.")
    )
    is_active = models.BooleanField(
        default=True, help_text=_("Off: the clinic no longer asks for this consent.")
    )
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["kind", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "treatment"],
                condition=Q(treatment__isnull=False),
                name="consent_template_one_per_treatment",
            ),
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(treatment__isnull=True),
                name="consent_template_one_photo_kind",
            ),
            models.CheckConstraint(
                condition=(Q(kind="treatment") & Q(treatment__isnull=False))
                | (~Q(kind="treatment") & Q(treatment__isnull=True)),
                name="consent_template_treatment_only_for_treatment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} (version {self.version})"


class ConsentTemplateVersion(models.Model):
    """One version of a template's text, as it was: never changed afterwards."""

    template = models.ForeignKey(ConsentTemplate, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["template", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "version"], name="consent_template_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} (version {self.version})"


class Consent(PublicModel):
    """One consent a client signed."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="consents")
    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    template = models.ForeignKey(ConsentTemplate, on_delete=models.PROTECT, related_name="+")
    template_version = models.ForeignKey(
        ConsentTemplateVersion, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(help_text=_("The template's version when signed."))
    treatment = models.ForeignKey(
        Treatment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    course = models.ForeignKey(
        Plan, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What was signed, exactly, and its SHA-256 (daisy.core.consent.document_hash).
    title = models.CharField(max_length=200)
    text = models.TextField()
    text_sha256 = models.CharField(max_length=64)
    # The plan it was given for (daisy.core.consent.PlanFacts.as_dict) and its fingerprint.
    plan = models.JSONField(default=dict, blank=True)
    plan_fingerprint = models.CharField(max_length=64, blank=True)
    # The signature: a drawn one as a PNG, or the full name typed instead (the keyboard's way).
    method = models.CharField(max_length=10, choices=SignatureMethod.choices)
    signed_name = models.CharField(max_length=200, help_text=_("The full name the client gave."))
    signature_png = models.BinaryField(blank=True, default=b"", editable=False)
    signed_at = models.DateTimeField()
    via = models.CharField(max_length=10, choices=SignedVia.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    device = models.CharField(max_length=120, blank=True, help_text=_("e.g. 'Tablet, Chrome'."))
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The staff member who took the consent at the clinic."),
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawn_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-signed_at"]
        indexes = [
            models.Index(fields=["client", "kind", "-signed_at"], name="consent_client_kind")
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="treatment") & Q(treatment__isnull=False))
                | (~Q(kind="treatment") & Q(treatment__isnull=True)),
                name="consent_treatment_only_for_treatment",
            ),
            models.CheckConstraint(
                condition=Q(method__in=["drawn", "typed"]) & ~Q(signed_name=""),
                name="consent_signed_with_a_name",
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True) | ~Q(withdrawn_reason=""),
                name="consent_withdrawal_has_a_reason",
            ),
            models.CheckConstraint(
                condition=Q(via="portal") | Q(taken_by__isnull=False),
                name="consent_at_the_desk_names_the_taker",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} (version {self.version}), {self.client}"

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None
