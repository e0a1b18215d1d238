"""The done pages after a booking (issue 12 item 4): "Manage your booking" (the portal for a
signed-in client; a sign-in link by email for a guest, since the page cannot prove who typed the
address) and "Add to calendar", whose .ics opens without a login; the review page shows the
care dated for the chosen time, never a bare weekday."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client as HttpClient
from icalendar import Calendar

from daisy.accounts.models import Role, User
from daisy.booking.courses import SessionTime, course_book
from daisy.booking.services import appointment_book
from daisy.courses.services import course_presets_install
from daisy.site.templatetags.daisy_booking import care_timeline
from tests.support.testing import (
    MONDAY,
    PRESCREEN_CLEAR,
    at,
    booking_now,
    make_client,
    make_clinic,
    precare_keys,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    settings.DAISY_MESSAGE_ENQUEUE_TASK = False


def _calendar_link(page: str) -> str:
    match = re.search(r'href="(/calendar/file/[^"]+\.ics)"', page)
    assert match, page
    return match.group(1)


def test_a_guests_done_page_offers_a_sign_in_link_and_the_calendar_file(
    client: HttpClient,
) -> None:
    clinic = make_clinic()
    appt = appointment_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=at(MONDAY, 10),
        booked_by=clinic.reception,
        now=booking_now(),
    ).appointment
    session = client.session
    session["booking_done"] = {"appointment": str(appt.pk), "created": True}
    session.save()
    page = client.get("/book/done/").content.decode()
    assert "Manage your booking" in page
    assert "You can move or cancel it online until Saturday 5 January, 10:00 GMT" in page
    assert 'href="/account/sign-in/link/"' in page  # "Email me a sign-in link"
    ics = client.get(_calendar_link(page))
    assert ics.status_code == 200
    [event] = Calendar.from_ical(ics.content).walk("VEVENT")
    assert str(event["uid"]) == f"{appt.pk}@daisy"


def test_a_signed_in_clients_course_done_page_links_to_the_course_and_all_its_dates(
    client: HttpClient,
) -> None:
    course_presets_install()
    clinic = make_clinic()
    user = User.objects.create_user(
        username="c1", email="c1@example.com", password="pw-test-123", role=Role.CLIENT
    )
    customer = make_client(email="c1@example.com", user=user)
    booked = course_book(
        client=customer,
        treatment=clinic.microneedling,
        booked_by=user,
        now=booking_now(),
        sessions=3,
        session_times=[SessionTime(at(MONDAY + timedelta(weeks=4 * k), 10)) for k in range(3)],
        prescreen=PRESCREEN_CLEAR,
        # A week ahead is too soon for the two-week preparation; this client follows it.
        precare_confirmed=precare_keys(clinic.microneedling),
    )
    client.force_login(user)
    session = client.session
    session["course_booking_done"] = {
        "course": str(booked.plan.pk),
        "created": False,
        "client": str(customer.pk),  # whose booking it is: only they see its done page
    }
    session.save()
    page = client.get("/book/course/done/").content.decode()
    assert "one confirmation with every session" in page
    assert f'href="/portal/courses/{booked.plan.pk}/"' in page
    ics = client.get(_calendar_link(page))
    assert len(Calendar.from_ical(ics.content).walk("VEVENT")) == 3


def test_the_review_pages_care_timeline_is_dated() -> None:
    clinic = make_clinic()
    start = at(MONDAY + timedelta(days=70), 10)  # Monday 18 March 2030
    care = care_timeline(clinic.microneedling, start, clinic.location)
    phrases = [item.phrase for item in care["pre"]]
    assert any(
        p.startswith("Pause aspirin") and "from Wednesday 13 March, 10:00 GMT" in p for p in phrases
    )
    weekday_alone = re.compile(
        r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b(?! \d{1,2} [A-Z])"
    )
    for item in care["pre"] + care["post"]:
        assert not weekday_alone.search(item.phrase), item.phrase
