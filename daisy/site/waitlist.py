"""The page behind the link in a waitlist offer (issue 13, item 3): no login, the offered time,
the health questions when the treatment needs them, and one button. The first person to
accept gets the time; anyone after them is told kindly that it has gone."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from daisy.aftercare.selectors import precare_ready_at, precare_steps_too_soon
from daisy.booking.waitlist import waitlist_offer_accept, waitlist_offer_get
from daisy.lib.errors import ClientContraindicated, DomainError, NotFound, PrecareTooSoon
from daisy.records.selectors import questionnaire_asked
from daisy.site.checkin import _private
from daisy.site.forms import PrescreenForm


@require_http_methods(["GET", "POST"])
def offer(request: HttpRequest, token: str) -> HttpResponse:
    now = timezone.now()
    try:
        view = waitlist_offer_get(token, now=now)
    except NotFound as exc:
        return _private(
            render(request, "site/waitlist/gone.html", {"message": exc.message}, status=404)
        )
    the_offer = view.offer
    entry = the_offer.entry
    client = entry.client
    user = request.user
    # Whoever holds the link acts for the client; a signed-in client is themselves.
    is_owner = user.is_authenticated and client.user_id == user.pk
    is_staff = user.is_authenticated and getattr(user, "is_clinic_staff", False)
    by = user if (is_owner or is_staff) else None
    needs_questions = entry.treatment.requires_screening and not is_staff
    asked = questionnaire_asked(entry.treatment, online=True) if needs_questions else None
    form = (
        PrescreenForm(request.POST or None, questions=asked.questions, today=timezone.localdate())
        if asked is not None
        else None
    )
    local = the_offer.starts_at.astimezone(the_offer.location.tz)
    context = {
        "offer": the_offer,
        "treatment": entry.treatment,
        "when": local,
        "zone": the_offer.location.time_zone,
        "form": form,
        "is_open": view.is_open,
        "name": client.first_name,
        "location": the_offer.location,
        "precare_checked": set(request.POST.getlist("precare")),
    }
    if not is_staff:
        # A freed time is often soon: ask about the preparation it leaves too little time for.
        late = precare_steps_too_soon(
            treatment=entry.treatment,
            starts_at=the_offer.starts_at,
            tz=the_offer.location.tz,
            now=now,
        )
        if late:
            context["precare_late"] = late
            context["precare_ready"] = precare_ready_at(
                treatment=entry.treatment, now=now, tz=the_offer.location.tz
            )
    if the_offer.status == "accepted" and the_offer.appointment_id:
        return _private(render(request, "site/waitlist/booked.html", context))
    if not view.is_open:
        return _private(render(request, "site/waitlist/gone.html", context, status=410))
    if request.method == "POST":
        if form is not None and not form.is_valid():
            return _private(render(request, "site/waitlist/offer.html", context, status=422))
        try:
            waitlist_offer_accept(
                offer=the_offer,
                by=by,
                now=now,
                prescreen=form.answers() if form is not None else None,
                precare_confirmed=[k for k in request.POST.getlist("precare") if k.isdigit()],
            )
        except (ClientContraindicated, PrecareTooSoon) as exc:
            context["refused"] = exc.message
            return _private(render(request, "site/waitlist/offer.html", context, status=409))
        except DomainError as exc:
            context["message"] = exc.message
            return _private(render(request, "site/waitlist/gone.html", context, status=409))
        return redirect("site:waitlist-offer", token=token)
    return _private(render(request, "site/waitlist/offer.html", context))
