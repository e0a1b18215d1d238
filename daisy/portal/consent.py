"""The client's consents in the portal (issue 14 item 4): what they signed (each downloadable as
a PDF), what their next appointments still need, signing in the portal, and withdrawing.

Everything is reached through the signed-in client: another client's consent or appointment
id is a 404, like one that does not exist. Every view and download of a signed consent is
audited, as are signing and withdrawal."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from daisy.clients.services import client_view_record
from daisy.clinic.selectors import clinic_zone
from daisy.lib.addresses import UNKNOWN, client_address
from daisy.lib.errors import DomainError
from daisy.lib.forms import form_add_domain_error
from daisy.portal.views import UPCOMING_STATUSES, _own_appointment, client_required
from daisy.records.consent_pdf import consent_pdf
from daisy.records.consent_selectors import (
    consent_get_for_client,
    consent_list_for_client,
    consent_status,
    consent_templates_to_sign,
)
from daisy.records.consent_services import consent_sign, consent_view_record, consent_withdraw
from daisy.records.forms import ConsentSignForm
from daisy.scheduling.selectors import appointment_list

# What a client's withdrawal says when they give no reason: withdrawing needs none.
NO_REASON = "Withdrawn by the client in their account; no reason given."


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _ip(request: HttpRequest) -> str | None:
    address = client_address(request)
    return None if address == UNKNOWN else address


def _own_consent(request: HttpRequest, pk: Any) -> Any:
    consent = consent_get_for_client(request.client, pk)  # type: ignore[attr-defined]
    if consent is None:
        raise Http404
    return consent


@client_required
def consent_list(request: HttpRequest) -> HttpResponse:
    client = request.client  # type: ignore[attr-defined]
    now = timezone.now()
    client_view_record(client=client, by=request.user, now=now, via="portal:consents")
    to_sign = []
    for appt in appointment_list(client_id=client.pk):
        if appt.starts_at >= now and appt.status in UPCOMING_STATUSES:
            status = consent_status(appt)
            if status.is_blocking:
                to_sign.append((appt, status))
    consents = list(consent_list_for_client(client))
    kinds = {c.kind for c in consents if not c.withdrawn_at}
    return render(
        request,
        "portal/consents.html",
        {
            "client": client,
            "to_sign": to_sign,
            "consents": consents,
            "photos_missing": not {"photos_record", "photos_marketing"} <= kinds,
            "zone": clinic_zone(),
            "withdraw_form": WithdrawForm(),
        },
    )


@client_required
def consent_sign_view(request: HttpRequest, pk: Any = None) -> HttpResponse:
    """Sign in the portal: for an appointment (its treatment consent and the photo consents),
    or the photo consents alone."""
    client = request.client  # type: ignore[attr-defined]
    appointment = _own_appointment(request, pk) if pk is not None else None
    if appointment is not None:
        templates = consent_templates_to_sign(appointment.treatment)
        action = reverse("portal:consent-sign-appointment", args=[appointment.pk])
    else:
        templates = [t for t in consent_templates_to_sign(None) if t.kind != "treatment"]
        action = reverse("portal:consent-sign")
    status = 200
    if request.method == "POST":
        form = ConsentSignForm(request.POST, templates=templates)
        if form.is_valid():
            try:
                signed = consent_sign(
                    client=client,
                    signing=form.signing(),
                    method=form.cleaned_data["method"],
                    signed_name=form.cleaned_data["signed_name"],
                    signature_png=form.cleaned_data["signature"],
                    via="portal",
                    signed_by=request.user,
                    appointment=appointment,
                    ip_address=_ip(request),
                    user_agent=request.headers.get("User-Agent", ""),
                    now=timezone.now(),
                )
            except DomainError as exc:
                form_add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Thank you: signed %(what)s. You can download a copy below.")
                    % {"what": ", ".join(c.title for c in signed)},
                )
                return redirect("portal:consents")
        status = 422
    else:
        form = ConsentSignForm(templates=templates)
    if request.method != "POST" or status == 422:
        client_view_record(client=client, by=request.user, now=timezone.now(), via="portal:sign")
    return render(
        request,
        "portal/consent_sign.html",
        {"form": form, "action": action, "appointment": appointment},
        status=status,
    )


@client_required
def consent_pdf_view(request: HttpRequest, pk: Any) -> HttpResponse:
    consent = _own_consent(request, pk)
    consent_view_record(consent=consent, by=request.user, now=timezone.now(), via="portal, PDF")
    body = consent_pdf(consent, zone=clinic_zone(), clinic_name=settings.DAISY_CLINIC_NAME)
    response = HttpResponse(body, content_type="application/pdf")
    day = consent.signed_at.date().isoformat()
    response["Content-Disposition"] = f'attachment; filename="consent-{consent.kind}-{day}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@client_required
@require_POST
def consent_withdraw_view(request: HttpRequest, pk: Any) -> HttpResponse:
    consent = _own_consent(request, pk)
    form = WithdrawForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        consent_withdraw(
            consent=consent,
            by=request.user,
            reason=reason.strip() or NO_REASON,
            now=timezone.now(),
            via="portal",
        )
    except DomainError as exc:
        messages.info(request, exc.message)
    else:
        messages.success(request, _("You withdrew “%(title)s”.") % {"title": consent.title})
    return redirect("portal:consents")
