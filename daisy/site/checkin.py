"""The check-in page behind the signed link in a check-in message (DOMAIN.md 5.2): no login, a
short form, then what to do now. Works without JavaScript.

GET shows the form, or the answers already given; POST records them through
aftercare.services.checkin_record and redirects back (post/redirect/get), so a reload never
submits twice. A link that is tampered with, expired, or points at a session that did not take
place gets a kind page with a 4xx status, never a 500."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from daisy.aftercare.forms import TOXICITY_LABELS, CheckInForm
from daisy.aftercare.selectors import CheckInTarget, checkin_target_get, urgent_contacts
from daisy.aftercare.services import checkin_record
from daisy.lib.errors import NotFound

# A link that was once good but is no longer (410), or never was (404).
GONE = {"checkin_link_expired", "checkin_not_needed"}


def _private(response: HttpResponse) -> HttpResponse:
    # The token in the URL is the client's key to their health answers: never cached, never
    # passed on to another site as a Referer, never indexed. "same-origin", not "no-referrer":
    # with no-referrer Chromium posts the form with "Origin: null", which CSRF rightly refuses.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _unavailable(request: HttpRequest, exc: NotFound) -> HttpResponse:
    status = 410 if exc.code in GONE else (409 if exc.code == "checkin_not_open" else 404)
    return _private(
        render(
            request,
            "site/checkin/unavailable.html",
            {"message": exc.message, "code": exc.code},
            status=status,
        )
    )


def _context(target: CheckInTarget, now: datetime) -> dict[str, object]:
    location = target.location
    # Whom to call is decided when the page is read: "call the clinic today" only while it
    # is open; the out-of-hours line while it is closed (a check-in at 03:28 on a Sunday).
    contacts = urgent_contacts(location, now)
    return {
        "appointment": target.appointment,
        "treatment": target.appointment.treatment.name,
        "when": target.when,
        "location": location,
        "contacts": contacts,
        "emergency_number": contacts.emergency_number,
    }


@require_http_methods(["GET", "POST"])
def checkin(request: HttpRequest, token: str) -> HttpResponse:
    now = timezone.now()
    try:
        target = checkin_target_get(token=token, now=now)
    except NotFound as exc:
        return _unavailable(request, exc)
    if target.existing is not None:
        answers = target.existing
        return _private(
            render(
                request,
                "site/checkin/answered.html",
                {
                    **_context(target, now),
                    "checkin": answers,
                    "toxicity": [TOXICITY_LABELS[c] for c in answers.toxicity or ()],
                    "just_sent": request.GET.get("sent") == "1",
                },
            )
        )
    form = CheckInForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            checkin_record(token=token, answers=form.cleaned_data, now=now)
        except NotFound as exc:
            return _unavailable(request, exc)
        return redirect(f"{request.path}?sent=1")
    status = 400 if request.method == "POST" else 200
    return _private(
        render(
            request,
            "site/checkin/form.html",
            {**_context(target, now), "form": form},
            status=status,
        )
    )
