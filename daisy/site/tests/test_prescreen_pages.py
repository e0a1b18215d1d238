"""The booking pages' health questions (issue 12 item 6): the treatment's own questions, a
"when" answer that calls for a wait moves the time (or the course) past it and says why, and
the answers are kept with the booking."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from daisy.records.models import ScreeningResponse
from daisy.scheduling.models import Appointment, SlotHold
from daisy.site.tests.test_booking import DETAILS, hold, prepared, start_microneedling
from tests.support.testing import FORM_NO_TO_ALL, booking_now, make_clinic

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_content")]

TODAY = booking_now().date()  # Monday 31 December 2029
WAXED = {"waxing": "yes", "waxing_on": "2029-12-30"}  # a 7-day wait: from 6 January
FIRST_DAY = date(2030, 1, 6)


@pytest.fixture
def clinic():
    return make_clinic()


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(booking_now(), tick=False):
        yield


def test_the_page_asks_the_treatments_questions_with_a_date_for_when(client, clinic):
    start_microneedling(client, clinic)
    hold(client)
    client.post("/book/details/", DETAILS)
    page = client.get("/book/health-check/").content.decode()
    assert "Are you pregnant, or breastfeeding?" in page
    assert "has the area been tanned by the sun or a sunbed?" in page
    assert 'name="tan_on"' in page and "If yes, when was the last time?" in page
    assert "sensitive to light" not in page  # a laser and LED question
    # A yes without its date is asked again, plainly.
    r = client.post("/book/health-check/", {**FORM_NO_TO_ALL, "tan": "yes"})
    assert r.status_code == 200
    assert "Please give the date (a close guess is fine)." in r.content.decode()


def test_a_wait_lets_the_time_go_and_asks_for_one_from_the_first_day(client, clinic):
    start_microneedling(client, clinic)
    when = hold(client)  # Monday 7 January 10:00: after the wait, so it stays
    assert when.url == "/book/details/"
    client.post("/book/details/", DETAILS)
    r = client.post("/book/health-check/", {**FORM_NO_TO_ALL, **WAXED})
    assert r.url == "/book/review/"
    assert client.post("/book/review/", prepared(clinic)).url == "/book/done/"
    stored = ScreeningResponse.objects.get()
    assert stored.answers["waxing"] == {"yes": True, "on": "2029-12-30"}
    assert stored.deferred_until == FIRST_DAY


def test_a_time_inside_the_wait_is_let_go_with_the_reason(client, clinic):
    start_microneedling(client, clinic)
    early = booking_now().replace(day=2, month=1, year=2030, hour=10)  # Wednesday 2 January
    assert client.post("/book/time/", {"start": early.isoformat()}).url == "/book/details/"
    client.post("/book/details/", DETAILS)
    r = client.post("/book/health-check/", {**FORM_NO_TO_ALL, **WAXED})
    assert r.url == "/book/time/"
    assert not SlotHold.objects.exists()  # the time went straight back
    page = client.get("/book/time/").content.decode()
    assert "the first possible day is Sunday 6 January 2030" in page
    assert not Appointment.objects.exists()
