"""`/api/v1/`: the API's routes, then JSON answers for paths and methods it does not have (the
rest of the site answers with HTML pages; an API client should never get one)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from daisy.api.api import api
from daisy.api.errors import error_response


def _json_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """ninja answers a wrong method with plain text, and its root URL with Django's HTML 404."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return not_found(request)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            return error_response(
                405,
                "method_not_allowed",
                _("%(method)s is not allowed here.") % {"method": request.method},
                headers={"Allow": response.get("Allow", "")},
            )
        return response

    return wrapped


@csrf_exempt
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return error_response(404, "not_found", _("There is no such API endpoint."))


def _patterns() -> list[URLPattern | URLResolver]:
    patterns, _app_name, _namespace = api.urls
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = _json_errors(pattern.callback)
    return patterns


app_name = "ninja"
# Any character, a newline too ("." is not), or /api/v1/x%0Ay would fall through to HTML.
urlpatterns = [*_patterns(), re_path(r"^[\s\S]*$", not_found, name="not-found")]
