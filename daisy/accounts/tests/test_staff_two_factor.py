"""Staff two-factor sign-in (issue 16, item 1): every staff role needs a code from an
authenticator app (or a recovery code) as well as a password for /desk/, /admin/ and a staff API
token; the app is set up at the first sign-in; a manager resets a lost one (audited); every
sign-in field takes a password manager's fill and paste."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client as HttpClient
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from daisy.accounts import twofactor
from daisy.accounts.models import Role, User
from daisy.audit.models import AuditEntry
from daisy.lib.errors import PermissionDenied
from tests.support.testing import authenticator_code, make_user, staff_login

pytestmark = pytest.mark.django_db

PASSWORD = "pw-test-123"
SIGN_IN = "/account/staff/sign-in/"


def _code_of(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + steps_ahead * device.step
    return f"{totp.token():06d}"


def _unthrottle(user: User) -> None:
    # A wrong code makes django-otp wait (1 s, then 2, 4...) before the next try counts; a
    # person takes that long to retype, a test does not.
    TOTPDevice.objects.filter(user=user).update(throttling_failure_count=0)


def _sign_in(http: HttpClient, user: User, code: str = "", next_url: str = "/admin/"):
    return http.post(
        f"{SIGN_IN}?next={next_url}",
        {"username": user.username, "password": PASSWORD, "code": code},
    )


@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/login/", "/desk/", "/desk/sign-in/", "/desk/anything/"]
)
def test_staff_pages_send_visitors_to_the_staff_sign_in(path: str) -> None:
    response = HttpClient().get(path, follow=True)
    final = response.redirect_chain[-1][0]
    assert final.startswith(SIGN_IN + "?next=") and response.status_code == 200
    assert 'autocomplete="one-time-code"' in response.content.decode()


def test_a_client_signed_in_never_sees_the_password_only_admin_login() -> None:
    client_user = User.objects.create_user(username="client-x", password=PASSWORD)
    http = HttpClient()
    http.force_login(client_user)
    response = http.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith(SIGN_IN)


def test_every_sign_in_field_says_what_it_is_and_none_blocks_paste() -> None:
    page = HttpClient().get(SIGN_IN).content.decode()
    for token in ("username", "current-password", "one-time-code"):
        assert f'autocomplete="{token}"' in page
    assert "onpaste" not in page.lower() and "oncopy" not in page.lower()


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.SPECIALIST, Role.MANAGER])
def test_first_sign_in_sets_up_the_app_and_then_the_admin_opens(role: str) -> None:
    user = make_user(role=role)
    http = HttpClient()
    response = _sign_in(http, user)
    assert response.status_code == 302
    assert "/account/staff/two-factor/set-up/" in response["Location"]
    # Signed in with the password only: the staff pages still ask for the app first.
    assert "/two-factor/set-up/" in http.get("/admin/")["Location"]
    page = http.get(response["Location"]).content.decode()
    assert "<svg" in page and "QR code to scan" in page
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert twofactor.secret_text(device) in page  # the key to type when scanning fails
    wrong = http.post("/account/staff/two-factor/set-up/?next=/admin/", {"code": "000000"})
    assert "That code did not match" in wrong.content.decode()
    done = http.post("/account/staff/two-factor/set-up/?next=/admin/", {"code": _code_of(device)})
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", done.content.decode())
    assert len(codes) == 10
    assert http.get("/admin/").status_code == 200
    assert AuditEntry.objects.filter(action="staff.two_factor_set_up", actor=user).exists()


def test_sign_in_needs_the_current_code_once_set_up() -> None:
    user = make_user(role=Role.RECEPTION)
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    http = HttpClient()
    missing = _sign_in(http, user)
    assert missing.status_code == 200 and "Type the code your authenticator app" in missing.text
    wrong = _sign_in(http, user, code="123456" if _code_of(device) != "123456" else "654321")
    assert wrong.status_code == 200 and "That code did not work" in wrong.text
    assert "_auth_user_id" not in http.session
    _unthrottle(user)
    # A code from the app (typed with a space, as some apps show it) opens the admin.
    code = _code_of(device)
    ok = _sign_in(http, user, code=f"{code[:3]} {code[3:]}")
    assert ok.status_code == 302 and ok["Location"] == "/admin/"
    assert http.get("/admin/").status_code == 200
    # The same code cannot be used twice.
    again = _sign_in(HttpClient(), user, code=code)
    assert again.status_code == 200 and "That code did not work" in again.text


def test_a_wrong_password_with_a_right_code_does_not_sign_in() -> None:
    user = make_user(role=Role.MANAGER)
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    http = HttpClient()
    response = http.post(
        SIGN_IN, {"username": user.username, "password": "nope", "code": _code_of(device)}
    )
    assert response.status_code == 200 and "do not match a staff account" in response.text
    assert "_auth_user_id" not in http.session


def test_a_recovery_code_signs_in_once() -> None:
    user = make_user(role=Role.SPECIALIST)
    TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    codes = twofactor.recovery_codes_renew(user=user, now=timezone.now())
    http = HttpClient()
    assert _sign_in(http, user, code=codes[0].upper()).status_code == 302
    assert http.get("/admin/").status_code == 200
    assert twofactor.recovery_codes_left(user) == 9
    assert _sign_in(HttpClient(), user, code=codes[0]).status_code == 200


def test_a_session_that_skipped_the_code_is_asked_for_it() -> None:
    user = make_user(role=Role.RECEPTION)
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    http = HttpClient()
    http.force_login(user)  # a password-only session (e.g. from before two-factor sign-in)
    response = http.get("/admin/clients/client/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/staff/two-factor/?next=")
    done = http.post(response["Location"], {"code": _code_of(device)})
    assert done["Location"] == "/admin/clients/client/"
    assert http.get("/admin/clients/client/").status_code == 200
    # Someone with an app cannot swap in another phone without passing the app first.
    fresh = HttpClient()
    fresh.force_login(user)
    swap = fresh.get("/account/staff/two-factor/set-up/")
    assert "/account/staff/two-factor/" in swap["Location"]


def test_a_manager_resets_a_lost_phone_and_it_is_audited() -> None:
    manager = make_user(role=Role.MANAGER)
    lost = make_user(role=Role.SPECIALIST, first_name="Hannah", last_name="Cole")
    staff_login(HttpClient(), lost)
    twofactor.recovery_codes_renew(user=lost, now=timezone.now())
    their_session = staff_login(HttpClient(), lost)
    assert their_session.get("/admin/").status_code == 200
    desk = staff_login(HttpClient(), manager)
    response = desk.post(
        "/admin/accounts/user/",
        {"action": "reset_two_factor", "_selected_action": [str(lost.pk)]},
        follow=True,
    )
    assert "Two-factor sign-in reset for Hannah Cole" in response.text
    assert not TOTPDevice.objects.filter(user=lost).exists()
    assert not StaticToken.objects.filter(device__user=lost).exists()
    entry = AuditEntry.objects.get(action="staff.two_factor_reset")
    assert entry.actor == manager and entry.object_id == str(lost.pk)
    # Their old sessions end; their next sign-in (password) leads to setting up a new app.
    assert their_session.get("/admin/")["Location"].startswith("/admin/login/")
    assert "/two-factor/set-up/" in _sign_in(HttpClient(), lost)["Location"]


def test_only_a_manager_may_reset_two_factor() -> None:
    reception = make_user(role=Role.RECEPTION)
    other = make_user(role=Role.SPECIALIST)
    TOTPDevice.objects.create(user=other, name="app", confirmed=True)
    with pytest.raises(PermissionDenied):
        twofactor.two_factor_reset(user=other, by=reception, now=timezone.now())
    assert TOTPDevice.objects.filter(user=other).exists()


def test_renewing_recovery_codes_stops_the_old_ones() -> None:
    user = make_user(role=Role.MANAGER)
    http = staff_login(HttpClient(), user)
    old = twofactor.recovery_codes_renew(user=user, now=timezone.now())
    page = http.post("/account/staff/two-factor/recovery-codes/?next=/admin/")
    new = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert _sign_in(HttpClient(), user, code=old[1]).status_code == 200


def test_a_staff_api_token_takes_the_second_factor() -> None:
    user = make_user(role=Role.RECEPTION, username="frontdesk")
    with pytest.raises(CommandError, match="not set up two-factor"):
        call_command("token", "create", "frontdesk", stdout=StringIO())
    code = authenticator_code(user)
    with pytest.raises(CommandError, match="--code"):
        call_command("token", "create", "frontdesk", stdout=StringIO())
    with pytest.raises(CommandError, match="did not match"):
        call_command("token", "create", "frontdesk", "--code", "000000", stdout=StringIO())
    _unthrottle(user)
    out = StringIO()
    call_command("token", "create", "frontdesk", "--code", code, stdout=out)
    assert out.getvalue().splitlines()[-1].startswith("dsy_")
    # A client's own token needs no second factor (clients have none).
    User.objects.create_user(username="client-y", password=PASSWORD)
    call_command("token", "create", "client-y", stdout=StringIO())


def test_the_demo_staff_have_the_published_secrets() -> None:
    from daisy.demo.management.commands.demo_code import demo_code
    from daisy.demo.seed import DEMO_TOTP_SECRETS, demo_authenticators_ensure

    manager = make_user(role=Role.MANAGER, username="manager")
    demo_authenticators_ensure()
    device = TOTPDevice.objects.get(user=manager, confirmed=True)
    assert twofactor.secret_text(device).replace(" ", "") == DEMO_TOTP_SECRETS["manager"]
    out = StringIO()
    call_command("demo_code", "manager", stdout=out)
    assert out.getvalue().strip() == demo_code("manager") == _code_of(device)
    readme = (
        __import__("pathlib").Path(__file__).resolve().parents[3] / "README.md"
    ).read_text()
    for secret in DEMO_TOTP_SECRETS.values():
        grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
        assert grouped in readme
