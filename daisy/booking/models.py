"""The waitlist (issue 13, item 3): clients waiting for a time that suits, and the offers made
to them when one frees up. Written only through daisy.booking.waitlist."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from daisy.lib.models import PublicModel


class EntryStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    BOOKED = "booked", _("Booked from the waitlist")
    WITHDRAWN = "withdrawn", _("Taken off the waitlist")


class WaitlistEntry(PublicModel):
    """A client waiting for a treatment, optionally with one specialist, at one location, or
    within a range of days (the location's local dates, both inclusive)."""

    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    treatment = models.ForeignKey(
        "treatments.Treatment", on_delete=models.PROTECT, related_name="+"
    )
    location = models.ForeignKey(
        "clinic.Location", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    specialist = models.ForeignKey(
        "clinic.Specialist", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_on = models.DateField(null=True, blank=True)
    until_on = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    status = models.CharField(
        max_length=10, choices=EntryStatus.choices, default=EntryStatus.WAITING
    )
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    appointment = models.ForeignKey(
        "scheduling.Appointment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "treatment", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(from_on__isnull=True)
                | Q(until_on__isnull=True)
                | Q(until_on__gte=models.F("from_on")),
                name="waitlist_range_ordered",
            ),
            # One open place per client and treatment: joining twice does not jump the queue.
            models.UniqueConstraint(
                fields=["client", "treatment"],
                condition=Q(status="waiting"),
                name="waitlist_one_waiting_per_treatment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} waiting for {self.treatment} ({self.get_status_display()})"


class OfferStatus(models.TextChoices):
    OPEN = "open", _("Offered")
    ACCEPTED = "accepted", _("Accepted")
    GONE = "gone", _("Taken by someone else")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")


class WaitlistOffer(PublicModel):
    """One freed time offered to one waiting client. The offers of one freed time share
    `slot_key`; the first accepted books it through the booking path, and the others are told
    it has gone."""

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    slot_key = models.CharField(max_length=200, db_index=True)
    location = models.ForeignKey("clinic.Location", on_delete=models.CASCADE, related_name="+")
    specialist = models.ForeignKey(
        "clinic.Specialist", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    starts_at = models.DateTimeField()
    # The offer's link carries a secret; only its SHA-256 is stored.
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=10, choices=OfferStatus.choices, default=OfferStatus.OPEN)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    appointment = models.ForeignKey(
        "scheduling.Appointment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "slot_key"], name="waitlist_offer_once_per_time"
            ),
            # Whatever races, one freed time is accepted once.
            models.UniqueConstraint(
                fields=["slot_key"],
                condition=Q(status="accepted"),
                name="waitlist_offer_accepted_once",
            ),
        ]

    def __str__(self) -> str:
        return f"offer of {self.starts_at:%Y-%m-%d %H:%M} UTC to {self.entry.client}"
