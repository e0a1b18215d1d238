"""What staff and the health check see: the oldest due message, and the messages in the admin
with their status and last error, read-only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from daisy.accounts.models import Role, User
from daisy.notifications.models import Message, MessageStatus
from daisy.notifications.selectors import messages_list_for_about, worker_health
from daisy.notifications.services import (
    messages_claim_due,
    messages_sweep_expired_leases,
    worker_heartbeat_beat,
)
from daisy.notifications.tests.conftest import NOW, hand_off, schedule
from tests.support.testing import staff_login

pytestmark = pytest.mark.django_db


def test_worker_health_reports_the_oldest_due_message() -> None:
    assert worker_health(now=NOW).oldest_due_at is None
    schedule(1, prefix="later", send_after=NOW + timedelta(hours=1))
    schedule(1, prefix="old", send_after=NOW - timedelta(minutes=10))
    schedule(1, prefix="new", send_after=NOW - timedelta(minutes=1))
    worker_heartbeat_beat(worker_id="w", started_at=NOW, now=NOW - timedelta(seconds=20))
    health = worker_health(now=NOW)
    assert health.is_healthy
    assert health.oldest_due_at == NOW - timedelta(minutes=10)
    assert health.oldest_due_age_seconds == 600


def test_a_message_stuck_under_an_expired_lease_counts_as_due() -> None:
    (m,) = schedule(send_after=NOW - timedelta(minutes=5))
    messages_claim_due(owner="dead", now=NOW - timedelta(minutes=5), limit=1, lease_seconds=60)
    assert worker_health(now=NOW).oldest_due_at == m.send_after
    assert worker_health(now=NOW - timedelta(minutes=4, seconds=30)).oldest_due_at is None


def test_messages_list_for_about() -> None:
    schedule(2, about="appointment:9")
    schedule(1, prefix="x", about="appointment:8")
    assert messages_list_for_about(about="appointment:9").count() == 2


@pytest.fixture
def manager(client: HttpClient) -> HttpClient:
    user = User.objects.create_superuser(
        username="manager",
        email="manager@example.com",
        password="pw-test-123",
        role=Role.MANAGER,
    )
    staff_login(client, user)
    return client


def changelist(**params: Any) -> tuple[str, dict[str, Any]]:
    return reverse("admin:notifications_message_changelist"), params


def test_admin_lists_messages_with_status_and_last_error(manager: HttpClient) -> None:
    failed, sent, unknown = schedule(3)
    Message.objects.filter(pk=failed.pk).update(
        status=MessageStatus.FAILED, last_error="gave up after 8 attempts; last: SMTP 451 busy"
    )
    Message.objects.filter(pk=sent.pk).update(status=MessageStatus.SENT)
    messages_claim_due(owner="dead", now=NOW, limit=10, lease_seconds=1)
    hand_off("dead", unknown)
    messages_sweep_expired_leases(now=NOW + timedelta(seconds=2))

    url, _ = changelist()
    page = manager.get(url).content.decode()
    assert "gave up after 8 attempts; last: SMTP 451 busy" in page
    assert "Outcome unknown: will be re-sent" in page

    assert manager.get(url, {"status__exact": "failed"}).context["cl"].result_count == 1
    assert manager.get(url, {"channel__exact": "email"}).context["cl"].result_count == 3
    assert manager.get(url, {"q": "client1@example.com"}).context["cl"].result_count == 1

    detail = manager.get(reverse("admin:notifications_message_change", args=[unknown.pk]))
    assert detail.status_code == 200
    assert "outcome unknown: dead started the hand-off" in detail.content.decode()


def test_admin_cannot_add_change_or_delete_messages(manager: HttpClient) -> None:
    (m,) = schedule()
    assert manager.get(reverse("admin:notifications_message_add")).status_code == 403
    change = reverse("admin:notifications_message_change", args=[m.pk])
    manager.post(change, {"status": "sent", "recipient": "evil@example.com"})
    m.refresh_from_db()
    assert (m.status, m.recipient) == (MessageStatus.PENDING, "client0@example.com")
    delete = reverse("admin:notifications_message_delete", args=[m.pk])
    assert manager.post(delete, {"post": "yes"}).status_code == 403
    assert Message.objects.filter(pk=m.pk).exists()


def test_admin_shows_an_unconfirmed_message_with_a_send_again_action(
    manager: HttpClient,
) -> None:
    unconfirmed, sent = schedule(2)
    Message.objects.filter(pk=unconfirmed.pk).update(
        status=MessageStatus.UNCONFIRMED,
        attempts=1,
        unknown_outcomes=1,
        last_error="handed over at attempt 1, not confirmed: timed out",
    )
    Message.objects.filter(pk=sent.pk).update(status=MessageStatus.SENT)
    url, _ = changelist()
    page = manager.get(url, {"status__exact": "unconfirmed"})
    assert page.context["cl"].result_count == 1
    text = page.content.decode()
    assert "Handed over, not confirmed" in text
    assert "Send again (delivery was not confirmed" in text
