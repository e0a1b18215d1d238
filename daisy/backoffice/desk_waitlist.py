"""The desk's waitlist (issue 13, item 3): who is waiting for what, putting a client on it,
taking them off, and accepting an offered time for a client on the phone."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from daisy.backoffice.access import staff_required
from daisy.booking.waitlist import (
    waitlist_entry_get,
    waitlist_join,
    waitlist_leave,
    waitlist_offer_accept,
    waitlist_offer_by_id,
    waitlist_waiting,
)
from daisy.clients.selectors import client_get
from daisy.clinic.selectors import active_locations, active_specialists, clinic_zone
from daisy.lib.errors import DomainError, NotFound
from daisy.treatments.selectors import treatment_list_public


class JoinForm(forms.Form):
    client = forms.UUIDField(widget=forms.HiddenInput)
    treatment = forms.ChoiceField(label=gettext_lazy("Treatment"))
    specialist = forms.ChoiceField(label=gettext_lazy("Specialist"), required=False)
    location = forms.ChoiceField(label=gettext_lazy("Location"), required=False)
    from_on = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until_on = forms.DateField(
        label=gettext_lazy("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.treatments = {str(t.pk): t for t in treatment_list_public()}
        self.specialists = {str(s.pk): s for s in active_specialists()}
        self.locations = {str(loc.pk): loc for loc in active_locations()}
        self.fields["treatment"].choices = [(k, t.name) for k, t in self.treatments.items()]
        self.fields["specialist"].choices = [("", _("Anyone"))] + [
            (k, s.name) for k, s in self.specialists.items()
        ]
        self.fields["location"].choices = [("", _("Any location"))] + [
            (k, loc.name) for k, loc in self.locations.items()
        ]


def _entries_context(form: JoinForm | None, client: Any) -> dict[str, Any]:
    return {
        "entries": waitlist_waiting(),
        "form": form,
        "client": client,
        "zone": clinic_zone(),
        "desk_section": "waitlist",
    }


@staff_required
def waitlist(request: HttpRequest) -> HttpResponse:
    return render(request, "backoffice/waitlist.html", _entries_context(None, None))


@staff_required
def waitlist_add(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("client") or request.GET.get("client") or ""
    try:
        client = client_get(uuid.UUID(raw))
    except (NotFound, ValueError):
        messages.info(request, _("Find the client first, then choose “Put on the waitlist”."))
        return redirect("desk:clients")
    form = JoinForm(request.POST or None, initial={"client": client.pk})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            waitlist_join(
                client=client,
                treatment=form.treatments[data["treatment"]],
                by=request.user,
                now=timezone.now(),
                specialist=form.specialists.get(data["specialist"] or ""),
                location=form.locations.get(data["location"] or ""),
                from_on=data["from_on"],
                until_on=data["until_on"],
                note=data["note"],
            )
        except DomainError as exc:
            fields = getattr(exc, "fields", None) or {}
            target = next((f for f in fields if f in form.fields), None)
            form.add_error(target, str(exc))
        else:
            messages.success(
                request,
                _("%(client)s is on the waitlist. They will get a message when a time comes free.")
                % {"client": client.full_name},
            )
            return redirect("desk:waitlist")
    status = 422 if request.method == "POST" else 200
    return render(
        request, "backoffice/waitlist.html", _entries_context(form, client), status=status
    )


@staff_required
def waitlist_remove(request: HttpRequest, entry_id: Any) -> HttpResponse:
    if request.method != "POST":
        return redirect("desk:waitlist")
    try:
        entry = waitlist_entry_get(entry_id)
    except NotFound:
        raise Http404(_("That waitlist place does not exist.")) from None
    waitlist_leave(entry=entry, by=request.user, now=timezone.now())
    messages.success(
        request, _("%(client)s is off the waitlist.") % {"client": entry.client.full_name}
    )
    return redirect("desk:waitlist")


@staff_required
def offer_accept(request: HttpRequest, offer_id: Any) -> HttpResponse:
    """A waiting client rang to take the time they were offered."""
    if request.method != "POST":
        return redirect("desk:waitlist")
    try:
        offer = waitlist_offer_by_id(offer_id)
    except NotFound:
        raise Http404(_("That offer does not exist.")) from None
    try:
        appt = waitlist_offer_accept(offer=offer, by=request.user, now=timezone.now())
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Booked: %(client)s has the time they were offered.")
            % {"client": appt.client.full_name},
        )
    return redirect("desk:waitlist")
