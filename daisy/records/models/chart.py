"""The treatment chart (issue 14 item 5; DOMAIN.md 3.3): what was done at one session, zone by
zone, with the device, the lots and the products used.

A chart is a draft until it is signed. A signed chart is never overwritten: its rows refuse
changes through the model and, as a backstop, through database triggers (migration 0004), and
corrections are appended as amendments with who, when and why. Written only through
daisy.records.charting."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from daisy.clients.models import Client
from daisy.clinic.models import Device, Specialist
from daisy.lib.models import PublicModel
from daisy.records.models.lots import Lot
from daisy.scheduling.models import Appointment


class ChartLocked(Exception):
    """An attempt to change or delete a signed chart, its rows, or an amendment."""


class SignedRowsQuerySet(models.QuerySet[Any]):
    """Bulk deletes that would take rows of a signed chart with them are refused here (on
    PostgreSQL the database refuses them too; SQLite's test flush deletes row by row, so there
    the model and this queryset are the guard against deleting, and triggers against changing)."""

    signed_lookup = "chart__signed_at__isnull"

    def delete(self) -> Any:
        if self.filter(**{self.signed_lookup: False}).exists():
            raise ChartLocked("A signed chart's rows cannot be deleted; add an amendment.")
        return super().delete()


class ChartQuerySet(SignedRowsQuerySet):
    signed_lookup = "signed_at__isnull"


class AmendmentQuerySet(models.QuerySet[Any]):
    def delete(self) -> Any:
        raise ChartLocked("Amendments cannot be deleted.")

    def update(self, **kwargs: Any) -> int:
        raise ChartLocked("Amendments cannot be changed; add another.")


class Endpoint(models.TextChoices):
    # DOMAIN.md 3.3: the standard clinical endpoint reached.
    ERYTHEMA = "erythema", _("Even redness (erythema)")
    PINPOINT_BLEEDING = "pinpoint_bleeding", _("Pinpoint bleeding")


class Pattern(models.TextChoices):
    # DOMAIN.md 3.3: passes in several directions.
    CROSSHATCH = "crosshatch", _("Cross-hatch (horizontal, vertical, diagonal)")
    HORIZONTAL = "horizontal", _("Horizontal")
    VERTICAL = "vertical", _("Vertical")
    DIAGONAL = "diagonal", _("Diagonal")
    CIRCULAR = "circular", _("Small circles")


class SkinType(models.IntegerChoices):
    # Fitzpatrick phototype; DOMAIN.md 2.2 row 31 (IV-VI: caution, conservative depth).
    I = 1, _("I: always burns, never tans")  # noqa: E741
    II = 2, _("II: usually burns, tans minimally")
    III = 3, _("III: sometimes burns, tans evenly")
    IV = 4, _("IV: burns minimally, tans easily")
    V = 5, _("V: rarely burns, tans darkly")
    VI = 6, _("VI: never burns")


class ChartPolicy(models.Model):
    """The clinic's charting rules (one row, edited in the admin)."""

    cosign_required = models.BooleanField(
        _("a clinician co-signs every chart"),
        default=False,
        help_text=_(
            "A chart signed by its operator also needs a second clinician's signature (for a "
            "clinic whose rules ask for supervision)."
        ),
    )
    # DOMAIN.md 3.2: "apply a lower cap for FST IV-VI if the clinic configures one". The
    # shipped values are conservative practice defaults for the medical director to confirm.
    cap_type_iv_mm = models.DecimalField(
        _("deepest setting for skin type IV (mm)"),
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        default="1.50",
    )
    cap_type_v_mm = models.DecimalField(
        _("deepest setting for skin type V (mm)"),
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        default="1.00",
    )
    cap_type_vi_mm = models.DecimalField(
        _("deepest setting for skin type VI (mm)"),
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        default="1.00",
    )

    class Meta:
        verbose_name = _("charting rules")
        verbose_name_plural = _("charting rules")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="chart_policy_one_row")]

    def __str__(self) -> str:
        return str(_("Charting rules"))

    def caps(self) -> dict[int, Decimal | None]:
        """The depth cap per skin type. As numbers even for the unsaved row of shipped defaults
        (used when the clinic's row is missing), whose fields hold the defaults as written."""
        raw = {4: self.cap_type_iv_mm, 5: self.cap_type_v_mm, 6: self.cap_type_vi_mm}
        return {k: None if v in (None, "") else Decimal(str(v)) for k, v in raw.items()}


