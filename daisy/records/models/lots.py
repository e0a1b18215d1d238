"""Consumables and their lots (issue 14 item 6; DOMAIN.md 6.2): cartridges, numbing creams,
glide media and serums, post-procedure products. A lot is received into stock (the admin, or
at the chair when a chart names a lot the clinic has not entered yet) with its expiry date;
each use is a row of a chart (ChartProduct), so "which clients were treated with lot X?" is one
indexed query (daisy.records.recall)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from daisy.lib.models import PublicModel


class ProductKind(models.TextChoices):
    # DOMAIN.md 3.3 rows: cartridge, topical anaesthetic, glide medium / serum, post-procedure.
    CARTRIDGE = "cartridge", _("Needle cartridge")
    NUMBING = "numbing", _("Numbing cream")
    GLIDE = "glide", _("Glide or serum")
    POST_CARE = "post_care", _("Post-procedure product")


# DOMAIN.md 3.1: the sterile cartridge is "not to be resterilized or reused" (SkinPen).
SINGLE_USE_KINDS = frozenset({ProductKind.CARTRIDGE})


class Product(models.Model):
    kind = models.CharField(max_length=16, choices=ProductKind.choices)
    name = models.CharField(max_length=120, help_text=_('e.g. "SkinPen 14-pin cartridge"'))
    is_single_use = models.BooleanField(
        default=False,
        help_text=_(
            "Each lot number is one item used on one client only (a sealed cartridge). A lot "
            "already charted for one client is refused for another."
        ),
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(
                "kind", Lower("name"), name="records_product_unique_name_per_kind"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Lot(PublicModel):
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lots")
    number = models.CharField(_("lot number"), max_length=80)
    expires_on = models.DateField()
    received_on = models.DateField(null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    quantity = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("How many were received, if counted.")
    )
    received_at_chair = models.BooleanField(
        default=False,
        help_text=_("First entered on a chart rather than received into stock beforehand."),
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["product__name", "number"]
        constraints = [
            models.UniqueConstraint(fields=["product", "number"], name="records_lot_unique")
        ]
        # A recall names the lot number as printed: found whatever the product.
        indexes = [models.Index(fields=["number"], name="records_lot_number")]

    def __str__(self) -> str:
        return f"{self.product.name}, lot {self.number}"
