"""Production at scale, shown (issue 16 item 7): two web processes and two workers on PostgreSQL
and Redis, as docs/deployment.md tells an operator to run them, booking and delivering under
load while one of each is killed.

- 2 web processes: gunicorn servers (one worker of 3 threads each, as `daisy serve`), both on
  the test database and one throwaway Redis (tests/support/redis.py) for their rate limits;
- 2 `daisy worker` processes delivering to a real SMTP server (aiosmtpd, tests/support/
  notifications.py), tasks on the database queue;
- 6 clients book through the public API (POST /api/v1/appointments, real HTTP), 3 on each web
  process; every free time is asked for twice at once, once through each process, under two
  different Idempotency-Keys, so exactly one of the two may win;
- at the same time, 400 emails fall due at once for the two workers;
- a third of the way through the bookings, one web process's gunicorn worker is SIGKILLed (its
  arbiter starts another), and a third of the way through the emails one `daisy worker` is
  (restarted at once, as a supervisor would); a request cut off by the kill is retried, with the
  same key, through the other web process.

Shown: every time booked exactly once (one 201 and one 409 per time, one appointment in the
database, no overlap); every accepted booking is in the database (none lost); a retry with a
used key answers the same appointment (Idempotent-Replayed), never a second one; every message
due is sent, and reaches the SMTP server once by Message-ID (a re-send after a kill is only ever
a message the database recorded as an unknown outcome); no task is left waiting in the queue
and nothing is queued in Redis; a rate limit of 30 per minute lets exactly 30 of 50 requests
through the two processes together (one count on Redis, not one per process).

Its figures (bookings per second across the two web processes, messages per second across the
two workers, recovery after each kill) are printed and, with DAISY_SCALE_FIGURES=path, written
there as JSON: `make bench` runs this test for its scale_* figures (bench/scale.py). No timing
is asserted. PostgreSQL only (the SQLite pass skips it: the PostgreSQL pass of `make test` runs
it); without Redis it is skipped, except under CI=true, where it fails."""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from daisy.accounts.tokens import api_token_create
from daisy.api.tests.live import LiveServer, live_server
from daisy.notifications.models import Message, MessageStatus, WorkerHeartbeat
from daisy.notifications.services import MessageSpec, message_schedule_many
from daisy.scheduling.models import Allocation, Appointment
from tests.support.notifications import SmtpSink
from tests.support.redis import redis_server
from tests.support.testing import current_database_url, make_clinic

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TIMES = 60  # free times, each asked for twice
THREADS_PER_SERVER = 3
KILL_AT = 0.35  # share of the requests answered when the kills land
LEASE_SECONDS = 4  # a killed worker's messages come back after this
SHARED_LIMIT = 30  # per minute, for the shared-count check
BURST = 400  # emails made due at once after the bookings, for messages per second