class Chart(PublicModel):
    appointment = models.OneToOneField(Appointment, on_delete=models.PROTECT, related_name="chart")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="charts")
    performed_on = models.DateField(help_text=_("The session's day, in the clinic's time zone."))
    operator = models.ForeignKey(
        Specialist, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The supervising clinician."),
    )
    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handpiece_serial = models.CharField(max_length=80, blank=True)
    needle_count = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    cartridge_opened_at_chair = models.BooleanField(
        default=False, help_text=_("The sealed single-use cartridge was opened at the chair.")
    )
    sheath_used = models.BooleanField(default=False)
    skin_type = models.PositiveSmallIntegerField(choices=SkinType.choices, null=True, blank=True)
    # DOMAIN.md 3.3 "topical anaesthetic" row (FDA advisory on large areas and long times).
    numbing_amount_g = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    numbing_area = models.CharField(max_length=200, blank=True)
    numbing_on_at = models.TimeField(null=True, blank=True)
    numbing_off_at = models.TimeField(null=True, blank=True)
    numbing_occluded = models.BooleanField(default=False)
    events = models.TextField(
        blank=True, help_text=_("During the procedure: bleeding, fainting, reactions...")
    )
    pain_score = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(10)]
    )
    aftercare_given = models.BooleanField(default=False)
    next_earliest_on = models.DateField(null=True, blank=True)
    # What the gate said before needling and the consent signed, as they were at signing.
    rescreen_summary = models.CharField(max_length=400, blank=True)
    consent_version = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    updated_at = models.DateTimeField()
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cosigned_at = models.DateTimeField(null=True, blank=True)
    cosigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = ChartQuerySet.as_manager()

    class Meta:
        ordering = ["-performed_on"]
        indexes = [models.Index(fields=["client", "-performed_on"], name="records_chart_client")]
        constraints = [
            models.CheckConstraint(
                condition=Q(signed_at__isnull=True) | Q(signed_by__isnull=False),
                name="chart_signed_by_someone",
            ),
            models.CheckConstraint(
                condition=Q(cosigned_at__isnull=True) | Q(signed_at__isnull=False),
                name="chart_cosigned_after_signing",
            ),
            models.CheckConstraint(
                condition=Q(skin_type__isnull=True) | Q(skin_type__gte=1, skin_type__lte=6),
                name="chart_skin_type_1_to_6",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} {self.performed_on}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding and _signed_in_db(Chart, self.pk):
            raise ChartLocked("A signed chart cannot be changed; add an amendment.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ChartLocked("Charts are never deleted.")


def _signed_in_db(model: Any, pk: Any) -> bool:
    return model.objects.filter(pk=pk, signed_at__isnull=False).exists()


class ChartArea(models.Model):
    chart = models.ForeignKey(Chart, on_delete=models.PROTECT, related_name="areas")
    zone = models.CharField(max_length=32)
    depth_mm = models.DecimalField(max_digits=3, decimal_places=2)
    passes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    pattern = models.CharField(max_length=16, choices=Pattern.choices, blank=True)
    endpoint = models.CharField(max_length=20, choices=Endpoint.choices)

    objects = SignedRowsQuerySet.as_manager()

    class Meta:
        ordering = ["chart", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["chart", "zone"], name="chart_area_zone_once")
        ]

    def __str__(self) -> str:
        return f"{self.zone} {self.depth_mm} mm"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if _signed_in_db(Chart, self.chart_id):
            raise ChartLocked("A signed chart's zones cannot be changed; add an amendment.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if _signed_in_db(Chart, self.chart_id):
            raise ChartLocked("A signed chart's zones cannot be changed; add an amendment.")
        return super().delete(*args, **kwargs)


class ChartAmendment(models.Model):
    """A correction or addition to a signed chart: who, when and why. Never changed."""

    chart = models.ForeignKey(Chart, on_delete=models.PROTECT, related_name="amendments")
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    text = models.TextField(help_text=_("What is corrected or added."))

    objects = AmendmentQuerySet.as_manager()

    class Meta:
        ordering = ["chart", "at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="chart_amendment_has_reason")
        ]

    def __str__(self) -> str:
        return f"{self.chart}: amendment {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ChartLocked("Amendments cannot be changed; add another.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ChartLocked("Amendments cannot be deleted.")


class ChartProduct(models.Model):
    """One lot used at one session. Added by the chart, or later by an amendment (a lot that
    was missed): a recall finds both."""

    chart = models.ForeignKey(Chart, on_delete=models.PROTECT, related_name="products")
    # Indexed by records_chartproduct_lot (lot, chart), which also serves the foreign key.
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="uses", db_index=False)
    amount = models.CharField(max_length=60, blank=True)
    amendment = models.ForeignKey(
        ChartAmendment, on_delete=models.PROTECT, null=True, blank=True, related_name="products"
    )

    objects = SignedRowsQuerySet.as_manager()

    class Meta:
        ordering = ["chart", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["chart", "lot"], name="chart_product_lot_once")
        ]
        # The recall: every use of a lot (lot first, so one index range answers it).
        indexes = [models.Index(fields=["lot", "chart"], name="records_chartproduct_lot")]

    def __str__(self) -> str:
        return f"{self.lot}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.amendment_id is None and _signed_in_db(Chart, self.chart_id):
            raise ChartLocked("A signed chart's products cannot be changed; add an amendment.")
        if not self._state.adding:
            raise ChartLocked("A product used is recorded once; remove it and add it again.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if _signed_in_db(Chart, self.chart_id):
            raise ChartLocked("A signed chart's products cannot be changed; add an amendment.")
        return super().delete(*args, **kwargs)
