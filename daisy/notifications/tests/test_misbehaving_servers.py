"""Delivery that a client experiences as exactly once (issue 16 item 6), in-process against a
real SMTP server on loopback that misbehaves on purpose, and the fake SMS provider:

- a reply that comes after the timeout, or a connection dropped, once the server had the whole
  message: `unconfirmed`, counted as an unknown outcome, never sent again by itself; staff may
  send it again (audited), under the same Message-ID;
- a connection dropped before the message: an ordinary retry;
- a server that hangs is given up on within the short connect limit, its channel is paused
  (the rest of its messages stay pending, no attempt used) while SMS goes on, and email
  resumes once the server answers;
- a worker lost mid-group leaves at most the one message it had in hand."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from daisy.audit.models import AuditEntry
from daisy.notifications.delivery import ChannelPauses, Deliverer
from daisy.notifications.models import Message, MessageStatus
from daisy.notifications.services import message_resend_by_staff, messages_sweep_expired_leases
from daisy.notifications.tests.conftest import Clock, schedule
from daisy.notifications.tests.test_delivery import HookedEmail
from tests.support.notifications import FakeTwilio, SmtpSink
from tests.support.testing import make_user

pytestmark = pytest.mark.django_db

PHONE = "+447700900123"


@pytest.fixture(autouse=True)
def _short_timeouts(settings: Any) -> None:
    settings.EMAIL_TIMEOUT = 1
    settings.DAISY_SMTP_CONNECT_TIMEOUT = 0.5
    settings.DAISY_SMS_TIMEOUT = 1


@pytest.fixture
def twilio(settings: Any) -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        settings.DAISY_SMS_BACKEND = "twilio"
        settings.DAISY_TWILIO_BASE_URL = fake.base_url
        settings.DAISY_TWILIO_ACCOUNT_SID = fake.account_sid
        settings.DAISY_TWILIO_AUTH_TOKEN = fake.auth_token
        yield fake


def deliver(clock: Clock, **kw: Any) -> Any:
    return Deliverer(owner=kw.pop("owner", "w"), clock=clock, **kw).drain()


def test_a_late_reply_after_the_whole_message_is_unconfirmed_and_not_sent_again(
    sink: SmtpSink, clock: Clock
) -> None:
    late, fine = schedule(2)
    sink.late_seconds = 1.5  # past EMAIL_TIMEOUT (1 s)
    sink.misbehave = lambda phase, to: "late" if (phase, to) == ("data", late.recipient) else None

    stats = deliver(clock)

    assert (stats.sent, stats.unconfirmed, stats.retried) == (1, 1, 0)
    late.refresh_from_db()
    assert (late.status, late.attempts, late.unknown_outcomes) == (
        MessageStatus.UNCONFIRMED,
        1,
        1,
    )
    assert "not confirmed" in late.last_error
    assert late.lease_until is None
    # Never again by itself, however long the workers keep going.
    clock.advance(days=2)
    messages_sweep_expired_leases(now=clock.now)
    assert deliver(clock).claimed == 0
    assert sink.counts() == {late.message_id_header: 1, fine.message_id_header: 1}


def test_a_connection_dropped_after_the_whole_message_is_unconfirmed(
    sink: SmtpSink, clock: Clock
) -> None:
    (m,) = schedule()
    sink.misbehave = lambda phase, to: "drop" if phase == "data" else None
    assert deliver(clock).unconfirmed == 1
    m.refresh_from_db()
    assert m.status == MessageStatus.UNCONFIRMED
    assert sink.counts() == {m.message_id_header: 1}


def test_a_connection_dropped_before_the_message_is_retried(sink: SmtpSink, clock: Clock) -> None:
    (m,) = schedule()
    drops = iter([True])
    sink.misbehave = lambda phase, to: "drop" if phase == "mail" and next(drops, False) else None
    assert deliver(clock).retried == 1
    m.refresh_from_db()
    assert (m.status, m.attempts, m.unknown_outcomes) == (MessageStatus.PENDING, 1, 0)
    clock.advance(minutes=2)
    assert deliver(clock).sent == 1
    assert sink.counts() == {m.message_id_header: 1}


def test_staff_send_an_unconfirmed_message_again_deliberately_and_it_is_audited(
    sink: SmtpSink, clock: Clock
) -> None:
    (m,) = schedule()
    sink.misbehave = lambda phase, to: "drop" if phase == "data" else None
    deliver(clock)
    sink.misbehave = None
    manager = make_user(role="manager")

    message_resend_by_staff(message_id=m.pk, by=manager, now=clock.now)

    m.refresh_from_db()
    assert m.status == MessageStatus.PENDING and "sent again by" in m.last_error
    assert AuditEntry.objects.filter(action="message.resend", object_id=str(m.pk)).count() == 1
    assert deliver(clock).sent == 1
    m.refresh_from_db()
    assert (m.status, m.attempts, m.unknown_outcomes) == (MessageStatus.SENT, 2, 1)
    # The same Message-ID both times: a receiver that de-duplicates shows it once.
    assert sink.counts() == {m.message_id_header: 2}
    with pytest.raises(Exception, match="not confirmed can be sent again"):
        message_resend_by_staff(message_id=m.pk, by=manager, now=clock.now)


def test_a_hung_mail_server_is_skipped_quickly_sms_goes_on_and_email_resumes(
    sink: SmtpSink, twilio: FakeTwilio, clock: Clock
) -> None:
    emails = schedule(4)
    texts = schedule(
        2, prefix="sms", channel="sms", recipient=PHONE, template="generic", about="sms:1"
    )
    sink.stall(60)
    pauses = ChannelPauses(seconds=60)
    started = time.monotonic()

    stats = deliver(clock, pauses=pauses, group=10)

    took = time.monotonic() - started
    # One email tried (and given up on at the connect limit), the other three handed back
    # untouched; both texts sent meanwhile.
    assert (stats.sent, stats.retried, stats.released) == (2, 1, 3), stats
    assert took < 10, took  # not four EMAIL_TIMEOUTs per thread: one short connect limit
    assert pauses.paused() == {"email"}
    assert {t.pk for t in texts} == {
        pk for pk, s in Message.objects.values_list("pk", "status") if s == MessageStatus.SENT
    }
    assert sorted(Message.objects.filter(channel="email").values_list("attempts", flat=True)) == [
        0,
        0,
        0,
        1,
    ]
    assert "cannot reach the mail server" in (
        Message.objects.get(channel="email", attempts=1).last_error
    )
    # While paused, the email is not even claimed.
    assert deliver(clock, pauses=pauses).claimed == 0

    sink.stall_until = 0  # the server is back
    pauses.resume("email")
    clock.advance(minutes=5)
    assert deliver(clock, pauses=pauses).sent == 4
    assert sink.counts() == {m.message_id_header: 1 for m in emails}


def test_an_sms_provider_that_answers_too_late_is_unconfirmed(
    twilio: FakeTwilio, clock: Clock
) -> None:
    (m,) = schedule(channel="sms", recipient=PHONE, template="generic", about="sms:1")

    def slow(form: dict[str, str], attempt: int) -> None:
        time.sleep(1.5)  # past DAISY_SMS_TIMEOUT; the provider goes on and sends it
        return None

    twilio.reply = slow
    assert deliver(clock).unconfirmed == 1
    m.refresh_from_db()
    assert (m.status, m.unknown_outcomes) == (MessageStatus.UNCONFIRMED, 1)
    assert "did not answer" in m.last_error
    assert len(twilio.requests) == 1


class Killed(BaseException):
    """The worker process dies (SIGKILL): nothing after it runs, not even `finally` writes."""


def test_a_worker_lost_mid_group_leaves_only_the_message_in_hand_unknown(
    sink: SmtpSink, clock: Clock
) -> None:
    messages = schedule(10)

    def die_on_the_fourth(n: int) -> None:
        if n == 4:
            raise Killed

    with pytest.raises(Killed):
        Deliverer(
            owner="doomed",
            clock=clock,
            lease_seconds=30,
            group=10,
            channel_factory=lambda name: HookedEmail(after=die_on_the_fourth),
        ).drain()
    clock.advance(seconds=31)
    swept = messages_sweep_expired_leases(now=clock.now)
    # Three results recorded as they happened, the fourth in hand (it went out: unknown), the
    # other six never started: simply pending again.
    assert (swept.unknown, swept.requeued) == (1, 6)
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 3
    assert deliver(clock, owner="rescuer").sent == 7
    counts = sink.counts()
    twice = {mid for mid, n in counts.items() if n > 1}
    assert len(counts) == 10 and len(twice) == 1
    (again,) = [m for m in messages if m.message_id_header in twice]
    again.refresh_from_db()
    assert (again.status, again.unknown_outcomes) == (MessageStatus.SENT, 1)


def test_the_smtp_backend_has_a_short_limit_for_reaching_the_server(settings: Any) -> None:
    from daisy.notifications.channels.smtp import EmailBackend

    with SmtpSink() as smtp:
        smtp.stall(5)
        backend = EmailBackend(host=smtp.host, port=smtp.port, timeout=20, connect_timeout=0.3)
        started = time.monotonic()
        with pytest.raises(OSError):
            backend.open()
        assert time.monotonic() - started < 3
        smtp.stall_until = 0
        assert backend.open() is True
        assert backend.connection is not None and backend.connection.sock.gettimeout() == 20
        backend.close()

