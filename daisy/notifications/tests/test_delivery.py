"""Delivery in-process, with a hand-moved clock and a real SMTP server on loopback: what goes
out, retries and back-off, permanent refusals, and what happens to a message when its worker is
lost before or after the hand-off."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker

from daisy.notifications.channels import Outgoing, channel_for
from daisy.notifications.delivery import Deliverer
from daisy.notifications.models import Message, MessageStatus
from daisy.notifications.rendering import attachment_spec
from daisy.notifications.services import (
    DeliveryResult,
    messages_claim_due,
    messages_handoff_start,
    messages_record_results,
    messages_sweep_expired_leases,
    retry_delay,
)
from daisy.notifications.tasks import deliver_due
from daisy.notifications.testing import SmtpSink
from daisy.notifications.tests.conftest import NOW, Clock, schedule

db = pytest.mark.django_db
tx = pytest.mark.django_db(transaction=True)

ICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Daisy//EN\r\nEND:VCALENDAR\r\n"


def deliver(clock: Clock, **kw: Any) -> Any:
    return Deliverer(owner=kw.pop("owner", "worker-a"), clock=clock, **kw).drain()


def status(m: Message) -> str:
    m.refresh_from_db()
    return m.status


# --- what goes out --------------------------------------------------------------------------------


@db
def test_delivers_text_html_and_attachment_with_a_stable_message_id(
    sink: SmtpSink, clock: Clock
) -> None:
    (m,) = schedule(
        context={"name": "Ada & Co", "subject": "Your visit", "paragraphs": ["See you <soon>."]},
        attachments=[
            attachment_spec(filename="visit.ics", content_type="text/calendar", content=ICS)
        ],
        language="de",
    )
    stats = deliver(clock)
    assert (stats.claimed, stats.sent) == (1, 1)

    m.refresh_from_db()
    assert m.status == MessageStatus.SENT
    assert (m.attempts, m.unknown_outcomes, m.sent_at) == (1, 0, NOW)
    assert m.provider_id == m.message_id_header
    assert m.subject == "Your visit"

    got = sink.by_message_id(m.message_id_header).parsed()
    assert got["Message-ID"] == m.message_id_header
    assert got["To"] == "client0@example.com"
    assert got["Subject"] == "Your visit"
    plain_part, html_part = got.get_body(("plain",)), got.get_body(("html",))
    assert plain_part is not None and html_part is not None
    text, html = plain_part.get_content(), html_part.get_content()
    assert "Hello Ada & Co," in text and "See you <soon>." in text  # plain text is not escaped
    assert "Hello Ada &amp; Co," in html and "See you &lt;soon&gt;." in html
    assert '<html lang="de">' in html  # rendered in the message's language, not the worker's
    (ics,) = [p for p in got.iter_attachments() if p.get_filename() == "visit.ics"]
    assert ics.get_content_type() == "text/calendar"
    assert "BEGIN:VCALENDAR" in ics.get_content()


@db
def test_messages_wait_for_their_send_after(sink: SmtpSink, clock: Clock) -> None:
    (m,) = schedule(send_after=NOW + timedelta(hours=24))
    assert deliver(clock).claimed == 0
    clock.advance(hours=24)
    assert deliver(clock).sent == 1
    assert sink.unique() == {m.message_id_header}


# --- failures -------------------------------------------------------------------------------------


@db
def test_temporary_failures_back_off_then_succeed(sink: SmtpSink, clock: Clock) -> None:
    sink.data_reply = lambda address, attempt: "451 4.3.0 try later" if attempt <= 2 else None
    (m,) = schedule()

    assert deliver(clock).retried == 1
    m.refresh_from_db()
    assert (m.status, m.attempts) == (MessageStatus.PENDING, 1)
    assert m.send_after == NOW + timedelta(seconds=60)
    assert "451" in m.last_error and "attempt 1 of 8" in m.last_error

    clock.advance(seconds=59)
    assert deliver(clock).claimed == 0  # still backing off
    clock.advance(seconds=1)
    assert deliver(clock).retried == 1
    m.refresh_from_db()
    assert m.send_after == clock.now + timedelta(seconds=120)  # doubled

    clock.advance(seconds=120)
    assert deliver(clock).sent == 1
    m.refresh_from_db()
    assert (m.status, m.attempts) == (MessageStatus.SENT, 3)
    assert sink.counts()[m.message_id_header] == 1


def test_back_off_doubles_up_to_the_cap(settings: Any) -> None:
    settings.DAISY_MESSAGE_RETRY_BASE_SECONDS = 60
    settings.DAISY_MESSAGE_RETRY_MAX_SECONDS = 600
    assert [retry_delay(n).total_seconds() for n in range(1, 7)] == [60, 120, 240, 480, 600, 600]


@db
def test_failures_end_as_failed_with_the_reason(sink: SmtpSink, clock: Clock) -> None:
    sink.data_reply = lambda address, attempt: "451 4.7.1 greylisted"
    (m,) = schedule(max_attempts=3)
    for _ in range(3):
        deliver(clock)
        clock.advance(hours=1)
    m.refresh_from_db()
    assert (m.status, m.attempts) == (MessageStatus.FAILED, 3)
    assert m.last_error.startswith("gave up after 3 attempts")
    assert "451" in m.last_error and "greylisted" in m.last_error
    assert sink.received == []
    assert deliver(clock).claimed == 0


@db
def test_a_permanent_refusal_fails_at_once(sink: SmtpSink, clock: Clock) -> None:
    sink.rcpt_reply = lambda address: "550 5.1.1 no such user" if "0@" in address else None
    bad, good = schedule(2)
    stats = deliver(clock)
    assert (stats.failed, stats.sent) == (1, 1)
    bad.refresh_from_db()
    assert (bad.status, bad.attempts) == (MessageStatus.FAILED, 1)
    assert "550" in bad.last_error and "no such user" in bad.last_error
    assert sink.unique() == {good.message_id_header}


@db
def test_an_unreachable_smtp_server_is_a_temporary_failure(
    settings: Any, sink: SmtpSink, clock: Clock
) -> None:
    sink.stop()
    (m,) = schedule()
    assert deliver(clock).retried == 1
    m.refresh_from_db()
    assert m.status == MessageStatus.PENDING and "Connection refused" in m.last_error


@db
def test_expired_messages_are_not_sent(sink: SmtpSink, clock: Clock) -> None:
    (m,) = schedule(expires_at=NOW + timedelta(hours=1))
    clock.advance(hours=2)
    assert deliver(clock).failed == 1
    m.refresh_from_db()
    assert m.status == MessageStatus.FAILED and "expired" in m.last_error
    assert sink.received == []


@db
def test_a_broken_template_fails_only_its_message(sink: SmtpSink, clock: Clock) -> None:
    broken, fine = schedule(2)
    Message.objects.filter(pk=broken.pk).update(template="gone")
    stats = deliver(clock)
    assert (stats.failed, stats.sent) == (1, 1)
    assert status(broken) == MessageStatus.FAILED
    broken.refresh_from_db()
    assert "rendering failed" in broken.last_error


# --- lost workers ------------------------------------------------------------------------------


class Crash(BaseException):
    """Stands for SIGKILL: nothing after it runs, nothing is recorded."""


class SendThenCrash:
    """The real email channel, but the worker 'dies' right after the provider accepted."""

    def __init__(self) -> None:
        self.inner = channel_for("email")

    def open(self) -> None:
        self.inner.open()

    def send(self, outgoing: Outgoing) -> str:
        self.inner.send(outgoing)
        raise Crash

    def close(self) -> None:
        self.inner.close()


@db
def test_a_worker_lost_after_the_hand_off_is_resent_with_the_same_message_id(
    sink: SmtpSink, clock: Clock
) -> None:
    (m,) = schedule()
    with pytest.raises(Crash):
        Deliverer(
            owner="doomed",
            clock=clock,
            lease_seconds=30,
            channel_factory=lambda name: SendThenCrash(),
        ).drain()
    m.refresh_from_db()
    assert (m.status, m.attempts, m.handoff_started_at) == (MessageStatus.SENDING, 1, NOW)

    clock.advance(seconds=29)
    assert messages_sweep_expired_leases(now=clock.now).total == 0  # lease still held
    clock.advance(seconds=2)
    assert messages_sweep_expired_leases(now=clock.now).unknown == 1
    m.refresh_from_db()
    assert (m.status, m.unknown_outcomes) == (MessageStatus.OUTCOME_UNKNOWN, 1)
    assert "outcome unknown: doomed started the hand-off" in m.last_error

    assert deliver(clock, owner="rescuer").sent == 1
    m.refresh_from_db()
    assert (m.status, m.attempts, m.unknown_outcomes) == (MessageStatus.SENT, 2, 1)
    # The receiver got it twice under one Message-ID: a de-duplicating reader sees it once.
    assert sink.counts() == {m.message_id_header: 2}
    assert sink.unique() == {m.message_id_header}


@db
def test_a_worker_lost_before_the_hand_off_leaves_nothing_unknown(
    sink: SmtpSink, clock: Clock
) -> None:
    (m,) = schedule()
    messages_claim_due(owner="doomed", now=NOW, limit=10, lease_seconds=30)
    clock.advance(seconds=31)
    assert messages_sweep_expired_leases(now=clock.now).requeued == 1
    m.refresh_from_db()
    assert (m.status, m.attempts, m.unknown_outcomes) == (MessageStatus.PENDING, 0, 0)
    assert deliver(clock).sent == 1
    assert sink.counts() == {m.message_id_header: 1}


@db
def test_an_unknown_outcome_with_no_attempts_left_fails_and_says_so(clock: Clock) -> None:
    (m,) = schedule(max_attempts=1)
    messages_claim_due(owner="doomed", now=NOW, limit=10, lease_seconds=30)
    messages_handoff_start(owner="doomed", ids=[m.pk], now=NOW, lease_seconds=30)
    clock.advance(minutes=1)
    assert messages_sweep_expired_leases(now=clock.now).failed == 1
    m.refresh_from_db()
    assert (m.status, m.unknown_outcomes) == (MessageStatus.FAILED, 1)
    assert "outcome unknown" in m.last_error and "not re-sent" in m.last_error


@db
def test_a_worker_whose_lease_was_taken_over_cannot_record_its_result(clock: Clock) -> None:
    (m,) = schedule()
    messages_claim_due(owner="slow", now=NOW, limit=10, lease_seconds=30)
    assert messages_handoff_start(owner="slow", ids=[m.pk], now=NOW, lease_seconds=30)
    clock.advance(minutes=1)
    messages_sweep_expired_leases(now=clock.now)
    assert [
        r.pk for r in messages_claim_due(owner="fast", now=clock.now, limit=10, lease_seconds=30)
    ] == [m.pk]
    # The slow worker wakes up and reports: too late, the row is not its own any more.
    late = DeliveryResult(m.pk, "sent", clock.now, provider_id="late")
    assert messages_record_results(owner="slow", results=[late]) == 0
    assert (
        messages_handoff_start(owner="slow", ids=[m.pk], now=clock.now, lease_seconds=30) == set()
    )
    m.refresh_from_db()
    assert (m.status, m.leased_by, m.unknown_outcomes) == (MessageStatus.SENDING, "fast", 1)


@db
def test_a_stopping_worker_releases_what_it_did_not_hand_off(sink: SmtpSink, clock: Clock) -> None:
    schedule(5)
    deliverer = Deliverer(owner="stopping", clock=clock, group=2)
    original = deliverer._deliver_group

    def one_group_then_stop(*args: Any) -> None:
        original(*args)
        deliverer.stop.set()

    deliverer._deliver_group = one_group_then_stop  # type: ignore[method-assign,assignment]
    stats = deliverer.run_once()
    assert (stats.claimed, stats.sent, stats.released) == (5, 2, 3)
    assert Message.objects.filter(status=MessageStatus.PENDING).count() == 3
    assert deliver(clock).sent == 3
    assert len(sink.received) == 5


# --- the task trigger ---------------------------------------------------------------------------


@tx
def test_a_task_that_runs_twice_sends_each_message_once(sink: SmtpSink) -> None:
    now = timezone.now()
    messages = schedule(60, send_after=now, now=now)
    deliver_due.enqueue()
    deliver_due.enqueue()
    # django-tasks-db's own worker runs both tasks, one after the other.
    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="tasks",
        excluded_queue_names=[],
    ).run()
    assert sink.counts() == {m.message_id_header: 1 for m in messages}
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENT}


@tx
def test_tasks_racing_in_threads_send_each_message_once(sink: SmtpSink) -> None:
    now = timezone.now()
    messages = schedule(150, send_after=now, now=now)
    sink.delay = 0.002
    barrier = threading.Barrier(3)
    results: list[dict[str, int]] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(deliver_due.call())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r["sent"] for r in results) == 150
    assert sink.counts() == {m.message_id_header: 1 for m in messages}
    assert Message.objects.filter(status=MessageStatus.SENT, unknown_outcomes=0).count() == 150


class SlowChannel:
    def __init__(self, seconds: float) -> None:
        self.seconds, self.sent = seconds, 0

    def open(self) -> None:
        pass

    def send(self, outgoing: Outgoing) -> str:
        time.sleep(self.seconds)
        self.sent += 1
        return f"slow:{self.sent}"

    def close(self) -> None:
        pass


@db
def test_a_group_that_outlasts_its_lease_hands_back_the_rest(clock: Clock) -> None:
    # Lease 0.4 s: the worker stops handing off 0.1 s before it runs out (at 0.3 s), so the
    # sweep never re-sends what this worker may still be sending.
    schedule(3)
    slow = SlowChannel(0.2)
    stats = Deliverer(
        owner="w", clock=clock, lease_seconds=0.4, group=3, channel_factory=lambda name: slow
    ).run_once()
    assert (stats.sent, stats.released) == (2, 1)
    left = Message.objects.get(status=MessageStatus.PENDING)
    assert (left.attempts, left.handoff_started_at, left.unknown_outcomes) == (0, None, 0)
