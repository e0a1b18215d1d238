"""Issue 12 acceptance: a 16-year-old is refused micro-needling with a message a person
understands on every path of the site (the single booking's details step, the course's details
step, a signed-in client's time step and the portal's "Book again"); the API is in
daisy/api/tests/test_gate.py and the services in daisy/booking/tests/test_gate_paths.py. And a
returning client's "Book again" card on the portal: one click holds the time, then the health
questions and Confirm."""

from __future__ import annotations

import re
from datetime import date

import pytest
import time_machine

from daisy.booking.services import appointment_book
from daisy.scheduling.models import Appointment, SlotHold
from daisy.site.tests.test_booking import DETAILS, NO_TO_ALL, hold, start_microneedling
from daisy.site.tests.test_course_booking import NOW as COURSE_NOW
from daisy.site.tests.test_course_booking import to_plan, token_of
from tests.support.testing import MONDAY, at, booking_now, make_clinic, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_content")]

NOW = booking_now()
SIXTEEN = {**DETAILS, "date_of_birth": "2013-06-01"}  # 16 on Monday 7 January 2030
AGE_WORDS = "it is only for people aged 18 or over on the day of the appointment"


@pytest.fixture
def clinic():
    return make_clinic()


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _visible(html: str) -> str:
    return re.sub(r"\s+", " ", html)


def test_the_details_step_refuses_a_sixteen_year_old_in_words(client, clinic):
    start_microneedling(client, clinic)
    hold(client)
    r = client.post("/book/details/", SIXTEEN)
    html = _visible(r.content.decode())
    assert r.status_code == 200
    assert f"Sorry, we cannot book Micro-needling for you: {AGE_WORDS}" in html
    assert 'href="/book/?treatment=consultation"' in html  # what they can do instead
    # Not taken further: the next step sends them back here.
    assert client.get("/book/health-check/").url == "/book/details/"
    assert not Appointment.objects.exists()


def test_an_eighteen_year_old_on_the_day_of_the_session_is_not_refused(client, clinic):
    start_microneedling(client, clinic)
    hold(client)
    of_age = {**DETAILS, "date_of_birth": "2012-01-07"}  # 18 on Monday 7 January 2030
    assert client.post("/book/details/", of_age).url == "/book/health-check/"


def test_the_course_details_step_refuses_a_sixteen_year_old(client, clinic):
    # Two weeks before the first session, as a client's own course needs for its preparation.
    with time_machine.travel(COURSE_NOW, tick=False):
        _course_details_refuses_a_sixteen_year_old(client, clinic)


def _course_details_refuses_a_sixteen_year_old(client, clinic):
    page = to_plan(client, clinic)
    r = client.post("/book/course/plan/", {"token": token_of(page), "use": "proposal"})
    assert r.url == "/book/course/details/"
    r = client.post("/book/course/details/", SIXTEEN)
    assert r.status_code == 400
    assert AGE_WORDS in _visible(r.content.decode())
    assert client.get("/book/course/health-check/").url == "/book/course/details/"
    assert not Appointment.objects.exists()


def _signed_in_sixteen_year_old(client, clinic):
    person = clinic.clients[0]
    person.user = make_user(email=person.email)
    person.date_of_birth = date(2013, 6, 1)
    person.save()
    client.force_login(person.user)
    return person


def test_a_signed_in_sixteen_year_old_is_told_why_when_choosing_a_time(client, clinic):
    _signed_in_sixteen_year_old(client, clinic)
    start_microneedling(client, clinic)
    r = hold(client)
    html = _visible(r.content.decode())
    assert "Micro-needling is only for clients aged 18 or over on the day of the session" in html
    assert not SlotHold.objects.exists() and not Appointment.objects.exists()


def _past_session(clinic, person, *, when=at(MONDAY, 10)):
    """A session booked at the desk (the areas in its notes, as an online booking has them)."""
    return appointment_book(
        client=person,
        treatment=clinic.microneedling,
        starts_at=when,
        booked_by=clinic.reception,
        now=NOW,
        location=clinic.location,
        specialist=clinic.specialists[1],
        notes="Areas to treat: Forehead, Cheeks",
    ).appointment


def test_book_again_on_the_portal_refuses_a_sixteen_year_old_in_words(client, clinic):
    person = clinic.clients[0]
    person.date_of_birth = None  # the desk booked before the date of birth was on the record
    person.save()
    past = _past_session(clinic, person)
    person = _signed_in_sixteen_year_old(client, clinic)
    home = client.get("/portal/").content.decode()
    assert "Book Micro-needling again" in home
    start = re.search(r'name="start" value="([^"]+)"', home).group(1)
    r = client.post("/book/again/", {"appointment": str(past.pk), "start": start})
    assert r.url == "/book/time/"
    html = _visible(client.get("/book/time/").content.decode())
    assert "only for clients aged 18 or over on the day of the session" in html
    assert Appointment.objects.count() == 1 and not SlotHold.objects.exists()


def test_book_again_takes_three_clicks_from_the_portal(client, clinic):
    person = clinic.clients[0]
    person.user = make_user(email=person.email)
    person.save()
    client.force_login(person.user)
    past = _past_session(clinic, person)
    with time_machine.travel(NOW, tick=False):
        home = client.get("/portal/").content.decode()
        assert "Book Micro-needling again" in home
        assert f"with {clinic.specialists[1].name}" in home
        assert "Forehead, Cheeks" in home
        offered = re.findall(r'name="start" value="([^"]+)"', home)
        assert 1 <= len(offered) <= 4
        # Click 1: a time on the portal. It is held, and the health questions come next.
        r = client.post("/book/again/", {"appointment": str(past.pk), "start": offered[0]})
        assert r.url == "/book/health-check/"
        held = SlotHold.objects.get()
        assert held.specialist_id == clinic.specialists[1].pk
        # Click 2: the answers. Click 3: Confirm.
        assert client.post("/book/health-check/", NO_TO_ALL).url == "/book/review/"
        assert client.post("/book/review/").url == "/book/done/"
    again = Appointment.objects.exclude(pk=past.pk).get()
    assert again.starts_at.isoformat() == offered[0]
    assert again.specialist_id == clinic.specialists[1].pk
    assert again.notes == "Areas to treat: Forehead, Cheeks"
    # "Other days and times" fills in the same choices and opens the time step.
    r = client.get(f"/book/again/?appointment={past.pk}")
    assert r.url == "/book/time/"


def test_book_again_is_only_for_the_clients_own_appointments(client, clinic):
    other = _past_session(clinic, clinic.clients[1])
    person = clinic.clients[0]
    person.user = make_user(email=person.email)
    person.save()
    client.force_login(person.user)
    assert client.post("/book/again/", {"appointment": str(other.pk)}).status_code == 404
    assert client.post("/book/again/", {"appointment": "not-an-id"}).status_code == 404
    client.logout()
    assert client.post("/book/again/", {"appointment": str(other.pk)}).status_code == 302
