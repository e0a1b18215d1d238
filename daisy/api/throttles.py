"""API rate limits: django-ninja's SimpleRateThrottle, counted in Django's cache.

Settings: DAISY_API_RATE_LIMITS = {scope: {"token": "120/minute", "ip": "3000/minute"}}. A
scope or kind left out is not limited. Each limit is ninja's sliding window: at most that many
requests in any period; the next gets 429 `rate_limited` with Retry-After. The client address is
daisy.lib.addresses.client_address (REMOTE_ADDR, or the header a trusted proxy sets), never an
X-Forwarded-For that any caller can send.

Where the counts live: with REDIS_URL, on Redis, shared by every web process and counted
atomically there (daisy.lib.limits), so a limit holds however many processes serve the API;
without it, in each process's local-memory cache (one process: `daisy serve --workers 1`).

A counter store that does not answer never switches the limits off: the request is refused
with 503 `rate_limit_unavailable` (JSON, Retry-After) and an error is logged, until Redis is
back. The health endpoint reports it too (`cache`)."""

from __future__ import annotations

import logging
import threading
from functools import cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.throttling import SimpleRateThrottle

from daisy.lib import limits
from daisy.lib.addresses import client_address

logger = logging.getLogger("daisy.api")
# What Retry-After says while the counter store is down.
UNAVAILABLE_RETRY_SECONDS = 5.0
# Set on the request when a limit could not be counted (daisy.api.errors answers 503).
UNAVAILABLE_FLAG = "daisy_rate_limit_unavailable"

# ninja reads "s", "sec", "m", "min", "h", "hour", "d", "day" (and "10/30" as 30 seconds); the
# long words below are how Daisy's settings have always been written.
_LONG_PERIODS = {"second": "s", "seconds": "s", "minute": "min", "minutes": "min",
                 "hours": "hour", "days": "day"}  # fmt: skip
_NINJA = SimpleRateThrottle(rate="1/s")  # only its parse_rate() is used


@cache
def _parse(rate: str | None) -> tuple[int | None, int | None]:
    if rate is None:
        return (None, None)
    count, _, period = rate.partition("/")
    period = period.strip().lower()
    return _NINJA.parse_rate(f"{count.strip()}/{_LONG_PERIODS.get(period, period)}")


def _per_request(name: str) -> Any:
    # ninja keeps one throttle object per endpoint and puts the request being checked on it
    # (key, history, now) between allow_request() and wait(); in a threaded server that state
    # must be each thread's own.
    return property(
        lambda self: getattr(self._state, name),
        lambda self, value: setattr(self._state, name, value),
    )


class _ScopedThrottle(SimpleRateThrottle):
    kind = ""

    key = _per_request("key")
    history = _per_request("history")
    now = _per_request("now")
    shared_wait = _per_request("shared_wait")

    def __init__(self, scope: str) -> None:
        # The rate is read from settings on every request (not fixed at import), so a change
        # of DAISY_API_RATE_LIMITS applies at once.
        self.scope = scope
        self._state = threading.local()

    @property
    def rate(self) -> str | None:  # type: ignore[override]
        return (getattr(settings, "DAISY_API_RATE_LIMITS", {}).get(self.scope) or {}).get(
            self.kind
        )

    def parse_rate(self, rate: str | None) -> tuple[int | None, int | None]:
        return _parse(rate)

    @property
    def num_requests(self) -> int | None:  # type: ignore[override]
        return _parse(self.rate)[0]

    @property
    def duration(self) -> int | None:  # type: ignore[override]
        return _parse(self.rate)[1]

    def ident(self, request: HttpRequest) -> str | None:
        raise NotImplementedError

    def get_cache_key(self, request: HttpRequest) -> str | None:
        ident = self.ident(request) if self.rate else None
        if ident is None:
            return None
        return f"daisy:throttle:{self.scope}:{self.kind}:{ident}"

    def allow_request(self, request: HttpRequest) -> bool:
        self.shared_wait = None
        try:
            if limits.shared():
                key = self.get_cache_key(request)
                if key is None:
                    return True
                num, duration = self.num_requests, self.duration
                assert num is not None and duration is not None
                self.shared_wait = limits.sliding_window_hit(key, limit=num, period=duration)
                return self.shared_wait is None
            return super().allow_request(request)
        except Exception:  # noqa: BLE001 - refused, loudly: a limit is never silently off
            logger.error(
                "rate limit %s/%s cannot be counted (store unreachable): request refused",
                self.scope,
                self.kind,
                exc_info=True,
            )
            setattr(request, UNAVAILABLE_FLAG, True)
            self.shared_wait = UNAVAILABLE_RETRY_SECONDS
            return False

    def wait(self) -> float | None:
        if self.shared_wait is not None:
            return float(self.shared_wait)
        return super().wait()


class TokenThrottle(_ScopedThrottle):
    """Per API token (requests without one are not counted here)."""

    kind = "token"

    def ident(self, request: HttpRequest) -> str | None:
        token = getattr(getattr(request, "auth", None), "token", None)
        return None if token is None else str(token.pk)


class AddressThrottle(_ScopedThrottle):
    """Per client address, whatever the token."""

    kind = "ip"

    def ident(self, request: HttpRequest) -> str | None:
        return client_address(request)


WRITE = [TokenThrottle("write"), AddressThrottle("write")]
AVAILABILITY = [TokenThrottle("availability"), AddressThrottle("availability")]
