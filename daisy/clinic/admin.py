"""The interim back-office for setting up the clinic: locations and their opening hours,
specialists, rooms and devices with their own hours, date overrides and time off.

Specialist, Room and Device are multi-table children of Resource, and hours/time off point at
Resource; Django accepts an inline whose foreign key targets a parent of the admin's model, so
each child admin carries its own hours inline (`fk_name="resource"`)."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db.models import Count, DateTimeField, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from daisy.accounts.models import Role, User
from daisy.audit.adminlog import AuditedAdminMixin
from daisy.clinic.models import (
    Closure,
    DateOverride,
    Device,
    Location,
    Resource,
    ResourceKind,
    Room,
    Skill,
    Specialist,
    TimeOff,
    WeeklyHours,
)
from daisy.lib.images import PhotoFilesAdminMixin

_CHILD_MODELS: dict[str, type[Resource]] = {
    ResourceKind.SPECIALIST: Specialist,
    ResourceKind.ROOM: Room,
    ResourceKind.DEVICE: Device,
}


def _resource_zone(resource: Resource | None) -> zoneinfo.ZoneInfo | None:
    """The zone a resource's times are entered in: its location's, or for a specialist the one
    zone all their locations share (None when there is no single answer)."""
    if resource is None:
        return None
    related = {
        ResourceKind.SPECIALIST: "specialists",
        ResourceKind.ROOM: "rooms",
        ResourceKind.DEVICE: "devices",
    }.get(resource.kind)
    if related is None:
        return None
    zones = set(
        Location.objects.filter(**{f"{related}__pk": resource.pk}).values_list(
            "time_zone", flat=True
        )
    )
    return zoneinfo.ZoneInfo(zones.pop()) if len(zones) == 1 else None


def _clinic_zone() -> zoneinfo.ZoneInfo | None:
    """The zone every location shares, if they share one (a new row before its place is known)."""
    zones = set(Location.objects.values_list("time_zone", flat=True).distinct()[:2])
    return zoneinfo.ZoneInfo(zones.pop()) if len(zones) == 1 else None


def _posted_resource(request: HttpRequest) -> Resource | None:
    raw = request.POST.get("resource") or request.GET.get("resource")
    if not raw:
        return None
    try:
        return Resource.objects.filter(pk=raw).first()
    except (ValueError, ValidationError):
        return None


class ZoneNamedFieldsMixin:
    """Every datetime input says which zone it is read in."""

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
        if isinstance(db_field, DateTimeField) and field is not None:
            field.help_text = _("Time zone: %(zone)s") % {
                "zone": timezone.get_current_timezone_name()
            }
        return field


class LocalTimeMixin(ZoneNamedFieldsMixin):
    """Show and read datetimes in the zone of the object being edited.

    The database holds UTC and settings.TIME_ZONE is UTC; without this a manager entering
    "09:00" of time off in London in summer would store 10:00 local (DESIGN.md 6)."""

    def zone_for(self, request: HttpRequest, obj: Any) -> zoneinfo.ZoneInfo | None:
        raise NotImplementedError

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id)) if object_id else None  # type: ignore[attr-defined]
        # A new row is read in the zone of the place it is for, never in UTC unless the
        # clinic's locations are in different zones and nothing says which one is meant.
        zone = self.zone_for(request, obj) or _clinic_zone() or zoneinfo.ZoneInfo("UTC")
        with timezone.override(zone):
            response = super().changeform_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
            # A TemplateResponse renders later, outside this block; render it in the zone.
            if hasattr(response, "render"):
                response.render()
        return response


class ResourceHoursAtLocationForm(forms.ModelForm):
    """Resource hours must be at a location where the resource works; the scheduler would
    otherwise never offer them, silently."""

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        resource, location = data.get("resource"), data.get("location")
        if resource is None or location is None:
            return data
        child = _CHILD_MODELS.get(resource.kind)
        if child is None:
            return data
        where = "locations" if child is Specialist else "location"
        ok = child.objects.filter(pk=resource.pk, **{where: location}).exists()
        if not ok:
            self.add_error(
                "location",
                _("%(resource)s does not work at %(location)s.")
                % {"resource": resource, "location": location},
            )
        return data


# --- inlines on Location: the location's own opening hours (no resource) ----------------------


class _LocationOwnRowsInline(admin.TabularInline):
    fk_name = "location"
    exclude = ("resource",)
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # Resource rows also point at the location; they are edited on the resource's page.
        return super().get_queryset(request).filter(resource__isnull=True)


class LocationWeeklyHoursInline(_LocationOwnRowsInline):
    model = WeeklyHours
    verbose_name = _("opening hours")
    verbose_name_plural = _("opening hours (weekly)")
    ordering = ("weekday", "opens_at")


class LocationDateOverrideInline(_LocationOwnRowsInline):
    model = DateOverride
    verbose_name = _("date override")
    verbose_name_plural = _("date overrides (whole location)")
    ordering = ("on", "opens_at")


class LocationClosureInline(admin.TabularInline):
    model = Closure
    extra = 0
    ordering = ("on",)


@admin.register(Location)
class LocationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "slug", "city", "postcode", "time_zone", "is_active")
    list_filter = ("is_active", "time_zone")
    search_fields = ("name", "slug", "city", "postcode")
    ordering = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    fieldsets = (
        (None, {"fields": ("name", "slug", "is_active", "time_zone")}),
        (
            _("Address and contact"),
            {
                "fields": (
                    "address_line1",
                    "address_line2",
                    ("city", "postcode", "country"),
                    ("phone", "email"),
                )
            },
        ),
        (
            _("Out of hours and emergencies"),
            {
                "fields": (("out_of_hours_name", "out_of_hours_phone"), "emergency_number"),
                "description": _(
                    "What a client who reports a warning sign after a session is told to call "
                    "while the clinic is closed, and the emergency number. Shown on the check-in "
                    "page and in messages, as links that dial."
                ),
            },
        ),
        (
            _("Quiet hours for text messages"),
            {
                "fields": (("quiet_hours_start", "quiet_hours_end"),),
                "description": _(
                    "Local time at this location. A text message to a client that falls due "
                    "between these times waits until they end; the same start and end time "
                    "means no quiet hours."
                ),
            },
        ),
        (_("Clinical photos"), {"fields": ("portal_shows_photos",)}),
    )
    inlines = (LocationWeeklyHoursInline, LocationDateOverrideInline, LocationClosureInline)


@admin.register(Skill)
class SkillAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "slug", "specialist_count")
    search_fields = ("name", "slug")
    ordering = ("name",)
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Skill]:
        return super().get_queryset(request).annotate(_specialists=Count("specialists"))

    @admin.display(description=_("specialists"), ordering="_specialists")
    def specialist_count(self, obj: Skill) -> int:
        return obj._specialists  # type: ignore[attr-defined,no-any-return]


# --- resources --------------------------------------------------------------------------------


class _LocationFromParentFormSet(BaseInlineFormSet):
    """Hours of a room or device are at the room's or device's location; no need to ask."""

    def save_new(self, form: forms.ModelForm, commit: bool = True) -> Any:
        form.instance.location = self.instance.location
        return super().save_new(form, commit=commit)

    def save_existing(self, form: forms.ModelForm, obj: Any, commit: bool = True) -> Any:
        obj.location = self.instance.location
        return super().save_existing(form, obj, commit=commit)


class _SpecialistLocationFormSet(BaseInlineFormSet):
    """A specialist's hours must be at one of their locations. The locations are posted with
    the same request (and saved before the inlines), so check against the posted ones."""

    def clean(self) -> None:
        super().clean()
        posted = {str(v) for v in self.data.getlist("locations")}
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form.cleaned_data.get("DELETE"):
                continue
            location = form.cleaned_data.get("location")
            if location is not None and str(location.pk) not in posted:
                form.add_error(
                    "location",
                    _("Add %(location)s to this specialist's locations first.")
                    % {"location": location},
                )


class _ResourceRowsInline(ZoneNamedFieldsMixin, admin.TabularInline):
    fk_name = "resource"
    extra = 0


class RoomDeviceWeeklyHoursInline(_ResourceRowsInline):
    model = WeeklyHours
    exclude = ("location",)
    formset = _LocationFromParentFormSet
    ordering = ("weekday", "opens_at")
    verbose_name_plural = _("working hours (leave empty to follow the location's hours)")


class RoomDeviceDateOverrideInline(_ResourceRowsInline):
    model = DateOverride
    exclude = ("location",)
    formset = _LocationFromParentFormSet
    ordering = ("on", "opens_at")


class SpecialistWeeklyHoursInline(_ResourceRowsInline):
    model = WeeklyHours
    formset = _SpecialistLocationFormSet
    ordering = ("weekday", "opens_at")
    verbose_name_plural = _("working hours (leave empty to follow the location's hours)")


class SpecialistDateOverrideInline(_ResourceRowsInline):
    model = DateOverride
    formset = _SpecialistLocationFormSet
    ordering = ("on", "opens_at")


class TimeOffInline(_ResourceRowsInline):
    model = TimeOff
    ordering = ("starts_at",)


class _ResourceChildAdmin(AuditedAdminMixin, LocalTimeMixin, admin.ModelAdmin):
    def zone_for(self, request: HttpRequest, obj: Any) -> zoneinfo.ZoneInfo | None:
        return _resource_zone(obj)


@admin.register(Specialist)
class SpecialistAdmin(PhotoFilesAdminMixin, _ResourceChildAdmin):
    photo_fields = ("photo",)
    list_display = ("name", "title", "user", "location_list", "skill_list", "is_active")
    list_filter = ("is_active", "locations", "skills")
    search_fields = ("name", "title", "user__username", "user__email")
    ordering = ("name",)
    list_select_related = ("user",)
    fieldsets = (
        (None, {"fields": ("name", "user", "skills", "locations", "is_active")}),
        (
            _("Public profile"),
            {
                "description": _(
                    "What clients read on the Specialists page and this person's own page."
                ),
                "fields": (
                    "slug",
                    "title",
                    "photo",
                    "photo_preview",
                    "bio",
                    "qualifications",
                    "registration_body",
                    "registration_number",
                    "register_url",
                    "specialities",
                    "languages",
                ),
            },
        ),
    )
    readonly_fields = ("photo_preview",)
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("skills", "locations")
    inlines = (SpecialistWeeklyHoursInline, SpecialistDateOverrideInline, TimeOffInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Specialist]:
        return super().get_queryset(request).prefetch_related("locations", "skills")

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "register_url":
            kwargs["assume_scheme"] = "https"  # registers are on https; Django 6's default
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "user":
            kwargs["queryset"] = User.objects.filter(
                role__in=[Role.SPECIALIST, Role.MANAGER]
            ).order_by("last_name", "first_name", "username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("photo as clients see it"))
    def photo_preview(self, obj: Specialist) -> str:
        if not obj.photo:
            return _("No photo yet: the site shows an illustration instead.")
        return format_html('<img src="{}" alt="" width="160">', obj.photo.url)

    @admin.display(description=_("locations"))
    def location_list(self, obj: Specialist) -> str:
        return ", ".join(loc.name for loc in obj.locations.all())

    @admin.display(description=_("skills"))
    def skill_list(self, obj: Specialist) -> str:
        return ", ".join(skill.name for skill in obj.skills.all())


class _LocatedResourceAdmin(_ResourceChildAdmin):
    inlines = (RoomDeviceWeeklyHoursInline, RoomDeviceDateOverrideInline, TimeOffInline)
    list_select_related = ("location",)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # A moved room or device takes its own hours along.
        obj = form.instance
        for model in (WeeklyHours, DateOverride):
            model.objects.filter(resource=obj).exclude(location=obj.location).update(
                location=obj.location
            )


@admin.register(Room)
class RoomAdmin(_LocatedResourceAdmin):
    list_display = ("name", "location", "room_kind", "is_active")
    list_filter = ("is_active", "location", "room_kind")
    search_fields = ("name",)
    ordering = ("location__name", "name")
    fields = ("name", "location", "room_kind", "is_active")


@admin.register(Device)
class DeviceAdmin(_LocatedResourceAdmin):
    list_display = (
        "name",
        "location",
        "device_kind",
        "model_name",
        "serial",
        "status",
        "is_active",
    )
    list_filter = ("status", "is_active", "location", "device_kind")
    search_fields = ("name", "serial", "model_name")
    ordering = ("location__name", "name")
    fields = (
        "name",
        "location",
        ("device_kind", "model_name"),
        ("serial", "status"),
        "is_active",
    )


@admin.register(Resource)
class ResourceAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Every resource in one list (and the search behind resource pickers). Resources are
    created and edited as a specialist, room or device, never as a bare resource."""

    list_display = ("name", "kind", "is_active", "edit_link")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)
    ordering = ("name",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("edit"))
    def edit_link(self, obj: Resource) -> str:
        child = _CHILD_MODELS.get(obj.kind)
        if child is None:
            return "-"
        url = reverse(f"admin:clinic_{child._meta.model_name}_change", args=[obj.pk])
        return format_html(
            '<a href="{}">{}</a>',
            url,
            _("Edit %(kind)s") % {"kind": obj.get_kind_display().lower()},
        )