@dataclass
class Outcome:
    key: str
    target: int
    status: int
    body: Any
    replayed: bool
    tries: int
    servers: list[int]


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _request(
    server: LiveServer, method: str, path: str, body: Any = None, headers: Any = None
) -> tuple[int, Any, dict[str, str]]:
    url = urlsplit(server.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        payload = None if body is None else json.dumps(body)
        conn.request(
            method,
            path,
            body=payload,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        response = conn.getresponse()
        raw = response.read()
        try:
            parsed: Any = json.loads(raw)
        except ValueError:
            parsed = raw[:300]
        return response.status, parsed, {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()


def _spaced(slots: list[dict[str, Any]]) -> list[str]:
    """Starts a whole treatment apart (buffers included), so no two compete."""
    from datetime import datetime

    out: list[str] = []
    last_end = None
    for slot in slots:
        start = datetime.fromisoformat(slot["start"])
        end = max(datetime.fromisoformat(p["end"]) for p in slot["phases"])
        if last_end is None or start >= last_end:
            out.append(slot["start"])
            last_end = end
    return out


class Workers:
    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env, self.log_dir, self.procs, self.started = env, log_dir, {}, 0

    def start(self) -> str:
        self.started += 1
        worker_id = f"scale-worker-{self.started}"
        log = open(self.log_dir / f"{worker_id}.log", "wb")  # noqa: SIM115 - closed by the OS
        self.procs[worker_id] = subprocess.Popen(
            [sys.executable, "-m", "daisy", "worker", "--worker-id", worker_id, "--heartbeat", "1"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return worker_id

    def kill(self, worker_id: str) -> None:
        proc = self.procs[worker_id]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}"
            for p in sorted(self.log_dir.glob("scale-worker-*.log"))
        )


def _wait(condition: Any, *, timeout: float, what: str, detail: Any = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            more = detail() if callable(detail) else detail
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{more}")
        time.sleep(0.1)


def test_two_web_processes_and_two_workers_on_postgres_and_redis(tmp_path: Path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL + Redis: runs in the PostgreSQL pass of `make test`")
    figures: dict[str, Any] = {}
    # One client a time: a client's needling sessions are at least 28 days apart (DOMAIN.md 1.2).
    clinic = make_clinic(specialists=1, rooms=1, pens=1, clients=TIMES)
    token = api_token_create(user=clinic.reception, name="scale", now=timezone.now()).raw
    limited = api_token_create(user=clinic.manager, name="scale-limit", now=timezone.now()).raw
    auth = {"Authorization": f"Bearer {token}"}

    with ExitStack() as stack:
        redis = stack.enter_context(redis_server())
        sink = stack.enter_context(SmtpSink())
        env = {
            "REDIS_URL": redis.url,
            "DAISY_API_RATE_LIMITS": json.dumps(
                {
                    "write": {"token": "100000/minute"},
                    "availability": {"token": f"{SHARED_LIMIT}/minute"},
                }
            ),
            "DAISY_SMS_FILE_DIR": str(tmp_path / "sms"),
            "DAISY_VAR_DIR": str(tmp_path / "var"),
            **sink.env(),
        }
        servers = [
            stack.enter_context(live_server(workers=1, threads=THREADS_PER_SERVER, env=env))
            for _ in range(2)
        ]
        worker_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "daisy.settings",
            "DATABASE_URL": current_database_url(),
            "DAISY_MESSAGE_LEASE_SECONDS": str(LEASE_SECONDS),
            "DAISY_MESSAGE_POLL_SECONDS": "0.5",
            "LOG_LEVEL": "WARNING",
            **env,
        }
        workers = Workers(worker_env, tmp_path)
        stack.callback(workers.stop_all)
        first_worker = workers.start()
        workers.start()
        _wait(lambda: WorkerHeartbeat.objects.count() >= 2, timeout=60, what="2 workers",
              detail=workers.logs)  # fmt: skip

        # Free times, a whole treatment apart, two weeks out and on.
        day = timezone.localdate() + timedelta(days=14)
        query = urlencode(
            {
                "treatment": "microneedling",
                "start": day.isoformat(),
                "end": (day + timedelta(days=40)).isoformat(),
            }
        )
        status, body, _ = _request(servers[0], "GET", f"/api/v1/availability?{query}", headers=auth)
        assert status == 200, body
        starts = _spaced(body["slots"])[:TIMES]
        assert len(starts) == TIMES, f"only {len(starts)} free times"
        clients = [str(c.pk) for c in clinic.clients]

        # Each time asked for twice, under two keys; shuffled so the pair is sent together-ish.
        jobs: list[tuple[int, str, dict[str, Any]]] = []
        for i, start in enumerate(starts):
            payload = {"client": clients[i % len(clients)], "treatment": "microneedling",
                       "start": start}  # fmt: skip
            jobs += [(i, f"scale-{i}-a", payload), (i, f"scale-{i}-b", payload)]
        rng = random.Random(16_07)
        pairs = [jobs[k : k + 2] for k in range(0, len(jobs), 2)]
        rng.shuffle(pairs)
        queue = [job for pair in pairs for job in pair]
        lock = threading.Lock()
        outcomes: list[Outcome] = []
        errors: list[str] = []
        kill_at = int(len(queue) * KILL_AT)
        killed: list[str] = []
        burst = Message.objects.filter(about__startswith="scale-burst:")

        def client(home: int) -> None:
            while True:
                with lock:
                    if not queue:
                        return
                    target, key, payload = queue.pop(0)
                server_index, tries, used = home, 0, []
                while True:
                    tries += 1
                    used.append(server_index)
                    try:
                        status, body, headers = _request(
                            servers[server_index], "POST", "/api/v1/appointments", payload,
                            {**auth, "Idempotency-Key": key},
                        )  # fmt: skip
                        break
                    except (OSError, http.client.HTTPException) as exc:
                        # Cut off by the kill: the same request, same key, other process.
                        if tries >= 5:
                            with lock:
                                errors.append(f"{key}: {exc!r} after {tries} tries")
                            return
                        server_index = 1 - server_index
                        time.sleep(0.1)
                with lock:
                    outcomes.append(
                        Outcome(key, target, status, body,
                                headers.get("idempotent-replayed") == "true", tries, used)
                    )  # fmt: skip

        def web_killer() -> None:
            """A third of the way through the bookings: SIGKILL web process 0's gunicorn
            worker (its arbiter starts another); time until the new one answers."""
            while len(outcomes) < kill_at and threads_alive():
                time.sleep(0.01)
            victims = _children(servers[0].process.pid)
            t_kill = time.monotonic()
            for pid in victims:
                os.kill(pid, signal.SIGKILL)
            figures["killed_gunicorn_workers"] = len(victims)
            deadline = t_kill + 120
            while time.monotonic() < deadline:
                if set(_children(servers[0].process.pid)) - set(victims):
                    try:
                        if _request(servers[0], "GET", "/api/v1/health")[0] in (200, 503):
                            break
                    except (OSError, http.client.HTTPException):
                        pass
                time.sleep(0.05)
            figures["web_recovery_s"] = round(time.monotonic() - t_kill, 2)
            killed.append("web")

        def worker_killer() -> None:
            """A third of the way through the burst: SIGKILL one `daisy worker` (restarted at
            once, as a supervisor would); time until every message it held is sent."""
            try:
                deadline = time.monotonic() + 240
                while burst.filter(status=MessageStatus.SENT).count() < BURST * KILL_AT:
                    if time.monotonic() > deadline:
                        return
                    time.sleep(0.02)
                mine = Message.objects.filter(
                    status=MessageStatus.SENDING, leased_by__startswith=f"{first_worker}/"
                )
                held = set(mine.values_list("pk", flat=True))
                t_kill = time.monotonic()
                workers.kill(first_worker)
                # What it had in hand when it died: its leases run out, then any worker takes
                # them again.
                held |= set(mine.values_list("pk", flat=True))
                workers.start()
                figures["messages_in_hand_of_killed_worker"] = len(held)
                pending = Message.objects.filter(pk__in=held).exclude(status=MessageStatus.SENT)
                while pending.exists() and time.monotonic() < t_kill + 120:
                    time.sleep(0.05)
                figures["worker_recovery_s"] = round(time.monotonic() - t_kill, 2)
                killed.append("worker")
            finally:
                connection.close()

        threads = [
            threading.Thread(target=client, args=(k % 2,)) for k in range(2 * THREADS_PER_SERVER)
        ]

        def threads_alive() -> bool:
            return any(t.is_alive() for t in threads)

        # The load: BURST emails due now for the two workers, and the bookings through the two
        # web processes, at once.
        burst_due = timezone.now()
        with transaction.atomic():
            message_schedule_many(
                messages=[
                    MessageSpec(
                        channel="email",
                        recipient=f"burst{i}@example.com",
                        template="generic",
                        context={"paragraphs": [f"Message {i}"]},
                        send_after=burst_due,
                        dedupe_key=f"scale-burst:{i}",
                        about=f"scale-burst:{i % 10}",
                    )
                    for i in range(BURST)
                ],
                now=burst_due,
            )
        t0 = time.monotonic()
        killers = [threading.Thread(target=web_killer), threading.Thread(target=worker_killer)]
        for t in threads + killers:
            t.start()
        for t in threads:
            t.join(timeout=300)
        load_seconds = time.monotonic() - t0
        for t in killers:
            t.join(timeout=300)
        assert sorted(killed) == ["web", "worker"], f"the kills did not all happen: {killed}"
        assert not errors, errors

        # --- bookings: each time exactly once, none lost, nothing else booked ---------------
        detail = "\n".join(
            f"{o.key} {o.status} tries={o.tries} {json.dumps(o.body, default=str)[:200]}"
            for o in sorted(outcomes, key=lambda o: o.key)
        )
        assert len(outcomes) == 2 * TIMES
        assert Counter(o.status for o in outcomes) == {201: TIMES, 409: TIMES}, detail
        for target in range(TIMES):
            pair = sorted(o.status for o in outcomes if o.target == target)
            assert pair == [201, 409], (target, detail)
        assert {o.body["error"]["code"] for o in outcomes if o.status == 409} == {
            "slot_unavailable"
        }
        accepted = {o.body["id"] for o in outcomes if o.status == 201}
        booked = set(
            str(pk)
            for pk in Appointment.objects.filter(status="booked").values_list("pk", flat=True)
        )
        assert booked == accepted  # no accepted booking lost, none booked unanswered
        assert Appointment.objects.count() == TIMES
        rows = list(Allocation.objects.filter(is_active=True).order_by("resource_id", "starts_at"))
        overlaps = [
            (a.pk, b.pk)
            for a, b in zip(rows, rows[1:], strict=False)
            if a.resource_id == b.resource_id and b.starts_at < a.ends_at
        ]
        assert overlaps == []
        retried = [o for o in outcomes if o.tries > 1]

        # Retries with a used key, through the other process: the same appointment again.
        winners = [o for o in outcomes if o.status == 201]
        for o in rng.sample(winners, 10) + [o for o in retried if o.status == 201]:
            payload = next(p for _, k, p in jobs if k == o.key)
            status, body, headers = _request(
                servers[1 - o.servers[-1]], "POST", "/api/v1/appointments", payload,
                {**auth, "Idempotency-Key": o.key},
            )  # fmt: skip
            assert status == 201 and body["id"] == o.body["id"], (o.key, status, body)
            assert headers.get("idempotent-replayed") == "true"
        assert Appointment.objects.count() == TIMES

        # --- the rate limit is one count across both processes ------------------------------
        limited_auth = {"Authorization": f"Bearer {limited}"}
        path = f"/api/v1/availability?{query}"
        answers: list[int] = []

        def ask(k: int) -> None:
            code, _, _ = _request(servers[k % 2], "GET", path, headers=limited_auth)
            with lock:
                answers.append(code)

        askers = [threading.Thread(target=ask, args=(k,)) for k in range(50)]
        for t in askers:
            t.start()
        for t in askers:
            t.join(timeout=120)
        assert Counter(answers) == {200: SHARED_LIMIT, 429: 50 - SHARED_LIMIT}, answers

        # --- messages: the burst's rate through the two workers (one killed on the way) ----
        _wait(
            lambda: not burst.exclude(status=MessageStatus.SENT).exists(),
            timeout=120, what="the burst sent", detail=workers.logs,
        )  # fmt: skip
        last = max(burst.values_list("sent_at", flat=True))
        burst_seconds = max(0.001, (last - burst_due).total_seconds())

        # --- messages: every due one sent, each received once by Message-ID -----------------
        cutoff = timezone.now()
        due = Message.objects.filter(send_after__lte=cutoff)

        def all_sent() -> bool:
            return not due.exclude(status=MessageStatus.SENT).exists()

        _wait(all_sent, timeout=60, what="every due message sent", detail=lambda: (
            f"{Counter(due.values_list('status', flat=True))}\n{workers.logs()}"
        ))  # fmt: skip
        emails = list(due.filter(channel="email"))
        assert emails, "no email was due"
        expected = {m.message_id_header for m in emails}
        counts = sink.counts()
        assert set(counts) == expected  # none lost, nothing foreign
        unknown = {m.message_id_header for m in emails if m.unknown_outcomes}
        twice = {mid for mid, n in counts.items() if n > 1}
        assert twice <= unknown, (twice, unknown)  # a re-send only after an unknown outcome
        confirmed = {m.about for m in emails}
        assert len(emails) >= TIMES + BURST
        assert {f"appointment:{pk}" for pk in booked} <= confirmed  # every booking confirmed

        # --- nothing piles up: no task waiting, nothing queued in Redis ---------------------
        def queue_drained() -> bool:
            return not DBTaskResult.objects.filter(status="READY").exists()

        _wait(queue_drained, timeout=30, what="the task queue to drain", detail=workers.logs)
        import redis as redis_lib

        keys = [k.decode() for k in redis_lib.Redis.from_url(redis.url).keys("*")]
        assert not [k for k in keys if k.startswith("rq:")], keys
        assert all(k.startswith(("daisy:limit:", ":1:", "daisy:")) for k in keys), keys

        figures.update(
            {
                "bookings_accepted": TIMES,
                "booking_requests": len(outcomes),
                "load_seconds": round(load_seconds, 2),
                "bookings_per_s": round(TIMES / load_seconds, 1),
                "booking_requests_per_s": round(len(outcomes) / load_seconds, 1),
                "requests_retried_after_kill": len(retried),
                "emails_sent": len(emails),
                "messages_sent": due.count(),
                "burst_messages": BURST,
                "messages_per_s": round(BURST / burst_seconds, 1),
                "emails_received_twice": len(twice),
                "emails_recorded_unknown": len(unknown),
                "web_processes": 2,
                "workers": 2,
            }
        )
    print(f"scale figures: {json.dumps(figures)}")
    out = os.environ.get("DAISY_SCALE_FIGURES")
    if out:
        Path(out).write_text(json.dumps(figures, indent=2) + "\n")
