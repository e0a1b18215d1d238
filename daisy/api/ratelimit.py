"""Fixed-window rate limits per token and per client address, counted in Django's cache.

Settings: DAISY_API_RATE_LIMITS = {scope: {"token": "120/minute", "ip": "600/minute"}}. A scope
or kind left out is not limited. The address is REMOTE_ADDR: behind a proxy, have the proxy set
it (X-Forwarded-For is not trusted, since any caller can send it)."""

from __future__ import annotations

import logging
import math
import threading
import time
from functools import cache

from django.conf import settings
from django.core.cache import cache as default_cache
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

logger = logging.getLogger("daisy.api")

_PERIODS = {
    "s": 1, "sec": 1, "second": 1,
    "m": 60, "min": 60, "minute": 60,
    "h": 3600, "hour": 3600,
    "d": 86400, "day": 86400,
}  # fmt: skip


@cache
def parse_rate(rate: str) -> tuple[int, int]:
    """ "120/minute" -> (120, 60); "10/30" -> (10, 30 seconds)."""
    count, _, period = rate.partition("/")
    seconds = int(period) if period.isdigit() else _PERIODS[period.strip().lower()]
    return int(count), seconds


class RateLimit(BaseThrottle):
    def __init__(self, scope: str) -> None:
        self.scope = scope
        # The throttle is shared by every request; ninja asks wait() right after
        # allow_request() in the same thread.
        self._local = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        try:
            return self._allow(request)
        except Exception:  # noqa: BLE001 - a cache outage must not take the API down
            logger.exception("rate limit check failed; allowing the request")
            return True

    def _allow(self, request: HttpRequest) -> bool:
        limits = getattr(settings, "DAISY_API_RATE_LIMITS", {}).get(self.scope) or {}
        token = getattr(getattr(request, "auth", None), "token", None)
        checks = []
        if token is not None and limits.get("token"):
            checks.append(("token", str(token.pk), limits["token"]))
        if limits.get("ip"):
            checks.append(("ip", request.META.get("REMOTE_ADDR") or "unknown", limits["ip"]))
        now = time.time()
        for kind, ident, rate in checks:
            allowed, period = parse_rate(rate)
            window = int(now // period)
            key = f"daisy:api-rate:{self.scope}:{kind}:{ident}:{window}"
            if default_cache.add(key, 1, timeout=period + 1):
                count = 1
            else:
                try:
                    count = default_cache.incr(key)
                except ValueError:  # expired between add and incr
                    default_cache.set(key, 1, timeout=period + 1)
                    count = 1
            if count > allowed:
                self._local.wait = max(1, math.ceil((window + 1) * period - now))
                return False
        return True

    def wait(self) -> float | None:
        return getattr(self._local, "wait", None)


WRITE = RateLimit("write")
AVAILABILITY = RateLimit("availability")
