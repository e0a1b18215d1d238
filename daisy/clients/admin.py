from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from daisy.audit.adminlog import form_changes
from daisy.audit.selectors import finding_last_change
from daisy.clients.models import Client, ClinicalHold, Contraindication
from daisy.clients.selectors import client_possible_duplicates
from daisy.clients.services import (
    client_create,
    client_update,
    client_view_record,
    email_normalise,
    finding_deleted_record,
    finding_saved_record,
    phone_normalise,
)
from daisy.lib.errors import DomainError

# The details client_create and client_update validate, normalise and audit.
DETAILS = ("first_name", "last_name", "email", "phone", "date_of_birth")


class FindingForm(forms.ModelForm):
    """A finding recorded, changed or resolved needs the reason, which goes into the audit
    trail with who did what (the finding keeps who first recorded it). Issue 14, item 4."""

    change_reason = forms.CharField(
        label=_("Why (kept in the record)"),
        required=False,
        max_length=500,
        help_text=_(
            "Needed when you record a finding (what you saw or were told), and when you change "
            "or resolve one."
        ),
    )

    class Meta:
        model = Contraindication
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        edited = [name for name in self.changed_data if name != "change_reason"]
        if edited and not (data.get("change_reason") or "").strip():
            self.add_error(
                "change_reason",
                _("Say why you changed this finding: it goes into the record.")
                if self.instance.pk
                else _("Say why you record this finding: it goes into the record."),
            )
        return data


def _finding_saved(request: HttpRequest, form: Any, obj: Contraindication, created: bool) -> None:
    changes = {name: value for name, value in form_changes(form).items() if name != "change_reason"}
    if created or changes:
        finding_saved_record(
            finding=obj,
            by=request.user,
            now=timezone.now(),
            created=created,
            changes=changes,
            reason=form.cleaned_data.get("change_reason") or "",
        )


class ContraindicationInline(admin.TabularInline):
    model = Contraindication
    form = FindingForm
    extra = 0
    fields = (
        "condition",
        "tier",
        "domain_row",
        "until_on",
        "modification",
        "resolved_at",
        "origin",
        "recorded_by",
        "recorded_at",
        "change_reason",
    )
    readonly_fields = ("origin", "recorded_by", "recorded_at")
    ordering = ("-recorded_at",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Contraindication]:
        return super().get_queryset(request).select_related("recorded_by")

    @admin.display(description=_("From"))
    def origin(self, obj: Contraindication) -> str:
        if obj.source.startswith("screening:"):
            return str(_("The client's screening answers"))
        return str(_("Recorded by staff")) if obj.pk else ""


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


class ClientAdminForm(forms.ModelForm):
    """The client form of the back-office. A new client who may already have a record (same
    email or phone however typed, or same name and date of birth) is not saved until staff
    have seen the possible duplicates and ticked that this is someone else."""

    confirm_duplicate = forms.BooleanField(
        required=False,
        label=_("This is a different person"),
        help_text=_(
            "Tick only after checking the possible duplicates shown above: one person should "
            "have one record. If it is the same person, open their record instead."
        ),
    )

    class Meta:
        model = Client
        fields = "__all__"

    def clean_email(self) -> str:
        return self._normalised("email", email_normalise)

    def clean_phone(self) -> str:
        return self._normalised("phone", phone_normalise)

    def _normalised(self, name: str, normalise: Any) -> str:
        try:
            return str(normalise(self.cleaned_data.get(name) or ""))
        except DomainError as exc:
            raise forms.ValidationError(exc.fields.get(name, exc.message)) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.instance._state.adding and not self.errors:
            duplicates = client_possible_duplicates(
                email=data.get("email") or "",
                phone=data.get("phone") or "",
                first_name=data.get("first_name") or "",
                last_name=data.get("last_name") or "",
                date_of_birth=data.get("date_of_birth"),
            )
            self.possible_duplicates = duplicates
            if duplicates and not data.get("confirm_duplicate"):
                raise forms.ValidationError(duplicates_message(duplicates), code="duplicate")
        return data


