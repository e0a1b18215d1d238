"""Consent templates are configuration: the manager edits their text here (specialists may
read them). Changing the title or text makes a new version, kept below the form; clients who
signed an older version are asked to sign again. Signed consents are read at the desk (where
each view is audited), not here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone

from daisy.records.consent_services import consent_template_save
from daisy.records.models import ConsentTemplate, ConsentTemplateVersion


class VersionInline(admin.TabularInline):
    model = ConsentTemplateVersion
    fields = ("version", "title", "created_at", "created_by")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-version",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ConsentTemplate)
class ConsentTemplateAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "treatment", "version", "is_active", "updated_at")
    list_filter = ("kind", "is_active")
    fields = ("kind", "treatment", "title", "body", "is_active", "version", "updated_at")
    readonly_fields = ("version", "updated_at")
    inlines = [VersionInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # What a template is for stays what it was: a signed consent points at it.
        if obj is not None:
            return ("kind", "treatment", "version", "updated_at")
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        consent_template_save(template=obj, by=request.user, now=timezone.now(), is_new=not change)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
