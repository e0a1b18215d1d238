"""Changes that break bookings are never silent (issue 13, item 5).

Saving (or deleting) a closure, time off or opening hours in the admin, on its own page or as a
row on a location's or resource's page, is tried first inside a transaction that is rolled
back: if bookings that fitted before no longer fit, the page lists them and asks for
confirmation before anything is saved. Once confirmed, they are on the desk's affected-bookings
worklist (daisy.scheduling.conflicts reads them live) until each is moved or cancelled."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from daisy.clinic import admin as clinic_admin
from daisy.clinic.models import (
    Closure,
    DateOverride,
    Device,
    Location,
    Room,
    Specialist,
    TimeOff,
    WeeklyHours,
)
from daisy.scheduling.conflicts import Affected, appointments_affected

CONFIRMED = "_affected_bookings_confirmed"


def worklist_url() -> str:
    try:
        return reverse("desk:worklist")
    except NoReverseMatch:  # the desk is not installed: the admin's appointment list instead
        return reverse("admin:scheduling_appointment_changelist")


def _local(affected: Affected) -> dict[str, Any]:
    appt = affected.appointment
    tz = appt.location.tz
    return {
        "when": appt.starts_at.astimezone(tz),
        "zone": appt.location.time_zone,
        "client": appt.client.full_name,
        "treatment": appt.treatment.name,
        "specialist": appt.specialist.name if appt.specialist_id else "",
        "location": appt.location.name,
        "reasons": affected.reasons,
    }


class AffectedBookingsConfirmMixin:
    """Wraps the admin's add, change and delete pages of anything that shapes open time."""

    def _guard(self, request: HttpRequest, save: Callable[[], HttpResponse]) -> HttpResponse:
        if request.method != "POST" or request.POST.get(CONFIRMED):
            response = save()
            if request.method == "POST" and response.status_code == 302:
                n = len(request.POST.getlist("_affected_ids"))
                if n:
                    messages.warning(
                        request,
                        ngettext(
                            "%(n)d booking no longer fits: it is on the desk's affected "
                            "bookings list (%(url)s) until it is moved or cancelled.",
                            "%(n)d bookings no longer fit: they are on the desk's affected "
                            "bookings list (%(url)s) until each is moved or cancelled.",
                            n,
                        )
                        % {"n": n, "url": worklist_url()},
                    )
            return response
        now = timezone.now()
        with transaction.atomic():
            before = {a.appointment.pk for a in appointments_affected(now=now, explain=False)}
            response = save()
            if response.status_code != 302:
                return response
            broken = [a for a in appointments_affected(now=now) if a.appointment.pk not in before]
            if not broken:
                return response
            transaction.set_rollback(True)
        # Nothing was saved: drop the admin's "saved successfully" note.
        for _message in messages.get_messages(request):
            pass
        opts = self.model._meta  # type: ignore[attr-defined]
        fields = [
            (name, value)
            for name, values in request.POST.lists()
            if name not in (CONFIRMED, "_affected_ids")
            for value in values
        ]
        context = {
            **admin.site.each_context(request),
            "opts": opts,
            "title": _("These bookings no longer fit"),
            "rows": [_local(a) for a in broken],
            "fields": fields,
            "affected_ids": [str(a.appointment.pk) for a in broken],
            "confirm_name": CONFIRMED,
            "worklist_url": worklist_url(),
            "back_url": request.get_full_path(),
        }
        response = TemplateResponse(request, "admin/scheduling/affected_confirm.html", context)
        return response.render()

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        parent = super().changeform_view  # type: ignore[misc]
        return self._guard(request, lambda: parent(request, object_id, form_url, extra_context))

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        parent = super().delete_view  # type: ignore[misc]
        return self._guard(request, lambda: parent(request, object_id, extra_context))


def _guarded(model: type, base: type) -> None:
    admin.site.unregister(model)
    admin.site.register(
        model, type(base.__name__, (AffectedBookingsConfirmMixin, base), {"__module__": __name__})
    )


for _model, _base in (
    (Closure, clinic_admin.ClosureAdmin),
    (TimeOff, clinic_admin.TimeOffAdmin),
    (WeeklyHours, clinic_admin.WeeklyHoursAdmin),
    (DateOverride, clinic_admin.DateOverrideAdmin),
    (Location, clinic_admin.LocationAdmin),
    (Specialist, clinic_admin.SpecialistAdmin),
    (Room, clinic_admin.RoomAdmin),
    (Device, clinic_admin.DeviceAdmin),
):
    _guarded(_model, _base)
