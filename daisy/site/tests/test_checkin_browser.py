"""The check-in page in a real browser (Chromium): answered from the link alone, with JavaScript
off, by label; accessible (axe-core) before and after; what to do now is shown."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from daisy.aftercare.models import Alert
from daisy.aftercare.services import checkin_link
from daisy.booking.services import appointment_book
from tests.support.browser import PHONE, assert_accessible, close_page, new_page, shot
from tests.support.testing import at, booking_now, make_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _recent_session() -> Any:
    # The live server reads the real clock: a session three to four days ago (not a Sunday).
    day = date.today() - timedelta(days=3)
    if day.weekday() == 6:
        day -= timedelta(days=1)
    clinic = make_clinic(phone="+442071234567")
    return appointment_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=at(day, 10),
        booked_by=clinic.reception,
        now=booking_now(day),
    ).appointment


VIEWPORTS = {"phone": PHONE, "desktop": {"width": 1280, "height": 900}}


@pytest.mark.parametrize("device", VIEWPORTS)
def test_the_form_and_its_errors_are_accessible(browser: Any, live_url: str, device: str) -> None:
    appt = _recent_session()
    page = new_page(browser, viewport=VIEWPORTS[device])
    try:
        page.goto(live_url + "/check-in/" + checkin_link(appt, "24h").rsplit("/", 1)[1])
        assert page.get_by_role("heading", name="How is your skin healing?").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[device]["width"]
        assert_accessible(page)
        shot(page, f"client-checkin-form-{device}")
        page.get_by_role("button", name="Send my answers").click()  # nothing chosen yet
        expect(page.get_by_text("Please answer the questions marked below.")).to_be_visible()
        assert_accessible(page)
        shot(page, f"client-checkin-errors-{device}")
    finally:
        close_page(page)


def test_a_client_answers_on_a_phone_without_javascript(browser: Any, live_url: str) -> None:
    appt = _recent_session()
    url = live_url + "/check-in/" + checkin_link(appt, "72h").rsplit("/", 1)[1]
    # axe-core needs JavaScript: the JS-free page answers, a normal one audits the result.
    page = new_page(browser, viewport=PHONE, java_script_enabled=False)
    try:
        page.goto(url)
        for group, answer in (
            ("Is the treated skin red?", "Yes, but fading"),
            ("Is it swollen?", "None"),
            ("Is it painful or tender?", "None"),
            ("Does the skin feel hot, or is it weeping or oozing pus?", "No"),
            ("Do you have red spots or bumps on the treated skin?", "No"),
            ("Do you have blisters or cold sores?", "Yes"),
            ("Have any dark patches appeared on the treated skin?", "No"),
            ("Do you have a fever or feel unwell?", "No"),
            ("Do you have an itchy rash or hives on or around the treated skin?", "No"),
            ("Do you have breakouts or tiny white bumps on the treated skin?", "No"),
            ("Can you see lines or tracks on the treated skin, like fine scratches?", "No"),
        ):
            page.get_by_role("group", name=group).get_by_label(answer, exact=True).check()
        page.get_by_label("Anything else you would like us to know?").fill("Tingling lip.")
        page.get_by_role("button", name="Send my answers").click()
        # The live server reads the real clock: the clinic may be open or closed (issue 12).
        today_or_out_of_hours = re.compile("Please call the clinic today|The clinic is closed now")
        assert page.get_by_role("heading", name=today_or_out_of_hours).is_visible()
        assert page.get_by_text("Tingling lip.").is_visible()
        shot(page, "client-checkin-answered-urgent-phone")
    finally:
        close_page(page)
    assert Alert.objects.get().flags == ["hsv"]
    audit = new_page(browser, viewport=PHONE)
    try:
        audit.goto(url)
        assert audit.get_by_role("heading", name="You have already answered this check-in")
        assert_accessible(audit)
    finally:
        close_page(audit)


def test_a_broken_link_gets_a_kind_page(browser: Any, live_url: str) -> None:
    page = new_page(browser)
    try:
        response = page.goto(f"{live_url}/check-in/not-a-real-link")
        assert response.status == 404
        assert page.get_by_role("heading", name="We cannot open this check-in").is_visible()
        assert_accessible(page)
    finally:
        close_page(page)
