"""Rate-limit counters that every server process shares: Redis, when REDIS_URL is set.

`sliding_window_hit(key, limit=, period=)` counts one request under `key` if fewer than `limit`
were counted in the last `period` seconds, in one atomic step on the Redis server (a Lua
script over a sorted set of request times, the clock being Redis's own), so two web processes
answering at the same moment can never both take the last place: at most `limit` requests in
any `period`, however many processes count. It returns None (allowed) or the seconds until
one more would be allowed.

Without REDIS_URL there is nothing to share: callers count in their own process (Django's
local-memory cache). A Redis that cannot be reached raises LimitsUnavailable; the caller decides
whether that refuses the request (the API does: 503) or is logged and let through.

`redis_client()` is also what the health endpoint pings. Connections time out after
DAISY_REDIS_TIMEOUT_SECONDS, so an unreachable Redis costs a request that long at most."""

from __future__ import annotations

import secrets
import threading
from typing import Any

from django.conf import settings

# KEYS[1]: the counter; ARGV: limit, period in microseconds, a unique member for this request.
# Returns -1 when counted (allowed), else the microseconds until the oldest entry leaves the
# window. TIME is Redis's clock: web processes on several machines agree on it.
_SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(period / 1000) + 1000)
  return -1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(oldest[2]) + period - now
"""


class LimitsUnavailable(RuntimeError):
    """The shared counter store (Redis) did not answer."""


_lock = threading.Lock()
_clients: dict[str, Any] = {}
_scripts: dict[str, Any] = {}


def shared() -> bool:
    """True when counters are shared by every process (REDIS_URL is set)."""
    return bool(getattr(settings, "REDIS_URL", ""))


def redis_client() -> Any:
    """One client (with its own connection pool) per process and REDIS_URL."""
    url = settings.REDIS_URL
    with _lock:
        client = _clients.get(url)
        if client is None:
            import redis

            timeout = float(getattr(settings, "DAISY_REDIS_TIMEOUT_SECONDS", 1.0))
            client = redis.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout
            )
            _clients[url] = client
            _scripts[url] = client.register_script(_SLIDING_WINDOW)
        return client


def sliding_window_hit(key: str, *, limit: int, period: float) -> float | None:
    """Count one request under `key`, or say how long to wait (see the module's docstring)."""
    if limit <= 0:
        return max(1.0, float(period))
    redis_client()
    script = _scripts[settings.REDIS_URL]
    member = secrets.token_hex(8)
    try:
        answer = script(keys=[f"daisy:limit:{key}"], args=[limit, int(period * 1e6), member])
    except Exception as exc:  # redis' ConnectionError, TimeoutError, ResponseError...
        raise LimitsUnavailable(f"rate-limit store unreachable: {type(exc).__name__}") from exc
    wait = int(answer)
    return None if wait < 0 else max(0.001, wait / 1e6)


def ping() -> bool:
    """True when Redis answers (always True without REDIS_URL: nothing to reach)."""
    if not shared():
        return True
    try:
        return bool(redis_client().ping())
    except Exception:  # noqa: BLE001 - the caller reports it
        return False
