"""The time step (issue 12 item 8): it opens on the first day with free times (never on an
empty week), shows one day's times under a strip of that week's days, and jumps to a date
typed or picked in a plain date field, with or without JavaScript."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import time_machine

from daisy.clinic.models import DateOverride
from tests.support.testing import MONDAY, at, booking_now, make_clinic

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_content")]


@pytest.fixture
def clinic():
    return make_clinic()


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(booking_now(), tick=False):  # Mon 31 Dec 2029, 08:00
        yield


def _to_times(client, clinic) -> None:
    client.get("/book/?treatment=microneedling")
    client.post("/book/areas/", {"areas": ["Cheeks"]})
    r = client.post("/book/clinic/", {"location": str(clinic.location.pk), "specialist": "anyone"})
    assert r.url == "/book/time/"


def _offered(html: str) -> list[str]:
    return re.findall(r'name="start" value="([^"]+)"', html)


def _selected_day(html: str) -> str:
    found = re.search(r'<h2 id="day-heading"[^>]*>([^<]+)</h2>', html)
    assert found, html
    return found.group(1)


def test_it_opens_on_the_first_day_with_free_times_past_an_empty_week(client, clinic):
    # It opens two weeks ahead, on the first whole day that leaves room for the preparation
    # (Tuesday 15 January), and the clinic is closed from today until Wednesday 16 January:
    # the first free day is Thursday 17.
    for n in range(17):
        DateOverride.objects.create(
            location=clinic.location, on=date(2029, 12, 31) + timedelta(days=n), is_closed=True
        )
    _to_times(client, clinic)
    html = client.get("/book/time/").content.decode()
    assert _selected_day(html) == "Thursday 17 January 2030"
    times = _offered(html)
    assert times and all(t.startswith("2030-01-17") for t in times)
    # The strip is that week's, Monday to Sunday: closed days are shown, but not as links.
    assert 'href="/book/time/?day=2030-01-14"' not in html
    assert 'href="/book/time/?day=2030-01-18"' in html
    assert 'aria-current="date"' in html


def test_a_clients_own_booking_opens_where_the_preparation_fits_and_says_why(client, clinic):
    # A week before Monday 7 January; the preparation asks for two weeks without sun.
    _to_times(client, clinic)
    html = client.get("/book/time/").content.decode()
    # Two weeks from 08:00 today is 08:00 on Monday 14 January: the first whole day is Tuesday.
    assert _selected_day(html) == "Tuesday 15 January 2030"
    assert "Times start on Tuesday 15 January so that you have time for the preparation" in html
    # An earlier day is one tap away for a client who already follows it, and says so.
    earlier = client.get("/book/time/?day=2030-01-07").content.decode()
    assert _selected_day(earlier) == "Monday 7 January 2030" and _offered(earlier)
    assert "Times before Tuesday 15 January leave too little time for the preparation" in earlier


def test_one_day_at_a_time_and_the_strip_counts_each_days_times(client, clinic):
    _to_times(client, clinic)
    html = client.get("/book/time/?day=2030-01-07").content.decode()
    assert _selected_day(html) == "Monday 7 January 2030"
    monday = _offered(html)
    assert monday and all(t.startswith("2030-01-07") for t in monday)
    assert f"Monday 7 January: {len(monday)} free times" in html
    tuesday = _offered(client.get("/book/time/?day=2030-01-08").content.decode())
    assert tuesday and all(t.startswith("2030-01-08") for t in tuesday)
    # A time's button says the date and zone to a screen reader; the clock is what shows.
    assert 'aria-label="Mon 7 Jan 2030, 10:00 London time">10:00</button>' in html


def test_the_date_jump_reaches_late_march_in_one_request_and_skips_a_closed_day(client, clinic):
    DateOverride.objects.create(location=clinic.location, on=date(2030, 3, 25), is_closed=True)
    _to_times(client, clinic)
    html = client.get("/book/time/?day=2030-03-25").content.decode()
    assert "There are no free times on Monday 25 March." in html
    assert _selected_day(html) == "Tuesday 26 March 2030"
    assert 'type="date" id="jump-day" name="day" value="2030-03-26"' in html
    # Out of range or nonsense: the nearest day that can be shown, never an error.
    assert client.get("/book/time/?day=1999-01-01").status_code == 200
    assert client.get("/book/time/?day=31/12/2030").status_code == 200
    # Older links (?week=) still land on a day of that week.
    assert "Monday 14 January 2030" in client.get("/book/time/?week=2030-01-14").content.decode()


def test_htmx_gets_only_the_picker(client, clinic):
    _to_times(client, clinic)
    r = client.get("/book/time/?day=2030-01-14", HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert html.lstrip().startswith('<section id="picker"')
    assert "<html" not in html and "Monday 14 January 2030" in html


def test_choosing_a_time_from_the_day_holds_it(client, clinic):
    _to_times(client, clinic)
    r = client.post("/book/time/", {"start": at(MONDAY, 10).isoformat(), "day": "2030-01-07"})
    assert r.url == "/book/details/"
