"""What a locked-out visitor sees (django-axes calls this; settings.AXES_LOCKOUT_CALLABLE)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def locked_out(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "accounts/locked_out.html",
        {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )


def client_str(
    username: str, ip_address: str, user_agent: str, path_info: str, request: Any
) -> str:
    """How axes names a visitor in the log: the address typed is personal data, so only a short
    digest of it goes in (enough to see repeated attempts on one account)."""
    digest = hashlib.sha256((username or "").lower().encode("utf-8")).hexdigest()[:12]
    return f"{{user: {digest}, ip_address: {ip_address!s}, path_info: {path_info!s}}}"


def username_of(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """Who a sign-in attempt is for: what was passed to authenticate(), else the form field."""
    raw = (credentials or {}).get("username") or ""
    if not raw and request is not None:
        raw = request.POST.get("email") or request.POST.get("username") or ""
    raw = str(raw).strip()
    return raw.lower() if "@" in raw else raw
