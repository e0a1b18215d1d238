"""Every API error is JSON: `{"error": {"code", "message", "fields"}}` (DESIGN.md 6).

Handlers here turn whatever stopped a request into that shape: our own `ApiError`, the services'
`DomainError`s (their `http_status` and `code`), ninja's validation errors (reshaped into
per-field messages), malformed and oversized bodies, and finally any other exception, which is a
real server error: 500, logged with a request id that the response carries too."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.core.exceptions import (
    PermissionDenied as DjangoPermissionDenied,
)
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from daisy.api.schemas import slots_out
from daisy.lib.errors import DomainError, PrecareTooSoon, SlotUnavailable

logger = logging.getLogger("daisy.api")

# What each error status means in this API; also the text of the OpenAPI response descriptions.
ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed request: the body is not valid JSON, or the query string cannot be read. "
    "Code `malformed_request`.",
    401: "No token, or the token is unknown, revoked or its user is inactive. Send "
    "`Authorization: Bearer <token>`. Codes `not_authenticated`, `invalid_token`.",
    403: "The token's role may not do this (code `forbidden`), e.g. a client token listing "
    "clients or booking for someone else. Nothing was changed.",
    404: "No such resource, or not one this token may see (a client token sees only its own "
    "records). Code `not_found`.",
    409: "The request conflicts with the current state: `slot_unavailable` (with `alternatives`: "
    "up to 3 nearest bookable slots), `contraindicated` (an open screening finding needs a "
    "clinician), `policy_violation` or `late_change` (cancellation/status rules), "
    "`client_exists` (the email or phone already belongs to the client whose id is in "
    "`fields.client`), `precare_too_soon` (the time leaves too little room for some of the "
    "treatment's preparation steps: `precare_steps` lists them with their keys and "
    "`ready_at` is the first time that leaves room for all; send the keys the client "
    "already follows as `precare_confirmed`).",
    413: "The request body is larger than the server accepts. Code `request_too_large`.",
    422: "Validation failed: `fields` maps each offending field (or header/parameter) to a "
    "message. Codes include `validation_error`, `invalid_time`, `in_past`, `min_notice`, "
    "`max_advance`, `idempotency_key_reused` (same Idempotency-Key, different body).",
    429: "Too many requests from this token or address. Wait `Retry-After` seconds. Code "
    "`rate_limited`.",
    500: "A server error. Not caused by the request; it is logged with `request_id`.",
    503: "The database cannot be reached, or the rate limits cannot be counted just now "
    "(code `rate_limit_unavailable`, with `Retry-After`): try again shortly.",
}


class ApiError(Exception):
    """An error the API itself decides on (as opposed to a service's DomainError)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.headers = headers or {}


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    fields: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> HttpResponse:
    body: dict[str, Any] = {"code": code, "message": str(message), "fields": fields or {}}
    body.update(extra)
    response = JsonResponse({"error": body}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="daisy"'
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _field_name(loc: tuple[Any, ...] | list[Any], body_params: set[str]) -> str:
    source, *path = list(loc) or ["request"]
    if source == "body" and path and path[0] in body_params:
        path = path[1:]
    return ".".join(str(p) for p in path) or str(source)


def validation_fields(errors: list[dict[str, Any]], body_params: set[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for err in errors:
        name = _field_name(tuple(err.get("loc") or ()), body_params)
        msg = str(err.get("msg") or "Invalid value.")
        if msg.startswith("Value error, "):
            msg = msg.removeprefix("Value error, ")
        fields[name] = f"{fields[name]} {msg}" if name in fields else msg
    return fields


def _on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields = validation_fields(exc.errors, BODY_PARAM_NAMES)
    if len(fields) == 1:
        name, msg = next(iter(fields.items()))
        message = f"{name}: {msg}"
    else:
        message = _("Some values are not valid; see fields.")
    return error_response(422, "validation_error", message, fields=fields)


def _on_domain(request: HttpRequest, exc: DomainError) -> HttpResponse:
    extra: dict[str, Any] = {}
    if isinstance(exc, SlotUnavailable):
        extra["alternatives"] = slots_out(list(exc.alternatives))
    if isinstance(exc, PrecareTooSoon):
        # Which steps to confirm (`precare_confirmed`), and the first time that needs none.
        extra["precare_steps"] = exc.extra.get("precare_steps", [])
        extra["ready_at"] = exc.extra.get("ready_at")
    if "earliest_on" in exc.extra:
        extra["earliest_on"] = exc.extra["earliest_on"]  # prescreen_deferred: the first day
    return error_response(exc.http_status, exc.code, exc.message, fields=dict(exc.fields), **extra)


def _on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error_response(exc.status, exc.code, exc.message, fields=exc.fields, headers=exc.headers)


def _on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc, Throttled) and getattr(request, "daisy_rate_limit_unavailable", False):
        # The limits' counter store (Redis) is down: refused rather than let through unlimited
        # (daisy/api/throttles.py); ninja adds Retry-After.
        return error_response(
            503,
            "rate_limit_unavailable",
            _("The service is busy just now; please try again in a few seconds."),
        )
    if isinstance(exc, Throttled):  # ninja adds Retry-After to what we return
        return error_response(
            429, "rate_limited", _("Too many requests; wait before trying again.")
        )
    if isinstance(exc, AuthenticationError):
        return error_response(
            401, "not_authenticated", _("Send a valid token: Authorization: Bearer <token>.")
        )
    if exc.status_code == 400:
        return error_response(400, "malformed_request", _("The request body is not valid JSON."))
    if 400 <= exc.status_code < 500:
        return error_response(exc.status_code, "http_error", str(exc))
    return _on_server_error(request, exc)


def _on_404(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(404, "not_found", _("Not found."))


def _on_suspicious(request: HttpRequest, exc: Exception) -> HttpResponse:
    if isinstance(exc, RequestDataTooBig):
        return error_response(413, "request_too_large", _("The request body is too large."))
    return error_response(400, "malformed_request", _("The request cannot be read."))


def _on_forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(403, "forbidden", _("You may not do this."))


def _on_server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    request_id = uuid.uuid4().hex
    logger.error(
        "API server error request_id=%s %s %s",
        request_id,
        request.method,
        request.path,
        exc_info=exc,
    )
    return error_response(
        500,
        "server_error",
        _("Something went wrong on our side. Quote the request id if you contact us."),
        headers={"X-Request-ID": request_id},
        request_id=request_id,
    )


# Names the endpoints give their single JSON body parameter; left out of field names.
BODY_PARAM_NAMES = {"payload"}


def install(api: NinjaAPI) -> None:
    handlers: dict[type[Exception], Callable[..., HttpResponse]] = {
        Exception: _on_server_error,
        ValidationError: _on_validation,
        DomainError: _on_domain,
        ApiError: _on_api_error,
        HttpError: _on_http_error,
        Http404: _on_404,
        SuspiciousOperation: _on_suspicious,
        UnreadablePostError: _on_suspicious,
        DjangoPermissionDenied: _on_forbidden,
    }
    for exc_class, handler in handlers.items():
        api.add_exception_handler(exc_class, handler)
