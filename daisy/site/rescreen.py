"""The health questions before a session, behind the signed link in the reminder (issue 14,
item 3; DOMAIN.md 2.2: re-screen before every session): no sign-in, works on a phone and
without JavaScript. It asks every question that can change between sessions (more than the
online pre-screen: records.selectors.rescreen_asked). The client confirms or changes each of
their last answers; the answers go through records.services.rescreen_record (the same rules as
the pre-screen and the consultation) and are kept for that appointment. A forged, tampered or
expired link gets a kind page with a 4xx status, never a 500."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from daisy.aftercare.selectors import urgent_contacts
from daisy.lib.errors import DomainError, NotFound
from daisy.records.forms import RescreenForm
from daisy.records.selectors import (
    rescreen_asked,
    rescreen_for_appointment,
    rescreen_last_answers,
    rescreen_target_get,
)
from daisy.records.services import rescreen_record


def _private(response: HttpResponse) -> HttpResponse:
    # The token is the client's key to their health answers: never cached, never sent on as a
    # Referer, never indexed (as the check-in page).
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


STATUS = {
    "rescreen_link_invalid": 404,
    "rescreen_link_expired": 410,
    "rescreen_not_needed": 410,
    "rescreen_not_open": 409,
}


def _unavailable(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return _private(
        render(
            request,
            "site/rescreen/unavailable.html",
            {"message": exc.message, "code": exc.code},
            status=STATUS.get(exc.code, 404),
        )
    )


@require_http_methods(["GET", "POST"])
def rescreen(request: HttpRequest, token: str) -> HttpResponse:
    now = timezone.now()
    try:
        appointment = rescreen_target_get(token=token, now=now)
    except NotFound as exc:
        return _unavailable(request, exc)
    tz = appointment.location.tz
    local = appointment.starts_at.astimezone(tz)
    context = {
        "appointment": appointment,
        "treatment": appointment.treatment.name,
        "when": local,
        "location": appointment.location,
        "contacts": urgent_contacts(appointment.location, now),
    }
    answered = rescreen_for_appointment(appointment)
    if request.method == "GET" and answered is not None and request.GET.get("again") != "1":
        return _private(
            render(
                request,
                "site/rescreen/answered.html",
                {**context, "answered": answered, "just_sent": request.GET.get("sent") == "1"},
            )
        )
    asked = rescreen_asked(appointment.treatment)
    if asked is None:
        return _unavailable(
            request, NotFound(str(context["treatment"]), code="rescreen_not_needed")
        )
    form = RescreenForm(
        request.POST if request.method == "POST" else None,
        questions=asked.questions,
        today=now.astimezone(tz).date(),
        last=rescreen_last_answers(appointment),
    )
    status = 200
    service_error = ""
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                rescreen_record(
                    appointment=appointment,
                    answers=form.answers(),
                    by=None,
                    via="reminder",
                    now=now,
                )
            except DomainError as exc:
                form.add_service_errors(exc.fields)
                service_error = exc.message
            else:
                return redirect(f"{request.path}?sent=1")
    return _private(
        render(
            request,
            "site/rescreen/form.html",
            {**context, "form": form, "action": request.path, "service_error": service_error},
            status=status,
        )
    )
