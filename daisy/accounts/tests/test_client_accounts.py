"""Client accounts (issue 4, item 3): made by a guest booking or by registering, confirmed by a
mailed link; sign-in links and password resets that work once and expire; sign out everywhere.
Every email leaves through the outbox in the transaction that causes it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core import signing
from django.db import transaction

from daisy import settings as shipped
from daisy.accounts.models import EmailToken, Role, User
from daisy.accounts.services import user_sessions_end
from daisy.audit.models import AuditEntry
from daisy.clients import accounts as services
from daisy.clients.models import Client
from daisy.lib.errors import ValidationFailed
from daisy.notifications.models import Message
from tests.support.testing import make_client

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
PASSWORD = "lavender-fields-42"


def _ensure(email: str = "Ada.Lovelace@Example.com", **kw):  # type: ignore[no-untyped-def]
    values = {
        "email": email,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "phone": "07700 900123",
        "date_of_birth": date(1990, 12, 10),
        "now": NOW,
    }
    values.update(kw)
    return services.client_account_ensure(**values)


def _mails(kind: str):  # type: ignore[no-untyped-def]
    return Message.objects.filter(dedupe_key__startswith=f"accounts.{kind}:")


def _link_in(message: Message) -> str:
    link = message.context["link"]
    assert link.startswith("http")
    return link


def _secret(message: Message) -> str:
    return re.search(r"/([^/]+)/$", _link_in(message))[1]  # type: ignore[index]


def test_guest_booking_creates_login_client_and_verification_email() -> None:
    user, client, created = _ensure()
    assert created
    assert user.role == Role.CLIENT and not user.has_usable_password()
    assert user.email == "Ada.Lovelace@example.com" and user.email_verified_at is None
    assert client.user == user and client.phone == "+447700900123"
    assert client.date_of_birth == date(1990, 12, 10)
    # The login's username says nothing about the person.
    assert "ada" not in user.username.lower() and "@" not in user.username
    [message] = Message.objects.all()
    assert message.recipient == "Ada.Lovelace@example.com" and message.client == client
    assert "/account/verify/" in _link_in(message)
    assert message.send_after == NOW


def test_an_account_whose_booking_failed_is_withdrawn_unless_used_meanwhile() -> None:
    user, _client, _ = _ensure()
    assert services.client_account_withdraw(user=user, now=NOW)
    assert not User.objects.exists() and not Client.objects.exists()
    assert not Message.objects.exists()  # the "confirm your email" never goes out
    assert AuditEntry.objects.filter(action="account.withdraw").count() == 1
    # Confirmed (or signed in) since: it is the client's account now, and it stays.
    user, client, _ = _ensure()
    User.objects.filter(pk=user.pk).update(email_verified_at=NOW)
    assert not services.client_account_withdraw(user=user, now=NOW)
    assert User.objects.filter(pk=user.pk).exists() and Client.objects.filter(pk=client.pk).exists()


def test_the_same_address_in_any_case_finds_the_same_account_and_sends_nothing_more() -> None:
    user, client, _ = _ensure()
    again_user, again_client, created = _ensure(
        email="ADA.LOVELACE@EXAMPLE.COM", first_name="Someone", last_name="Else"
    )
    assert not created and (again_user, again_client) == (user, client)
    # Details typed by someone not signed in never overwrite the account holder's.
    client.refresh_from_db()
    assert client.first_name == "Ada"
    assert Message.objects.count() == 1 and User.objects.filter(role=Role.CLIENT).count() == 1


def test_a_guest_with_the_address_of_a_known_client_books_on_their_record() -> None:
    """One person, one record (issue 11): the clinic's record gets a login on its own address,
    which opens nothing until the address's owner follows the link mailed to it."""
    known = make_client(
        first_name="Ada", last_name="King", email="ada.lovelace@example.com", notes="keep me"
    )
    before = (known.first_name, known.last_name, known.phone, known.date_of_birth, known.notes)
    user, client, created = _ensure(
        email="ADA.Lovelace@Example.com ",
        first_name="Mallory",
        last_name="Typed",
        phone="07700 900999",
        date_of_birth=date(2001, 1, 1),
        password=PASSWORD,
    )
    assert client == known and created and Client.objects.count() == 1
    assert client.user == user and user.email == "ADA.Lovelace@example.com"
    # Unusable until verified, and the typed password is not kept: a typist who is not the
    # owner can never open the record, even after the owner confirms the address.
    assert user.email_verified_at is None and not user.has_usable_password()
    assert user.first_name == "Ada" and user.last_name == "King"
    # What the record holds is never overwritten by what was typed.
    known.refresh_from_db()
    after = (known.first_name, known.last_name, known.phone, known.date_of_birth, known.notes)
    assert after == before and known.phone != "+447700900999"
    # The owner hears about it in their own inbox.
    [message] = _mails("verify")
    assert message.recipient == "ADA.Lovelace@example.com" and message.client == known
    assert not Client.objects.filter(first_name="Mallory").exists()