def duplicates_message(duplicates: list[Client]) -> Any:
    rows = format_html_join(
        "",
        '<li><a href="{}">{}</a>: {}</li>',
        (
            (
                reverse("admin:clients_client_change", args=[c.pk]),
                c.full_name,
                ", ".join(
                    str(part)
                    for part in (
                        c.email,
                        c.phone,
                        f"{c.date_of_birth:%d %b %Y}" if c.date_of_birth else "",
                    )
                    if part
                ),
            )
            for c in duplicates
        ),
    )
    return format_html(
        "{} <ul>{}</ul> {}",
        _("This client may already have a record:"),
        rows,
        _(
            'If it is the same person, open their record instead. If not, tick "This is a '
            'different person" below and save again.'
        ),
    )


class StateFilter(admin.SimpleListFilter):
    """Records merged into another are left out of the list unless asked for."""

    title = _("record")
    parameter_name = "record"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("merged", _("Merged into another record"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "merged":
            return queryset.filter(merged_into__isnull=False)
        return queryset.filter(merged_into__isnull=True)


@admin.register(Client)
class ClientAdmin(AuditedRecordAdmin):
    form = ClientAdminForm
    list_filter = (StateFilter,)

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
        "merged_into",
        "merged_at",
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

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            # Adding: the possible duplicates are shown as the form's error, with this box.
            (name, options), *rest = self.fieldsets
            return ((name, {"fields": (*options["fields"], "confirm_duplicate")}), *rest)
        if obj.merged_into_id is not None:
            return (*self.fieldsets, (_("Merged"), {"fields": (("merged_into", "merged_at"),)}))
        return self.fieldsets

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Client], search_term: str
    ) -> tuple[QuerySet[Client], bool]:
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name == "autocomplete":
            # Choosing a client for a finding or a plan: never a record merged into another.
            found = found.filter(merged_into__isnull=True)
        return found, may_have_duplicates

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A retired record is kept for the trail; nothing is recorded on it any more.
        if obj is not None and obj.merged_into_id is not None:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Details go through the client services (validated, keyed for finding the person
        # again, audited); the rest of the form (notes, login) is saved as the admin does.
        now = timezone.now()
        details = {name: form.cleaned_data[name] for name in DETAILS if name in form.cleaned_data}
        if change:
            client_update(client=obj, by=request.user, now=now, **details)
        else:
            made = client_create(
                **details,
                by=request.user,
                now=now,
                confirm_duplicate=bool(form.cleaned_data.get("confirm_duplicate")),
            )
            obj.pk, obj._state.adding, obj._state.db = made.pk, False, made._state.db
        rest = [
            name for name in form.changed_data if name not in DETAILS and name in ("notes", "user")
        ]
        if rest:
            obj.save(update_fields=[*rest, "updated_at"])
        obj.refresh_from_db()

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
        saved = formset.save(commit=False)
        by_instance = {id(f.instance): f for f in formset.forms}
        for obj in saved:
            created = obj.pk is None or obj._state.adding
            _stamp_recorder(request, obj)
            obj.save()
            _finding_saved(request, by_instance[id(obj)], obj, created)
        now = timezone.now()
        for obj in formset.deleted_objects:
            pk = obj.pk
            obj.delete()
            obj.pk = pk
            finding_deleted_record(finding=obj, by=request.user, now=now)
        formset.save_m2m()


@admin.register(Contraindication)
class ContraindicationAdmin(AuditedRecordAdmin):
    form = FindingForm
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
    readonly_fields = ("recorded_by", "recorded_at", "last_changed")
    fields = (
        "client",
        "condition",
        "tier",
        "domain_row",
        "until_on",
        "resolved_at",
        "recorded_by",
        "recorded_at",
        "last_changed",
        "change_reason",
    )
    date_hierarchy = "recorded_at"

    @admin.display(description=_("last changed"))
    def last_changed(self, obj: Contraindication) -> str:
        return finding_last_change(obj) if obj.pk else "-"

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        _stamp_recorder(request, obj)
        super().save_model(request, obj, form, change)
        _finding_saved(request, form, obj, not change)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            pk = obj.pk
            super().delete_model(request, obj)
            obj.pk = pk
            finding_deleted_record(finding=obj, by=request.user, now=timezone.now())

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with transaction.atomic():
            for obj in list(queryset):
                self.delete_model(request, obj)
