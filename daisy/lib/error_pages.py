"""The project's error handlers (daisy/urls.py): under /api/ every error is JSON in the API's
shape, `{"error": {"code", "message", "fields"}}`, whatever path was asked for (issue 16); the
rest of the site keeps Django's pages (and the templates that override them). A request body
over the size limit is answered 413, not 400."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token

API_PREFIX = "/api/"


def _is_api(request: HttpRequest) -> bool:
    path = request.path_info
    return path.startswith(API_PREFIX) or path == API_PREFIX.rstrip("/")


def json_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": code, "message": message, "fields": {}}}, status=status
    )


def _too_large(exception: Any) -> bool:
    return isinstance(exception, RequestDataTooBig)


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Any = None) -> HttpResponse:
    if _too_large(exception):
        if _is_api(request):
            return json_error(413, "request_too_large", _("The request body is too large."))
        response = HttpResponse(
            _("The form sent was too large. Go back, shorten what you typed, and send it again."),
            status=413,
            content_type="text/plain; charset=utf-8",
        )
        return response
    if _is_api(request):
        return json_error(400, "malformed_request", _("The request could not be read."))
    return defaults.bad_request(request, exception)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Any = None) -> HttpResponse:
    if _is_api(request):
        return json_error(403, "forbidden", _("You may not do this."))
    return defaults.permission_denied(request, exception)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    if _is_api(request):
        return json_error(404, "not_found", _("There is no such API endpoint."))
    return defaults.page_not_found(request, exception)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return json_error(500, "server_error", _("A server error. It has been logged."))
    return defaults.server_error(request)