def test_a_guest_with_the_phone_of_a_known_client_books_on_their_record_without_a_login() -> None:
    known = make_client(email="ada@example.org", phone="+447700900321", user=None)
    user, client, created = _ensure(email="someone@example.net", phone="07700 900321")
    # A login on the typed address would let whoever reads that inbox into Ada's record.
    assert (user, client, created) == (None, known, False)
    assert not User.objects.filter(role=Role.CLIENT).exists()
    assert not Message.objects.exists() and Client.objects.count() == 1
    known.refresh_from_db()
    assert known.email == "ada@example.org" and known.user is None


def test_a_known_address_on_a_record_whose_login_uses_another_address_makes_no_login() -> None:
    owner, client, _ = _ensure(email="ada@example.org")
    Client.objects.filter(pk=client.pk).update(
        email="ada.new@example.org", email_key="ada.new@example.org"
    )
    user, found, created = _ensure(email="Ada.New@example.org", phone="")
    assert (user, found, created) == (None, client, False)
    assert User.objects.filter(role=Role.CLIENT).count() == 1


def test_withdrawing_a_login_attached_to_a_known_record_keeps_the_record() -> None:
    known = make_client(email="ada.lovelace@example.com")
    user, client, created = _ensure()
    assert created and client == known
    assert services.client_account_withdraw(user=user, now=NOW)
    known.refresh_from_db()
    assert known.user is None and not User.objects.filter(pk=user.pk).exists()
    assert not _mails("verify").exists()


def test_registering_with_the_address_of_a_known_record_drops_the_typed_password() -> None:
    known = make_client(email="ada.lovelace@example.com")
    services.client_register(
        email="ada.lovelace@example.com",
        password=PASSWORD,
        first_name="Mallory",
        last_name="Typed",
        now=NOW,
    )
    known.refresh_from_db()
    assert known.user is not None and not known.user.has_usable_password()
    assert known.first_name == "Client" and Client.objects.count() == 1


def test_bad_details_make_nothing_and_send_nothing() -> None:
    with pytest.raises(ValidationFailed) as exc:
        _ensure(phone="not a phone")
    assert "phone" in exc.value.fields
    with pytest.raises(ValidationFailed):
        _ensure(email="not-an-address")
    assert not User.objects.filter(role=Role.CLIENT).exists()
    assert not Client.objects.exists() and not Message.objects.exists()


def test_a_rolled_back_caller_leaves_no_account_and_no_email() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        _ensure()
        raise RuntimeError("the booking failed")
    assert not User.objects.filter(role=Role.CLIENT).exists() and not Message.objects.exists()


def test_verification_link_confirms_the_address_and_expires() -> None:
    user, _, _ = _ensure()
    token = _secret(Message.objects.get())
    assert services.email_verify(token=token, now=NOW + timedelta(days=2)).pk == user.pk
    user.refresh_from_db()
    assert user.email_verified_at == NOW + timedelta(days=2)
    assert AuditEntry.objects.filter(action="account.verify_email", object_id=str(user.pk))

    # The link is signed, not encrypted: it must not carry the address, even encoded.
    payload = signing.b64_decode(token.split(":")[0].encode()).decode()
    assert "ada" not in payload.lower() and "example" not in payload

    other, _, _ = _ensure(
        email="grace@example.com", first_name="Grace", last_name="Hopper", phone="07700 900124"
    )
    late = services.email_verification_token(user=other, now=NOW)
    with pytest.raises(ValidationFailed, match="expired"):
        services.email_verify(token=late, now=NOW + timedelta(days=3, seconds=1))
    with pytest.raises(ValidationFailed, match="not valid"):
        services.email_verify(token=late[:-2] + "xx", now=NOW)
    other.refresh_from_db()
    assert other.email_verified_at is None


def test_registering_sets_the_password_and_asks_to_confirm_the_address(settings: Any) -> None:
    settings.PASSWORD_HASHERS = shipped.PASSWORD_HASHERS  # what a clinic's server stores
    result = services.client_register(
        email="grace@example.com",
        password=PASSWORD,
        first_name="Grace",
        last_name="Hopper",
        now=NOW,
    )
    assert result.created
    user = User.objects.get(email="grace@example.com")
    assert user.check_password(PASSWORD) and user.password.startswith("argon2")
    assert Client.objects.get(user=user).last_name == "Hopper"
    assert "/account/verify/" in Message.objects.get().context["link"]


