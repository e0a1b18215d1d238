"""The account pages as a visitor uses them (issue 4, items 3 and 9): no page tells who has an
account, forms need their CSRF token, a password alone does not open an unconfirmed account,
five wrong passwords lock the door (with a way round by email), sessions end everywhere on
request and on their own after SESSION_COOKIE_AGE."""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta

import pytest
import time_machine
from django.test import Client as HttpClient
from django.utils import timezone

from daisy.accounts.models import Role, User
from daisy.clients import accounts as services
from daisy.notifications.models import Message
from tests.support.testing import make_user, staff_login

pytestmark = pytest.mark.django_db

PASSWORD = "lavender-fields-42"
EMAIL = "ada@example.com"


def _account(*, verified: bool = True, email: str = EMAIL) -> User:
    user, _client, _ = services.client_account_ensure(
        email=email,
        first_name="Ada",
        last_name="Lovelace",
        phone="",
        date_of_birth=date(1990, 1, 1),
        now=timezone.now(),
    )
    user.set_password(PASSWORD)
    user.email_verified_at = timezone.now() if verified else None
    user.save()
    Message.objects.all().delete()
    return user


def _mailed_link(kind: str) -> str:
    message = Message.objects.get(dedupe_key__startswith=f"accounts.{kind}:")
    return re.sub(r"^https?://[^/]+", "", message.context["link"])


