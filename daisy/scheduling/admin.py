"""Appointments in the admin are for looking only. Booking, moving and cancelling go through the
scheduling services, which lock the resources, re-check the slot, enqueue the messages and write
the audit entry (DESIGN.md 4); an admin form would do none of that."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.contrib import admin
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from daisy.clients.models import BLOCKING_TIERS, ClinicalHold, Contraindication
from daisy.scheduling.models import Allocation, Appointment
from daisy.scheduling.selectors import FLAG_CLINICAL_HOLD, FLAG_SCREENING, appointment_flags_of


def _utc(value: datetime | None) -> str:
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if value else "-"


class ReadOnlyAdminMixin:
    """View permission only: the change page renders every field read-only, and a POST to it
    is refused (403) before any form is built."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AllocationInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Allocation
    extra = 0
    can_delete = False
    ordering = ("starts_at", "resource__name")
    fields = ("resource", "role", "phases", "starts_at_utc", "ends_at_utc", "is_active")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Allocation]:
        return super().get_queryset(request).select_related("resource")

    @admin.display(description=_("starts"))
    def starts_at_utc(self, obj: Allocation) -> str:
        return _utc(obj.starts_at)

    @admin.display(description=_("ends"))
    def ends_at_utc(self, obj: Allocation) -> str:
        return _utc(obj.ends_at)


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "starts_at_utc",
        "starts_at_local",
        "location",
        "client",
        "treatment",
        "specialist",
        "status",
        "needs_review",
    )
    list_filter = ("status", "location", "specialist", "starts_at")
    search_fields = ("client__first_name", "client__last_name", "client__email")
    list_select_related = ("location", "client", "treatment", "specialist")
    ordering = ("-starts_at",)
    date_hierarchy = "starts_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Appointment]:
        # The clients' open holds and findings in two queries for the whole page, however many
        # rows it shows.
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch(
                    "client__clinical_holds",
                    queryset=ClinicalHold.objects.filter(cleared_at__isnull=True),
                    to_attr="open_holds",
                ),
                Prefetch(
                    "client__contraindications",
                    queryset=Contraindication.objects.filter(
                        resolved_at__isnull=True, tier__in=BLOCKING_TIERS
                    ),
                    to_attr="open_findings",
                ),
            )
        )

    @admin.display(description=_("Needs review"))
    def needs_review(self, obj: Appointment) -> str:
        client = obj.client
        flags = appointment_flags_of(
            obj,
            on_hold=bool(getattr(client, "open_holds", [])),
            findings=getattr(client, "open_findings", []),
        )
        words = {
            FLAG_CLINICAL_HOLD: _("On clinical hold"),
            FLAG_SCREENING: _("Screening finding"),
        }
        return ", ".join(str(words[f]) for f in flags) or "—"

    fieldsets = (
        (
            None,
            {
                "fields": (
                    "client",
                    "treatment",
                    "status",
                    ("starts_at_utc", "starts_at_local"),
                    "starts_at",
                    "ends_at",
                    "busy_until",
                    "location",
                    "specialist",
                    "room",
                    "device",
                    "price",
                    "notes",
                )
            },
        ),
        (
            _("Booking record"),
            {
                "fields": (
                    "booked_by",
                    "created_at",
                    "updated_at",
                    "idempotency_key",
                    "request_fingerprint",
                )
            },
        ),
        (
            _("Cancellation and overrides"),
            {
                "fields": (
                    "cancelled_at",
                    "cancel_reason",
                    "is_late_cancellation",
                    "override_by",
                    "override_reason",
                )
            },
        ),
    )
    inlines = (AllocationInline,)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Read-only even if someone grants change permission later.
        return [
            *(f.name for f in self.model._meta.concrete_fields),
            "starts_at_utc",
            "starts_at_local",
        ]

    @admin.display(description=_("starts (UTC)"), ordering="starts_at")
    def starts_at_utc(self, obj: Appointment) -> str:
        return _utc(obj.starts_at)

    @admin.display(description=_("starts (local)"))
    def starts_at_local(self, obj: Appointment) -> str:
        tz = obj.location.tz
        return f"{obj.starts_at.astimezone(tz):%Y-%m-%d %H:%M} {tz.key}"


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "resource",
        "starts_at_utc",
        "ends_at_utc",
        "role",
        "phases",
        "is_active",
        "appointment",
    )
    list_filter = ("is_active", "resource__kind", "role", "starts_at")
    search_fields = ("resource__name", "appointment__client__last_name")
    list_select_related = ("resource", "appointment__client", "appointment__treatment")
    ordering = ("-starts_at",)
    date_hierarchy = "starts_at"

    @admin.display(description=_("starts"), ordering="starts_at")
    def starts_at_utc(self, obj: Allocation) -> str:
        return _utc(obj.starts_at)

    @admin.display(description=_("ends"), ordering="ends_at")
    def ends_at_utc(self, obj: Allocation) -> str:
        return _utc(obj.ends_at)


# Closures, time off and opening hours list the bookings they would break before saving.
from daisy.scheduling import admin_affected  # noqa: E402, F401
