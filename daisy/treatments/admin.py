from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Q, QuerySet, Sum
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from daisy.audit.adminlog import AuditedAdminMixin
from daisy.treatments.models import Phase, Treatment


class PhaseForm(forms.ModelForm):
    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # The same rule as the phase_uses_a_resource constraint, in words a manager reads.
        if not (data.get("needs_specialist") or data.get("room_kind") or data.get("device_kind")):
            raise forms.ValidationError(_("A phase needs a specialist, a room or a device."))
        if data.get("specialist_skill") and not data.get("needs_specialist"):
            self.add_error(
                "specialist_skill", _("Tick “needs specialist” or leave the skill empty.")
            )
        return data


class PhaseInline(admin.TabularInline):
    model = Phase
    form = PhaseForm
    extra = 0
    ordering = ("order",)
    autocomplete_fields = ("specialist_skill",)
    fields = (
        "order",
        "name",
        "duration_minutes",
        "needs_specialist",
        "specialist_skill",
        "room_kind",
        "device_kind",
        "is_buffer",
    )


@admin.register(Treatment)
class TreatmentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "slug",
        "price",
        "is_online_bookable",
        "is_active",
        "client_minutes",
        "total_minutes",
        "display_order",
    )
    list_filter = ("is_active", "is_online_bookable", "requires_screening")
    search_fields = ("name", "slug", "summary")
    ordering = ("display_order", "name")
    prepopulated_fields = {"slug": ("name",)}
    fieldsets = (
        (
            None,
            {"fields": ("name", "slug", "summary", "description", ("price", "currency"))},
        ),
        (
            _("Booking rules"),
            {
                "fields": (
                    ("is_active", "is_online_bookable", "requires_screening"),
                    "min_notice_minutes",
                    "max_advance_days",
                    "cancellation_window_hours",
                    "step_minutes",
                    "display_order",
                )
            },
        ),
    )
    inlines = (PhaseInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Treatment]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                _total_minutes=Sum("phases__duration_minutes"),
                _client_minutes=Sum("phases__duration_minutes", filter=Q(phases__is_buffer=False)),
            )
        )

    @admin.display(description=_("total min (with clean-down)"), ordering="_total_minutes")
    def total_minutes(self, obj: Treatment) -> int:
        return obj._total_minutes or 0  # type: ignore[attr-defined,no-any-return]

    @admin.display(description=_("client min"), ordering="_client_minutes")
    def client_minutes(self, obj: Treatment) -> int:
        return obj._client_minutes or 0  # type: ignore[attr-defined,no-any-return]
