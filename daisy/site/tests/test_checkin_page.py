"""The check-in page at the signed link (issue 6 item 3, DOMAIN.md 5.2): no login, a form that
works without JavaScript, answers recorded once, what to do now, and a kind 4xx page (never a
500) for links that cannot be answered."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client as HttpClient

from daisy.aftercare.models import Alert, CheckIn
from daisy.aftercare.services import checkin_link
from daisy.booking.services import appointment_book, appointment_cancel
from tests.support.testing import MONDAY, at, booking_now, make_clinic

pytestmark = pytest.mark.django_db
CALM = {
    "redness": "better",
    "swelling": "none",
    "pain": "none",
    "hot_or_weeping": "False",
    "spots": "False",
    "blisters": "False",
    "dark_patches": "False",
    "fever": "False",
    "rash": "False",
    "breakouts": "False",
    "track_marks": "False",
    "notes": "",
}


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    settings.DAISY_MESSAGE_ENQUEUE_TASK = False
    settings.DAISY_PUBLIC_URL = "https://clinic.example"


@pytest.fixture
def appt() -> Any:
    clinic = make_clinic(phone="+442071234567")
    # A session that has happened: booked a week before, "now" (the real clock) after it.
    with time_machine.travel(at(MONDAY, 10) - timedelta(days=7), tick=False):
        appointment = appointment_book(
            client=clinic.clients[0],
            treatment=clinic.microneedling,
            starts_at=at(MONDAY, 10),
            booked_by=clinic.reception,
            now=booking_now(),
        ).appointment
    return appointment


def path_of(appointment: Any, kind: str = "24h") -> str:
    return "/check-in/" + checkin_link(appointment, kind).rsplit("/", 1)[1]


@pytest.fixture
def after_session() -> Any:
    with time_machine.travel(at(MONDAY, 10) + timedelta(hours=26), tick=False) as traveller:
        yield traveller


def test_get_shows_the_form_without_login(
    client: HttpClient, appt: Any, after_session: Any
) -> None:
    response = client.get(path_of(appt))
    assert response.status_code == 200
    page = response.content.decode()
    assert "How is your skin healing?" in page
    assert "Monday 7 January 2030, 10:00 GMT (Europe/London)" in page
    for question in ("Is the treated skin red?", "blisters or cold sores", "fever"):
        assert question in page
    # The emergency line, before any question, as a number that dials.
    assert 'Call <a href="tel:999">999</a> now' in page
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "same-origin"
    assert '<form method="post"' in page  # a plain form: no JavaScript needed


def test_calm_answers_are_recorded_and_say_normal_healing(
    client: HttpClient, appt: Any, after_session: Any
) -> None:
    url = path_of(appt)
    response = client.post(url, CALM)
    assert response.status_code == 302 and response["Location"] == f"{url}?sent=1"
    page = client.get(response["Location"]).content.decode()
    assert "Thank you for your answers" in page
    assert "this sounds like normal healing" in page
    assert CheckIn.objects.get().kind == "24h"


def test_red_flag_answers_tell_the_client_what_to_do_now(
    client: HttpClient, appt: Any, after_session: Any
) -> None:
    response = client.post(path_of(appt), {**CALM, "hot_or_weeping": "True"}, follow=True)
    page = response.content.decode()
    assert "Please call the clinic today" in page
    # Tuesday 12:00: the clinic is open (Mon-Sat 09-19), and its number dials.
    assert '<a href="tel:+442071234567">+442071234567</a>' in page
    assert "we are open until 19:00 today" in page
    assert "your next session waits" in page
    assert Alert.objects.get().severity == "urgent"


def test_toxicity_symptoms_say_call_emergency_services(
    client: HttpClient, appt: Any, after_session: Any
) -> None:
    response = client.post(path_of(appt, "72h"), {**CALM, "toxicity": ["breathing"]}, follow=True)
    page = response.content.decode()
    assert 'Call <a href="tel:999">999</a> now' in page and "call emergency services now" in page
    assert Alert.objects.get().severity == "emergency"


def test_answering_again_shows_the_recorded_answers(
    client: HttpClient, appt: Any, after_session: Any
) -> None:
    url = path_of(appt)
    client.post(url, {**CALM, "notes": "A little dry."})
    response = client.post(url, {**CALM, "redness": "worse"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "You have already answered this check-in" in page
    assert "A little dry." in page and "Yes, but fading" in page
    assert CheckIn.objects.count() == 1 and not Alert.objects.exists()


def test_an_incomplete_form_is_shown_again_with_errors(
    client: HttpClient, appt: Any, after_session: Any
) -> None:
    response = client.post(path_of(appt), {"redness": "purple", "notes": "x\x00y"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Please answer the questions marked below." in page
    assert 'aria-invalid="true"' in page or "field-error" in page
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize("mangle", [lambda t: t[:-3] + "abc", lambda t: "x" + t, lambda t: "🙂"])
def test_a_tampered_link_gets_a_kind_404(
    client: HttpClient, appt: Any, after_session: Any, mangle: Any
) -> None:
    token = path_of(appt).rsplit("/", 1)[1]
    for method in (client.get, client.post):
        response = method(f"/check-in/{mangle(token)}")
        assert response.status_code == 404
        assert "This check-in link is not valid" in response.content.decode()
    assert not CheckIn.objects.exists()


def test_a_link_made_long_before_works_when_it_arrives_and_expires_two_weeks_after(
    client: HttpClient, settings: Any
) -> None:
    """The link is signed when the session is booked; it is bounded by the session, not by
    its signature: booked 12 weeks ahead, the day-7 link works on day 7, and closes 14 days
    (DAISY_CHECKIN_LINK_MAX_AGE_DAYS) after day 7."""
    settings.DAISY_CHECKIN_LINK_MAX_AGE_DAYS = 14
    clinic = make_clinic(phone="+442071234567")
    session = at(MONDAY + timedelta(weeks=12), 10)
    with time_machine.travel(at(MONDAY, 8), tick=False):
        appt = appointment_book(
            client=clinic.clients[0],
            treatment=clinic.microneedling,
            starts_at=session,
            booked_by=clinic.reception,
            now=at(MONDAY, 8),
        ).appointment
        url = path_of(appt, "168h")
    day_7 = session + timedelta(days=7)
    with time_machine.travel(day_7, tick=False):
        assert client.get(url).status_code == 200
    with time_machine.travel(day_7 + timedelta(days=14) - timedelta(minutes=1), tick=False):
        assert client.get(url).status_code == 200
    with time_machine.travel(day_7 + timedelta(days=14), tick=False):
        response = client.get(url)
    assert response.status_code == 410
    assert "This check-in link has expired" in response.content.decode()


def test_a_cancelled_session_has_no_check_in(
    client: HttpClient, appt: Any, after_session: Any
) -> None:
    url = path_of(appt)
    with time_machine.travel(at(MONDAY, 8), tick=False):
        appointment_cancel(appointment=appt, by=appt.booked_by, now=at(MONDAY, 8))
    response = client.get(url)
    assert response.status_code == 410
    assert "did not take place" in response.content.decode()


def test_a_red_flag_at_0328_on_a_sunday_sends_the_client_out_of_hours_not_to_the_clinic(
    client: HttpClient, appt: Any
) -> None:
    # Issue 12: "call the clinic today" at 03:28 on a Sunday, while the clinic is closed.
    sunday = at(MONDAY + timedelta(days=6), 3, 28)  # Sunday 13 January 2030, 03:28 GMT
    with time_machine.travel(sunday, tick=False):
        response = client.post(
            path_of(appt, "72h"), {**CALM, "hot_or_weeping": "True"}, follow=True
        )
    page = response.content.decode()
    assert Alert.objects.get().severity == "urgent"
    assert "call the clinic today" not in page.lower()
    assert "The clinic is closed now: call NHS 111" in page
    assert "The clinic opens again on Monday 14 January, 09:00 GMT." in page
    assert 'call NHS 111 on <a href="tel:111">111</a> now' in page
    assert 'Then call us on <a href="tel:+442071234567">+442071234567</a> when we open.' in page
    assert 'If you feel very unwell, call <a href="tel:999">999</a>.' in page


def test_the_locations_own_out_of_hours_and_emergency_numbers_are_used(
    client: HttpClient,
) -> None:
    clinic = make_clinic(
        phone="+1 212 555 0100",
        country="US",
        time_zone="America/New_York",
        out_of_hours_name="the on-call nurse",
        out_of_hours_phone="+1 212 555 0199",
    )
    with time_machine.travel(at(MONDAY, 10) - timedelta(days=7), tick=False):
        appointment = appointment_book(
            client=clinic.clients[0],
            treatment=clinic.microneedling,
            starts_at=at(MONDAY, 15),  # 10:00 in New York
            booked_by=clinic.reception,
            now=booking_now(),
        ).appointment
    # Saturday 12 January 2030, 22:00 in New York: closed (Mon-Sat 09-19 local).
    with time_machine.travel(at(MONDAY + timedelta(days=6), 3), tick=False):
        url = path_of(appointment, "72h")
        form = client.get(url).content.decode()
        assert 'Call <a href="tel:911">911</a> now' in form
        page = client.post(url, {**CALM, "blisters": "True"}, follow=True).content.decode()
    assert "The clinic is closed now: call the on-call nurse" in page
    assert '<a href="tel:+12125550199">+1 212 555 0199</a>' in page
    assert "Monday 14 January, 09:00 EST" in page
