"""Personal calendar feeds: `GET /calendar/<token>.ics`, subscribed to from a calendar app. The
secret token is the only credential (issued, rotated and revoked by
aftercare.services.calendar_feed_issue / calendar_feed_revoke); an unknown or revoked one is a
plain 404 that says nothing about whether it ever existed."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.utils import timezone
from django.views.decorators.http import require_GET

from daisy.aftercare.selectors import calendar_feed_ics, calendar_file_ics
from daisy.lib.errors import NotFound

# Calendar apps poll; a few minutes' staleness is fine and spares the database.
MAX_AGE_SECONDS = 300


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    try:
        text = calendar_feed_ics(token=token, now=timezone.now())
    except NotFound:
        response: HttpResponse = HttpResponseNotFound(
            "No calendar here.\n", content_type="text/plain; charset=utf-8"
        )
    else:
        response = HttpResponse(text, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="appointments.ics"'
        response["Cache-Control"] = f"private, max-age={MAX_AGE_SECONDS}"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_GET
def calendar_file(request: HttpRequest, token: str) -> HttpResponse:
    """"Add to calendar" from a confirmation or a done page: the booking's .ics, downloaded
    (aftercare.selectors.calendar_file_link signs the address)."""
    try:
        text = calendar_file_ics(token=token, now=timezone.now())
    except NotFound:
        response: HttpResponse = HttpResponseNotFound(
            "No calendar file here.\n", content_type="text/plain; charset=utf-8"
        )
    else:
        response = HttpResponse(text, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="appointment.ics"'
        response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