@pytest.mark.parametrize(
    ("password", "problem"),
    [("short1", "too short"), ("12345678901", "entirely numeric"), ("password123", "too common")],
)
def test_registering_refuses_weak_passwords(password: str, problem: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        services.client_register(
            email="grace@example.com", password=password, first_name="G", last_name="H", now=NOW
        )
    assert problem in exc.value.fields["password"]
    assert not User.objects.filter(role=Role.CLIENT).exists() and not Message.objects.exists()


def test_registering_a_taken_address_changes_nothing_and_tells_the_owner() -> None:
    user, _, _ = _ensure()
    result = services.client_register(
        email="ada.lovelace@EXAMPLE.com",
        password=PASSWORD,
        first_name="Mallory",
        last_name="X",
        now=NOW,
    )
    assert not result.created
    user.refresh_from_db()
    assert not user.has_usable_password() and user.first_name == "Ada"
    note = _mails("already-registered").get()
    assert note.recipient == user.email and "already" in note.context["subject"]


def test_sign_in_link_works_once_within_15_minutes() -> None:
    user, _, _ = _ensure()
    services.sign_in_link_request(email="ADA.lovelace@example.com", now=NOW)
    message = _mails("sign-in-link").get()
    assert message.expires_at == NOW + timedelta(minutes=15)
    secret = _secret(message)
    # Only a digest is stored.
    assert not EmailToken.objects.filter(secret_hash__contains=secret).exists()
    assert services.sign_in_link_use(secret=secret, now=NOW + timedelta(minutes=14)) == user
    user.refresh_from_db()
    assert user.email_verified_at is not None  # the link proves the address
    with pytest.raises(ValidationFailed, match="not valid"):
        services.sign_in_link_use(secret=secret, now=NOW + timedelta(minutes=14))

    services.sign_in_link_request(email=user.email, now=NOW)
    unused = next(s for s in map(_secret, _mails("sign-in-link")) if s != secret)
    with pytest.raises(ValidationFailed, match="15 minutes"):
        services.sign_in_link_use(secret=unused, now=NOW + timedelta(minutes=15))


def test_sign_in_link_for_an_unknown_address_sends_nothing_and_says_nothing() -> None:
    assert services.sign_in_link_request(email="nobody@example.com", now=NOW) is None
    assert not Message.objects.exists() and not EmailToken.objects.exists()


def test_link_requests_are_limited_so_nobody_can_flood_an_inbox() -> None:
    _ensure()
    Message.objects.all().delete()
    for i in range(10):
        services.sign_in_link_request(email="ada.lovelace@example.com", now=NOW + timedelta(i))
    # Spread over ten days: one each. Now ten in a minute:
    Message.objects.all().delete()
    for i in range(10):
        services.sign_in_link_request(
            email="ada.lovelace@example.com", now=NOW + timedelta(days=30, seconds=i)
        )
    assert Message.objects.count() == services.MAX_TOKENS_PER_WINDOW


def test_password_reset_sets_a_valid_password_once() -> None:
    user, _, _ = _ensure()
    services.password_reset_request(email="ada.lovelace@example.com", now=NOW)
    secret = _secret(_mails("password-reset").get())
    assert services.password_reset_check(secret=secret, now=NOW) == user
    with pytest.raises(ValidationFailed) as exc:
        services.password_reset_complete(secret=secret, password="123", now=NOW)
    assert "password" in exc.value.fields
    # A refused password does not spend the link.
    services.password_reset_complete(secret=secret, password=PASSWORD, now=NOW)
    user.refresh_from_db()
    assert user.check_password(PASSWORD) and user.email_verified_at == NOW
    with pytest.raises(ValidationFailed, match="not valid"):
        services.password_reset_complete(secret=secret, password=PASSWORD + "x", now=NOW)
    with pytest.raises(ValidationFailed, match="not valid"):
        services.password_reset_check(secret=secret, now=NOW)


def test_password_reset_link_expires_after_an_hour() -> None:
    _ensure()
    services.password_reset_request(email="ada.lovelace@example.com", now=NOW)
    secret = _secret(_mails("password-reset").get())
    with pytest.raises(ValidationFailed, match="an hour"):
        services.password_reset_complete(
            secret=secret, password=PASSWORD, now=NOW + timedelta(hours=1)
        )


def test_sign_out_everywhere_changes_the_session_hash() -> None:
    user, _, _ = _ensure()
    before = user.get_session_auth_hash()
    user_sessions_end(user=user, now=NOW)
    assert user.session_version == 1 and user.get_session_auth_hash() != before
    assert AuditEntry.objects.filter(action="account.sign_out_everywhere").count() == 1


def test_staff_cannot_use_client_links() -> None:
    from tests.support.testing import make_user

    make_user(role=Role.RECEPTION, email="desk@example.com")
    services.sign_in_link_request(email="desk@example.com", now=NOW)
    services.password_reset_request(email="desk@example.com", now=NOW)
    assert not Message.objects.exists()
