"""Booking a whole course with Django's test client (issue 5, item 6): the no-JavaScript path end
to end around a wedding, validation tied to its fields, a hard stop that books nothing, a time
taken meanwhile (nothing booked, a fresh plan), no full plan (the problem and the nearest
alternative), a signed-in client's stored dates, and the entry links."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from daisy.accounts.models import User
from daisy.booking.services import appointment_book
from daisy.clients.accounts import client_account_ensure
from daisy.clients.models import Client
from daisy.courses.models import ImportantDate, ImportantDateKind, Plan
from daisy.courses.services import important_date_create
from daisy.notifications.models import Message
from daisy.scheduling.models import Appointment, Status
from daisy.site.course_booking.strip import ShownDate, ShownSession, calendar_strip
from tests.support.testing import FORM_NO_TO_ALL, booking_now, make_clinic, make_user

pytestmark = pytest.mark.django_db

NO_TO_ALL = FORM_NO_TO_ALL
DETAILS = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone": "07700 900123",
    "date_of_birth": "1990-05-17",
}
# A Wednesday two days after where session 3 of a 4-weekly course from 7 January would fall.
WEDDING = date(2030, 3, 6)


@pytest.fixture
def clinic():
    return make_clinic()


# Two weeks before the first possible session: a client's own course starts no sooner than its
# preparation (two weeks without tanning) can be followed (issue 12).
NOW = booking_now() - timedelta(days=7)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def choose_course(client, *, sessions="4", concern="acne_scars", earliest="2030-01-07"):
    r = client.post(
        "/book/course/",
        {"areas": ["Cheeks"], "concern": concern, "sessions": sessions, "earliest_start": earliest},
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    return r


def choose_when(client, clinic, **extra):
    data = {"location": str(clinic.location.pk), "specialist": "anyone", **extra}
    r = client.post("/book/course/when/", data)
    assert r.status_code == 302 and r.url == "/book/course/important-dates/"
    return r


def add_date(client, **data):
    return client.post("/book/course/important-dates/", {"action": "add", **data})


def to_plan(client, clinic, *, dates=(), **course):
    client.get("/book/course/?treatment=microneedling")
    choose_course(client, **course)
    choose_when(client, clinic)
    for d in dates:
        assert add_date(client, **d).status_code == 302
    r = client.post("/book/course/important-dates/", {"action": "continue"})
    assert r.url == "/book/course/plan/"
    return client.get("/book/course/plan/")


def token_of(page) -> str:
    return re.search(r'name="token" value="([0-9a-f]+)"', page.content.decode()).group(1)


def recovery_covers(appt, day: date) -> bool:
    """72 hours from the session's start (DOMAIN.md 4.2) reach into the local day."""
    tz = appt.location.tz
    first = appt.starts_at.astimezone(tz).date()
    last = (appt.starts_at + timedelta(hours=72)).astimezone(tz).date()
    return first <= day <= last


def test_guest_books_a_course_around_a_wedding_without_javascript(client, clinic):
    wedding = {"kind": "wedding", "label": "Sam’s wedding", "start_on": WEDDING.isoformat()}
    page = to_plan(client, clinic, dates=[wedding])
    html = page.content.decode()
    assert page.status_code == 200
    assert "Here are all 4 sessions" in html
    assert "Sam’s wedding" in html and "London time" in html
    assert html.count('role="img"') >= 4  # January to April on the calendar strip
    r = client.post("/book/course/plan/", {"token": token_of(page), "use": "proposal"})
    assert r.url == "/book/course/details/"
    r = client.post("/book/course/details/", DETAILS)
    assert r.url == "/book/course/health-check/"
    r = client.post("/book/course/health-check/", NO_TO_ALL)
    assert r.url == "/book/course/review/"
    review = client.get("/book/course/review/").content.decode()
    for words in ["Book all 4 sessions", "£960.00 for 4 sessions", "Cancellation policy"]:
        assert words in review
    assert not Appointment.objects.exists()  # nothing is written before the last click

    r = client.post("/book/course/review/")
    assert r.url == "/book/course/done/"
    course = Plan.objects.get()
    appts = list(Appointment.objects.order_by("starts_at"))
    assert len(appts) == 4 and {a.status for a in appts} == {Status.BOOKED}
    assert {a.client_id for a in appts} == {course.client_id}
    assert course.client.email == "ada@example.com"
    assert not any(recovery_covers(a, WEDDING) for a in appts)
    gaps = [(b.starts_at - a.starts_at).days for a, b in zip(appts, appts[1:], strict=False)]
    assert all(21 <= g <= 42 for g in gaps)
    assert "Areas to treat: Cheeks" in appts[0].notes
    # The guest's wedding is kept in their new account, for every later booking.
    stored = ImportantDate.objects.get(client=course.client)
    assert (stored.kind.slug, stored.start_on, stored.label) == (
        "wedding",
        WEDDING,
        "Sam’s wedding",
    )
    done = client.get("/book/course/done/").content.decode()
    assert "All 4 sessions of your course are booked." in done
    assert "set up your account" in done