def _sign_in(http: HttpClient, email: str = EMAIL, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return http.post("/account/sign-in/", {"email": email, "password": password})


def test_register_then_confirm_then_sign_in(client: HttpClient) -> None:
    page = client.get("/account/register/")
    assert page.status_code == 200 and b'autocomplete="new-password"' in page.content
    response = client.post(
        "/account/register/",
        {"first_name": "Ada", "last_name": "Lovelace", "email": EMAIL, "password": PASSWORD},
    )
    assert response.status_code == 302 and response.url == "/account/check-your-inbox/register/"
    # Not confirmed yet: the right password does not sign in, and says why.
    refused = _sign_in(client)
    assert refused.status_code == 200 and "confirm your email address" in refused.text
    assert "_auth_user_id" not in client.session
    confirmed = client.get(_mailed_link("verify"))
    assert confirmed.status_code == 200 and "confirmed" in confirmed.text
    signed_in = _sign_in(client)
    assert signed_in.status_code == 302 and signed_in.url == "/portal/"
    assert client.session["_auth_user_id"] == str(User.objects.get(email=EMAIL).pk)


def test_register_shows_password_rules_on_the_field(client: HttpClient) -> None:
    response = client.post(
        "/account/register/",
        {"first_name": "Ada", "last_name": "Lovelace", "email": EMAIL, "password": "password"},
    )
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.text and "too common" in response.text
    assert not User.objects.filter(role=Role.CLIENT).exists()


def test_register_with_a_taken_address_looks_the_same_to_the_visitor(client: HttpClient) -> None:
    _account()
    response = client.post(
        "/account/register/",
        {"first_name": "M", "last_name": "X", "email": "ADA@example.com", "password": PASSWORD},
    )
    assert response.status_code == 302 and response.url == "/account/check-your-inbox/register/"
    assert User.objects.filter(role=Role.CLIENT).count() == 1


def test_wrong_password_and_unknown_address_get_the_same_answer(client: HttpClient) -> None:
    _account()
    wrong = _sign_in(client, password="not-it-at-all")
    unknown = _sign_in(client, email="nobody@example.com")
    message = "do not match an account"
    assert message in wrong.text and message in unknown.text
    assert "_auth_user_id" not in client.session


def test_sign_in_keeps_next_on_this_site_only(client: HttpClient) -> None:
    _account()
    response = client.post(
        "/account/sign-in/?next=/portal/profile/",
        {"email": EMAIL, "password": PASSWORD, "next": "/portal/profile/"},
    )
    assert response.url == "/portal/profile/"
    other = HttpClient()
    response = other.post(
        "/account/sign-in/", {"email": EMAIL, "password": PASSWORD, "next": "https://evil.test/"}
    )
    assert response.url == "/portal/"


def test_five_failures_lock_out_with_a_friendly_page_and_no_address_in_the_log(
    client: HttpClient, caplog: pytest.LogCaptureFixture
) -> None:
    _account()
    caplog.set_level(logging.INFO)
    for _ in range(5):
        assert _sign_in(client, password="wrong-password").status_code in {200, 429}
    locked = _sign_in(client)  # even the right password now
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.text and "15 minutes" in locked.text
    assert "/account/sign-in/link/" in locked.text
    assert "_auth_user_id" not in client.session
    assert EMAIL not in caplog.text and "ada@" not in caplog.text.lower()
    # Another visitor (another address) is not locked out by this one.
    other = HttpClient(REMOTE_ADDR="10.0.0.9")
    assert _sign_in(other).status_code == 302


def test_lockout_ends_after_the_cool_off(client: HttpClient) -> None:
    _account()
    for _ in range(6):
        _sign_in(client, password="wrong-password")
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert _sign_in(client).status_code == 302


def test_sign_in_link_page_is_the_same_for_unknown_addresses(client: HttpClient) -> None:
    _account()
    known = client.post("/account/sign-in/link/", {"email": EMAIL})
    unknown = client.post("/account/sign-in/link/", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url == "/account/check-your-inbox/sign-in-link/"
    assert Message.objects.count() == 1  # only the real account got an email


def test_sign_in_link_needs_a_button_press_and_works_once(client: HttpClient) -> None:
    _account(verified=False)
    client.post("/account/sign-in/link/", {"email": EMAIL})
    link = _mailed_link("sign-in-link")
    # A mail scanner opening the link spends nothing.
    assert client.get(link).status_code == 200 and client.get(link).status_code == 200
    signed_in = client.post(link)
    assert signed_in.status_code == 302 and signed_in.url == "/portal/"
    assert User.objects.get(email=EMAIL).email_verified_at is not None
    again = HttpClient().post(link)
    assert again.status_code == 400 and "not valid" in again.text


def test_password_reset_by_email(client: HttpClient) -> None:
    _account()
    response = client.post("/account/password-reset/", {"email": EMAIL})
    assert response.url == "/account/check-your-inbox/password-reset/"
    link = _mailed_link("password-reset")
    assert 'name="password"' in client.get(link).text
    weak = client.post(link, {"password": "123"})
    assert weak.status_code == 200 and 'aria-invalid="true"' in weak.text
    done = client.post(link, {"password": "a-brand-new-secret-9"})
    assert done.status_code == 302 and done.url == "/account/sign-in/"
    assert _sign_in(HttpClient(), password="a-brand-new-secret-9").status_code == 302
    assert client.get(link).status_code == 400


def test_sign_out_everywhere_ends_the_other_sessions(client: HttpClient) -> None:
    _account()
    phone, laptop = HttpClient(), HttpClient()
    _sign_in(phone)
    _sign_in(laptop)
    assert laptop.get("/portal/").status_code == 200
    phone.post("/account/sign-out-everywhere/")
    assert phone.get("/portal/").status_code == 302
    away = laptop.get("/portal/")
    assert away.status_code == 302 and away.url.startswith("/account/sign-in/")


def test_sign_out_is_a_post(client: HttpClient) -> None:
    _account()
    _sign_in(client)
    assert client.get("/account/sign-out/").status_code == 200
    assert client.get("/portal/").status_code == 200  # a GET (a prefetch) signs nobody out
    client.post("/account/sign-out/")
    assert client.get("/portal/").status_code == 302


def test_sessions_expire(client: HttpClient, settings) -> None:  # type: ignore[no-untyped-def]
    _account()
    _sign_in(client)
    assert client.get("/portal/").status_code == 200
    later = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)
    with time_machine.travel(later):
        assert client.get("/portal/").status_code == 302


def test_account_forms_refuse_a_post_without_the_csrf_token() -> None:
    _account()
    http = HttpClient(enforce_csrf_checks=True)
    for path, data in [
        ("/account/register/", {"email": "x@example.com"}),
        ("/account/sign-in/", {"email": EMAIL, "password": PASSWORD}),
        ("/account/sign-in/link/", {"email": EMAIL}),
        ("/account/password-reset/", {"email": EMAIL}),
        ("/account/sign-out/", {}),
        ("/account/sign-out-everywhere/", {}),
    ]:
        assert http.post(path, data).status_code == 403, path
    assert not Message.objects.exists()


def test_staff_do_not_sign_in_on_the_client_page(client: HttpClient) -> None:
    make_user(role=Role.RECEPTION, email="desk@example.com")
    response = _sign_in(client, email="desk@example.com", password="pw-test-123")
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_no_address_in_any_account_url() -> None:
    from django.urls import get_resolver

    patterns = [
        str(p.pattern)
        for urls in ("daisy.portal.account_urls", "daisy.accounts.urls")
        for p in get_resolver(urls).url_patterns
    ]
    assert not any("email" in p for p in patterns)


def test_staff_sign_in_at_the_staff_page_and_are_locked_out_there_too() -> None:
    staff = make_user(role=Role.RECEPTION)
    http = HttpClient()
    sign_in = "/account/staff/sign-in/"
    response = http.post(
        sign_in + "?next=/admin/", {"username": staff.username, "password": "pw-test-123"}
    )
    assert response.status_code == 302 and http.session["_auth_user_id"] == str(staff.pk)
    other = HttpClient()
    for _ in range(5):
        other.post(sign_in, {"username": staff.username, "password": "wrong"})
    locked = other.post(sign_in, {"username": staff.username, "password": "pw-test-123"})
    assert locked.status_code == 429 and "_auth_user_id" not in other.session


def test_admin_shows_when_a_client_confirmed_their_address() -> None:
    user = _account()
    manager = make_user(role=Role.MANAGER)
    http = staff_login(HttpClient(), manager)
    page = http.get(f"/admin/accounts/user/{user.pk}/change/")
    assert page.status_code == 200 and "Email verified at" in page.text
