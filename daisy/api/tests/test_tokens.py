"""Tokens: stored hashed, shown once, listed without secrets, revoked for good, last use
recorded at most once a minute; and the `daisy token` command."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from daisy.accounts.models import ApiToken, Role
from daisy.accounts.tokens import api_token_authenticate, api_token_create, api_token_revoke
from daisy.api.tests.conftest import Api, error_of
from daisy.audit.models import AuditEntry
from tests.support.testing import authenticator_code, booking_now, make_user

pytestmark = pytest.mark.django_db


def run(*args: str) -> list[str]:
    out = StringIO()
    call_command("token", *args, stdout=out)
    return out.getvalue().splitlines()


def test_create_prints_the_token_alone_on_the_last_line_and_stores_only_its_hash(frozen):
    user = make_user(role=Role.RECEPTION, username="desk")
    lines = run("create", "desk", "--name", "front desk PC", "--code", authenticator_code(user))
    raw = lines[-1]
    assert raw.startswith("dsy_") and raw == raw.strip() and " " not in raw
    token = ApiToken.objects.get(user=user)
    assert token.name == "front desk PC"
    assert raw not in token.secret_hash and token.prefix in raw
    assert token.secret_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert AuditEntry.objects.filter(action="api_token.create", object_id=str(token.pk)).exists()
    assert Api(raw).get("/clients").status_code == 200


def test_list_shows_tokens_but_never_secrets(frozen):
    boss = make_user(role=Role.MANAGER, username="boss")
    raw = run("create", "boss", "--name", "accounting", "--code", authenticator_code(boss))[-1]
    listing = "\n".join(run("list"))
    token = ApiToken.objects.get()
    assert token.prefix in listing and "boss" in listing and "accounting" in listing
    assert raw not in listing and token.secret_hash not in listing


def test_revoke_by_prefix_makes_the_token_fail_with_401(frozen):
    desk = make_user(role=Role.RECEPTION, username="desk")
    raw = run("create", "desk", "--code", authenticator_code(desk))[-1]
    api = Api(raw)
    assert api.get("/clients").status_code == 200
    token = ApiToken.objects.get()
    assert "Revoked" in run("revoke", token.prefix)[-1]
    response = api.get("/clients")
    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_token"
    assert token.prefix not in "\n".join(run("list"))
    assert token.prefix in "\n".join(run("list", "--all"))


def test_revoke_by_id_and_unknown_ident(frozen):
    desk = make_user(role=Role.RECEPTION, username="desk")
    run("create", "desk", "--code", authenticator_code(desk))
    token = ApiToken.objects.get()
    run("revoke", str(token.pk))
    token.refresh_from_db()
    assert token.revoked_at is not None
    with pytest.raises(CommandError):
        run("revoke", "0123456789ab")
    with pytest.raises(CommandError):
        run("create", "nobody")


def test_last_use_is_recorded_at_most_once_a_minute(frozen):
    user = make_user(role=Role.RECEPTION)
    now = booking_now()
    raw = api_token_create(user=user, name="", now=now).raw
    assert api_token_authenticate(raw=raw, now=now).last_used_at == now
    later = now + timedelta(seconds=30)
    api_token_authenticate(raw=raw, now=later)
    assert ApiToken.objects.get().last_used_at == now
    much_later = now + timedelta(seconds=61)
    api_token_authenticate(raw=raw, now=much_later)
    assert ApiToken.objects.get().last_used_at == much_later


@pytest.mark.parametrize(
    "header",
    [
        "Bearer dsy_000000000000_" + "A" * 43,  # well-formed, unknown
        "Bearer nonsense",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "dsy_000000000000_" + "A" * 43,
        "Bearer \u00e9\u00e9",
    ],
)
def test_bad_tokens_are_401_with_json_and_www_authenticate(cast, header):
    response = Api(None).get("/clients", headers={"Authorization": header})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert error_of(response)["code"] in {"invalid_token", "not_authenticated"}


def test_a_tampered_secret_with_a_real_prefix_is_refused(cast):
    raw = cast.tokens["reception"]
    tampered = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    assert Api(tampered).get("/clients").status_code == 401


def test_inactive_users_tokens_stop_working(cast):
    user = cast.clinic.reception
    user.is_active = False
    user.save()
    assert cast.as_("reception").get("/clients").status_code == 401


def test_revoked_token_service_is_idempotent(cast):
    token = ApiToken.objects.get(user=cast.clinic.manager)
    first = api_token_revoke(ident=token.prefix, now=booking_now())
    again = api_token_revoke(ident=f"dsy_{token.prefix}", now=booking_now() + timedelta(hours=1))
    assert first.revoked_at == again.revoked_at
    assert AuditEntry.objects.filter(action="api_token.revoke").count() == 1


def test_public_endpoints_refuse_a_bad_token_rather_than_ignore_it(cast):
    assert Api("nonsense").get("/treatments").status_code == 401
    assert Api(None).get("/treatments").status_code == 200