def test_without_the_wedding_a_session_would_cover_it(client, clinic):
    # So the test above shows the planner moving a session, not a lucky calendar.
    to_plan(client, clinic)
    starts = [
        datetime.fromisoformat(s["start"])
        for s in client.session["course_booking"]["proposal"]["sessions"]
    ]
    assert any(s.date() <= WEDDING <= (s + timedelta(hours=72)).date() for s in starts)


def test_no_personal_data_in_any_course_url(client, clinic):
    page = to_plan(client, clinic, dates=[{"kind": "job_interview", "start_on": "2030-02-14"}])
    r = client.post("/book/course/plan/", {"token": token_of(page), "use": "proposal"})
    r = client.post("/book/course/details/", DETAILS)
    for url in [r.url, page.request["PATH_INFO"]]:
        assert "ada" not in url.lower() and "07700" not in url and "2030-02-14" not in url


def test_course_answers_are_validated_with_messages_on_their_fields(client, clinic):
    client.get("/book/course/")
    r = client.post(
        "/book/course/", {"sessions": "8", "earliest_start": "2029-12-01", "concern": ""}
    )
    html = r.content.decode()
    assert r.status_code == 200
    assert "Choose at least one area." in html
    assert "Choose what you would like to improve" in html
    assert "ask us for an extended course" in html
    assert "Up to 6 sessions can be booked online" in html
    assert "That date has passed." in html
    assert 'aria-invalid="true"' in html
    assert "course_booking" not in client.session or not client.session["course_booking"].get(
        "sessions"
    )


def test_recommendation_follows_the_clinics_course_defaults(client, clinic):
    client.get("/book/course/")
    html = client.get("/book/course/").content.decode()
    # DOMAIN.md 1.2: fine lines 4 monthly sessions, acne scars 3-5 (3 for a standard case).
    assert re.search(r"Fine lines[^<]*</th><td[^>]*>4 sessions", html)
    assert re.search(r"Acne scars[^<]*</th><td[^>]*>3 sessions", html)
    choose_course(client, sessions="recommended", concern="fine_lines")
    assert client.session["course_booking"]["sessions"] == 4
    choose_course(client, sessions="recommended", concern="unsure")
    assert client.session["course_booking"]["sessions"] == 3


def test_important_dates_are_validated(client, clinic):
    client.get("/book/course/")
    choose_course(client)
    choose_when(client, clinic)
    r = add_date(client, kind="beach_holiday", start_on="2030-08-16", end_on="2030-08-02")
    assert r.status_code == 400
    assert "The last day must be on or after the first day." in r.content.decode()
    r = add_date(client, kind="wedding", start_on="2029-06-01")
    assert "That date has passed." in r.content.decode()
    for far in ("9999-12-31", "2036-01-01"):  # the last possible date broke the calendar (500)
        r = add_date(client, kind="wedding", start_on=far)
        assert r.status_code == 400
        assert "Choose a date within the next five years." in r.content.decode()
    r = add_date(client, kind="", start_on="2030-03-01")
    assert "Choose what the date is for." in r.content.decode()
    assert client.session["course_booking"]["dates"] == []
    # A good one is listed and can be removed again.
    assert add_date(client, kind="wedding", start_on="2030-03-06").status_code == 302
    page = client.get("/book/course/important-dates/").content.decode()
    assert "Wedding" in page and "Wed 6 Mar 2030" in page
    r = client.post("/book/course/important-dates/", {"action": "remove-0"})
    assert r.status_code == 302 and client.session["course_booking"]["dates"] == []


