"""Appointments and the allocations of resource time they hold.

The allocation table is what "no double booking" is about: an active allocation of a resource
never overlaps another active allocation of the same resource. The booking service guarantees
it by locking and re-checking; the database guarantees it again (PostgreSQL exclusion
constraint, SQLite triggers; see migrations/0002) so admin saves, bulk_create and raw SQL
cannot break it either."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from daisy.clients.models import Client
from daisy.clinic.models import Device, Location, Resource, Room, Specialist
from daisy.lib.models import PublicModel
from daisy.treatments.models import Treatment


class Status(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CHECKED_IN = "checked_in", _("Checked in")
    # The client is with the specialist (the desk's "in treatment", issue 13).
    IN_TREATMENT = "in_treatment", _("In treatment")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("No-show")


# Statuses that hold resource time. A no-show still held the room, but once it is marked the
# time is in the past, so releasing it changes nothing bookable.
ACTIVE_STATUSES = frozenset(
    {Status.BOOKED, Status.CHECKED_IN, Status.IN_TREATMENT, Status.COMPLETED}
)


class Appointment(PublicModel):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="appointments")
    treatment = models.ForeignKey(Treatment, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="appointments")
    specialist = models.ForeignKey(
        Specialist, on_delete=models.PROTECT, null=True, blank=True, related_name="appointments"
    )
    room = models.ForeignKey(
        Room, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField(help_text=_("When the client leaves (clean-down excluded)."))
    busy_until = models.DateTimeField(help_text=_("When the resources are free again."))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.BOOKED)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    notes = models.TextField(blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)
    is_late_cancellation = models.BooleanField(default=False)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Clinician who overrode an active contraindication."),
    )
    override_reason = models.TextField(blank=True)
    # Scoped by the booker ("<user id>:<key>") so two integrations cannot collide.
    idempotency_key = models.CharField(max_length=300, null=True, blank=True, unique=True)
    request_fingerprint = models.CharField(max_length=64, blank=True)
    # Bumped on every move or cancellation: the version in the dedupe keys of the messages
    # scheduled for it, and the SEQUENCE of its calendar event (RFC 5545), so calendar apps
    # replace the event and old reminders can never be mistaken for the current ones.
    messages_version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")) & Q(busy_until__gte=F("ends_at")),
                name="appointment_times_ordered",
            )
        ]
        indexes = [models.Index(fields=["client", "starts_at"], name="appt_client_start")]

    def __str__(self) -> str:
        return f"{self.treatment} for {self.client} at {self.starts_at:%Y-%m-%d %H:%M} UTC"


class SlotHold(PublicModel):
    """A time held for a few minutes while someone fills in the booking form (issue 4).

    Not an Appointment: it has no client, price or messages, so no appointment list, report or
    message path can ever see one. Its resource time lives in the same Allocation table as
    bookings, so the database's no-overlap backstop covers holds too. An expired hold blocks
    nobody: reads ignore it (Allocation.hold_expires_at) and writes release it under their lock
    before inserting."""

    # An opaque key of whoever holds it (e.g. a hash of the session key): never personal data.
    held_by = models.CharField(max_length=128, unique=True)
    treatment = models.ForeignKey(Treatment, on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    specialist = models.ForeignKey(
        Specialist, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    # Held by a visitor who is not signed in (issue 11, item 6): short until they give their
    # details, counted against the day's share for such holds, and released when staff book
    # the time (DESIGN.md 4, "Holds are bounded").
    is_anonymous = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")), name="slot_hold_expires_after_made"
            )
        ]

    def __str__(self) -> str:
        return f"hold {self.starts_at:%Y-%m-%d %H:%M} UTC until {self.expires_at:%H:%M:%S}"

    def is_live(self, now: datetime) -> bool:
        return self.expires_at > now


class Allocation(models.Model):
    """One resource held for one contiguous stretch of an appointment's (or a hold's) phases."""

    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, null=True, blank=True, related_name="allocations"
    )
    hold = models.ForeignKey(
        SlotHold, on_delete=models.CASCADE, null=True, blank=True, related_name="allocations"
    )
    # The hold's expiry, copied onto its rows so the availability query can ignore expired
    # holds straight from its covering index (NULL for an appointment's rows).
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="allocations")
    role = models.CharField(max_length=16)
    phases = models.CharField(max_length=200, help_text=_("Phase names covered, in order."))
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="allocation_positive_length"
            ),
            # Each row belongs to exactly one appointment or one hold; a hold's rows carry its
            # expiry and a booking's never do.
            models.CheckConstraint(
                condition=(
                    Q(appointment__isnull=False, hold__isnull=True, hold_expires_at__isnull=True)
                    | Q(appointment__isnull=True, hold__isnull=False, hold_expires_at__isnull=False)
                ),
                name="allocation_one_owner",
            ),
        ]
        indexes = [
            # Covers the availability query and the no-overlap trigger: both ask for one
            # resource's active rows in a bounded starts_at range and read only these columns.
            models.Index(
                fields=["resource", "starts_at", "ends_at", "hold_expires_at"],
                condition=Q(is_active=True),
                name="alloc_resource_window_v2",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.resource} {self.starts_at:%Y-%m-%d %H:%M}-{self.ends_at:%H:%M} ({self.phases})"
        )


class DiaryVersion(models.Model):
    """One row (id 1) with the stamp that tells the cached set-up when it is stale.

    Database triggers bump it in the same transaction as the write (daisy/scheduling/
    versioning.py), whatever makes it: a service, the admin, bulk_create or raw SQL. `config`
    changes with the clinic's set-up (locations, resources, skills, hours, overrides, time off,
    closures, treatments and phases). Each change draws a new random stamp. Nothing in Python
    writes it."""

    id = models.PositiveSmallIntegerField(primary_key=True)
    config = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"config {self.config}"
