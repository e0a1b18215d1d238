"""A client's erasure request and legal holds at the desk (issue 14, item 8; DOMAIN.md 6.6,
6.7): for the clinic manager only. One page at /desk/clients/<id>/erasure/ shows what an
erasure would delete now and what is kept, until when and why; recording the request needs a
tick that the client asked. The same page places and lifts a legal hold, with a reason."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from daisy.backoffice.access import manager_required
from daisy.clients.selectors import client_get
from daisy.clients.services import client_view_record
from daisy.lib.errors import DomainError, NotFound
from daisy.lib.forms import form_add_domain_error
from daisy.records.retention import (
    erasure_preview,
    erasure_request,
    legal_hold_get,
    legal_hold_lift,
    legal_hold_place,
)

_manager_only = manager_required(
    gettext_lazy("Erasure requests and legal holds are for the clinic manager.")
)


class ErasureForm(forms.Form):
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "The client asked for their data to be erased, and I have checked who they are"
        ),
        error_messages={"required": gettext_lazy("Tick the box to confirm the client asked.")},
    )


class LegalHoldForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy(
            "Why the record must be kept (a claim, a complaint, a request by the authorities)"
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": gettext_lazy("Say why the record is held.")},
    )


class LegalHoldLiftForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why the hold can end"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": gettext_lazy("Say why the hold ends.")},
    )


def _client(client_id: Any) -> Any:
    try:
        return client_get(client_id)
    except NotFound:
        raise Http404(_("That client does not exist.")) from None


def _page(
    request: HttpRequest,
    client: Any,
    *,
    erasure_form: Any = None,
    hold_form: Any = None,
    lift_form: Any = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    # What the record holds is shown (as counts): an opening of the record, audited.
    client_view_record(client=client, by=request.user, now=now, via="desk, erasure")
    return render(
        request,
        "backoffice/client_erasure.html",
        {
            "client": client,
            "preview": erasure_preview(client=client, now=now),
            "erasure_form": erasure_form or ErasureForm(),
            "hold_form": hold_form or LegalHoldForm(),
            "lift_form": lift_form or LegalHoldLiftForm(),
            "desk_section": "clients",
        },
        status=status,
    )


@_manager_only
def client_erasure(request: HttpRequest, client_id: Any) -> HttpResponse:
    client = _client(client_id)
    if request.method != "POST":
        return _page(request, client)
    form = ErasureForm(request.POST)
    if form.is_valid():
        try:
            done = erasure_request(client=client, by=request.user, now=timezone.now())
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            if done.keep_until is None:
                messages.success(request, _("The client's data is erased."))
            else:
                messages.success(
                    request,
                    _(
                        "The request is recorded. What could be deleted is deleted; the "
                        "clinical record is kept until %(day)s."
                    )
                    % {"day": f"{done.keep_until:%-d %B %Y}"},
                )
            return redirect("desk:client-erasure", client_id=client.pk)
    return _page(request, client, erasure_form=form, status=422)


@_manager_only
def client_legal_hold_place(request: HttpRequest, client_id: Any) -> HttpResponse:
    client = _client(client_id)
    if request.method != "POST":
        return redirect("desk:client-erasure", client_id=client.pk)
    form = LegalHoldForm(request.POST)
    if form.is_valid():
        try:
            legal_hold_place(
                client=client,
                reason=form.cleaned_data["reason"],
                by=request.user,
                now=timezone.now(),
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(
                request, _("The legal hold is placed: nothing of the clinical record is deleted.")
            )
            return redirect("desk:client-erasure", client_id=client.pk)
    return _page(request, client, hold_form=form, status=422)


@_manager_only
def client_legal_hold_lift(
    request: HttpRequest, client_id: Any, legal_hold_id: int
) -> HttpResponse:
    client = _client(client_id)
    try:
        hold = legal_hold_get(legal_hold_id, client=client)
    except NotFound:
        raise Http404(_("That legal hold does not exist.")) from None
    if request.method != "POST":
        return redirect("desk:client-erasure", client_id=client.pk)
    form = LegalHoldLiftForm(request.POST)
    if form.is_valid():
        try:
            legal_hold_lift(
                hold=hold, reason=form.cleaned_data["reason"], by=request.user, now=timezone.now()
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, _("The legal hold is lifted."))
            return redirect("desk:client-erasure", client_id=client.pk)
    return _page(request, client, lift_form=form, status=422)
