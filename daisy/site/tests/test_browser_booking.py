"""Booking in a real browser (issue 4, items 2, 5, 7 and 8): a new client books micro-needling on
a phone and on a desktop, two browsers race for one time, a "pregnant: yes" answer is offered a
consultation, the keyboard alone completes a booking, and a booking across the spring DST change
shows the right local time. axe-core runs on every step; screenshots go to
var/screenshots/book-*.png."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from daisy.scheduling.models import Appointment, Status
from tests.support.browser import PHONE, assert_accessible, close_page, new_page, shot
from tests.support.testing import MICRONEEDLING_ONLINE, MONDAY, at, booking_now, make_clinic

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("site_content"),
]

QUESTIONS = MICRONEEDLING_ONLINE
TEN = "Mon 7 Jan 2030, 10:00 London time"
# The time step opens on the first day that leaves room for the two-week preparation.
READY = "Tue 15 Jan 2030, 10:00 London time"
LATER = "Mon 21 Jan 2030, 10:00 London time"


@pytest.fixture
def clinic():
    # The clock of the test and of the live server thread: a week before MONDAY, moving.
    with time_machine.travel(booking_now(), tick=True):
        yield make_clinic(pens=1)


def _already_prepared(page) -> None:
    """A week ahead is too soon for the two-week preparation (issue 12): this client ticks each
    step as one they already follow."""
    for box in page.locator("input[name=precare]").all():
        box.check()


def _step(page, name: str | None) -> None:
    if name:
        shot(page, name)
    assert_accessible(page)


def _walk_to_times(page, live_url: str, prefix: str | None) -> None:
    page.goto(f"{live_url}/treatments/microneedling/")
    _step(page, prefix and f"{prefix}-01-treatment")
    page.get_by_role("link", name="Book Micro-needling").first.click()
    page.wait_for_url("**/book/areas/")
    page.get_by_label("Cheeks").check()
    page.get_by_label("Forehead").check()
    _step(page, prefix and f"{prefix}-02-areas")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/book/clinic/")
    _step(page, prefix and f"{prefix}-03-clinic")
    page.get_by_role("button", name="Show available times").click()
    page.wait_for_url("**/book/time/")


def _book_as_new_client(page, live_url: str, prefix: str | None, email: str) -> None:
    _walk_to_times(page, live_url, prefix)
    # It opens two weeks ahead, where the preparation fits, and says why.
    page.get_by_role("heading", name="Tuesday 15 January 2030").wait_for()
    assert page.get_by_text("so that you have time for the preparation").is_visible()
    _step(page, prefix and f"{prefix}-04-times")
    page.get_by_role("button", name=READY).click()
    page.wait_for_url("**/book/details/")
    assert page.get_by_text("We are holding this time for you until").is_visible()
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mobile phone").fill("07700 900123")
    page.get_by_label("Date of birth").fill("1990-05-17")
    _step(page, prefix and f"{prefix}-05-details")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/book/health-check/")
    for key in QUESTIONS:
        page.locator(f"input[name={key}][value=no]").check()
    _step(page, prefix and f"{prefix}-06-health-check")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/book/review/")
    for words in ["£240.00", READY, "What to bring", "Cancellation policy"]:
        assert page.get_by_text(words).first.is_visible()
    # The summary and Confirm come first: Confirm is on the first screen, phone or desktop.
    confirm = page.get_by_role("button", name="Confirm booking").bounding_box()
    assert confirm["y"] + confirm["height"] <= page.viewport_size["height"]
    page.get_by_text("Your details, the address and time in clinic").click()
    assert page.get_by_text("About 70 minutes").is_visible()
    _step(page, prefix and f"{prefix}-07-review")
    _already_prepared(page)
    page.get_by_role("button", name="Confirm booking").click()
    page.wait_for_url("**/book/done/")
    assert page.get_by_text("You are booked in.").is_visible()
    _step(page, prefix and f"{prefix}-08-done")


@pytest.mark.parametrize("viewport", [PHONE, None], ids=["phone", "desktop"])
def test_changing_day_swaps_the_times_in_place_without_moving_the_page(
    browser_page, live_url, clinic, viewport
):
    # Issue 4 item 6: no layout shift when htmx swaps a fragment. The page is not reloaded
    # (a marker set on it survives), and the week's heading and navigation stay where they were.
    page = browser_page
    if viewport:
        page.set_viewport_size(viewport)
    _walk_to_times(page, live_url, None)

    def boxes():
        return {
            "section": page.locator("#picker").bounding_box(),
            "heading": page.locator("#day-heading").bounding_box(),
            "next": page.get_by_role("link", name="Next week").bounding_box(),
        }

    page.evaluate("window.daisyNotReloaded = true")
    before = boxes()
    first_heading = page.locator("#day-heading").inner_text()
    page.get_by_role("link", name="Next week").click()
    page.wait_for_function(
        "h => document.querySelector('#day-heading').innerText !== h", arg=first_heading
    )
    after = boxes()
    assert page.evaluate("window.daisyNotReloaded === true")
    for name in ("section", "heading", "next"):
        assert abs(after[name]["y"] - before[name]["y"]) < 1, (name, before[name], after[name])
        assert abs(after[name]["x"] - before[name]["x"]) < 1, (name, before[name], after[name])
    assert page.get_by_role("link", name="Previous week").is_visible()


def test_new_client_books_on_a_phone(browser, live_url, clinic):
    page = new_page(browser, viewport=PHONE, has_touch=True, is_mobile=True)
    try:
        _book_as_new_client(page, live_url, "book-mobile", "ada@example.com")
        # Nothing wider than the phone on the busiest page.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        close_page(page)
    appt = Appointment.objects.get()
    assert appt.starts_at == at(MONDAY + timedelta(days=8), 10) and appt.status == Status.BOOKED
    assert appt.client.email == "ada@example.com"
    assert appt.notes == "Areas to treat: Forehead, Cheeks"


def test_new_client_books_on_a_desktop(browser_page, live_url, clinic):
    _book_as_new_client(browser_page, live_url, "book-desktop", "grace@example.com")
    assert Appointment.objects.get().client.email == "grace@example.com"


def _to_times(page, live_url: str) -> None:
    page.goto(f"{live_url}/book/?treatment=microneedling")
    page.get_by_label("Full face").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Show available times").click()
    page.goto(f"{live_url}/book/time/?week=2030-01-07")


def test_two_browsers_race_for_one_time(browser, live_url, clinic):
    first, second = new_page(browser), new_page(browser)
    try:
        _to_times(first, live_url)
        _to_times(second, live_url)
        # Both see 10:00 free; the first takes it, the second clicks it a moment later.
        first.get_by_role("button", name=TEN).click()
        first.wait_for_url("**/book/details/")
        second.get_by_role("button", name=TEN).click()
        alert = second.get_by_role("alert")
        assert "that time has just been taken" in alert.inner_text()
        alternatives = alert.get_by_role("button")
        assert alternatives.count() >= 1
        shot(second, "book-race-alternatives")
        assert_accessible(second)
        # The loser picks the first alternative and is holding it.
        alternatives.first.click()
        second.wait_for_url("**/book/details/")
    finally:
        close_page(first)
        close_page(second)


def test_pregnant_yes_is_not_booked_and_offered_a_consultation(browser_page, live_url, clinic):
    page = browser_page
    _to_times(page, live_url)
    page.get_by_role("button", name=TEN).click()
    page.get_by_label("First name").fill("Mary")
    page.get_by_label("Last name").fill("Somerville")
    page.get_by_label("Email").fill("mary@example.com")
    page.get_by_label("Mobile phone").fill("07700 900456")
    page.get_by_label("Date of birth").fill("1992-12-26")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/book/health-check/")
    for key in QUESTIONS:
        page.locator(f"input[name={key}][value={'yes' if key == 'pregnant' else 'no'}]").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="We can’t book Micro-needling for you just now").wait_for()
    assert "pregnancy or breastfeeding" in page.get_by_role("alert").inner_text()
    shot(page, "book-prescreen-stop")
    assert_accessible(page)
    assert not Appointment.objects.exists()
    page.get_by_role("button", name="Book a free consultation instead").click()
    page.wait_for_url("**/book/areas/")
    assert page.get_by_text("Free skin consultation").first.is_visible()


def _tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_the_keyboard_alone_completes_a_booking(browser_page, live_url, clinic):
    page = browser_page
    page.goto(f"{live_url}/")
    _tab_to(page, "a.book-button")
    page.keyboard.press("Enter")
    page.wait_for_url("**/book/")
    # Radio buttons: Tab into the group, arrows move the choice (as every screen reader expects).
    _tab_to(page, "input[name=treatment]")
    for _ in range(10):
        if page.evaluate("document.activeElement.value") == "microneedling":
            break
        page.keyboard.press("ArrowDown")
    assert page.locator("input[value=microneedling]").is_checked()
    _tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/book/areas/")
    _tab_to(page, "input[value='Full face']")
    page.keyboard.press("Space")
    _tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/book/clinic/")
    _tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/book/time/")
    _tab_to(page, "a[href$='day=2030-01-21']")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Monday 21 January 2030").wait_for()
    # After the swap the focus is on the new week's heading, so Tab goes on from there.
    assert page.evaluate("document.activeElement.id") == "day-heading"
    _tab_to(page, f"button[aria-label='{LATER}']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/book/details/")
    for selector, text in [
        ("#id_first_name", "Alan"),
        ("#id_last_name", "Turing"),
        ("#id_email", "alan@example.com"),
        ("#id_phone", "07700 900789"),
    ]:
        _tab_to(page, selector)
        page.keyboard.type(text)
    _tab_to(page, "#id_date_of_birth")
    page.keyboard.type("23/06/1990")
    _tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/book/health-check/")
    for key in QUESTIONS:
        _tab_to(page, f"input[name={key}]")
        page.keyboard.press("Space")  # the first choice is "No"
    _tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/book/review/")
    for box in page.locator("input[name=precare]").all():  # the preparation, by keyboard
        _tab_to(page, f"input[name=precare][value='{box.get_attribute('value')}']")
        page.keyboard.press("Space")
    _tab_to(page, "form[action$='/book/review/'] button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/book/done/")
    appt = Appointment.objects.get()
    assert appt.client.email == "alan@example.com"
    assert appt.client.date_of_birth == date(1990, 6, 23)


def test_booking_across_the_spring_change_shows_the_local_time(browser, live_url):
    # Thursday 28 March 2030; the clocks go forward on Sunday 31 March. Monday 1 April 10:00
    # London is 09:00 UTC, not 10:00.
    with time_machine.travel(datetime(2030, 3, 28, 8, 0, tzinfo=UTC), tick=True):
        make_clinic(pens=1)
        page = new_page(browser, timezone_id="America/New_York")
        try:
            page.goto(f"{live_url}/book/?treatment=microneedling")
            page.get_by_label("Full face").check()
            page.get_by_role("button", name="Continue").click()
            page.get_by_role("button", name="Show available times").click()
            page.goto(f"{live_url}/book/time/?week=2030-04-01")
            # The browser is in New York: the page says so and shows both clocks.
            note = page.locator("[data-zone-note]")
            assert "New York" in note.inner_text() and "London time" in note.inner_text()
            slot = page.get_by_role("button", name="Mon 1 Apr 2030, 10:00 London time")
            assert "(05:00 New York)" in slot.inner_text()  # 09:00 UTC, EDT
            shot(page, "book-dst-times-new-york")
            slot.click()
            page.get_by_label("First name").fill("Emmy")
            page.get_by_label("Last name").fill("Noether")
            page.get_by_label("Email").fill("emmy@example.com")
            page.get_by_label("Mobile phone").fill("07700 900321")
            page.get_by_label("Date of birth").fill("1982-03-23")
            page.get_by_role("button", name="Continue").click()
            for key in QUESTIONS:
                page.locator(f"input[name={key}][value=no]").check()
            page.get_by_role("button", name="Continue").click()
            page.wait_for_url("**/book/review/")
            _already_prepared(page)
            page.get_by_role("button", name="Confirm booking").click()
            page.wait_for_url("**/book/done/")
            assert page.get_by_text("Mon 1 Apr 2030, 10:00 London time").is_visible()
            # The confirmation names both clocks too.
            assert "(05:00 New York)" in page.get_by_role("status").first.inner_text()
            shot(page, "book-dst-done-new-york")
        finally:
            close_page(page)
    appt = Appointment.objects.get()
    assert appt.starts_at == datetime(2030, 4, 1, 9, 0, tzinfo=UTC)