def test_a_hard_stop_books_nothing_and_offers_a_consultation(client, clinic):
    page = to_plan(client, clinic)
    client.post("/book/course/plan/", {"token": token_of(page), "use": "proposal"})
    client.post("/book/course/details/", DETAILS)
    r = client.post("/book/course/health-check/", {**NO_TO_ALL, "pregnant": "yes"})
    html = r.content.decode()
    assert r.status_code == 200
    assert "We can’t book a Micro-needling course for you just now" in html
    assert "pregnancy or breastfeeding" in html
    assert 'action="/book/consultation/"' in html
    assert not Appointment.objects.exists() and not Plan.objects.exists()
    # The review step cannot be reached by typing its address.
    assert client.get("/book/course/review/").url == "/book/course/plan/"
    assert client.post("/book/course/review/").status_code == 302
    assert not Appointment.objects.exists()


def test_a_time_taken_meanwhile_books_nothing_and_offers_a_fresh_plan(client, clinic):
    page = to_plan(client, clinic)
    client.post("/book/course/plan/", {"token": token_of(page), "use": "proposal"})
    client.post("/book/course/details/", DETAILS)
    client.post("/book/course/health-check/", NO_TO_ALL)
    chosen = client.session["course_booking"]["chosen"]["sessions"]
    first = chosen[0]["start"]
    # Someone else books session 1's time on the clinic's only pen.
    appointment_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=datetime.fromisoformat(first),
        booked_by=clinic.reception,
        now=NOW,
    )
    r = client.post("/book/course/review/")
    assert r.status_code == 302 and r.url == "/book/course/plan/"
    assert Appointment.objects.count() == 1 and not Plan.objects.exists()
    # The account made for the guest went with the failed course: nothing of them is kept.
    assert not User.objects.filter(email=DETAILS["email"]).exists()
    assert not Message.objects.filter(recipient=DETAILS["email"]).exists()
    fresh = client.get("/book/course/plan/")
    html = fresh.content.decode()
    assert "taken by someone else a moment ago, so nothing has been booked" in html
    assert "These dates suit me" in html
    assert client.session["course_booking"]["proposal"]["sessions"][0]["start"] != first
    # The fresh plan books; the details are kept.
    client.post("/book/course/plan/", {"token": token_of(fresh), "use": "proposal"})
    assert client.post("/book/course/review/").url == "/book/course/done/"
    assert Appointment.objects.count() == 5


def test_no_full_plan_explains_and_offers_the_nearest_alternative(client, clinic):
    # A sunny holiday over the whole first week: session 1 cannot start then.
    holiday = {"kind": "sun_holiday", "start_on": "2030-01-05", "end_on": "2030-01-20"}
    page = to_plan(client, clinic, dates=[holiday])
    html = page.content.decode()
    assert page.status_code == 200
    assert "We cannot fit the whole course with these choices." in html
    assert "Session 1: no free time between 7 and 13 January 2030" in html
    assert "clear of &#x27;Sunny holiday&#x27;" in html  # named after its kind, not its slug
    assert "The nearest full plan starts" in html
    r = client.post("/book/course/plan/", {"token": token_of(page), "use": "alternative"})
    assert r.url == "/book/course/details/"
    state = client.session["course_booking"]
    assert date.fromisoformat(state["earliest_start"]) > date(2030, 1, 7)
    first = date.fromisoformat(state["chosen"]["sessions"][0]["start"][:10])
    assert first > date(2030, 1, 20)


