"""The desk's part of the clinical record before a session (issue 14, items 3 and 4): the health
questions on the desk's tablet (the specialist hands it to the client at arrival), a clinician's
override of the start-of-needling gate, and findings recorded and resolved with a reason.

Views only translate: the rules are in daisy.records (gate, services) and daisy.clients."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from daisy.backoffice.access import clinician_required, staff_required
from daisy.booking.diary import diary_appointment
from daisy.clients.selectors import client_get, finding_tier_choices, findings_for_client
from daisy.clients.services import finding_add, finding_resolve
from daisy.lib.errors import DomainError, NotFound
from daisy.records.forms import RescreenForm
from daisy.records.selectors import rescreen_asked, rescreen_last_answers
from daisy.records.services import needling_override_record, rescreen_record


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": gettext_lazy("Say why: it goes into the client's record.")},
    )


class FindingForm(forms.Form):
    condition = forms.CharField(label=gettext_lazy("What you found"), max_length=200)
    tier = forms.ChoiceField(label=gettext_lazy("What it means"), choices=finding_tier_choices)
    until_on = forms.DateField(
        label=gettext_lazy("For a deferral: treatment waits until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reason = forms.CharField(
        label=gettext_lazy("Why you record it (what you saw or were told)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        error_messages={"required": gettext_lazy("Say why: it goes into the client's record.")},
    )


def _appointment(appointment_id: Any) -> Any:
    try:
        return diary_appointment(appointment_id)
    except (ObjectDoesNotExist, ValueError):
        raise Http404 from None


def _client(client_id: Any) -> Any:
    try:
        return client_get(client_id)
    except NotFound:
        raise Http404 from None


@staff_required
def appointment_rescreen(request: HttpRequest, appointment_id: Any) -> HttpResponse:
    """The health questions on the desk's tablet, for the client to answer themselves: the
    page shows no staff navigation, only the questions (pre-filled with the client's last
    answers, each still to confirm), and then "please hand the tablet back"."""
    view, appt = _appointment(appointment_id)
    now = timezone.now()
    tz = appt.location.tz
    context: dict[str, Any] = {
        "a": view,
        "client_mode": True,
        "first_name": appt.client.first_name,
        "treatment": appt.treatment.name,
    }
    asked = rescreen_asked(appt.treatment) if appt.treatment.requires_screening else None
    if asked is None:
        messages.info(request, _("%(treatment)s has no health questions to answer.") % context)
        return redirect("desk:appointment", appointment_id=appt.pk)
    form = RescreenForm(
        request.POST if request.method == "POST" else None,
        questions=asked.questions,
        today=now.astimezone(tz).date(),
        last=rescreen_last_answers(appt),
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                rescreen_record(
                    appointment=appt, answers=form.answers(), by=request.user, via="desk", now=now
                )
            except DomainError as exc:
                form.add_service_errors(exc.fields)
                context["service_error"] = exc.message
                status = exc.http_status
            else:
                return render(request, "backoffice/rescreen_done.html", context)
    context.update({"form": form, "action": request.path})
    return render(request, "backoffice/rescreen.html", context, status=status)


@clinician_required
def appointment_override(request: HttpRequest, appointment_id: Any) -> HttpResponse:
    """A clinician starts the session despite the gate, with a reason (audited)."""
    _view, appt = _appointment(appointment_id)
    if request.method != "POST":
        return redirect("desk:appointment", appointment_id=appt.pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            needling_override_record(
                appointment=appt,
                reason=form.cleaned_data["reason"],
                by=request.user,
                now=timezone.now(),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Your reason is recorded: the session can start."))
    else:
        messages.error(request, _("Say why the session can start: it goes into the record."))
    return redirect("desk:appointment", appointment_id=appt.pk)


@clinician_required
def finding_add_view(request: HttpRequest, client_id: Any) -> HttpResponse:
    client = _client(client_id)
    if request.method != "POST":
        return redirect("desk:client", client_id=client.pk)
    form = FindingForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        until: date | None = data.get("until_on")
        try:
            finding_add(
                client=client,
                condition=data["condition"],
                tier=data["tier"],
                until_on=until,
                reason=data["reason"],
                by=request.user,
                now=timezone.now(),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The finding is recorded."))
    else:
        messages.error(request, _("Give what you found, what it means, and why you record it."))
    return redirect("desk:client", client_id=client.pk)


@clinician_required
def finding_resolve_view(request: HttpRequest, client_id: Any, finding_id: int) -> HttpResponse:
    client = _client(client_id)
    if request.method != "POST":
        return redirect("desk:client", client_id=client.pk)
    finding = findings_for_client(client.pk).filter(pk=finding_id).first()
    if finding is None:
        raise Http404
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            finding_resolve(
                finding=finding,
                reason=form.cleaned_data["reason"],
                by=request.user,
                now=timezone.now(),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The finding is marked as resolved."))
    else:
        messages.error(request, _("Say why the finding has resolved: it goes into the record."))
    return redirect("desk:client", client_id=client.pk)
