"""Sign-in abuse (issues 4 and 16), on top of django-axes' record of failed sign-ins.

Three limits, each counted over the cool-off window (AXES_COOLOFF_TIME, 15 minutes):
- one account from one address (AXES_FAILURE_LIMIT, 5): someone mistyping, or a guesser;
- one address across every account (DAISY_SIGN_IN_ADDRESS_LIMIT): password spraying, where one
  password is tried on many accounts, each too few times to trip the first limit;
- one account across every address (DAISY_SIGN_IN_ACCOUNT_LIMIT): guessing spread over many
  addresses.
They slow an attacker without locking the real person out: an account locked by strangers'
failures still opens with a one-time link mailed to a client, and for staff with their password
and a current code together (the second factor shows it is them; views.staff_sign_in).
The address is daisy.lib.addresses.client_address: a proxy's header is read only when
DAISY_CLIENT_ADDRESS_HEADER says a trusted proxy writes it."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from daisy.lib.addresses import UNKNOWN, client_address

# Why sign-in with a password is paused (request.daisy_lock).
PAIR = "pair"  # this account from this address
ADDRESS = "address"  # this address, whatever the account
ACCOUNT = "account"  # this account, from anywhere
# Locks the account's owner gets past with a second proof (email link, or password + code).
PASSABLE = frozenset({PAIR, ACCOUNT})


def _failures(**filters: Any) -> int:
    since = timezone.now() - _cooloff()
    total = (
        AccessAttempt.objects.filter(attempt_time__gte=since, **filters)
        .aggregate(n=Sum("failures_since_start"))
        .get("n")
    )
    return int(total or 0)


def _cooloff() -> timedelta:
    value = settings.AXES_COOLOFF_TIME
    return value if isinstance(value, timedelta) else timedelta(hours=float(value or 0))


def client_ip(request: Any) -> str | None:
    """The address axes records (settings.AXES_CLIENT_IP_CALLABLE): client_address, or None
    when there is none to read (axes stores it in an address column)."""
    address = client_address(request)
    return None if address == UNKNOWN else address


def lock_reason(request: Any, credentials: dict[str, Any] | None = None) -> str | None:
    """Which limit, if any, pauses password sign-in for this request's account and address."""
    address = getattr(request, "axes_ip_address", None) or client_ip(request)
    username = get_client_username(request, credentials)
    if address and _failures(ip_address=address) >= settings.DAISY_SIGN_IN_ADDRESS_LIMIT:
        return ADDRESS
    if not username:
        return None
    if (
        address
        and _failures(ip_address=address, username=username) >= settings.AXES_FAILURE_LIMIT
    ):
        return PAIR
    if _failures(username=username) >= settings.DAISY_SIGN_IN_ACCOUNT_LIMIT:
        return ACCOUNT
    return None


class LockoutHandler(AxesDatabaseHandler):
    """axes' database handler with Daisy's three limits instead of its one (settings.AXES_HANDLER).
    axes keeps recording every failure, including those made while locked, so an attacker who
    keeps trying stays paused."""

    def is_locked(self, request: Any, credentials: dict[str, Any] | None = None) -> bool:
        reason = lock_reason(request, credentials)
        if request is not None:
            request.daisy_lock = reason
        return reason is not None

    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
    ) -> None:
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        # axes itself only knows the first limit; the failure that reaches another one pauses
        # sign-in from this answer on, like the fifth failure does.
        if request is not None and not getattr(request, "axes_locked_out", False):
            if self.is_locked(request, credentials):
                request.axes_locked_out = True
                request.axes_credentials = credentials


def locked_out(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    minutes = int(_cooloff().total_seconds() // 60)
    reason = getattr(request, "daisy_lock", None) or PAIR
    staff = request.path.startswith("/account/staff/")
    return render(
        request,
        "accounts/staff_locked_out.html" if staff else "accounts/locked_out.html",
        {
            "minutes": minutes,
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "reason": reason,
            "passable": reason in PASSABLE,
        },
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
