"""Protocols are clinic-configurable defaults (DOMAIN.md): the medical director edits the steps
here. Changes apply to messages scheduled from then on; messages already scheduled keep the
wording they were made with."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from daisy.aftercare.models import Protocol, ProtocolStep


class ProtocolStepForm(forms.ModelForm):
    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("offset_start_minutes"), data.get("offset_end_minutes")
        # The same rule as the aftercare_step_ends_after_start constraint, in words.
        if start is not None and end is not None and end <= start:
            self.add_error("offset_end_minutes", _("A step must end after it starts."))
        return data


class ProtocolStepInline(admin.TabularInline):
    model = ProtocolStep
    form = ProtocolStepForm
    extra = 0
    ordering = ("offset_start_minutes", "pk")
    fields = (
        "kind",
        "offset_start_minutes",
        "offset_end_minutes",
        "readable_offsets",
        "title",
        "detail",
        "is_restriction",
        "notify",
        "source",
    )
    readonly_fields = ("readable_offsets",)

    @admin.display(description=_("When"))
    def readable_offsets(self, obj: ProtocolStep) -> str:
        return obj.offset_label if obj.pk else "-"


@admin.register(Protocol)
class ProtocolAdmin(admin.ModelAdmin):
    list_display = ("treatment", "step_count", "recovery_hours", "checkin_hours", "updated_at")
    search_fields = ("treatment__name",)
    fields = ("treatment", "recovery_hours", "checkin_hours", "general_advice")
    inlines = (ProtocolStepInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Protocol]:
        return (
            super()
            .get_queryset(request)
            .select_related("treatment")
            .annotate(n_steps=Count("steps"))
        )

    @admin.display(description=_("Steps"), ordering="n_steps")
    def step_count(self, obj: Protocol) -> int:
        return int(getattr(obj, "n_steps", 0))
