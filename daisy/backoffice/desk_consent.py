"""Consent at the desk (issue 14 item 4; DOMAIN.md 6.4).

A specialist opens the appointment, taps "Hand the tablet to the client", and the client reads
and signs on a page with nothing else of the desk on it; the specialist is recorded as the
consent-taker. Clinicians (specialists and the manager) take consent, read a signed consent,
download its PDF and record a withdrawal the client tells them about; every view of a signed
consent, each download, signing and withdrawal is in the audit trail. Reception sees whether
the consent is done, not the document (docs/roles.md)."""

from __future__ import annotations

import base64
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from daisy.backoffice.access import staff_required
from daisy.booking.diary import diary_appointment
from daisy.clinic.selectors import clinic_zone
from daisy.lib.addresses import UNKNOWN, client_address
from daisy.lib.errors import DomainError
from daisy.lib.forms import form_add_domain_error
from daisy.records.consent_pdf import consent_pdf
from daisy.records.consent_selectors import (
    consent_get,
    consent_status,
    consent_templates_to_sign,
)
from daisy.records.consent_services import consent_sign, consent_view_record, consent_withdraw
from daisy.records.forms import ConsentSignForm, paragraphs


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("What the client said, and why they withdraw"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": gettext_lazy("Say why the consent is withdrawn.")},
    )


def _clinician(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_clinician", False))


def _not_allowed(request: HttpRequest) -> HttpResponse:
    return render(request, "backoffice/not_allowed.html", status=403)


def _appointment(appointment_id: Any) -> Any:
    try:
        return diary_appointment(appointment_id)[1]
    except (ObjectDoesNotExist, ValueError):
        raise Http404 from None


def _consent(consent_id: Any) -> Any:
    consent = consent_get(consent_id)
    if consent is None:
        raise Http404
    return consent


def signature_src(consent: Any) -> str:
    """The drawn signature inline (a data: URL, which the CSP allows for images), so showing
    it needs no second address to check and audit."""
    png = bytes(consent.signature_png or b"")
    return "data:image/png;base64," + base64.b64encode(png).decode() if png else ""


def ip_of(request: HttpRequest) -> str | None:
    address = client_address(request)
    return None if address == UNKNOWN else address


@staff_required
def consent_tablet(request: HttpRequest, appointment_id: Any) -> HttpResponse:
    """The page the client signs on, on the desk's tablet."""
    if not _clinician(request):
        return _not_allowed(request)
    appt = _appointment(appointment_id)
    templates = consent_templates_to_sign(appt.treatment)
    status = 200
    if request.method == "POST":
        form = ConsentSignForm(request.POST, templates=templates)
        if form.is_valid():
            try:
                signed = consent_sign(
                    client=appt.client,
                    signing=form.signing(),
                    method=form.cleaned_data["method"],
                    signed_name=form.cleaned_data["signed_name"],
                    signature_png=form.cleaned_data["signature"],
                    via="desk",
                    taken_by=request.user,
                    appointment=appt,
                    ip_address=ip_of(request),
                    user_agent=request.headers.get("User-Agent", ""),
                    now=timezone.now(),
                )
            except DomainError as exc:
                form_add_domain_error(form, exc)
            else:
                return render(
                    request,
                    "backoffice/consent_thanks.html",
                    {"appt": appt, "signed": signed, "taker": request.user},
                )
        status = 422
    else:
        form = ConsentSignForm(templates=templates)
    return render(
        request,
        "backoffice/consent_tablet.html",
        {
            "appt": appt,
            "form": form,
            "action": reverse("desk:consent-sign", args=[appt.pk]),
            "back": reverse("desk:appointment", args=[appt.pk]),
        },
        status=status,
    )


@staff_required
def consent_detail(request: HttpRequest, consent_id: Any) -> HttpResponse:
    """A signed consent as it was signed: the text, the signature, who, when and where."""
    if not _clinician(request):
        return _not_allowed(request)
    consent = _consent(consent_id)
    consent_view_record(consent=consent, by=request.user, now=timezone.now(), via="desk")
    return _detail(request, consent, WithdrawForm())


def _detail(request: HttpRequest, consent: Any, form: Any, status: int = 200) -> HttpResponse:
    zone = clinic_zone()
    with timezone.override(zone):
        return render(
            request,
            "backoffice/consent_detail.html",
            {
                "consent": consent,
                "paragraphs": paragraphs(consent.text.partition("\n\n")[2]),
                "signature_src": signature_src(consent),
                "withdraw_form": form,
                "zone": zone,
                "desk_section": "clients",
            },
            status=status,
        )


@staff_required
def consent_pdf_view(request: HttpRequest, consent_id: Any) -> HttpResponse:
    if not _clinician(request):
        return _not_allowed(request)
    consent = _consent(consent_id)
    consent_view_record(consent=consent, by=request.user, now=timezone.now(), via="desk, PDF")
    return pdf_response(request, consent)


def pdf_response(request: HttpRequest, consent: Any) -> HttpResponse:
    from django.conf import settings

    body = consent_pdf(consent, zone=clinic_zone(), clinic_name=settings.DAISY_CLINIC_NAME)
    response = HttpResponse(body, content_type="application/pdf")
    day = consent.signed_at.date().isoformat()
    response["Content-Disposition"] = f'attachment; filename="consent-{consent.kind}-{day}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@staff_required
def consent_withdraw_view(request: HttpRequest, consent_id: Any) -> HttpResponse:
    if not _clinician(request):
        return _not_allowed(request)
    consent = _consent(consent_id)
    if request.method != "POST":
        return redirect("desk:consent", consent_id=consent.pk)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            consent_withdraw(
                consent=consent,
                by=request.user,
                reason=form.cleaned_data["reason"],
                now=timezone.now(),
                via="desk",
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, _("The withdrawal is recorded."))
            return redirect("desk:consent", consent_id=consent.pk)
    return _detail(request, _consent(consent_id), form, status=422)


def panel_consent(appt: Any, viewer: Any) -> dict[str, Any]:
    """The appointment panel's consent section."""
    status = consent_status(appt)
    return {
        "consent_status": status,
        "consent_clinical": bool(getattr(viewer, "is_clinician", False)),
        "consent_can_sign": appt.status in ("booked", "checked_in", "in_treatment"),
    }
