"""The screening table is configuration: the manager edits questionnaires, questions and rules
here (specialists may read them). Any change makes the questionnaires that ask it a new
version. Stored answers are read-only, and each opening of one is audited."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from daisy.audit.adminlog import AuditedAdminMixin
from daisy.audit.services import audit_record
from daisy.core import screening as core
from daisy.records.models import (
    ChartPolicy,
    Lot,
    Product,
    Question,
    Questionnaire,
    Rule,
    ScreeningResponse,
)
from daisy.records.services import questionnaires_revise


@admin.register(Questionnaire)
class QuestionnaireAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "device_kind", "version", "updated_at")
    readonly_fields = ("version", "updated_at")
    filter_horizontal = ("questions",)
    fields = ("name", "slug", "device_kind", "questions", "version", "updated_at")

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        before = set(form.instance.questions.values_list("pk", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        after = set(form.instance.questions.values_list("pk", flat=True))
        if change and before != after:
            questionnaires_revise([form.instance.pk])


@admin.register(Question)
class QuestionAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "key",
        "text",
        "asks_when",
        "look_back_days",
        "is_online",
        "is_rescreen",
        "order",
    )
    list_filter = ("is_online", "is_rescreen", "asks_when", "questionnaires")
    search_fields = ("key", "text")

    def save_model(self, request: HttpRequest, obj: Question, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and form.changed_data:
            questionnaires_revise(obj.questionnaires.values_list("pk", flat=True))


class RuleForm(forms.ModelForm):
    class Meta:
        model = Rule
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        question = data.get("question")
        outcome = data.get("outcome")
        if question is None or not outcome:
            return data
        rule = core.Rule(
            key=data.get("key") or "",
            question=question.key,
            outcome=core.Outcome(outcome),
            wait_days=data.get("wait_days"),
        )
        ask = core.Question(question.key, asks_when=question.asks_when)
        problems = core.rule_problems(rule, {question.key: ask})
        messages = {
            "a rule must change something: clear is what no rule gives": _(
                "Choose what a yes changes: clear is what no rule gives."
            ),
            "a deferral needs a wait of at least one day": _(
                "A deferral needs the number of days to wait."
            ),
            "a deferral needs a question that asks when": _(
                "A deferral counts from a date: choose a question that asks when."
            ),
            "only a deferral has a wait": _("Only a deferral has days to wait: leave it empty."),
        }
        for problem in problems:
            raise forms.ValidationError(messages.get(problem, problem))
        return data


@admin.register(Rule)
class RuleAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = RuleForm
    list_display = ("condition", "row", "outcome", "wait_days", "question", "is_active")
    list_filter = ("outcome", "is_active", "questionnaires")
    search_fields = ("key", "condition", "row")
    filter_horizontal = ("questionnaires",)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        before = set(form.instance.questionnaires.values_list("pk", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        after = set(form.instance.questionnaires.values_list("pk", flat=True))
        if change and (form.changed_data or before != after):
            questionnaires_revise(before | after)
        elif not change:
            questionnaires_revise(after)


@admin.register(ScreeningResponse)
class ScreeningResponseAdmin(admin.ModelAdmin):
    list_display = ("client", "questionnaire", "questionnaire_version", "outcome", "answered_at")
    list_filter = ("outcome", "via", "questionnaire")
    search_fields = ("client__last_name", "client__first_name", "client__email")
    list_select_related = ("client", "questionnaire")
    readonly_fields = (
        "client",
        "appointment",
        "course",
        "questionnaire",
        "questionnaire_version",
        "questions",
        "answers",
        "outcome",
        "deferred_until",
        "answered_by",
        "via",
        "answered_at",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = self.get_object(request, object_id)
        if obj is not None and response.status_code == 200:
            audit_record(actor=request.user, action="screening.view", obj=obj, at=timezone.now())
        return response


# --- charting rules, products and lots (issue 14 item 6) -----------------------------------------


@admin.register(ChartPolicy)
class ChartPolicyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "__str__",
        "cosign_required",
        "cap_type_iv_mm",
        "cap_type_v_mm",
        "cap_type_vi_mm",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not ChartPolicy.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Product)
class ProductAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "kind", "is_single_use", "is_active")
    list_filter = ("kind", "is_single_use", "is_active")
    search_fields = ("name",)


@admin.register(Lot)
class LotAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Receiving stock: each lot with its expiry. A lot used on a chart cannot be deleted."""

    list_display = (
        "number",
        "product",
        "expires_on",
        "received_on",
        "quantity",
        "received_at_chair",
    )
    list_filter = ("product__kind", "received_at_chair")
    search_fields = ("number", "product__name")
    list_select_related = ("product",)
    readonly_fields = ("received_at_chair",)
    fields = (
        "product",
        "number",
        "expires_on",
        "received_on",
        "quantity",
        "note",
        "received_at_chair",
    )

    def save_model(self, request: HttpRequest, obj: Lot, form: Any, change: bool) -> None:
        if not change and obj.received_by_id is None:
            obj.received_by = request.user
        super().save_model(request, obj, form, change)


# Consent templates (DOMAIN.md 6.4) are registered from their own module.
from daisy.records import consent_admin as consent_admin  # noqa: E402
