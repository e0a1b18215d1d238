"""The API's rate limits on Redis (REDIS_URL): one count for every process, exact under
concurrency, and never silently off. A Redis that does not answer refuses the limited request
with 503 `rate_limit_unavailable` (JSON, Retry-After) and logs an error; when it is back, the
limits work again. A throwaway redis-server per test (tests/support/redis.py).

That two real web processes share the count is shown by tests/test_scale.py."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any

import pytest
from django.test import override_settings
from ninja.throttling import SimpleRateThrottle

from daisy.clients.models import Client
from daisy.lib import limits
from tests.support.redis import RedisServer, redis_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis(settings: Any) -> Any:
    with redis_server() as server:
        settings.REDIS_URL = server.url
        yield server


def _client_body(n: int) -> dict[str, str]:
    return {"first_name": "Ada", "last_name": f"Limit{n}", "email": f"limit{n}@example.com"}


@override_settings(DAISY_API_RATE_LIMITS={"write": {"token": "3/minute"}})
def test_the_write_limit_counts_on_redis(cast, redis: RedisServer):
    api = cast.as_("reception")
    statuses = [api.post("/clients", _client_body(n)).status_code for n in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    refused = api.post("/clients", _client_body(9))
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 60
    # The count is Redis's, not this process's: another token is counted apart.
    assert cast.as_("manager").post("/clients", _client_body(10)).status_code == 201


def test_the_count_is_exact_under_concurrency(redis: RedisServer):
    """40 callers at once for 7 places: exactly 7 are let through (one atomic step on Redis,
    never a read-then-write that two processes could interleave)."""
    barrier = threading.Barrier(40)
    answers: list[float | None] = []
    lock = threading.Lock()

    def call() -> None:
        barrier.wait(timeout=30)
        wait = limits.sliding_window_hit("test:concurrent", limit=7, period=60)
        with lock:
            answers.append(wait)

    threads = [threading.Thread(target=call) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    allowed = Counter(a is None for a in answers)
    assert allowed == {True: 7, False: 33}
    assert all(0 < a <= 60 for a in answers if a is not None)


@override_settings(DAISY_API_RATE_LIMITS={"write": {"token": "100/minute"}})
def test_redis_down_refuses_loudly_and_recovers(cast, redis: RedisServer, caplog):
    api = cast.as_("reception")
    assert api.post("/clients", _client_body(1)).status_code == 201

    redis.stop()
    with caplog.at_level(logging.ERROR, logger="daisy.api"):
        refused = api.post("/clients", _client_body(2))
    assert refused.status_code == 503
    assert refused["Content-Type"] == "application/json"
    assert refused.json()["error"]["code"] == "rate_limit_unavailable"
    assert int(refused["Retry-After"]) >= 1
    assert any(
        r.levelno == logging.ERROR and "cannot be counted" in r.getMessage() for r in caplog.records
    )
    assert not Client.objects.filter(last_name="Limit2").exists()
    # Reads that are not limited still answer; the health check says what is wrong.
    health = cast.as_("anonymous").get("/health").json()
    assert health["cache"] == "error"

    redis.start()
    assert api.post("/clients", _client_body(3)).status_code == 201
    assert cast.as_("anonymous").get("/health").json()["cache"] == "ok"


@override_settings(
    REDIS_URL="redis://127.0.0.1:9/0",  # the discard port: nothing answers there
    DAISY_API_RATE_LIMITS={"availability": {"ip": "100/minute"}},
)
def test_an_unreachable_redis_is_a_503_on_reads_too(cast):
    answer = cast.as_("anonymous").get(
        "/availability", {"treatment": "microneedling", "start": "2030-01-07", "end": "2030-01-07"}
    )
    assert answer.status_code == 503, answer.content
    assert answer.json()["error"]["code"] == "rate_limit_unavailable"


def test_a_local_cache_failure_refuses_too(cast, monkeypatch, caplog):
    """Without REDIS_URL the counts are the process's own cache; should that fail, the same
    503, never an unlimited API."""

    class Down:
        def get(self, *args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("cache unreachable")

        set = get

    monkeypatch.setattr(SimpleRateThrottle, "cache", Down())
    with caplog.at_level(logging.ERROR, logger="daisy.api"):
        answer = cast.as_("reception").post("/clients", _client_body(1))
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "rate_limit_unavailable"
    assert any("cannot be counted" in r.getMessage() for r in caplog.records)
