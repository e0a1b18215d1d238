"""SMS: the file backend for development, and the Twilio-shaped HTTP adapter against a fake
server on loopback (never the real network)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from daisy.notifications.channels import Outgoing
from daisy.notifications.channels.sms import sms_channel
from daisy.notifications.delivery import Deliverer
from daisy.notifications.models import Message, MessageStatus
from daisy.notifications.services import (
    messages_claim_due,
    messages_sweep_expired_leases,
)
from daisy.notifications.tests.conftest import Clock, hand_off, schedule
from tests.support.notifications import FakeTwilio

db = pytest.mark.django_db
PHONE = "+447700900123"


def sms(n: int = 1, **kw: Any) -> list[Message]:
    return schedule(
        n,
        channel="sms",
        recipient=PHONE,
        context={
            "paragraphs": ["Reminder: micro-needling tomorrow 10:30."],
            "link": "https://daisy.example/c/abc",
        },
        **kw,
    )


@db
def test_file_backend_writes_one_file_per_message(
    settings: Any, tmp_path: Path, clock: Clock
) -> None:
    settings.DAISY_SMS_BACKEND = "file"
    settings.DAISY_SMS_FILE_DIR = tmp_path
    (m,) = sms()
    assert Deliverer(owner="w", clock=clock).drain().sent == 1
    written = (tmp_path / f"{m.pk}.txt").read_text()
    assert f"To: {PHONE}" in written
    assert "Reminder: micro-needling tomorrow 10:30. https://daisy.example/c/abc" in written
    m.refresh_from_db()
    assert (m.status, m.provider_id) == (MessageStatus.SENT, f"file:{m.pk}.txt")


@pytest.fixture
def twilio(settings: Any) -> Any:
    with FakeTwilio() as fake:
        settings.DAISY_SMS_BACKEND = "twilio"
        settings.DAISY_TWILIO_BASE_URL = fake.base_url
        settings.DAISY_TWILIO_ACCOUNT_SID = fake.account_sid
        settings.DAISY_TWILIO_AUTH_TOKEN = fake.auth_token
        settings.DAISY_SMS_FROM = "+447700900999"
        yield fake


@db
def test_twilio_adapter_posts_the_message_form_with_basic_auth(
    twilio: FakeTwilio, clock: Clock
) -> None:
    (m,) = sms()
    assert Deliverer(owner="w", clock=clock).drain().sent == 1
    (request,) = twilio.requests
    assert request["path"] == f"/2010-04-01/Accounts/{twilio.account_sid}/Messages.json"
    assert request["auth_ok"]
    assert request["key"] == str(m.pk)
    assert request["form"] == {
        "To": PHONE,
        "From": "+447700900999",
        "Body": "Reminder: micro-needling tomorrow 10:30. https://daisy.example/c/abc",
    }
    m.refresh_from_db()
    assert m.status == MessageStatus.SENT
    assert m.provider_id == twilio.delivered[str(m.pk)]["sid"]


@db
def test_twilio_resend_after_unknown_outcome_uses_the_same_idempotency_key(
    twilio: FakeTwilio, clock: Clock
) -> None:
    (m,) = sms()
    # A worker hands it off, the provider accepts, the worker dies before recording.
    messages_claim_due(owner="doomed", now=clock.now, limit=1, lease_seconds=10)
    hand_off("doomed", m, now=clock.now)
    first_sid = sms_channel().send(
        Outgoing(m.pk, m.message_id_header, str(m.pk), PHONE, "", "hello", "", (), False)
    )
    clock.advance(seconds=11)
    assert messages_sweep_expired_leases(now=clock.now).unknown == 1

    assert Deliverer(owner="w", clock=clock).drain().sent == 1
    m.refresh_from_db()
    assert (m.status, m.unknown_outcomes, m.provider_id) == (MessageStatus.SENT, 1, first_sid)
    assert [r["key"] for r in twilio.requests] == [str(m.pk), str(m.pk)]
    assert len(twilio.delivered) == 1  # the provider sent one SMS


@db
def test_twilio_client_errors_fail_at_once_with_the_providers_reason(
    twilio: FakeTwilio, clock: Clock
) -> None:
    twilio.reply = lambda form, attempt: (
        400,
        {"code": 21211, "message": "The 'To' number is not a valid phone number."},
    )
    (m,) = sms()
    assert Deliverer(owner="w", clock=clock).drain().failed == 1
    m.refresh_from_db()
    assert m.status == MessageStatus.FAILED
    assert "HTTP 400" in m.last_error and "not a valid phone number" in m.last_error
    assert "21211" in m.last_error


@db
def test_twilio_server_errors_and_rate_limits_are_retried(twilio: FakeTwilio, clock: Clock) -> None:
    scripted: dict[int, tuple[int, dict[str, Any]]] = {
        1: (503, {"message": "busy"}),
        2: (429, {"code": 20429, "message": "Too Many"}),
    }
    twilio.reply = lambda form, attempt: scripted.get(attempt)
    (m,) = sms()
    for _ in range(3):
        Deliverer(owner="w", clock=clock).drain()
        clock.advance(hours=1)
    m.refresh_from_db()
    assert (m.status, m.attempts) == (MessageStatus.SENT, 3)
    assert len(twilio.requests) == 3


@db
def test_twilio_with_wrong_credentials_fails(
    twilio: FakeTwilio, settings: Any, clock: Clock
) -> None:
    settings.DAISY_TWILIO_AUTH_TOKEN = "wrong"
    (m,) = sms()
    Deliverer(owner="w", clock=clock).drain()
    m.refresh_from_db()
    assert m.status == MessageStatus.FAILED and "HTTP 401" in m.last_error