# --- hours, overrides, time off, closures on their own ----------------------------------------


class AppliesToFilter(admin.SimpleListFilter):
    title = _("applies to")
    parameter_name = "applies_to"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("location", _("Whole location")), ("resource", _("One resource"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "location":
            return queryset.filter(resource__isnull=True)
        if self.value() == "resource":
            return queryset.filter(resource__isnull=False)
        return queryset


class ResourceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Resource) -> str:
        return f"{obj.get_kind_display()}: {obj.name}"


class ResourcePickerMixin:
    """A plain select of resources labelled with their kind. Not an autocomplete: that would
    need view permission on Resource, which reception (who enters time off) does not have."""

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "resource":
            kwargs.setdefault("queryset", Resource.objects.order_by("kind", "name"))
            kwargs.setdefault("form_class", ResourceChoiceField)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


class _HoursAdmin(AuditedAdminMixin, ResourcePickerMixin, admin.ModelAdmin):
    form = ResourceHoursAtLocationForm
    list_filter = (AppliesToFilter, "location", "resource__kind")
    list_select_related = ("location", "resource")
    search_fields = ("location__name", "resource__name")

    @admin.display(description=_("resource"), ordering="resource__name")
    def resource_or_location(self, obj: Any) -> str:
        return obj.resource.name if obj.resource_id else _("(whole location)")


@admin.register(WeeklyHours)
class WeeklyHoursAdmin(_HoursAdmin):
    list_display = ("location", "resource_or_location", "weekday", "opens_at", "closes_at")
    list_filter = (*_HoursAdmin.list_filter, "weekday")
    ordering = ("location__name", "resource__name", "weekday", "opens_at")


@admin.register(DateOverride)
class DateOverrideAdmin(_HoursAdmin):
    list_display = (
        "on",
        "location",
        "resource_or_location",
        "is_closed",
        "opens_at",
        "closes_at",
        "note",
    )
    list_filter = (*_HoursAdmin.list_filter, "is_closed", "on")
    ordering = ("-on", "location__name", "opens_at")
    date_hierarchy = "on"


@admin.register(TimeOff)
class TimeOffAdmin(AuditedAdminMixin, LocalTimeMixin, ResourcePickerMixin, admin.ModelAdmin):
    list_display = ("resource", "starts_at_local", "ends_at_local", "reason")
    list_filter = ("resource__kind", "starts_at")
    list_select_related = ("resource",)
    search_fields = ("resource__name", "reason")
    ordering = ("-starts_at",)
    date_hierarchy = "starts_at"

    def zone_for(self, request: HttpRequest, obj: Any) -> zoneinfo.ZoneInfo | None:
        # A new entry is read in the zone of the person or room it is for (the one posted).
        return _resource_zone(obj.resource if obj is not None else _posted_resource(request))

    _zones: dict[Any, zoneinfo.ZoneInfo] = {}  # noqa: RUF012 - replaced whole per list page

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Three queries for every row's zone, however long the list.
        found: dict[Any, set[str]] = {}
        for model, path in ((Specialist, "locations"), (Room, "location"), (Device, "location")):
            for pk, zone in model.objects.values_list("pk", f"{path}__time_zone"):
                if zone:
                    found.setdefault(pk, set()).add(zone)
        self._zones = {
            pk: zoneinfo.ZoneInfo(next(iter(z))) for pk, z in found.items() if len(z) == 1
        }
        return super().changelist_view(request, extra_context)

    def _local(self, obj: TimeOff, value: Any) -> str:
        zone = self._zones.get(obj.resource_id) or zoneinfo.ZoneInfo("UTC")
        return f"{value.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"

    @admin.display(description=_("starts"), ordering="starts_at")
    def starts_at_local(self, obj: TimeOff) -> str:
        return self._local(obj, obj.starts_at)

    @admin.display(description=_("ends"), ordering="ends_at")
    def ends_at_local(self, obj: TimeOff) -> str:
        return self._local(obj, obj.ends_at)


@admin.register(Closure)
class ClosureAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("on", "name", "location_or_all")
    list_filter = ("location", "on")
    list_select_related = ("location",)
    search_fields = ("name",)
    ordering = ("-on",)
    date_hierarchy = "on"

    @admin.display(description=_("location"), ordering="location__name")
    def location_or_all(self, obj: Closure) -> str:
        return obj.location.name if obj.location_id else _("All locations")
