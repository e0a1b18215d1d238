"""The owner's reports in a real browser at 1,440x900 (issue 16, item 5): the manager opens them
on the fixed week of daisy/booking/tests/report_data.py, narrows the days with the keyboard
alone, and reads the new figures. Screenshots: var/screenshots/desk-reports-*; axe-core: no
serious or critical problems."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from daisy.booking.tests.report_data import make_report_clinic
from tests.support.browser import assert_accessible, close_page, new_page, shot
from tests.support.testing import authenticator_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESK = {"width": 1440, "height": 900}


def test_the_manager_reads_the_reports_and_narrows_the_days_by_keyboard(
    browser: Any, live_url: str
) -> None:
    data = make_report_clinic()
    manager = data.clinic.manager
    path = "/desk/reports/?start=2030-01-07&end=2030-01-13"
    page = new_page(browser, viewport=DESK)  # en-GB: a date is typed day, month, year
    try:
        page.goto(live_url + "/desk/sign-in/?next=" + path.replace("&", "%26"))
        page.get_by_label("Username").fill(manager.username)
        page.get_by_label("Password").fill("pw-test-123")
        page.get_by_label("Code from your authenticator app").fill(authenticator_code(manager))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/desk/reports/"))

        expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
        for name in (
            "Utilisation by specialist, room and device",
            "No-show and late-cancellation rates by specialist",
            "Courses reaching each session",
            "Rebooking rate by specialist",
        ):
            expect(page.get_by_role("img", name=name)).to_be_visible()
        expect(page.get_by_text("1,400.00 GBP from 6 completed sessions")).to_be_visible()
        assert_accessible(page)
        shot(page, "desk-reports-week")

        # The last day becomes Monday 7 January, typed into the date field and sent with Enter.
        # Chromium orders the field's day and month by its own language, not the page's:
        # typed day first, and again month first if it read them the other way round.
        to = page.get_by_label("To", exact=True)
        to.focus()
        page.keyboard.type("07012030")
        if to.input_value() != "2030-01-07":
            page.keyboard.press("Shift+Tab")
            page.keyboard.press("Shift+Tab")
            page.keyboard.type("01072030")
        assert to.input_value() == "2030-01-07"
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"end=2030-01-07"))
        # A1, A2 in London and B1 in New York were completed that Monday.
        expect(page.get_by_text("680.00 GBP from 3 completed sessions")).to_be_visible()
        assert_accessible(page)
        shot(page, "desk-reports-monday")

        # The rest of the form by keyboard: the location, then Show.
        page.get_by_label("Location", exact=True).focus()
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"location=[0-9a-f-]{36}"))
        expect(page.get_by_text("Days are local days at the location")).to_be_visible()
        page.get_by_role("heading", name="Revenue").scroll_into_view_if_needed()
        shot(page, "desk-reports-location")
    finally:
        close_page(page)
