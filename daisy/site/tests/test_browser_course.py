"""Booking a whole course in a real browser (issue 5, items 6 and 7): a new client books a
4-session micro-needling course around a wedding, from the treatment page to the confirmation;
no session's recovery window covers the wedding. When no full plan fits, the page explains why
and the nearest alternative is one click away; a hard stop books nothing. axe-core runs on every
course page; screenshots go to var/screenshots/course-*.png."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from daisy.courses.models import ImportantDate, Plan
from daisy.courses.services import course_presets_install
from daisy.scheduling.models import Appointment, Status
from tests.support.browser import DESKTOP, PHONE, assert_accessible, shot
from tests.support.testing import MICRONEEDLING_ONLINE, booking_now, make_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUESTIONS = MICRONEEDLING_ONLINE
# Two days after where session 3 of a 4-weekly course from Monday 7 January 2030 would fall.
WEDDING = date(2030, 3, 6)


@pytest.fixture
def clinic(site_content):
    # A transactional test's flush empties migration data: the site's words come from the
    # site_content fixture, the course defaults and kinds of important date from here.
    course_presets_install()
    # The clock of the test and of the live server thread: two weeks before 7 January, moving
    # (a client's own course starts once its two weeks of preparation can be followed).
    with time_machine.travel(booking_now() - timedelta(days=7), tick=True):
        yield make_clinic(pens=1)


def _step(page, name: str) -> None:
    shot(page, name)
    assert_accessible(page)


def _course(page, *, sessions: str = "4") -> None:
    page.get_by_label("Cheeks").check()
    page.get_by_label("Acne scars").check()
    page.get_by_label("How many sessions?").select_option(sessions)
    page.get_by_label("Earliest date for your first session").fill("2030-01-07")


def test_new_client_books_a_four_session_course_around_a_wedding(browser_page, live_url, clinic):
    page = browser_page
    page.goto(f"{live_url}/treatments/microneedling/")
    page.get_by_role("link", name="Book your whole course").click()
    page.wait_for_url("**/book/course/?treatment=microneedling")
    _course(page)
    _step(page, "course-01-course")
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url("**/book/course/when/")
    page.get_by_label("Mornings (8:00 to 12:00)").check()
    _step(page, "course-02-when")
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url("**/book/course/important-dates/")
    page.get_by_label("What is it?").select_option("wedding")
    page.get_by_label("Name it (optional)").fill("Sam’s wedding")
    page.get_by_label("Date, or first day").fill(WEDDING.isoformat())
    page.get_by_role("button", name="Add this date").click()
    page.get_by_text("Sam’s wedding").first.wait_for()
    _step(page, "course-03-important-dates")
    page.get_by_role("button", name="Show my course dates").click()

    page.wait_for_url("**/book/course/plan/")
    page.get_by_role("heading", name="Your course dates").wait_for()
    strip = page.get_by_role("list", name="Calendar of your course")
    assert strip.get_by_role("img").count() >= 4  # January to April
    march = strip.get_by_role("img", name="March 2030")
    assert "Sam’s wedding on Wednesday 6 March" in march.locator("desc").text_content()
    sessions = page.get_by_role("list", name="Your sessions").get_by_role("listitem")
    assert sessions.count() == 4
    assert all("London time" in t for t in sessions.all_inner_texts())
    _step(page, "course-04-plan")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _step(page, "course-04-plan-phone")
    page.set_viewport_size(DESKTOP)
    page.get_by_role("button", name="These dates suit me").click()

    page.wait_for_url("**/book/course/details/")
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Mobile phone").fill("07700 900123")
    page.get_by_label("Date of birth").fill("1990-05-17")
    _step(page, "course-05-details")
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url("**/book/course/health-check/")
    for key in QUESTIONS:
        page.locator(f"input[name={key}][value=no]").check()
    _step(page, "course-06-health-check")
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url("**/book/course/review/")
    assert page.get_by_text("£960.00 for 4 sessions").is_visible()
    _step(page, "course-07-review")
    page.get_by_role("button", name="Book all 4 sessions").click()

    page.wait_for_url("**/book/course/done/")
    assert page.get_by_text("All 4 sessions of your course are booked.").is_visible()
    _step(page, "course-08-done")

    plan = Plan.objects.get()
    appts = list(Appointment.objects.filter(client=plan.client).order_by("starts_at"))
    assert len(appts) == 4 and {a.status for a in appts} == {Status.BOOKED}
    tz = clinic.location.tz
    for appt in appts:
        first = appt.starts_at.astimezone(tz).date()
        last = (appt.starts_at + timedelta(hours=72)).astimezone(tz).date()
        assert not first <= WEDDING <= last, f"{appt.starts_at} puts the wedding in recovery"
        assert appt.starts_at.astimezone(tz).hour < 12  # mornings, as asked
    assert ImportantDate.objects.get(client=plan.client).start_on == WEDDING


def test_no_full_plan_offers_the_nearest_one_and_a_hard_stop_books_nothing(
    browser_page, live_url, clinic
):
    page = browser_page
    page.goto(f"{live_url}/book/course/?treatment=microneedling")
    _course(page, sessions="3")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/book/course/when/")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/book/course/important-dates/")
    # A sunny holiday over the whole first fortnight: session 1 cannot be in the first week.
    page.get_by_label("What is it?").select_option("sun_holiday")
    page.get_by_label("Date, or first day").fill("2030-01-05")
    page.get_by_label("Last day (optional)").fill("2030-01-20")
    page.get_by_role("button", name="Add this date").click()
    page.get_by_role("button", name="Remove Sunny holiday").wait_for()
    page.get_by_role("button", name="Show my course dates").click()

    page.wait_for_url("**/book/course/plan/")
    alert = page.get_by_role("alert")
    assert "We cannot fit the whole course with these choices." in alert.inner_text()
    assert "Session 1" in alert.inner_text()
    page.get_by_role("heading", name="The nearest full plan starts").wait_for()
    _step(page, "course-plan-alternative")
    page.get_by_role("button", name="Use these dates instead").click()

    page.wait_for_url("**/book/course/details/")
    page.get_by_label("First name").fill("Mary")
    page.get_by_label("Last name").fill("Somerville")
    page.get_by_label("Email").fill("mary@example.com")
    page.get_by_label("Mobile phone").fill("07700 900456")
    page.get_by_label("Date of birth").fill("1992-12-26")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/book/course/health-check/")
    for key in QUESTIONS:
        page.locator(f"input[name={key}][value={'yes' if key == 'pregnant' else 'no'}]").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="We can’t book a Micro-needling course").wait_for()
    assert page.get_by_role("button", name="Book a free consultation instead").is_visible()
    _step(page, "course-not-suitable")
    assert not Appointment.objects.exists() and not Plan.objects.exists()
