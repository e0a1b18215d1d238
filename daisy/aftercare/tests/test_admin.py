"""The back-office side of red flags and feeds: open alerts listed for staff; a clinician clears
them with a reason (the hold lifts); reception may look but not clear; feeds are issued,
rotated and revoked from the admin."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client as HttpClient

from daisy.aftercare.models import Alert, CalendarFeed
from daisy.aftercare.services import checkin_link, checkin_record
from daisy.booking.services import appointment_book
from daisy.clients.models import ClinicalHold
from tests.support.testing import MONDAY, at, booking_now, make_clinic, staff_login

pytestmark = pytest.mark.django_db
NOW = at(MONDAY, 14)
ANSWERS = {
    "redness": "worse",
    "swelling": "none",
    "pain": "none",
    "hot_or_weeping": False,
    "spots": False,
    "blisters": False,
    "dark_patches": False,
    "fever": False,
    "toxicity": [],
    "notes": "",
}
CHANGELIST = "/admin/aftercare/alert/"


@pytest.fixture(autouse=True)
def _at_now(settings: Any) -> Iterator[None]:
    settings.DAISY_MESSAGE_ENQUEUE_TASK = False
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def alert() -> Any:
    clinic = make_clinic()
    appt = appointment_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=at(MONDAY, 10),
        booked_by=clinic.reception,
        now=booking_now(),
    ).appointment
    token = checkin_link(appt, "24h").rsplit("/", 1)[1]
    result = checkin_record(token=token, answers=ANSWERS, now=NOW - timedelta(minutes=5))
    result.alert.clinic = clinic
    return result.alert


def test_staff_see_open_alerts_with_severity_and_client(client: HttpClient, alert: Any) -> None:
    staff_login(client, alert.clinic.reception)
    page = client.get(CHANGELIST, {"state": "open"}).content.decode()
    assert alert.client.full_name in page
    assert "Urgent: same-day clinician review" in page
    assert "signs of infection" in page
    detail = client.get(f"{CHANGELIST}{alert.pk}/change/").content.decode()
    assert "redness: Yes, and getting worse or spreading" in detail


def test_a_specialist_clears_an_alert_with_a_reason(client: HttpClient, alert: Any) -> None:
    specialist = alert.clinic.specialists[0].user
    staff_login(client, specialist)
    post = {"action": "clear_alerts", "_selected_action": [str(alert.pk)]}
    # First the confirmation page asks why; an empty reason clears nothing.
    asks = client.post(CHANGELIST, post)
    assert (
        asks.status_code == 200 and "why the client can be treated again" in asks.content.decode()
    )
    client.post(CHANGELIST, {**post, "confirm": "1", "reason": ""})
    assert Alert.objects.get().cleared_at is None
    done = client.post(
        CHANGELIST, {**post, "confirm": "1", "reason": "Seen: irritation only."}, follow=True
    )
    assert "1 alert cleared" in done.content.decode()
    cleared = Alert.objects.get()
    assert (cleared.cleared_by, cleared.clear_reason) == (specialist, "Seen: irritation only.")
    assert not ClinicalHold.objects.filter(cleared_at__isnull=True).exists()


def test_reception_cannot_clear(client: HttpClient, alert: Any) -> None:
    staff_login(client, alert.clinic.reception)
    post = {
        "action": "clear_alerts",
        "_selected_action": [str(alert.pk)],
        "confirm": "1",
        "reason": "Looks fine to me",
    }
    client.post(CHANGELIST, post)
    assert Alert.objects.get().cleared_at is None
    assert ClinicalHold.objects.get().cleared_at is None


def test_feeds_are_issued_rotated_and_revoked_from_the_admin(
    client: HttpClient, alert: Any
) -> None:
    manager = alert.clinic.manager
    staff_login(client, manager)
    specialist = alert.clinic.specialists[0]
    client.post("/admin/aftercare/calendarfeed/add/", {"specialist": str(specialist.pk)})
    first = CalendarFeed.objects.get()
    assert first.specialist == specialist and len(first.token) >= 43
    assert client.get(f"/calendar/{first.token}.ics").status_code == 200
    client.post(
        "/admin/aftercare/calendarfeed/",
        {"action": "rotate_feeds", "_selected_action": [str(first.pk)]},
    )
    second = CalendarFeed.objects.get(revoked_at__isnull=True)
    assert second.token != first.token
    assert client.get(f"/calendar/{first.token}.ics").status_code == 404
    client.post(
        "/admin/aftercare/calendarfeed/",
        {"action": "revoke_feeds", "_selected_action": [str(second.pk)]},
    )
    assert client.get(f"/calendar/{second.token}.ics").status_code == 404
    assert not CalendarFeed.objects.filter(revoked_at__isnull=True).exists()
