"""The held time on the booking pages (issue 12 item 8, WCAG 2.2.1): each step says until when
the time is held (in words, without JavaScript), "Keep this time for longer" gives a fresh hold
time up to a limit, and a visitor whose hold ran out and whose time then went is told exactly
that, with the nearest free times."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from daisy.scheduling.models import SlotHold
from daisy.site.tests.test_booking import DETAILS, hold, start_microneedling
from daisy.site.tests.test_booking_holds import reception_books
from tests.support.testing import MONDAY, at, booking_now, make_clinic

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_content")]

NOW = booking_now()  # Mon 31 Dec 2029, 08:00 London (= UTC in winter)
TEN = at(MONDAY, 10)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def clinic():
    return make_clinic(specialists=1, rooms=1, pens=1)


def test_the_details_page_says_until_when_and_offers_more_time(client, clinic):
    with time_machine.travel(NOW, tick=False):
        start_microneedling(client, clinic)
        hold(client)
        html = client.get("/book/details/").content.decode()
    # A visitor who has not given details yet holds the time 3 minutes.
    assert "We are holding this time for you until 08:03 London time." in html
    assert "Keep this time for longer" in html
    assert 'data-hold-expires="2029-12-31T08:03:00+00:00"' in html

    # Two minutes on, still typing: "Keep this time for longer" (no JavaScript) gives a fresh
    # 3 minutes and comes back to the same page.
    with time_machine.travel(NOW + 2 * MINUTE, tick=False):
        r = client.post("/book/hold/", {"step": "/book/details/"})
        assert r.status_code == 302 and r.url == "/book/details/"
        assert SlotHold.objects.get().expires_at == NOW + 5 * MINUTE
        assert "until 08:05 London time" in client.get("/book/details/").content.decode()
        # The details are in: the full 10 minutes from when the time was chosen.
        assert client.post("/book/details/", DETAILS).url == "/book/health-check/"
        assert SlotHold.objects.get().expires_at == NOW + 10 * MINUTE


def test_more_time_with_htmx_returns_the_notice_and_stops_at_the_limit(client, clinic):
    with time_machine.travel(NOW, tick=False):
        start_microneedling(client, clinic)
        hold(client)
        client.post("/book/details/", DETAILS)
    for minutes in (9, 18, 27):
        with time_machine.travel(NOW + minutes * MINUTE, tick=False):
            r = client.post("/book/hold/", {"step": "/book/health-check/"}, HTTP_HX_REQUEST="true")
        html = r.content.decode()
        assert r.status_code == 200 and html.lstrip().startswith('<div id="hold"')
        assert "Done: we are now holding this time for you until" in html
    # 27 minutes in: 10 more would pass the 30-minute limit, so it stops there and says so.
    assert SlotHold.objects.get().expires_at == NOW + 30 * MINUTE
    assert "Keep this time for longer" not in html
    assert "This is as long as we can hold a time online" in html


def test_a_lapsed_hold_whose_time_went_is_told_what_happened(client, clinic):
    with time_machine.travel(NOW, tick=False):
        start_microneedling(client, clinic)
        hold(client)
        client.post("/book/details/", DETAILS)  # held until 08:10
    later = NOW + 25 * MINUTE
    with time_machine.travel(later, tick=False):
        reception_books(clinic, now=later)  # the hold had ended; the time was free to take
        r = client.post("/book/hold/", {"step": "/book/health-check/"})
        assert r.url == "/book/time/"
        html = client.get("/book/time/").content.decode()
    assert (
        "We held Mon 7 Jan 2030, 10:00 London time for you until Mon 31 Dec 2029, 08:10 "
        "London time." in html
    )
    assert "once yours ended someone else booked that time" in html
    assert 'aria-label="Nearest free times"' in html


def test_a_lapsed_hold_whose_time_is_still_free_is_simply_held_again(client, clinic):
    with time_machine.travel(NOW, tick=False):
        start_microneedling(client, clinic)
        hold(client)
        client.post("/book/details/", DETAILS)
    with time_machine.travel(NOW + 40 * MINUTE, tick=False):
        assert client.post("/book/hold/", {"step": "/book/health-check/"}).url == (
            "/book/health-check/"
        )
        held = SlotHold.objects.get()
        assert held.starts_at == TEN and held.expires_at == NOW + 50 * MINUTE


def test_more_time_without_a_booking_in_progress_goes_back_to_the_start(client, clinic):
    assert client.post("/book/hold/", {"step": "https://evil.example/"}).url == "/book/"
    assert client.get("/book/hold/").status_code == 405