def test_a_stale_plan_is_not_taken(client, clinic):
    to_plan(client, clinic)
    r = client.post("/book/course/plan/", {"token": "0" * 16, "use": "proposal"})
    assert r.url == "/book/course/plan/"
    assert "chosen" not in client.session["course_booking"]
    assert "were out of date" in client.get("/book/course/plan/").content.decode()


def test_a_signed_in_clients_stored_dates_are_part_of_the_plan(client, clinic):
    user = make_user(email="grace@example.com")
    me = clinic.clients[0]
    me.user = user
    me.save()
    important_date_create(
        client=me, kind="wedding", start_on=WEDDING, label="Our wedding", by=user, now=NOW
    )
    client.force_login(user)
    page = to_plan(client, clinic)
    html = page.content.decode()
    assert "Our wedding" in html
    dates_page = client.get("/book/course/important-dates/").content.decode()
    assert "Saved in your account" in dates_page
    r = client.post("/book/course/plan/", {"token": token_of(page), "use": "proposal"})
    assert r.url == "/book/course/health-check/"  # no details to type
    client.post("/book/course/health-check/", NO_TO_ALL)
    r = client.post("/book/course/review/")
    assert r.url == "/book/course/done/"
    appts = Appointment.objects.filter(client=me)
    assert appts.count() == 4
    assert not any(recovery_covers(a, WEDDING) for a in appts)
    assert ImportantDate.objects.filter(client=me).count() == 1  # not stored twice
    done = client.get("/book/course/done/").content.decode()
    assert f'href="/portal/courses/{Plan.objects.get().pk}/"' in done


def test_steps_cannot_be_skipped(client, clinic):
    assert client.get("/book/course/review/").url == "/book/course/"
    assert client.get("/book/course/plan/").url == "/book/course/"
    client.get("/book/course/")
    choose_course(client)
    assert client.get("/book/course/plan/").url == "/book/course/when/"


def test_the_sun_window_is_explained_per_kind(client, clinic):
    client.get("/book/course/")
    choose_course(client)
    choose_when(client, clinic)
    html = client.get("/book/course/important-dates/").content.decode()
    assert "3 days to recover" in html
    assert (
        "Beach holiday, Sunny holiday or Ski holiday: we book no session in the 14 days before"
        in html
    )
    assert ImportantDateKind.objects.filter(slug="beach_holiday").exists()


def test_entry_from_the_treatment_page_and_the_booking_flow(client, clinic):
    html = client.get("/treatments/microneedling/").content.decode()
    assert 'href="/book/course/?treatment=microneedling"' in html
    client.get("/book/?treatment=microneedling")
    client.post("/book/areas/", {"areas": ["Forehead"]})
    place = client.get("/book/clinic/").content.decode()
    assert 'href="/book/course/?treatment=microneedling"' in place
    # The areas chosen in the single booking flow carry over.
    client.get("/book/course/?treatment=microneedling")
    assert client.session["course_booking"]["areas"] == ["Forehead"]
    other = client.get("/treatments/consultation/").content.decode()
    assert "/book/course/" not in other


def ready_to_book(client, clinic, *, dates=()):
    page = to_plan(client, clinic, dates=dates)
    client.post("/book/course/plan/", {"token": token_of(page), "use": "proposal"})
    client.post("/book/course/details/", DETAILS)
    assert client.post("/book/course/health-check/", NO_TO_ALL).url == "/book/course/review/"


def test_a_double_clicked_book_button_books_the_course_once(client, clinic):
    ready_to_book(client, clinic, dates=[{"kind": "wedding", "start_on": WEDDING.isoformat()}])
    # Both clicks left the browser with the same session; the second arrives after the first.
    before = dict(client.session["course_booking"])
    assert client.post("/book/course/review/").url == "/book/course/done/"
    session = client.session
    session["course_booking"] = before
    session.save()
    assert client.post("/book/course/review/").url == "/book/course/done/"
    assert Plan.objects.count() == 1 and Appointment.objects.count() == 4
    assert ImportantDate.objects.count() == 1


