"""The client's own waitlist (issue 13, item 3): when no time suits, a signed-in client asks to
be told when one comes free, for a treatment and, if they like, a range of days; they see
their places and any times offered, and can leave."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from daisy.booking.waitlist import (
    waitlist_entry_get,
    waitlist_for_client,
    waitlist_join,
    waitlist_leave,
)
from daisy.lib.errors import DomainError, NotFound
from daisy.lib.forms import form_add_domain_error
from daisy.portal.views import client_required
from daisy.treatments.selectors import treatment_list_public


class JoinForm(forms.Form):
    treatment = forms.ChoiceField(label=gettext_lazy("Treatment"))
    from_on = forms.DateField(
        label=gettext_lazy("From (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until_on = forms.DateField(
        label=gettext_lazy("Until (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.treatments = {t.slug: t for t in treatment_list_public() if t.is_online_bookable}
        self.fields["treatment"].choices = [(k, t.name) for k, t in self.treatments.items()]


@client_required
@require_http_methods(["GET", "POST"])
def waitlist(request: HttpRequest) -> HttpResponse:
    client = request.client  # type: ignore[attr-defined]
    initial = {"treatment": request.GET.get("treatment", "")}
    form = JoinForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            waitlist_join(
                client=client,
                treatment=form.treatments[data["treatment"]],
                by=request.user,
                now=timezone.now(),
                from_on=data["from_on"],
                until_on=data["until_on"],
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(
                request, _("You are on the waitlist. We will message you when a time comes free.")
            )
            return redirect("portal:waitlist")
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "portal/waitlist.html",
        {"form": form, "entries": waitlist_for_client(client.pk), "client": client},
        status=status,
    )


@client_required
@require_POST
def waitlist_remove(request: HttpRequest, pk: Any) -> HttpResponse:
    client = request.client  # type: ignore[attr-defined]
    try:
        entry = waitlist_entry_get(pk)
    except NotFound:
        raise Http404 from None
    if entry.client_id != client.pk:
        raise Http404
    waitlist_leave(entry=entry, by=request.user, now=timezone.now())
    messages.success(
        request, _("You are off the waitlist for %(t)s.") % {"t": entry.treatment.name}
    )
    return redirect("portal:waitlist")
