"""The foundation in a real browser: the strict CSP holds on our pages, the admin and the API
docs still work under it, and the layout is accessible on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.browser import PHONE, assert_accessible, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_sign_in_works_under_the_csp(browser_page, live_url):
    response = browser_page.goto(f"{live_url}/admin/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "/account/staff/sign-in/" in browser_page.url
    browser_page.get_by_label("Username").fill("nobody")
    browser_page.get_by_label("Password").fill("wrong-password")
    browser_page.get_by_role("button", name="Sign in").click()
    expect(browser_page.get_by_text("do not match a staff account")).to_be_visible()


def test_api_docs_render_their_operations(browser_page, live_url):
    browser_page.goto(f"{live_url}/api/v1/docs")
    browser_page.get_by_text("/api/v1/health").first.wait_for()


def test_layout_on_a_phone_is_accessible_and_keyboard_reachable(browser_page, live_url):
    browser_page.set_viewport_size(PHONE)
    browser_page.goto(f"{live_url}/")
    browser_page.keyboard.press("Tab")
    skip = browser_page.get_by_role("link", name="Skip to content")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.is_visible()
    # Nothing is wider than the screen (no sideways scrolling at 390 px).
    assert browser_page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(browser_page, "layout-mobile-home")
    assert_accessible(browser_page)
