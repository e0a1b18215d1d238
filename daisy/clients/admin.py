from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from daisy.clients.models import Client, ClinicalHold, Contraindication
from daisy.clients.services import client_view_record


class ContraindicationInline(admin.TabularInline):
    model = Contraindication
    extra = 0
    fields = (
        "condition",
        "tier",
        "domain_row",
        "until_on",
        "resolved_at",
        "recorded_by",
        "recorded_at",
    )
    readonly_fields = ("recorded_by", "recorded_at")
    ordering = ("-recorded_at",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Contraindication]:
        return super().get_queryset(request).select_related("recorded_by")


class ClinicalHoldInline(admin.TabularInline):
    """Holds are placed by red-flag alerts and cleared by clearing the alert (Aftercare, Alerts),
    which records who and why: here they are only shown."""

    model = ClinicalHold
    extra = 0
    can_delete = False
    fields = ("reason", "placed_at", "cleared_at", "cleared_by", "clear_reason")
    readonly_fields = fields
    ordering = ("-placed_at",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ResolvedFilter(admin.SimpleListFilter):
    title = _("resolved")
    parameter_name = "resolved"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("no", _("Open")), ("yes", _("Resolved"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


def _stamp_recorder(request: HttpRequest, obj: Contraindication) -> None:
    # Who recorded a finding is evidence; it is taken from the login, never typed.
    if obj.recorded_by_id is None:
        obj.recorded_by = request.user  # type: ignore[assignment]


class AuditedRecordAdmin(admin.ModelAdmin):
    """Opening a page of a client's health record (the client with their findings and holds, a
    finding, a course plan with its grades, a check-in...) writes `client.view` to the audit
    log, as the portal and the API do. `record_client(obj)` names the client."""

    def record_client(self, obj: Any) -> Client | None:
        return getattr(obj, "client", None)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            # The object the page showed, without reading it again.
            obj = (getattr(response, "context_data", None) or {}).get("original")
            client = self.record_client(obj) if obj is not None else None
            if client is not None:
                client_view_record(
                    client=client,
                    by=request.user,
                    now=timezone.now(),
                    via=f"admin:{self.opts.model_name}",
                )
        return response


@admin.register(Client)
class ClientAdmin(AuditedRecordAdmin):
    def record_client(self, obj: Any) -> Client | None:
        return obj  # type: ignore[no-any-return]

    list_display = (
        "last_name",
        "first_name",
        "email",
        "phone",
        "date_of_birth",
        "open_contraindications",
        "user",
    )
    search_fields = ("first_name", "last_name", "email", "phone")
    ordering = ("last_name", "first_name")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
    readonly_fields = (
        "created_at",
        "updated_at",
        # Changed by the client (portal) through client_preferences_update, which audits them.
        "contact_channel",
        "marketing_consent",
        "marketing_consent_changed_at",
    )
    fieldsets = (
        (None, {"fields": (("first_name", "last_name"), ("email", "phone"), "date_of_birth")}),
        (
            _("Messages"),
            {"fields": ("contact_channel", ("marketing_consent", "marketing_consent_changed_at"))},
        ),
        (_("Account and notes"), {"fields": ("user", "notes", ("created_at", "updated_at"))}),
    )
    inlines = (ContraindicationInline, ClinicalHoldInline)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Picking the login account searches users, which reception may not see.
        fields = tuple(super().get_readonly_fields(request, obj))
        return fields if request.user.has_perm("accounts.view_user") else (*fields, "user")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Client]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                _open=Count("contraindications", filter=Q(contraindications__resolved_at=None))
            )
        )

    @admin.display(description=_("open contraindications"), ordering="_open")
    def open_contraindications(self, obj: Client) -> int:
        return obj._open  # type: ignore[attr-defined,no-any-return]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Contraindication:
            return super().save_formset(request, form, formset, change)
        for obj in formset.save(commit=False):
            _stamp_recorder(request, obj)
            obj.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()


@admin.register(Contraindication)
class ContraindicationAdmin(AuditedRecordAdmin):
    list_display = (
        "client",
        "condition",
        "tier",
        "domain_row",
        "until_on",
        "resolved_at",
        "recorded_by",
        "recorded_at",
    )
    list_filter = ("tier", ResolvedFilter, "recorded_at")
    search_fields = ("client__first_name", "client__last_name", "client__email", "condition")
    ordering = ("-recorded_at",)
    list_select_related = ("client", "recorded_by")
    autocomplete_fields = ("client",)
    readonly_fields = ("recorded_by", "recorded_at")
    fields = (
        "client",
        "condition",
        "tier",
        "domain_row",
        "until_on",
        "resolved_at",
        "recorded_by",
        "recorded_at",
    )
    date_hierarchy = "recorded_at"

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        _stamp_recorder(request, obj)
        super().save_model(request, obj, form, change)
