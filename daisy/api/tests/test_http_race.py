"""Racing for one slot through the API, against a real server process (issue 3, item 8).

gunicorn with 4 workers of 8 threads each (32 requests in flight at once) serves the test
database (SQLite or PostgreSQL, whichever the run uses). The clinic has one specialist, one
room and one pen, so one start can be booked exactly once. 32 threads each open a connection,
wait at a barrier, then send their POST /api/v1/appointments together."""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from time import perf_counter
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from daisy.accounts.models import Role
from daisy.accounts.tokens import api_token_create
from daisy.api.tests.live import LiveServer, live_server
from daisy.scheduling.models import Allocation, Appointment
from tests.support.testing import LONDON, PRESCREEN_CLEAR, make_clinic, make_user

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

RACERS = 32


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any
    sent: float  # perf_counter when the request was written
    answered: float  # ... when the reply was read


def _fire(server: LiveServer, requests: list[tuple[dict[str, str], dict[str, Any]]]) -> list[Reply]:
    """Send every (headers, body) as POST /api/v1/appointments at the same moment: one thread
    and one connection each, connected before a barrier releases them all."""
    host = urlsplit(server.url)
    barrier = threading.Barrier(len(requests))
    replies: list[Reply | BaseException | None] = [None] * len(requests)

    def racer(k: int) -> None:
        headers, body = requests[k]
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=120)
        try:
            conn.connect()
            payload = json.dumps(body)
            barrier.wait(timeout=60)
            conn.request(
                "POST",
                "/api/v1/appointments",
                body=payload,
                headers={"Content-Type": "application/json", **headers},
            )
            sent = perf_counter()
            response = conn.getresponse()
            raw = response.read()
            answered = perf_counter()
            try:
                parsed: Any = json.loads(raw)
            except ValueError:
                parsed = raw[:500]
            replies[k] = Reply(response.status, dict(response.getheaders()), parsed, sent, answered)
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            replies[k] = exc
        finally:
            conn.close()

    threads = [threading.Thread(target=racer, args=(k,)) for k in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    problems = [r for r in replies if not isinstance(r, Reply)]
    assert not problems, f"{problems}\n\nserver log:\n{server.log()}"
    done = [r for r in replies if isinstance(r, Reply)]
    # A real race: most requests were on the wire before the first answer came back.
    first = min(r.answered for r in done)
    in_flight = sum(r.sent < first for r in done)
    print(f"in flight together: {in_flight}")
    assert in_flight >= len(done) // 2, f"only {in_flight} requests in flight together"
    return done


def _slot() -> datetime:
    """10:00 local on a weekday two weeks ahead: inside every client's booking horizon and
    past every minimum notice, on whatever day the test runs."""
    day = timezone.localdate(timezone.now(), LONDON) + timedelta(days=14)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(10), LONDON)


def _overlapping_allocations() -> list[tuple[Any, Any]]:
    rows = list(Allocation.objects.filter(is_active=True).order_by("resource_id", "starts_at"))
    return [
        (a.pk, b.pk)
        for a, b in zip(rows, rows[1:], strict=False)
        if a.resource_id == b.resource_id and b.starts_at < a.ends_at
    ]


def _summary(replies: list[Reply]) -> str:
    return "\n".join(f"{r.status} {json.dumps(r.body, default=str)[:300]}" for r in replies)


def test_32_clients_racing_for_one_slot_exactly_one_wins() -> None:
    clinic = make_clinic(specialists=1, rooms=1, pens=1, clients=RACERS)
    now = timezone.now()
    tokens = []
    for n, client in enumerate(clinic.clients):
        client.user = make_user(role=Role.CLIENT, username=f"racer{n:02d}")
        client.save()
        tokens.append(api_token_create(user=client.user, name="race", now=now).raw)
    start = _slot()
    requests = [
        (
            {"Authorization": f"Bearer {token}", "Idempotency-Key": f"race-{n:02d}"},
            {
                "client": str(client.pk),
                "treatment": "microneedling",
                "start": start.isoformat(),
                "prescreen": PRESCREEN_CLEAR,
            },
        )
        for n, (token, client) in enumerate(zip(tokens, clinic.clients, strict=True))
    ]

    with live_server(workers=4, threads=8) as server:
        replies = _fire(server, requests)
        log = server.log()

    statuses = Counter(r.status for r in replies)
    detail = f"{_summary(replies)}\n\nserver log:\n{log}"
    assert not [r for r in replies if r.status >= 500], detail
    assert statuses == {201: 1, 409: RACERS - 1}, (statuses, detail)
    losers = [r for r in replies if r.status == 409]
    assert {r.body["error"]["code"] for r in losers} == {"slot_unavailable"}, detail
    for r in losers:
        assert len(r.body["error"]["alternatives"]) <= 3
    (winner,) = [r for r in replies if r.status == 201]

    booked = list(Appointment.objects.all())
    assert len(booked) == 1, booked
    assert str(booked[0].pk) == winner.body["id"]
    assert booked[0].starts_at == start
    assert str(booked[0].client_id) == winner.body["client"]
    assert Allocation.objects.filter(appointment=booked[0], is_active=True).exists()
    assert _overlapping_allocations() == []


def test_32_retries_with_one_idempotency_key_book_once_and_all_get_it() -> None:
    clinic = make_clinic(specialists=1, rooms=1, pens=1, clients=1)
    token = api_token_create(user=clinic.reception, name="race", now=timezone.now()).raw
    start = _slot()
    body = {
        "client": str(clinic.clients[0].pk),
        "treatment": "microneedling",
        "start": start.isoformat(),
    }
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "one-key-for-all"}

    with live_server(workers=4, threads=8) as server:
        replies = _fire(server, [(headers, body)] * RACERS)
        log = server.log()

    detail = f"{_summary(replies)}\n\nserver log:\n{log}"
    assert [r.status for r in replies] == [201] * RACERS, detail
    ids = {r.body["id"] for r in replies}
    assert len(ids) == 1, detail
    # One request booked it; every other one was given the stored result.
    fresh = [r for r in replies if r.headers.get("Idempotent-Replayed") != "true"]
    assert len(fresh) == 1, detail

    booked = list(Appointment.objects.all())
    assert [str(a.pk) for a in booked] == list(ids)
    assert booked[0].starts_at == start
    assert _overlapping_allocations() == []
