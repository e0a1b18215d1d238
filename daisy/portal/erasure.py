"""A client asks for their data to be erased (issue 14, item 8; UK GDPR Art. 17; DOMAIN.md 6.6,
6.7). The page says plainly what goes at once and what the clinic must keep, until when and
why, and asks the client to confirm. The request signs them out for good (their account is
part of what goes), so the answer is a page of its own, not a redirect into the portal."""

from __future__ import annotations

from django import forms
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from daisy.lib.errors import DomainError
from daisy.lib.forms import form_add_domain_error
from daisy.portal.views import client_required
from daisy.records.retention import erasure_preview, erasure_request


class EraseForm(forms.Form):
    confirm = forms.BooleanField(
        label=gettext_lazy("Yes, erase my data as described above"),
        error_messages={"required": gettext_lazy("Tick the box to confirm.")},
    )


@client_required
@require_http_methods(["GET", "POST"])
def data_erase(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    client = request.client  # type: ignore[attr-defined]
    form = EraseForm(request.POST) if request.method == "POST" else EraseForm()
    if request.method == "POST" and form.is_valid():
        try:
            done = erasure_request(client=client, by=request.user, now=now)
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            logout(request)
            return render(request, "portal/data_erased.html", {"request_done": done})
    preview = erasure_preview(client=client, now=now)
    status = 422 if request.method == "POST" else 200
    return render(
        request, "portal/data_erase.html", {"form": form, "preview": preview}, status=status
    )
