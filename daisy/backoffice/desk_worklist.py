"""The affected-bookings worklist (issue 13, item 5): bookings a closure, time off or shorter
hours broke, until each is moved (in the diary) or cancelled here with the client told."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from daisy.backoffice.access import staff_required
from daisy.booking.services import appointment_cancel
from daisy.lib.errors import DomainError
from daisy.scheduling.conflicts import appointments_affected


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason the client reads"),
        max_length=300,
        initial=gettext_lazy(
            "The clinic had to change its opening hours. Sorry: please book again."
        ),
        error_messages={"required": gettext_lazy("Give the client a reason.")},
    )


def _rows(now: Any) -> list[dict[str, Any]]:
    rows = []
    for affected in appointments_affected(now=now):
        appt = affected.appointment
        tz = appt.location.tz
        local = appt.starts_at.astimezone(tz)
        rows.append(
            {
                "appointment": appt,
                "when": local,
                "zone": appt.location.time_zone,
                "reasons": affected.reasons,
                "day": local.date(),
            }
        )
    return rows


@staff_required
def worklist(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "backoffice/worklist.html",
        {"rows": _rows(timezone.now()), "form": CancelForm(), "desk_section": "worklist"},
    )


@staff_required
@require_POST
def worklist_cancel(request: HttpRequest, appointment_id: Any) -> HttpResponse:
    now = timezone.now()
    found = appointments_affected(now=now, appointment_ids=[appointment_id], explain=False)
    if not found:
        messages.info(
            request, _("That booking is no longer on the list: it was moved or cancelled.")
        )
        return redirect("desk:worklist")
    appt = found[0].appointment
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            appointment_cancel(
                appointment=appt, by=request.user, now=now, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            form.add_error("reason", str(exc))
        else:
            messages.success(
                request,
                _("%(client)s's booking is cancelled and they have been told.")
                % {"client": appt.client.full_name},
            )
            return redirect("desk:worklist")
    return render(
        request,
        "backoffice/worklist.html",
        {"rows": _rows(now), "form": form, "failed": appt.pk, "desk_section": "worklist"},
        status=422,
    )
