"""Protocols are clinic-configurable defaults (DOMAIN.md): the medical director edits the steps
here. Changes apply to messages scheduled from then on; messages already scheduled keep the
wording they were made with."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from daisy.aftercare.models import Alert, CalendarFeed, CheckIn, Protocol, ProtocolStep
from daisy.aftercare.selectors import calendar_feed_url
from daisy.aftercare.services import alert_clear, calendar_feed_issue, calendar_feed_revoke
from daisy.audit.adminlog import AuditedAdminMixin
from daisy.clients.admin import AuditedRecordAdmin
from daisy.lib.errors import DomainError


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
class ProtocolAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("treatment", "step_count", "recovery_hours", "checkin_hours", "updated_at")
    search_fields = ("treatment__name",)
    fields = ("treatment", "recovery_hours", "checkin_hours", "review_days", "general_advice")
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


# --- red-flag alerts -----------------------------------------------------------------------------


class OpenFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("open", _("Open")), ("cleared", _("Cleared"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "open":
            return queryset.filter(cleared_at__isnull=True)
        if self.value() == "cleared":
            return queryset.filter(cleared_at__isnull=False)
        return queryset


class ClearAlertsForm(forms.Form):
    reason = forms.CharField(
        label=_("What you reviewed, and why the client can be treated again"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        max_length=2000,
    )


def _no_edits(admin_class: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    """Rows written by services only: staff look (and act through actions), never edit."""

    def has_add_permission(self: Any, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self: Any, request: HttpRequest, obj: Any = None) -> bool:
        return False

    admin_class.has_add_permission = has_add_permission  # type: ignore[method-assign,assignment]
    admin_class.has_delete_permission = has_delete_permission  # type: ignore[method-assign]
    return admin_class


@admin.register(Alert)
@_no_edits
class AlertAdmin(AuditedRecordAdmin):
    """The red-flag list (DOMAIN.md 5.1): open alerts first, most serious first. Clearing one is
    the clinician's record of their review; it lifts the hold on the client's next session."""

    list_display = (
        "raised_at",
        "severity_badge",
        "client",
        "summary",
        "treating_specialist",
        "is_open",
        "cleared_by",
    )
    list_filter = (OpenFilter, "severity", "raised_at")
    search_fields = ("client__first_name", "client__last_name", "client__email", "summary")
    list_select_related = ("client", "cleared_by", "appointment__specialist")
    ordering = ("cleared_at", "-raised_at")
    date_hierarchy = "raised_at"
    actions = ("clear_alerts",)
    fields = (
        "client",
        "appointment",
        "severity",
        "summary",
        "flags",
        "checkin_answers",
        "raised_at",
        "cleared_at",
        "cleared_by",
        "clear_reason",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Alert]:
        return super().get_queryset(request).select_related("checkin")

    @admin.display(description=_("severity"), ordering="severity")
    def severity_badge(self, obj: Alert) -> str:
        return str(obj.get_severity_display())

    @admin.display(description=_("open"), boolean=True, ordering="cleared_at")
    def is_open(self, obj: Alert) -> bool:
        return obj.cleared_at is None

    @admin.display(description=_("specialist"))
    def treating_specialist(self, obj: Alert) -> str:
        return str(obj.appointment.specialist or "-")

    @admin.display(description=_("answers"))
    def checkin_answers(self, obj: Alert) -> str:
        c = obj.checkin
        parts = [
            f"redness: {c.get_redness_display()}",
            f"swelling: {c.get_swelling_display()}",
            f"pain: {c.get_pain_display()}",
            f"hot or weeping: {'yes' if c.hot_or_weeping else 'no'}",
            f"spots: {'yes' if c.spots else 'no'}",
            f"blisters: {'yes' if c.blisters else 'no'}",
            f"dark patches: {'yes' if c.dark_patches else 'no'}",
            f"fever: {'yes' if c.fever else 'no'}",
            f"itchy rash or hives: {'yes' if c.rash else 'no'}",
            f"track marks: {'yes' if c.track_marks else 'no'}",
            f"breakouts: {'yes' if c.breakouts else 'no'}",
            f"other symptoms: {', '.join(c.toxicity) or 'none'}",
        ]
        if c.notes:
            parts.append(f"note: {c.notes}")
        return "; ".join(parts)

    @admin.action(description=_("Clear selected alerts (clinician review done)"))
    def clear_alerts(self, request: HttpRequest, queryset: QuerySet[Alert]) -> Any:
        if not self.has_change_permission(request):
            raise PermissionDenied
        alerts = list(queryset.filter(cleared_at__isnull=True).select_related("client"))
        if not alerts:
            self.message_user(request, _("Those alerts are already cleared."), messages.WARNING)
            return None
        form = ClearAlertsForm(request.POST if "confirm" in request.POST else None)
        if "confirm" in request.POST and form.is_valid():
            cleared = 0
            for alert in alerts:
                try:
                    alert_clear(
                        alert=alert,
                        by=request.user,
                        reason=form.cleaned_data["reason"],
                        now=timezone.now(),
                    )
                    cleared += 1
                except DomainError as exc:
                    self.message_user(request, f"{alert.client}: {exc.message}", messages.ERROR)
            if cleared:
                self.message_user(
                    request,
                    ngettext(
                        "%(n)d alert cleared; the client's next session is no longer held.",
                        "%(n)d alerts cleared; those clients' next sessions are no longer held.",
                        cleared,
                    )
                    % {"n": cleared},
                    messages.SUCCESS,
                )
            return None
        return TemplateResponse(
            request,
            "admin/aftercare/clear_alerts.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Clear alerts"),
                "alerts": alerts,
                "form": form,
                "opts": self.model._meta,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(CheckIn)
@_no_edits
class CheckInAdmin(AuditedRecordAdmin):
    def record_client(self, obj: Any) -> Any:
        return obj.appointment.client

    list_display = ("submitted_at", "appointment", "kind", "severity", "redness", "fever")
    list_filter = ("severity", "kind", "submitted_at")
    search_fields = ("appointment__client__last_name", "appointment__client__email")
    list_select_related = ("appointment__client", "appointment__treatment")
    ordering = ("-submitted_at",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- calendar feeds ------------------------------------------------------------------------------


class CalendarFeedForm(forms.ModelForm):
    class Meta:
        model = CalendarFeed
        fields = ("client", "specialist")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if bool(data.get("client")) == bool(data.get("specialist")):
            raise forms.ValidationError(_("Choose either a client or a specialist."))
        return data


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    """Issue a feed by adding one (a new secret token; the owner's previous feed is revoked);
    revoke or rotate with the actions. Feeds are never edited."""

    form = CalendarFeedForm
    list_display = ("owner", "created_at", "revoked_at", "is_live")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("client__last_name", "client__email", "specialist__name")
    list_select_related = ("client", "specialist")
    autocomplete_fields = ("client", "specialist")
    ordering = ("-created_at",)
    actions = ("revoke_feeds", "rotate_feeds")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("client", "specialist")
        return ("client", "specialist", "url", "created_at", "revoked_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else ("client", "specialist", "url", "created_at", "revoked_at")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("owner"))
    def owner(self, obj: CalendarFeed) -> str:
        return str(obj.client or obj.specialist)

    @admin.display(description=_("live"), boolean=True)
    def is_live(self, obj: CalendarFeed) -> bool:
        return obj.revoked_at is None

    @admin.display(description=_("feed URL (secret: share only with its owner)"))
    def url(self, obj: CalendarFeed) -> str:
        return calendar_feed_url(obj) if obj.revoked_at is None else "-"

    def save_model(self, request: HttpRequest, obj: CalendarFeed, form: Any, change: bool) -> None:
        if change:
            return
        issued = calendar_feed_issue(
            by=request.user,
            now=timezone.now(),
            client=form.cleaned_data.get("client"),
            specialist=form.cleaned_data.get("specialist"),
        )
        obj.pk, obj.token, obj.created_at = issued.pk, issued.token, issued.created_at

    @admin.action(description=_("Revoke selected feeds (their URLs stop working)"))
    def revoke_feeds(self, request: HttpRequest, queryset: QuerySet[CalendarFeed]) -> None:
        n = 0
        for feed in queryset.filter(revoked_at__isnull=True):
            calendar_feed_revoke(feed=feed, by=request.user, now=timezone.now())
            n += 1
        self.message_user(request, _("%(n)d feed(s) revoked.") % {"n": n}, messages.SUCCESS)

    @admin.action(description=_("Rotate selected feeds (new secret URL, old one stops working)"))
    def rotate_feeds(self, request: HttpRequest, queryset: QuerySet[CalendarFeed]) -> None:
        n = 0
        for feed in queryset.filter(revoked_at__isnull=True):
            calendar_feed_issue(
                by=request.user, now=timezone.now(), client=feed.client, specialist=feed.specialist
            )
            n += 1
        self.message_user(request, _("%(n)d feed(s) rotated.") % {"n": n}, messages.SUCCESS)
