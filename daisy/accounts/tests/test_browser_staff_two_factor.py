"""Staff two-factor sign-in in a real browser (issue 16): set up the app at the first sign-in,
sign in with a code, sign in with a recovery code, and a manager resets a lost phone. Each page
is screenshotted (var/screenshots/staff-2fa-*) and checked with axe."""

from __future__ import annotations

import base64
import time

import pytest
from django.contrib.auth import get_user_model
from django_otp.oath import TOTP

from daisy.accounts.models import Role
from daisy.audit.models import AuditEntry
from tests.support.browser import assert_accessible, close_page, new_page, shot, staff_sign_in
from tests.support.testing import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _code(secret: str, *, steps_ahead: int = 0) -> str:
    totp = TOTP(base64.b32decode(secret.replace(" ", "")))
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def _fill_sign_in(page, username: str, code: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-test-123")
    page.get_by_label("Code from your authenticator app").fill(code)


def test_staff_set_up_sign_in_recover_and_are_reset_by_a_manager(browser, live_url):
    ben = make_user(role=Role.RECEPTION, username="ben", first_name="Ben", last_name="Okafor")
    manager = make_user(role=Role.MANAGER, username="dana")

    # 1. First sign-in: the password, then the app is set up.
    page = new_page(browser)
    page.goto(f"{live_url}/admin/")
    assert "/account/staff/sign-in/" in page.url
    assert_accessible(page)
    shot(page, "staff-2fa-01-sign-in")
    _fill_sign_in(page, "ben", "")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/account/staff/two-factor/set-up/**")
    assert page.locator(".qr-code svg").is_visible()
    secret = page.locator("#secret-key").inner_text()
    assert_accessible(page)
    shot(page, "staff-2fa-02-set-up")
    page.get_by_label("The 6-digit code your app now shows for Daisy").fill(_code(secret))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    assert_accessible(page)
    shot(page, "staff-2fa-03-recovery-codes")
    page.get_by_role("link", name="I have kept them: continue").click()
    page.wait_for_url("**/admin/")
    close_page(page)

    # 2. Next time: username, password and the app's code on one form.
    page = new_page(browser)
    page.goto(f"{live_url}/account/staff/sign-in/?next=/admin/")
    _fill_sign_in(page, "ben", _code(secret, steps_ahead=1))
    shot(page, "staff-2fa-04-sign-in-with-code")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/")
    close_page(page)

    # 3. Phone left at home: a recovery code instead, once.
    page = new_page(browser)
    page.goto(f"{live_url}/account/staff/sign-in/?next=/admin/")
    _fill_sign_in(page, "ben", codes[0])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/")
    close_page(page)
    page = new_page(browser)
    page.goto(f"{live_url}/account/staff/sign-in/?next=/admin/")
    _fill_sign_in(page, "ben", codes[0])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("That code did not work").wait_for()
    assert_accessible(page)
    shot(page, "staff-2fa-05-code-refused")
    close_page(page)

    # 4. Phone lost: the manager resets it; Ben sets up a new one at his next sign-in.
    page = new_page(browser)
    staff_sign_in(page, live_url, manager)
    page.goto(f"{live_url}/admin/accounts/user/?q=ben")
    page.locator(f"input[name=_selected_action][value='{ben.pk}']").check()
    page.select_option("select[name=action]", "reset_two_factor")
    page.get_by_role("button", name="Go", exact=True).click()
    page.get_by_text("Two-factor sign-in reset for Ben Okafor").wait_for()
    shot(page, "staff-2fa-06-reset-by-manager")
    close_page(page)
    assert AuditEntry.objects.filter(action="staff.two_factor_reset", actor=manager).exists()
    page = new_page(browser)
    page.goto(f"{live_url}/account/staff/sign-in/?next=/admin/")
    _fill_sign_in(page, "ben", "")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/account/staff/two-factor/set-up/**")
    assert page.locator("#secret-key").inner_text() != secret
    close_page(page)
    assert get_user_model().objects.get(pk=ben.pk).is_active
