"""Treatment plans in the back-office (issue 5 item 6): staff create a plan for a client with
its areas, concerns and grades, adjust it and accept it. Every save goes through the course
services (recommendation, clinical approvals, audit); the sessions are booked through
`course_book` (the portal, the API) and shown here in the location's zone, read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from daisy.audit.adminlog import AuditedAdminMixin
from daisy.clients.admin import AuditedRecordAdmin
from daisy.courses.models import (
    CONCERN_SCALE,
    Concern,
    CourseDefault,
    ImportantDate,
    ImportantDateKind,
    Plan,
    PlanArea,
    PlanSession,
    PlanStatus,
    Scale,
)
from daisy.courses.selectors import effective_status
from daisy.courses.services import (
    AreaInput,
    important_date_create,
    important_date_delete,
    plan_accept,
    plan_area_add,
    plan_area_grade,
    plan_create,
    plan_stop,
    plan_update,
)
from daisy.lib.errors import DomainError

GRADES = [("", "-")] + [(str(g), str(g)) for g in range(1, 5)]


def _local(value: Any, tz: Any) -> str:
    local = value.astimezone(tz)
    return f"{local:%a %d %b %Y %H:%M} ({local.tzname()})"


class PlanAreaForm(forms.ModelForm):
    grade = forms.TypedChoiceField(
        label=_("grade"),
        choices=GRADES,
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_(
            "Acne scars: Goodman & Baron 1-4; sun damage, fine lines: Glogau I-IV as 1-4; "
            "others: 1 mild - 4 severe. On an existing area: a new grading."
        ),
    )

    class Meta:
        model = PlanArea
        fields = ("area", "concern")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.instance.pk is None and data.get("area") and data.get("grade") is None:
            self.add_error("grade", _("Grade the area."))
        return data


class PlanAreaInline(admin.TabularInline):
    model = PlanArea
    form = PlanAreaForm
    extra = 1
    can_delete = False
    fields = ("area", "concern", "scale_name", "history", "grade")
    readonly_fields = ("scale_name", "history")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Once recorded, an area's name and concern stay: regrade it, or add another area.
        return ("scale_name", "history")

    @admin.display(description=_("scale"))
    def scale_name(self, obj: PlanArea) -> str:
        if not obj.pk:
            return "-"
        return str(Scale(CONCERN_SCALE[Concern(obj.concern)]).label)

    @admin.display(description=_("grades so far"))
    def history(self, obj: PlanArea) -> str:
        if not obj.pk:
            return "-"
        return " → ".join(f"{g.grade} ({g.graded_at:%d %b %Y})" for g in obj.grades.all()) or "-"


class PlanSessionInline(admin.TabularInline):
    model = PlanSession
    extra = 0
    can_delete = False
    fields = ("when", "state", "specialist")
    readonly_fields = fields
    ordering = ("appointment__starts_at",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[PlanSession]:
        return (
            super()
            .get_queryset(request)
            .select_related("appointment__location", "appointment__specialist")
        )

    @admin.display(description=_("when (location's zone)"))
    def when(self, obj: PlanSession) -> str:
        return _local(obj.appointment.starts_at, obj.appointment.location.tz)

    @admin.display(description=_("status"))
    def state(self, obj: PlanSession) -> str:
        return str(obj.appointment.get_status_display())

    @admin.display(description=_("specialist"))
    def specialist(self, obj: PlanSession) -> str:
        return obj.appointment.specialist.name if obj.appointment.specialist else "-"


class PlanForm(forms.ModelForm):
    sessions = forms.IntegerField(
        label=_("sessions"),
        min_value=1,
        max_value=12,
        required=False,
        help_text=_("Empty: the recommendation for the areas' concerns and grades. Above 6 needs a "
                    "specialist's confirmation (extended / maintenance course)."),
    )  # fmt: skip
    interval_days = forms.IntegerField(
        label=_("interval (days)"),
        min_value=14,
        max_value=56,
        required=False,
        help_text=_("Default 28; below 28 needs a clinician's reason."),
    )

    class Meta:
        model = Plan
        fields = (
            "client",
            "treatment",
            "location",
            "specialist",
            "sessions",
            "interval_days",
            "min_interval_days",
            "max_interval_days",
            "interval_override_reason",
            "notes",
        )


@admin.register(Plan)
class PlanAdmin(AuditedRecordAdmin):
    form = PlanForm
    list_display = ("client", "treatment", "sessions", "status_now", "progress", "created_at")
    list_filter = ("status", "treatment")
    search_fields = ("client__first_name", "client__last_name", "client__email")
    list_select_related = ("client", "treatment")
    raw_id_fields = ("client",)
    inlines = (PlanAreaInline, PlanSessionInline)
    actions = ("accept_plans", "stop_plans")
    readonly_fields = (
        "status",
        "recommended_sessions",
        "recommended_interval_days",
        "extended_confirmed_by",
        "interval_override_by",
        "created_by",
        "created_at",
        "accepted_at",
        "stopped_at",
        "stop_reason",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fixed = ("client", "treatment") if obj is not None else ()
        return (*fixed, *self.readonly_fields)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Plan]:
        return super().get_queryset(request).prefetch_related("plan_sessions__appointment")

    def _done(self, obj: Plan) -> int:
        return sum(1 for s in obj.plan_sessions.all() if s.appointment.status == "completed")

    @admin.display(description=_("status"))
    def status_now(self, obj: Plan) -> str:
        return str(PlanStatus(effective_status(obj, self._done(obj))).label)

    @admin.display(description=_("done"))
    def progress(self, obj: Plan) -> str:
        return f"{self._done(obj)} / {obj.sessions}"

    # Saving goes through the services: the areas are needed to create the plan, so both are
    # handled in save_related, once the inline forms are valid.

    def save_model(self, request: HttpRequest, obj: Plan, form: Any, change: bool) -> None:
        return None

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        return None

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        now = timezone.now()
        data = form.cleaned_data
        for fs in formsets:
            # What the admin's change message reads; the services below did the writing.
            fs.new_objects, fs.changed_objects, fs.deleted_objects = [], [], []
        area_forms = [
            f
            for fs in formsets
            if fs.model is PlanArea
            for f in fs.forms
            if f.has_changed() and f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        try:
            if not change:
                plan = plan_create(
                    client=data["client"],
                    treatment=data["treatment"],
                    by=request.user,
                    now=now,
                    areas=[
                        AreaInput(
                            f.cleaned_data["area"],
                            f.cleaned_data["concern"],
                            f.cleaned_data["grade"],
                        )
                        for f in area_forms
                    ],  # fmt: skip
                    sessions=data.get("sessions"),
                    interval_days=data.get("interval_days"),
                    min_interval_days=data.get("min_interval_days"),
                    max_interval_days=data.get("max_interval_days"),
                    specialist=data.get("specialist"),
                    location=data.get("location"),
                    interval_override_reason=data.get("interval_override_reason") or "",
                    notes=data.get("notes") or "",
                )
                form.instance.__dict__.update(
                    {k: v for k, v in plan.__dict__.items() if not k.startswith("_")}
                )
                form.instance._state.adding = False
                return
            plan = form.instance
            plan_update(
                plan=plan,
                by=request.user,
                now=now,
                sessions=data.get("sessions"),
                interval_days=data.get("interval_days"),
                min_interval_days=data.get("min_interval_days"),
                max_interval_days=data.get("max_interval_days"),
                interval_override_reason=data.get("interval_override_reason") or "",
                notes=data.get("notes") or "",
            )
            for f in area_forms:
                grade = f.cleaned_data.get("grade")
                if f.instance.pk is None:
                    plan_area_add(
                        plan=plan,
                        area=AreaInput(f.cleaned_data["area"], f.cleaned_data["concern"], grade),
                        by=request.user,
                        now=now,
                    )
                elif grade is not None:
                    plan_area_grade(area=f.instance, grade=grade, by=request.user, now=now)
        except DomainError as exc:
            # The admin has already validated the forms; a refused clinical rule is shown as
            # an error and nothing is saved (each service call is its own transaction).
            messages.error(request, exc.message)
            raise _Refused(exc.message) from None

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().changeform_view(request, *args, **kwargs)
        except _Refused:
            return HttpResponseRedirect(request.get_full_path())

    @admin.action(description=_("Accept the selected plans (the client agreed)"))
    def accept_plans(self, request: HttpRequest, queryset: QuerySet[Plan]) -> None:
        self._each(request, queryset, lambda p: plan_accept(plan=p, by=request.user,
                                                            now=timezone.now()))  # fmt: skip

    @admin.action(description=_("Stop the selected courses (cancels their future sessions)"))
    def stop_plans(self, request: HttpRequest, queryset: QuerySet[Plan]) -> None:
        self._each(
            request,
            queryset,
            lambda p: plan_stop(
                plan=p, by=request.user, now=timezone.now(), reason=str(_("Stopped by the clinic"))
            ),
        )

    def _each(self, request: HttpRequest, queryset: QuerySet[Plan], act: Any) -> None:
        done = 0
        for plan in queryset:
            try:
                act(plan)
                done += 1
            except DomainError as exc:
                messages.error(request, f"{plan}: {exc.message}")
        if done:
            messages.success(request, _("%(n)s plan(s) updated.") % {"n": done})


class _Refused(Exception):
    """A service refused the save: show its message on the same page, change nothing."""


class ImportantDateForm(forms.ModelForm):
    class Meta:
        model = ImportantDate
        fields = ("client", "kind", "label", "start_on", "end_on")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start_on"), data.get("end_on")
        if start and end and end < start:
            self.add_error("end_on", _("The date ends before it starts."))
        elif start and end and (end - start).days > 366:
            self.add_error("end_on", _("An important date spans at most a year."))
        return data


@admin.register(ImportantDate)
class ImportantDateAdmin(AuditedRecordAdmin):
    form = ImportantDateForm
    list_display = ("client", "kind", "label", "start_on", "end_on")
    list_filter = ("kind",)
    search_fields = ("client__first_name", "client__last_name", "label")
    raw_id_fields = ("client",)
    date_hierarchy = "start_on"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Recorded or deleted, never edited: each is audited, and the dates matter clinically.
        return False

    def save_model(self, request: HttpRequest, obj: ImportantDate, form: Any, change: bool) -> None:
        data = form.cleaned_data
        made = important_date_create(
            client=data["client"],
            kind=data["kind"].slug,
            start_on=data["start_on"],
            end_on=data["end_on"],
            label=data.get("label") or "",
            by=request.user,
            now=timezone.now(),
        )
        obj.pk = made.pk
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: ImportantDate) -> None:
        important_date_delete(important_date=obj, by=request.user, now=timezone.now())

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ImportantDate]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(CourseDefault)
class CourseDefaultAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "concern",
        "sessions",
        "min_sessions",
        "max_sessions",
        "interval_days",
        "source",
    )


@admin.register(ImportantDateKind)
class ImportantDateKindAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "slug", "recovery_hours", "display_order")
    prepopulated_fields = {"slug": ("name",)}
