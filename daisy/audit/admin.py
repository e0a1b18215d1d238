"""The audit trail is evidence: the admin may read it, never add, change or delete a row."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from daisy.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "action", "object_type", "object_id")
    list_filter = ("action", "object_type", "at")
    search_fields = ("object_id", "action", "actor__username", "actor__email")
    list_select_related = ("actor",)
    ordering = ("-at", "-id")
    date_hierarchy = "at"
    fields = ("at", "actor", "action", "object_type", "object_id", "data_pretty")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("data"))
    def data_pretty(self, obj: AuditEntry) -> str:
        return format_html(
            "<pre>{}</pre>", json.dumps(obj.data, indent=2, sort_keys=True, default=str)
        )
