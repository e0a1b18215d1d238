"""Issue 12 item 2 on the booking pages: a time too soon for the treatment's preparation is
said on the review page, step by step, with the first time that leaves room for all of them;
the client ticks the steps they already follow, or the booking stops with that message. The
review page says what the no-change window means for this booking as a date, or, when the time
is already inside it, that it cannot be moved online once booked."""

from __future__ import annotations

import pytest
import time_machine

from daisy.aftercare.models import PrecareConfirmation
from daisy.scheduling.models import Appointment
from daisy.site.tests.test_booking import DETAILS, NO_TO_ALL, hold, start_microneedling
from tests.support.testing import MONDAY, at, booking_now, make_clinic, precare_keys

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_content")]


@pytest.fixture
def clinic():
    return make_clinic()


def _to_review(client, clinic, when):
    start_microneedling(client, clinic)
    assert hold(client, when).url == "/book/details/"
    client.post("/book/details/", DETAILS)
    assert client.post("/book/health-check/", NO_TO_ALL).url == "/book/review/"


def test_too_soon_to_prepare_is_asked_step_by_step_and_the_answers_kept(client, clinic):
    with time_machine.travel(booking_now(), tick=False):  # a week ahead
        _to_review(client, clinic, at(MONDAY, 10))
        review = client.get("/book/review/").content.decode()
        assert "Not enough time to prepare" in review
        assert "I already follow this: No tanning, sunbeds or sunburn" in review
        assert "choose a time from Mon 14 Jan 2030, 08:00 London time" in review
        # The deadline as a date, not only "48 hours before".
        assert "You can move or cancel this appointment online until Saturday 5 January" in (review)
        refused = client.post("/book/review/")
        assert refused.status_code == 200 or refused.status_code == 409
        assert "too soon to prepare for Micro-needling" in refused.content.decode()
        assert not Appointment.objects.exists()
        keys = precare_keys(clinic.microneedling)
        done = client.post("/book/review/", {"precare": keys})
    assert done.url == "/book/done/"
    appt = Appointment.objects.get()
    assert PrecareConfirmation.objects.filter(appointment=appt).count() == 2  # sun, waxing


def test_a_time_inside_the_no_change_window_is_said_plainly(client, clinic):
    with time_machine.travel(at(MONDAY, 7), tick=False):  # three hours before 10:00
        _to_review(client, clinic, at(MONDAY, 10))
        review = client.get("/book/review/").content.decode()
    assert "This time is within 48 hours of now, so once booked it cannot be moved online" in (
        review
    )
    assert "late cancellation" in review
    assert "until 48 hours before" not in review
