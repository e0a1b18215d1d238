"""Sign-in abuse (issue 16, item 2): limits per address across accounts (password spraying) and
per account across addresses, that slow an attacker without locking the real person out (a
client still gets in with an emailed link, a staff member with their password and a code); the
proxy's address header is trusted only when configured."""

from __future__ import annotations

import re

import pytest
from django.test import Client as HttpClient
from django.test import override_settings
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from daisy.accounts.models import Role, User
from daisy.notifications.models import Message
from tests.support.testing import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "lavender-fields-42"
SPRAYED = "Spring2026!"
LIMITS = {"DAISY_SIGN_IN_ADDRESS_LIMIT": 8, "DAISY_SIGN_IN_ACCOUNT_LIMIT": 6}


def _client_login(n: int) -> User:
    return User.objects.create_user(
        username=f"client-spray-{n}",
        email=f"person{n}@example.com",
        password=PASSWORD,
        role=Role.CLIENT,
        email_verified_at=timezone.now(),
    )


def _from(address: str, **extra: str) -> HttpClient:
    return HttpClient(REMOTE_ADDR=address, **extra)


def _try(http: HttpClient, email: str, password: str):
    return http.post("/account/sign-in/", {"email": email, "password": password})


def _code(user: User) -> str:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


@override_settings(**LIMITS)
def test_password_spraying_from_one_address_is_stopped_across_accounts() -> None:
    people = [_client_login(n) for n in range(10)]
    attacker = _from("203.0.113.66")
    answers = [_try(attacker, p.email, SPRAYED).status_code for p in people[:8]]
    # One try per account never reaches the per-account limit; the address limit does.
    assert answers[:7] == [200] * 7 and answers[7] == 429
    # Paused for every account from that address, even with the right password...
    refused = _try(attacker, people[9].email, PASSWORD)
    assert refused.status_code == 429 and "from your network" in refused.text
    assert "_auth_user_id" not in attacker.session
    # ...while the people themselves, elsewhere, sign in as usual.
    at_home = _from("198.51.100.7")
    assert _try(at_home, people[0].email, PASSWORD).status_code == 302


@override_settings(**LIMITS)
def test_a_client_locked_by_strangers_still_gets_in_with_an_emailed_link() -> None:
    victim = _client_login(1)
    for n in range(6):  # guesses spread over many addresses: one account, two tries each
        stranger = _from(f"192.0.2.{10 + n}")
        _try(stranger, victim.email, f"guess-{n}-a")
    own = _from("198.51.100.20")
    paused = _try(own, victim.email, PASSWORD)
    assert paused.status_code == 429
    assert "Someone has tried to sign in to this account" in paused.text
    assert "/account/sign-in/link/" in paused.text
    own.post("/account/sign-in/link/", {"email": victim.email})
    message = Message.objects.get(dedupe_key__startswith="accounts.sign-in-link:")
    link = re.sub(r"^https?://[^/]+", "", message.context["link"])
    assert own.post(link).status_code == 302
    assert own.session["_auth_user_id"] == str(victim.pk)


@override_settings(**LIMITS)
def test_a_staff_member_locked_by_strangers_signs_in_with_password_and_code() -> None:
    staff = make_user(role=Role.RECEPTION, username="ben")
    TOTPDevice.objects.create(user=staff, name="app", confirmed=True)
    for n in range(6):
        _from(f"192.0.2.{40 + n}").post(
            "/account/staff/sign-in/", {"username": "ben", "password": f"guess-{n}"}
        )
    # The attacker, now even with the right password, learns nothing without the code: the
    # same pause page as for a wrong password.
    guesser = _from("192.0.2.99")
    wrong_code = guesser.post(
        "/account/staff/sign-in/",
        {"username": "ben", "password": "pw-test-123", "code": "000000"},
    )
    wrong_password = guesser.post(
        "/account/staff/sign-in/", {"username": "ben", "password": "nope", "code": "000000"}
    )
    assert wrong_code.status_code == wrong_password.status_code == 429
    assert "_auth_user_id" not in guesser.session
    TOTPDevice.objects.filter(user=staff).update(throttling_failure_count=0)
    # Ben, at the desk, with his password and the code his app shows: in.
    desk = _from("198.51.100.30")
    ok = desk.post(
        "/account/staff/sign-in/?next=/admin/",
        {"username": "ben", "password": "pw-test-123", "code": _code(staff)},
    )
    assert ok.status_code == 302 and ok["Location"] == "/admin/"
    assert desk.get("/admin/").status_code == 200


@override_settings(**LIMITS)
def test_a_forged_forwarded_header_is_ignored_unless_a_proxy_is_configured() -> None:
    people = [_client_login(n) for n in range(9)]
    # No proxy configured: the header is anyone's to send, so each try still counts against
    # the connection's address.
    for n, person in enumerate(people[:8]):
        _try(_from("203.0.113.66", HTTP_X_FORWARDED_FOR=f"10.9.8.{n}"), person.email, SPRAYED)
    fresh = _from("203.0.113.66", HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert _try(fresh, people[8].email, PASSWORD).status_code == 429


@override_settings(**LIMITS, DAISY_CLIENT_ADDRESS_HEADER="X-Forwarded-For", DAISY_PROXY_COUNT=1)
def test_behind_a_configured_proxy_each_visitor_is_counted_by_their_own_address() -> None:
    people = [_client_login(n) for n in range(9)]
    proxy = "10.0.0.2"  # every request arrives from the proxy
    for person in people[:8]:
        _try(_from(proxy, HTTP_X_FORWARDED_FOR="203.0.113.66"), person.email, SPRAYED)
    sprayer = _from(proxy, HTTP_X_FORWARDED_FOR="203.0.113.66")
    assert _try(sprayer, people[8].email, PASSWORD).status_code == 429
    # Another visitor behind the same proxy is not paused by the sprayer's failures.
    neighbour = _from(proxy, HTTP_X_FORWARDED_FOR="198.51.100.44")
    assert _try(neighbour, people[8].email, PASSWORD).status_code == 302