def test_a_clinic_withdrawn_meanwhile_sends_the_client_back_to_choose(client, clinic):
    ready_to_book(client, clinic)
    type(clinic.location).objects.filter(pk=clinic.location.pk).update(is_active=False)
    for step in ("review", "health-check", "details", "plan"):
        r = client.post(f"/book/course/{step}/")
        assert r.status_code == 302 and r.url == "/book/course/when/"
    assert "location" not in client.session["course_booking"]
    assert not Plan.objects.exists() and not Appointment.objects.exists()


def test_a_specialist_gone_meanwhile_books_nothing_and_leaves_no_account(client, clinic):
    from daisy.accounts.models import User
    from daisy.clinic.models import Specialist
    from daisy.notifications.models import Message

    ready_to_book(client, clinic)
    chosen = client.session["course_booking"]["chosen"]["sessions"]
    Specialist.objects.filter(pk__in=[s["specialist"] for s in chosen]).update(is_active=False)
    assert client.post("/book/course/review/").url == "/book/course/plan/"
    assert not Appointment.objects.exists() and not Plan.objects.exists()
    assert not User.objects.filter(email="ada@example.com").exists()
    assert not Message.objects.exists()


def test_a_guest_with_a_known_email_books_on_that_client_without_being_told(client, clinic):
    """One person, one record: the course lands on the client Daisy knows by that email, with
    their findings applied, and the pages read exactly as for a new guest."""
    _user, known, _ = client_account_ensure(
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        phone="07700 900123",
        date_of_birth=date(1990, 5, 17),
        now=NOW,
    )
    page = to_plan(client, clinic)
    client.post("/book/course/plan/", {"token": token_of(page), "use": "proposal"})
    r = client.post("/book/course/details/", {**DETAILS, "email": "ADA@example.com"})
    assert r.url == "/book/course/health-check/"
    client.post("/book/course/health-check/", NO_TO_ALL)
    assert client.post("/book/course/review/").url == "/book/course/done/"
    assert Client.objects.filter(email__iexact="ada@example.com").count() == 1
    assert {a.client_id for a in Appointment.objects.all()} == {known.pk}
    done = client.get("/book/course/done/").content.decode()
    assert "already" not in done


def _session(n, when):
    return ShownSession(n, when, when + timedelta(minutes=70), "", when + timedelta(hours=72))


def test_calendar_strip_marks_sessions_recovery_and_important_dates():
    tz = ZoneInfo("Europe/London")
    sessions = [_session(1, datetime(2030, 1, 31, 10, tzinfo=tz))]
    party = ShownDate("party", "Party", "", date(2030, 2, 2), date(2030, 2, 2), False)
    wedding = ShownDate("wedding", "Wedding", "Sam’s", date(2030, 2, 20), date(2030, 2, 20), True)
    months = calendar_strip(sessions=sessions, dates=[party, wedding], tz=tz, ident="t")
    # The recovery window runs into February, so both months are drawn, each described.
    assert [m.title for m in months] == ["January 2030", "February 2030"]
    jan, feb = (str(m.svg) for m in months)
    assert "session 1 on Thursday 31 January, recovering until Sunday 3 February" in jan
    assert "recovering from session 1 until Sunday 3 February" in feb
    assert "Party on Saturday 2 February" in feb and "Sam’s on Wednesday 20 February" in feb
    # A date inside a recovery window is drawn in the error colour; one clear of it is not.
    assert feb.count('stroke="#a3261b"') == 1 and feb.count('stroke="#7a4b00"') == 1
    assert 'aria-labelledby="t-1-t t-1-d"' in jan and 'role="img"' in jan


def test_calendar_strip_escapes_what_the_client_typed():
    tz = ZoneInfo("Europe/London")
    sessions = [_session(1, datetime(2030, 1, 7, 10, tzinfo=tz))]
    odd = ShownDate("other", "Other", "<b>me</b>", date(2030, 1, 20), date(2030, 1, 20), False)
    svg = str(calendar_strip(sessions=sessions, dates=[odd], tz=tz, ident="x")[0].svg)
    assert "<b>" not in svg and "&lt;b&gt;me&lt;/b&gt;" in svg
