"""One person, one client record (issue 11, item 4): a client is found again by their email in
any case or spacing, or by their phone number in any way a person says it; a second record for
someone Daisy knows is refused unless staff confirm it is someone else."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from daisy.audit.models import AuditEntry
from daisy.clients.models import Client
from daisy.clients.selectors import client_find, client_list, client_possible_duplicates
from daisy.clients.services import (
    client_create,
    client_update,
    email_key,
    phone_key,
    phone_normalise,
)
from daisy.lib.errors import ClientExists, ValidationFailed
from tests.support.testing import make_client, make_user

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


# --- the keys: pure functions ------------------------------------------------------------------


def _spoken(digits: str, seps: list[str]) -> str:
    """`digits` with a separator (maybe none) after each one."""
    return "".join(d + s for d, s in zip(digits, seps, strict=True)).strip()


separators = st.lists(st.sampled_from(["", "", " ", "-", "  ", ".", " - "]), min_size=16)


@given(
    subscriber=st.integers(min_value=0, max_value=999),
    seps=separators,
    prefix=st.sampled_from(["0", "+44", "+44 ", "+44 (0)", "0044 ", "(0)"]),
    padding=st.sampled_from(["", " ", "\t", "  "]),
)
def test_every_way_of_saying_one_uk_mobile_gives_one_key(
    subscriber: int, seps: list[str], prefix: str, padding: str
) -> None:
    national = f"7700900{subscriber:03d}"  # Ofcom's range for drama and tests
    typed = padding + prefix + _spoken(national, seps[: len(national)]) + padding
    if prefix == "(0)":  # "(0)7700 ..." is how some write a national number
        typed = padding + "(0)" + _spoken(national, seps[: len(national)])
    assert phone_key(typed) == f"+44{national}", typed


def test_the_issue_s_three_spellings_are_one_number() -> None:
    assert {phone_key(p) for p in ("07700 900017", "+44 7700 900017", "07700900017")} == {
        "+447700900017"
    }


@pytest.mark.parametrize("typed", ["", "   ", "not a phone", "12", "+1 202 555 01"])
def test_blank_or_unreadable_phones_have_no_key(typed: str) -> None:
    assert phone_key(typed) == ""


def test_the_drama_range_is_refused_outside_tests_and_the_demo(settings: Any) -> None:
    settings.DAISY_PHONE_TEST_NUMBERS = False
    with pytest.raises(ValidationFailed):
        phone_normalise("07700 900017")
    assert phone_normalise("07911 123456") == "+447911123456"  # an assigned UK mobile range


def test_a_number_without_a_country_code_is_read_in_the_location_s_country(settings: Any) -> None:
    assert phone_normalise("0151 12345678", region="DE") == "+4915112345678"
    assert phone_normalise("+44 7911 123456", region="DE") == "+447911123456"
    settings.DAISY_PHONE_REGION = "IE"
    assert phone_normalise("087 123 4567") == "+353871234567"


@given(
    local=st.from_regex(r"[a-z0-9]{1,8}([._+-][a-z0-9]{1,8}){0,3}", fullmatch=True),
    domain=st.sampled_from(["example.com", "mail.example.co.uk", "bücher.de"]),
    flips=st.lists(st.booleans(), min_size=60, max_size=60),
    padding=st.sampled_from(["", " ", "\t", " \n"]),
)
def test_an_address_in_any_case_and_spacing_gives_one_key(
    local: str, domain: str, flips: list[bool], padding: str
) -> None:
    address = f"{local}@{domain}"
    shouted = "".join(c.upper() if f else c for c, f in zip(address, flips, strict=False))
    shouted += address[len(flips) :]
    assert email_key(padding + shouted + padding) == email_key(address) != ""


def test_the_email_key_is_lower_case_with_an_idna_domain() -> None:
    assert email_key("  Ada.Lovelace@Bücher.DE ") == "ada.lovelace@xn--bcher-kva.de"
    assert email_key("Ada@Example.COM") == "ada@example.com"
    assert email_key("ada@xn--bcher-kva.de") == email_key("ADA@BÜCHER.de")
    assert email_key("") == email_key("no-at-sign") == ""


# --- stored keys and finding a client ----------------------------------------------------------


def _create(**kw):  # type: ignore[no-untyped-def]
    values = {"first_name": "Willow", "last_name": "Hall", "by": None, "now": NOW}
    values.update(kw)
    return client_create(**values)


@pytest.mark.django_db
def test_client_services_store_the_keys_and_keep_them_in_step() -> None:
    client = _create(email="Willow.Hall@Example.com", phone="07700 900017")
    assert (client.email_key, client.phone_key) == ("willow.hall@example.com", "+447700900017")
    client = client_update(
        client=client, by=None, now=NOW, email="W.Hall@Example.org", phone="+44 7700 900018"
    )
    client.refresh_from_db()
    assert (client.email_key, client.phone_key) == ("w.hall@example.org", "+447700900018")
    client = client_update(client=client, by=None, now=NOW, email="", phone="")
    client.refresh_from_db()
    assert (client.email_key, client.phone_key) == ("", "")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("email", "phone"),
    [
        ("WILLOW.HALL@EXAMPLE.COM", None),
        ("  willow.hall@example.com ", None),
        (None, "07700 900017"),
        (None, "+44 7700 900017"),
        (None, "07700900017"),
        ("someone.else@example.com", "07700-900-017"),  # unknown email: the phone finds her
    ],
)
def test_a_client_is_found_by_email_or_phone_however_typed(email, phone) -> None:  # type: ignore[no-untyped-def]
    willow = _create(email="Willow.Hall@example.com", phone="07700 900017")
    make_client()  # somebody else
    assert client_find(email=email, phone=phone) == willow


@pytest.mark.django_db
def test_email_is_looked_up_before_phone_and_nothing_matches_blanks() -> None:
    by_phone = _create(email="a@example.com", phone="07700 900017")
    by_email = _create(email="b@example.com", phone="07700 900018")
    assert client_find(email="B@example.com", phone="07700 900017") == by_email
    assert by_phone == client_find(phone="07700 900017")
    assert client_find(email="", phone="") is None
    assert client_find() is None
    _create(first_name="No", last_name="Contact")
    assert client_find(email="nobody@example.com", phone="07700 900099") is None


@pytest.mark.django_db
def test_a_merged_record_is_neither_found_nor_listed_nor_a_duplicate() -> None:
    keep = _create(email="willow@example.com")
    old = make_client(email="WILLOW@example.com", first_name="Willow", last_name="Hall")
    Client.objects.filter(pk=old.pk).update(merged_into=keep, merged_at=NOW)
    assert client_find(email="willow@example.com") == keep
    assert list(client_list(search="willow")) == [keep]
    assert client_possible_duplicates(email="willow@example.com") == [keep]


@pytest.mark.django_db
def test_possible_duplicates_are_same_email_same_phone_or_same_name_and_birthday() -> None:
    dob = date(1988, 4, 2)
    same_email = make_client(email="willow.hall@example.com", first_name="W", last_name="H")
    same_phone = make_client(phone="+447700900017", first_name="Will", last_name="Hall")
    same_person = make_client(first_name="WILLOW", last_name="hall", date_of_birth=dob)
    make_client(first_name="Willow", last_name="Hall", date_of_birth=date(1990, 1, 1))
    make_client(first_name="Willow", last_name="Oak", date_of_birth=dob)
    found = client_possible_duplicates(
        email="Willow.Hall@Example.com ",
        phone="07700 900017",
        first_name="Willow",
        last_name="Hall",
        date_of_birth=dob,
    )
    assert set(found) == {same_email, same_phone, same_person}
    assert client_possible_duplicates(email="", phone="", first_name="Willow") == []
    assert client_possible_duplicates(email="willow.hall@example.com", exclude=same_email) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("email", "phone", "field"),
    [
        ("WILLOW.HALL@example.com", "", "email"),
        ("", "+44 7700 900017", "phone"),
        ("new@example.com", "07700900017", "phone"),
    ],
)
def test_a_second_record_for_a_known_email_or_phone_is_refused(email, phone, field) -> None:  # type: ignore[no-untyped-def]
    willow = _create(email="willow.hall@example.com", phone="07700 900017")
    with pytest.raises(ClientExists) as exc:
        _create(first_name="Someone", email=email, phone=phone)
    assert exc.value.http_status == 409 and exc.value.code == "client_exists"
    assert exc.value.fields["client"] == str(willow.pk) and field in exc.value.fields
    assert Client.objects.count() == 1


@pytest.mark.django_db
def test_staff_may_confirm_a_different_person_sharing_a_phone_and_it_is_audited() -> None:
    reception = make_user(role="reception")
    willow = _create(email="willow.hall@example.com", phone="07700 900017")
    partner = _create(
        first_name="Rowan", phone="07700 900017", by=reception, confirm_duplicate=True
    )
    assert partner != willow and partner.phone_key == willow.phone_key
    entry = AuditEntry.objects.get(action="client.create", object_id=str(partner.pk))
    assert entry.actor == reception and entry.data["duplicate_confirmed"] == str(willow.pk)


@pytest.mark.django_db
def test_the_migration_fills_the_keys_of_existing_records() -> None:
    from importlib import import_module

    migration = import_module("daisy.clients.migrations.0004_client_keys_and_merge")
    old = make_client(email="Old.Record@Example.COM", phone="07700 900017")
    odd = make_client(email="", phone="call the shop")
    Client.objects.update(email_key="", phone_key="")
    migration.fill_keys(apps, None)
    old.refresh_from_db()
    odd.refresh_from_db()
    assert (old.email_key, old.phone_key) == ("old.record@example.com", "+447700900017")
    assert (odd.email_key, odd.phone_key) == ("", "")
    assert client_find(phone="+44 7700 900017") == old


def _race(n: int, work: Any) -> list[Any]:
    """Run `work(i)` in n threads released together; each result or exception."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=60)
            results[i] = work(i)
        except BaseException as exc:  # noqa: BLE001 - asserted on by the caller
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results


@pytest.mark.django_db(transaction=True)
def test_one_person_created_at_once_from_many_desks_gets_one_record() -> None:
    """Lock, re-check, write: six requests for one new person (by email, or by the same phone
    typed another way) make exactly one record; the others are told who it is."""

    def create(i: int) -> Client:
        if i % 2:
            return _create(email=f"Willow.Hall@Example.com{' ' * i}", phone="+44 7700 900017")
        return _create(email=f"other{i}@example.com", phone="07700 900017")

    results = _race(6, create)
    made = [r for r in results if isinstance(r, Client)]
    refused = [r for r in results if isinstance(r, ClientExists)]
    assert len(made) == 1 and len(refused) == 5, results
    assert {r.fields["client"] for r in refused} == {str(made[0].pk)}
    assert Client.objects.count() == 1
