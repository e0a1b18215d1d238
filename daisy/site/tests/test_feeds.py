"""Personal calendar feeds (issue 6 item 5): a secret, revocable URL per client and per
specialist, read by calendar apps (parsed here with icalendar)."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client as HttpClient
from icalendar import Calendar

from daisy.aftercare.ics import appointment_uid
from daisy.aftercare.selectors import calendar_feed_url
from daisy.aftercare.services import calendar_feed_issue, calendar_feed_revoke
from daisy.booking.services import appointment_book, appointment_cancel
from daisy.notifications.models import Message
from tests.support.testing import MONDAY, at, booking_now, make_clinic

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    settings.DAISY_MESSAGE_ENQUEUE_TASK = False
    settings.DAISY_PUBLIC_URL = "https://clinic.example"


@pytest.fixture
def diary() -> Any:
    clinic = make_clinic(phone="+442071234567")
    ada, bob = clinic.clients
    specialist = clinic.specialists[0]

    def book(client: Any, day: Any, hour: int) -> Any:
        return appointment_book(
            client=client,
            treatment=clinic.microneedling,
            starts_at=at(day, hour),
            booked_by=clinic.reception,
            now=booking_now(),
            specialist=specialist,
        ).appointment

    clinic.ada_first = book(ada, MONDAY, 10)
    clinic.ada_second = book(ada, MONDAY + timedelta(days=28), 10)
    # 28 days after her second (DOMAIN.md 1.2: one client's needling sessions are 28 days apart).
    clinic.ada_cancelled = book(ada, MONDAY + timedelta(days=56), 10)
    appointment_cancel(appointment=clinic.ada_cancelled, by=clinic.reception, now=booking_now())
    clinic.bob = book(bob, MONDAY + timedelta(days=1), 10)
    return clinic


def get_feed(client: HttpClient, feed: Any) -> Any:
    path = calendar_feed_url(feed).removeprefix("https://clinic.example")
    with time_machine.travel(booking_now(), tick=False):
        return client.get(path)


def events(response: Any) -> dict[str, Any]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    cal = Calendar.from_ical(response.content)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}, cal


def test_client_feed_lists_their_own_appointments_with_the_emailed_uids(
    client: HttpClient, diary: Any
) -> None:
    ada = diary.clients[0]
    feed = calendar_feed_issue(by=diary.reception, now=booking_now(), client=ada)
    assert len(feed.token) >= 43
    found, cal = events(get_feed(client, feed))
    # Bob's appointment and Ada's cancelled one are not in it.
    assert set(found) == {appointment_uid(diary.ada_first), appointment_uid(diary.ada_second)}
    first = found[appointment_uid(diary.ada_first)]
    assert first["DTSTART"].dt == at(MONDAY, 10).astimezone(UTC)
    assert first["DTSTART"].to_ical() == b"20300107T100000Z"  # UTC, the zone named below
    assert str(cal["X-WR-TIMEZONE"]) == "Europe/London"
    assert str(first["LOCATION"]).startswith(diary.location.name)
    # The same UID as the .ics attached to the confirmation email: one event, not two.
    confirmation = Message.objects.get(
        about=f"appointment:{diary.ada_first.pk}", template="appointment/confirmed"
    )
    emailed = Calendar.from_ical(confirmation.attachments[0]["content"])
    assert [str(e["UID"]) for e in emailed.walk("VEVENT")] == [appointment_uid(diary.ada_first)]


def test_specialist_feed_shows_their_diary_without_contact_details(
    client: HttpClient, diary: Any
) -> None:
    specialist = diary.specialists[0]
    feed = calendar_feed_issue(by=diary.manager, now=booking_now(), specialist=specialist)
    found, _ = events(get_feed(client, feed))
    assert set(found) == {
        appointment_uid(a) for a in (diary.ada_first, diary.ada_second, diary.bob)
    }
    ada = diary.clients[0]
    text = get_feed(client, feed).content.decode()
    assert f"{ada.first_name} {ada.last_name[0]}." in text
    for private in (ada.email, ada.phone, ada.last_name, str(ada.date_of_birth)):
        assert private not in text


def test_revoked_rotated_and_unknown_tokens_get_404(client: HttpClient, diary: Any) -> None:
    ada = diary.clients[0]
    old = calendar_feed_issue(by=diary.reception, now=booking_now(), client=ada)
    new = calendar_feed_issue(by=diary.reception, now=booking_now(), client=ada)  # rotate
    assert get_feed(client, old).status_code == 404
    assert get_feed(client, new).status_code == 200
    calendar_feed_revoke(feed=new, by=diary.reception, now=booking_now())
    response = get_feed(client, new)
    assert response.status_code == 404
    assert response.content == b"No calendar here.\n"
    for token in ("nope", "x" * 43, "%00", ""):
        assert client.get(f"/calendar/{token}.ics").status_code == 404
