"""Scheduling and cancelling messages inside the caller's transaction (DESIGN.md 5): a rollback
leaves nothing, a commit triggers one `deliver_due` task, dedupe keys make scheduling
idempotent, and cancelled messages never go out."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from daisy.lib.errors import InvalidTime, ValidationFailed
from daisy.notifications.delivery import Deliverer
from daisy.notifications.models import Message, MessageStatus
from daisy.notifications.services import (
    DeliveryResult,
    MessageSpec,
    message_cancel_for,
    message_schedule,
    message_schedule_many,
    messages_claim_due,
    messages_handoff,
    messages_record_results,
    messages_sweep_expired_leases,
)
from daisy.notifications.tests.conftest import NOW, Clock, hand_off, schedule
from tests.support.notifications import SmtpSink

db = pytest.mark.django_db
tx = pytest.mark.django_db(transaction=True)


def deliver_tasks() -> int:
    return DBTaskResult.objects.filter(task_path__endswith="deliver_due").count()


@db
def test_schedule_creates_a_pending_message() -> None:
    (m,) = schedule(send_after=NOW + timedelta(hours=24), language="en-gb")
    m.refresh_from_db()
    assert m.status == MessageStatus.PENDING
    assert (m.attempts, m.unknown_outcomes, m.max_attempts) == (0, 0, 8)
    assert m.send_after == NOW + timedelta(hours=24)
    assert m.created_at == NOW
    assert m.message_id_header == f"<{m.pk}@daisy.example>"


@tx
def test_schedule_outside_a_transaction_is_refused() -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        message_schedule(
            channel="email",
            recipient="a@example.com",
            template="generic",
            context={},
            send_after=NOW,
            dedupe_key="k",
            about="x:1",
            now=NOW,
        )
    assert Message.objects.count() == 0


@db
def test_scheduling_the_same_dedupe_key_again_returns_the_first_message() -> None:
    (first,) = schedule(prefix="reminder")
    (again,) = schedule(prefix="reminder", context={"paragraphs": ["changed"]})
    assert again.pk == first.pk
    assert Message.objects.count() == 1
    assert Message.objects.get().context["paragraphs"] == ["Message reminder0."]


def spec(key: str, **kw: Any) -> MessageSpec:
    values: dict[str, Any] = {
        "channel": "email",
        "recipient": "ada@example.com",
        "template": "generic",
        "context": {"paragraphs": [key]},
        "send_after": NOW + timedelta(hours=1),
        "dedupe_key": key,
        "about": "appointment:7",
    }
    values.update(kw)
    return MessageSpec(**values)


@db
def test_schedule_many_inserts_a_bookings_messages_in_one_statement(
    django_assert_max_num_queries: Any,
) -> None:
    keys = [f"appointment:7:{kind}:v1" for kind in ("confirm", "48h", "24h", "d1", "d3", "d7")]
    with transaction.atomic(), django_assert_max_num_queries(3):  # savepoint, INSERT, release
        made = message_schedule_many(messages=[spec(k) for k in keys], now=NOW)
    assert [m.dedupe_key for m in made] == keys
    assert Message.objects.count() == 6


@db
def test_schedule_many_keeps_a_live_message_that_holds_a_key() -> None:
    with transaction.atomic():
        (first,) = message_schedule_many(messages=[spec("a")], now=NOW)
    with transaction.atomic():
        made = message_schedule_many(messages=[spec("a", context={}), spec("b")], now=NOW)
    assert made[0].pk == first.pk and made[0].context == {"paragraphs": ["a"]}
    assert sorted(Message.objects.values_list("dedupe_key", flat=True)) == ["a", "b"]


@db
def test_schedule_many_refuses_one_key_twice() -> None:
    with pytest.raises(ValidationFailed), transaction.atomic():
        message_schedule_many(messages=[spec("a"), spec("a")], now=NOW)


@db
def test_a_cancelled_key_can_be_scheduled_again() -> None:
    (first,) = schedule(prefix="reminder:appt:24h")
    assert message_cancel_for(about="appointment:1", now=NOW) == 1
    (second,) = schedule(prefix="reminder:appt:24h")
    assert second.pk != first.pk
    assert sorted(Message.objects.values_list("status", flat=True)) == ["cancelled", "pending"]


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"channel": "pigeon"}, ValidationFailed),
        ({"recipient": "not-an-address"}, ValidationFailed),
        ({"channel": "sms", "recipient": "07700 900123"}, ValidationFailed),
        ({"template": "no_such_template"}, ValidationFailed),
        ({"template": "../secrets"}, ValidationFailed),
        ({"send_after": NOW.replace(tzinfo=None)}, InvalidTime),
        ({"context": {"when": NOW}}, ValidationFailed),
        ({"expires_at": NOW - timedelta(minutes=1)}, ValidationFailed),
        ({"dedupe_key": ""}, ValidationFailed),
    ],
)
@db
def test_schedule_refuses_what_could_never_be_sent(overrides: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        schedule(**overrides)
    assert Message.objects.count() == 0


@db
def test_sms_numbers_are_stored_in_e164() -> None:
    (m,) = schedule(channel="sms", recipient="+44 7700 900123")
    assert m.recipient == "+447700900123"


@db
def test_attachments_are_stored_as_json_text_or_base64() -> None:
    (m,) = schedule(
        attachments=[
            {
                "filename": "visit.ics",
                "content_type": "text/calendar",
                "content": "BEGIN:VCALENDAR",
            },
            {
                "filename": "a.bin",
                "content_type": "application/octet-stream",
                "content": b"\x00\xff",
            },
        ]
    )
    m.refresh_from_db()
    assert m.attachments[0]["content"] == "BEGIN:VCALENDAR"
    assert m.attachments[1] == {
        "filename": "a.bin",
        "content_type": "application/octet-stream",
        "content": "AP8=",
        "encoding": "base64",
    }


# --- the transaction decides ---------------------------------------------------------------------


class Boom(Exception):
    pass


@tx
def test_a_rolled_back_transaction_leaves_no_message_and_sends_nothing(
    settings: Any, sink: SmtpSink
) -> None:
    settings.DAISY_MESSAGE_ENQUEUE_TASK = True
    with pytest.raises(Boom), transaction.atomic():
        schedule(3)  # a nested atomic: the caller's transaction is the outer one
        raise Boom
    assert Message.objects.count() == 0
    assert deliver_tasks() == 0
    Deliverer(owner="w", clock=lambda: NOW + timedelta(minutes=1)).drain()
    assert sink.received == []


@tx
def test_a_committed_transaction_enqueues_one_deliver_task(settings: Any) -> None:
    settings.DAISY_MESSAGE_ENQUEUE_TASK = True
    schedule(3, now=NOW, send_after=NOW)
    assert Message.objects.count() == 3
    assert deliver_tasks() == 1
    # Only reminders due later: no task, the workers' poll finds them on time.
    schedule(2, prefix="later", send_after=NOW + timedelta(hours=24))
    assert deliver_tasks() == 1


@tx
def test_a_savepoint_rolled_back_does_not_lose_the_outer_trigger(settings: Any) -> None:
    settings.DAISY_MESSAGE_ENQUEUE_TASK = True
    with transaction.atomic():
        with pytest.raises(Boom), transaction.atomic():
            schedule(1, prefix="inner")
            raise Boom
        schedule(1, prefix="outer")
    assert list(Message.objects.values_list("dedupe_key", flat=True)) == ["outer:0"]
    assert deliver_tasks() == 1


@tx
def test_two_transactions_racing_for_one_dedupe_key_make_one_message() -> None:
    barrier = threading.Barrier(2)
    made: list[Any] = []

    def attempt() -> None:
        try:
            barrier.wait()
            made.extend(schedule(1, prefix="race"))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Message.objects.count() == 1
    assert {m.pk for m in made} == {Message.objects.get().pk}


# --- cancelling ---------------------------------------------------------------------------------


@db
def test_cancel_for_cancels_pending_ones_and_they_never_go_out(
    sink: SmtpSink, clock: Clock
) -> None:
    keep = schedule(2, prefix="other", about="appointment:2")
    gone = schedule(3, prefix="mine", about="appointment:1")
    sent = schedule(1, prefix="done", about="appointment:1")
    Message.objects.filter(pk=sent[0].pk).update(status=MessageStatus.SENT)

    assert message_cancel_for(about="appointment:1", now=NOW) == 3
    Deliverer(owner="w", clock=clock).drain()

    statuses = dict(Message.objects.values_list("pk", "status"))
    assert {statuses[m.pk] for m in gone} == {MessageStatus.CANCELLED}
    assert statuses[sent[0].pk] == MessageStatus.SENT
    assert sink.unique() == {m.message_id_header for m in keep}


@db
def test_cancel_for_only_the_kinds_given() -> None:
    schedule(1, prefix="confirmation", about="appointment:1")
    schedule(1, prefix="reminder", about="appointment:1", template="generic")
    Message.objects.filter(dedupe_key="confirmation:0").update(template="confirmation")
    assert message_cancel_for(about="appointment:1", now=NOW, kinds=["generic"]) == 1
    assert Message.objects.get(dedupe_key="confirmation:0").status == MessageStatus.PENDING


@db
def test_a_cancel_stops_all_but_the_message_being_handed_off(
    sink: SmtpSink, no_other_messages: None
) -> None:
    # A worker claims a group and hands its messages off one at a time: a cancel stops all but
    # the one in hand, including the claimed ones still waiting their turn (the worker's hand-off
    # mark then finds them cancelled and skips them).
    schedule(4)
    claimed = messages_claim_due(owner="w", now=NOW, limit=3, lease_seconds=60)
    in_hand = claimed[0]
    hand_off("w", in_hand)
    assert message_cancel_for(about="appointment:1", now=NOW) == 3
    statuses = dict(Message.objects.values_list("pk", "status"))
    assert statuses.pop(in_hand.pk) == MessageStatus.SENDING
    assert set(statuses.values()) == {MessageStatus.CANCELLED}
    assert not messages_handoff(owner="w", message_id=claimed[1].pk, now=NOW)


@db
def test_a_message_already_handed_off_is_not_cancelled() -> None:
    (m,) = schedule()
    assert messages_claim_due(owner="w", now=NOW, limit=10, lease_seconds=60)
    hand_off("w", m)
    assert message_cancel_for(about="appointment:1", now=NOW) == 0
    m.refresh_from_db()
    assert m.status == MessageStatus.SENDING


@db
def test_a_message_cancelled_in_flight_that_does_not_go_out_ends_cancelled() -> None:
    # A reschedule cancels the old reminders while a worker has three of them in hand: one goes
    # out (too late to stop), one is given back (the worker is stopping), one gets "try later".
    # The last two must never go out afterwards.
    schedule(3)
    sent, released, deferred = messages_claim_due(owner="w", now=NOW, limit=3, lease_seconds=60)
    hand_off("w", sent, deferred)  # as if the worker had these two in hand at once
    # The one not handed off yet is stopped at once; the two in hand cannot be called back.
    assert message_cancel_for(about="appointment:1", now=NOW) == 1
    messages_record_results(
        owner="w",
        results=[
            DeliveryResult(sent.pk, "sent", NOW, provider_id="p"),
            DeliveryResult(released.pk, "release", NOW),
            DeliveryResult(deferred.pk, "retry", NOW, attempts=1, max_attempts=8, error="451"),
        ],
    )
    statuses = dict(Message.objects.values_list("pk", "status"))
    assert statuses == {
        sent.pk: MessageStatus.SENT,
        released.pk: MessageStatus.CANCELLED,
        deferred.pk: MessageStatus.CANCELLED,
    }
    later = NOW + timedelta(days=1)
    assert messages_claim_due(owner="v", now=later, limit=10, lease_seconds=60) == []


@db
def test_a_lost_worker_s_message_cancelled_in_flight_is_not_re_sent() -> None:
    (m,) = schedule()
    messages_claim_due(owner="lost", now=NOW, limit=1, lease_seconds=60)
    hand_off("lost", m)
    message_cancel_for(about="appointment:1", now=NOW)
    swept = messages_sweep_expired_leases(now=NOW + timedelta(seconds=61))
    assert (swept.cancelled, swept.unknown) == (1, 0)
    m.refresh_from_db()
    assert (m.status, m.unknown_outcomes) == (MessageStatus.CANCELLED, 1)
    assert "cancelled meanwhile, not re-sent" in m.last_error
    assert (
        messages_claim_due(owner="v", now=NOW + timedelta(days=1), limit=10, lease_seconds=60) == []
    )


@tx
def test_a_worker_skips_rows_a_cancelling_transaction_holds() -> None:
    # A booking transaction cancels its messages and is still open; a worker looks for due
    # messages. PostgreSQL: the worker does not wait (SKIP LOCKED), so it can never deadlock with
    # the booking; SQLite: it waits for the write lock. Either way nothing of what was cancelled
    # is claimed or sent.
    now = timezone.now()
    schedule(3, send_after=now, now=now)
    locked, release = threading.Event(), threading.Event()

    def booking() -> None:
        try:
            with transaction.atomic():
                assert message_cancel_for(about="appointment:1", now=now) == 3
                locked.set()
                release.wait(5)
        finally:
            connection.close()

    thread = threading.Thread(target=booking)
    thread.start()
    assert locked.wait(5)
    if connection.vendor == "postgresql":
        started = time.monotonic()
        assert messages_claim_due(owner="w", now=now, limit=10, lease_seconds=60) == []
        assert time.monotonic() - started < 1.0
        release.set()
    else:
        threading.Timer(0.3, release.set).start()
        assert messages_claim_due(owner="w", now=now, limit=10, lease_seconds=60) == []
    thread.join()
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.CANCELLED}
