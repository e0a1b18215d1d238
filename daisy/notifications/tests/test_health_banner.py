"""Staff pages turn red when no worker has beaten for 5 minutes, and name the oldest due message
(issue 6 item 7); nothing shows while delivery keeps up."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from django.test import Client as HttpClient

from daisy.accounts.models import Role
from daisy.notifications.services import worker_heartbeat_beat
from daisy.notifications.tests.conftest import NOW, schedule
from tests.support.testing import make_user, staff_login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _at_now() -> Iterator[None]:
    # Sessions and "5 minutes ago" are both read from the clock.
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def staff(client: HttpClient) -> HttpClient:
    staff_login(client, make_user(role=Role.RECEPTION))
    return client


def admin_page(client: HttpClient) -> str:
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.content.decode()


def test_no_worker_ever_is_red_with_the_oldest_due_message(staff: HttpClient) -> None:
    schedule(1, send_after=NOW - timedelta(minutes=12))
    page = admin_page(staff)
    assert "daisy-ops-banner daisy-ops-error" in page
    assert "No message worker has ever reported." in page
    assert "The oldest due message has waited 12 minutes" in page
    assert "notifications/health.css" in page


def test_a_worker_silent_for_over_5_minutes_is_red(staff: HttpClient) -> None:
    worker_heartbeat_beat(worker_id="w1", started_at=NOW, now=NOW - timedelta(minutes=6))
    page = admin_page(staff)
    assert "daisy-ops-error" in page
    assert "No message worker has reported for 6 minutes" in page
    assert "No message is waiting." in page


def test_a_beating_worker_and_no_backlog_shows_nothing(staff: HttpClient) -> None:
    worker_heartbeat_beat(worker_id="w1", started_at=NOW, now=NOW - timedelta(minutes=4))
    schedule(1, send_after=NOW - timedelta(minutes=1))
    assert "daisy-ops-banner" not in admin_page(staff)


def test_a_beating_worker_with_a_backlog_is_amber(staff: HttpClient) -> None:
    worker_heartbeat_beat(worker_id="w1", started_at=NOW, now=NOW - timedelta(seconds=10))
    schedule(1, send_after=NOW - timedelta(minutes=9))
    page = admin_page(staff)
    assert "daisy-ops-warning" in page and "Messages are running late." in page


def test_the_sign_in_page_shows_no_banner(client: HttpClient) -> None:
    page = client.get("/account/staff/sign-in/").content.decode()
    assert "daisy-ops-banner" not in page
