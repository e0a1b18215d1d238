"""Issue 14, item 3: the health questions before a session from the link in the reminder: no
sign-in, stored as that appointment's re-screen (via the reminder), and a forged, tampered,
expired or cancelled link answered with a clear page and a 4xx status, never a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from daisy.aftercare.services import T_REMINDER
from daisy.booking.services import appointment_book, appointment_cancel
from daisy.notifications.models import Message
from daisy.records.models import ScreeningResponse
from daisy.records.selectors import rescreen_link, rescreen_token
from tests.support.testing import (
    MICRONEEDLING_RESCREEN,
    MONDAY,
    at,
    booking_now,
    make_clinic,
)

pytestmark = pytest.mark.django_db

WHEN = at(MONDAY, 10)


@pytest.fixture
def appt():
    clinic = make_clinic()
    return appointment_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=WHEN,
        booked_by=clinic.reception,
        now=booking_now(),
    ).appointment


def _url(appointment) -> str:
    return "/before-your-visit/" + rescreen_token(appointment)


def test_the_reminder_carries_the_link_and_answers_are_kept_for_the_session(client, appt):
    reminder = Message.objects.filter(template=T_REMINDER, channel="email").first()
    assert reminder is not None
    assert reminder.context["rescreen_url"] == rescreen_link(appt)
    with time_machine.travel(WHEN - timedelta(hours=47), tick=False):
        page = client.get(_url(appt))
        assert page.status_code == 200
        assert page["Cache-Control"] == "no-store"
        text = page.content.decode()
        assert "Anything changed since your last answers?" in text
        # More than the online questions: what can change between sessions, in plain words.
        assert "Are you taking aspirin, ibuprofen, fish oil or vitamin E" in text
        assert "In the last 6 months, have you had a serious injury to your face?" in text
        assert "Skin type IV to VI" not in text  # the specialist's own question
        incomplete = client.post(_url(appt), {"pregnant": "no"})
        assert incomplete.status_code == 400
        assert not ScreeningResponse.objects.exists()
        sent = client.post(_url(appt), dict.fromkeys(MICRONEEDLING_RESCREEN, "no"))
        assert sent.status_code == 302
        thanks = client.get(sent["Location"])
        assert "your answers are with the clinic" in thanks.content.decode()
    response = ScreeningResponse.objects.get()
    assert response.appointment_id == appt.pk
    assert response.via == "reminder" and response.is_rescreen and response.answered_by is None


def test_a_forged_or_tampered_link_is_refused_with_a_clear_page(client, appt):
    token = rescreen_token(appt)
    with time_machine.travel(WHEN - timedelta(hours=10), tick=False):
        for bad in (token[:-2] + "xx", "nonsense", token.replace(":", "")):
            page = client.get("/before-your-visit/" + bad)
            assert page.status_code == 404
            assert "This link is not valid" in page.content.decode()
        assert client.post("/before-your-visit/nonsense", {}).status_code == 404
    assert not ScreeningResponse.objects.exists()


def test_an_expired_link_is_refused_with_a_clear_page(client, appt):
    with time_machine.travel(WHEN + timedelta(hours=3), tick=False):
        page = client.get(_url(appt))
        assert page.status_code == 410
        assert "This link has expired" in page.content.decode()
        posted = client.post(_url(appt), dict.fromkeys(MICRONEEDLING_RESCREEN, "no"))
        assert posted.status_code == 410
    with time_machine.travel(WHEN - timedelta(days=6), tick=False):
        early = client.get(_url(appt))
        assert early.status_code == 409
        assert "three days before your appointment" in early.content.decode()
    assert not ScreeningResponse.objects.exists()


def test_a_cancelled_appointments_link_says_it_is_no_longer_needed(client, appt):
    appointment_cancel(appointment=appt, by=appt.booked_by, now=booking_now())
    with time_machine.travel(WHEN - timedelta(hours=10), tick=False):
        page = client.get(_url(appt))
    assert page.status_code == 410
    assert "no longer needed" in page.content.decode()
