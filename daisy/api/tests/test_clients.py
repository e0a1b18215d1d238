"""Clients through the API: list, create, read (audited), change; validation of phone, email
and date of birth."""

from __future__ import annotations

import pytest

from daisy.api.tests.conftest import error_of
from daisy.audit.models import AuditEntry
from daisy.clients.models import Client
from tests.support.testing import make_client

pytestmark = pytest.mark.django_db

NEW = {
    "first_name": "Ann",
    "last_name": "Lee",
    "email": "ann.lee@Example.COM",
    "phone": "07700 900456",
    "date_of_birth": "1985-03-02",
}


def test_reception_creates_a_client_with_phone_in_e164_and_an_audit_entry(cast):
    response = cast.as_("reception").post("/clients", NEW)
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "first_name", "last_name", "email", "phone", "date_of_birth"}
    assert body["phone"] == "+447700900456"
    assert body["email"] == "ann.lee@example.com"
    assert body["date_of_birth"] == "1985-03-02"
    client = Client.objects.get(pk=body["id"])
    assert (client.first_name, client.phone) == ("Ann", "+447700900456")
    entry = AuditEntry.objects.get(action="client.create", object_id=str(client.pk))
    assert entry.actor == cast.clinic.reception


def test_only_names_are_required(cast):
    response = cast.as_("manager").post("/clients", {"first_name": "Bo", "last_name": "Yu"})
    assert response.status_code == 201
    assert response.json()["email"] is None and response.json()["phone"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phone": "12"}, "phone"),
        ({"phone": "not a phone"}, "phone"),
        ({"phone": "+1 202 555 01"}, "phone"),
        ({"email": "no-at-sign"}, "email"),
        ({"email": "a@b@c"}, "email"),
        ({"date_of_birth": "2031-01-01"}, "date_of_birth"),  # the clock says 31 Dec 2029
        ({"date_of_birth": "1899-12-31"}, "date_of_birth"),
        ({"date_of_birth": "0001-01-01"}, "date_of_birth"),
        ({"date_of_birth": "1990-02-30"}, "date_of_birth"),
        ({"first_name": ""}, "first_name"),
        ({"first_name": "   "}, "first_name"),
        ({"first_name": "x" * 81}, "first_name"),
        ({"last_name": "Nul\x00Byte"}, "last_name"),
        ({"last_name": "Lone\ud800Surrogate"}, "last_name"),
        ({"first_name": None}, "first_name"),
        ({"first_name": 42}, "first_name"),
        ({"nickname": "Annie"}, "nickname"),
    ],
)
def test_invalid_details_are_422_naming_the_field_and_create_nothing(cast, change, field):
    before = Client.objects.count()
    response = cast.as_("reception").post("/clients", {**NEW, **change})
    assert response.status_code == 422, response.content
    assert field in error_of(response)["fields"]
    assert Client.objects.count() == before


def test_missing_names_are_reported_together(cast):
    response = cast.as_("reception").post("/clients", {})
    assert set(error_of(response)["fields"]) == {"first_name", "last_name"}


def test_phone_numbers_from_abroad_keep_their_country(cast):
    response = cast.as_("reception").post("/clients", {**NEW, "phone": "+33 6 12 34 56 78"})
    assert response.json()["phone"] == "+33612345678"


def test_list_is_paged_and_searchable(cast):
    for n in range(5):
        make_client(first_name="Zed", last_name=f"Alpha{n}")
    first = cast.as_("reception").get("/clients", {"limit": 3}).json()
    assert first["count"] == 7 and first["limit"] == 3 and len(first["items"]) == 3
    rest = cast.as_("reception").get("/clients", {"limit": 3, "offset": 6}).json()
    assert len(rest["items"]) == 1
    ids = [c["id"] for c in first["items"]]
    assert ids == [c["id"] for c in cast.as_("reception").get("/clients").json()["items"][:3]]
    found = cast.as_("specialist").get("/clients", {"search": "zed alpha3"}).json()
    assert [c["last_name"] for c in found["items"]] == ["Alpha3"]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "x"}])
def test_page_size_is_capped(cast, params):
    response = cast.as_("reception").get("/clients", params)
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) <= {"limit", "offset"}


def test_staff_reading_a_client_is_audited_and_the_client_reading_itself_is_not(cast):
    a = cast.client_a
    response = cast.as_("specialist").get(f"/clients/{a.pk}")
    assert response.status_code == 200
    assert response.json()["id"] == str(a.pk)
    entry = AuditEntry.objects.get(action="client.view", object_id=str(a.pk))
    assert entry.actor == cast.clinic.specialists[0].user
    assert cast.as_("client_a").get(f"/clients/{a.pk}").status_code == 200
    assert AuditEntry.objects.filter(action="client.view").count() == 1


def test_unknown_and_malformed_client_ids(cast):
    response = cast.as_("reception").get("/clients/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert cast.as_("reception").get("/clients/nope").status_code == 422


def test_patch_changes_only_the_fields_sent_and_audits_them(cast):
    a = cast.client_a
    before = Client.objects.get(pk=a.pk)
    response = cast.as_("reception").patch(f"/clients/{a.pk}", {"phone": "+44 7700 900999"})
    assert response.status_code == 200, response.content
    after = Client.objects.get(pk=a.pk)
    assert after.phone == "+447700900999"
    assert (after.first_name, after.email, after.date_of_birth) == (
        before.first_name,
        before.email,
        before.date_of_birth,
    )
    entry = AuditEntry.objects.get(action="client.update", object_id=str(a.pk))
    assert entry.data == {"fields": ["phone"]}


def test_patch_can_clear_optional_fields(cast):
    a = cast.client_a
    body = {"email": None, "phone": "", "date_of_birth": None}
    response = cast.as_("manager").patch(f"/clients/{a.pk}", body)
    assert response.status_code == 200
    a.refresh_from_db()
    assert (a.email, a.phone, a.date_of_birth) == ("", "", None)


def test_patch_with_invalid_value_changes_nothing(cast):
    a = cast.client_a
    body = {"first_name": "Changed", "phone": "123"}
    response = cast.as_("reception").patch(f"/clients/{a.pk}", body)
    assert response.status_code == 422
    assert "phone" in error_of(response)["fields"]
    a.refresh_from_db()
    assert a.first_name == "Client"


def test_a_client_updates_its_own_record(cast):
    a = cast.client_a
    response = cast.as_("client_a").patch(f"/clients/{a.pk}", {"last_name": "Married-Name"})
    assert response.status_code == 200
    a.refresh_from_db()
    assert a.last_name == "Married-Name"
    assert AuditEntry.objects.get(action="client.update").actor == a.user


def test_patch_with_no_change_writes_no_audit(cast):
    a = cast.client_a
    assert cast.as_("reception").patch(f"/clients/{a.pk}", {}).status_code == 200
    assert not AuditEntry.objects.filter(action="client.update").exists()


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("07911 123456", "+447911123456"),
        ("020 7946 0958", "+442079460958"),
        ("+44 (0)7911 123456", "+447911123456"),
        ("07700 900123", "+447700900123"),  # Ofcom's range for fiction and tests
    ],
)
def test_uk_numbers_are_read_without_a_country_code(cast, typed, stored):
    response = cast.as_("reception").post("/clients", {**NEW, "phone": typed})
    assert response.status_code == 201, response.content
    assert response.json()["phone"] == stored


def test_an_impossible_number_in_the_fictional_range_is_refused(cast):
    response = cast.as_("reception").post("/clients", {**NEW, "phone": "07700 9001"})
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("again", "field"),
    [
        ({"email": "ANN.LEE@example.com "}, "email"),
        ({"email": "", "phone": "+44 7700 900456"}, "phone"),
        ({"email": "someone.else@example.com", "phone": "07700900456"}, "phone"),
    ],
)
def test_a_second_client_with_a_known_email_or_phone_is_409_naming_the_client(cast, again, field):
    """One person, one record (issue 11): the integrator is pointed at the existing client."""
    first = cast.as_("reception").post("/clients", NEW).json()
    audit_before = AuditEntry.objects.count()
    response = cast.as_("manager").post(
        "/clients", {**NEW, "first_name": "Someone", "last_name": "Else", **again}
    )
    assert response.status_code == 409, response.content
    err = error_of(response)
    assert err["code"] == "client_exists"
    assert err["fields"]["client"] == first["id"] and field in err["fields"]
    assert Client.objects.count() == 1 + len(cast.clinic.clients)
    assert AuditEntry.objects.count() == audit_before


def test_409_client_exists_is_in_the_openapi_spec(cast):
    spec = cast.as_("anonymous").get("/openapi.json").json()
    responses = spec["paths"]["/api/v1/clients"]["post"]["responses"]
    assert "409" in responses
    assert "client_exists" in spec["paths"]["/api/v1/clients"]["post"]["description"]


def test_a_client_token_cannot_probe_for_other_clients_by_creating(cast):
    """Only the front desk may create clients: a client token is refused before any lookup,
    so the answer is the same whether or not the address is known."""
    known = cast.client_b
    for body in (
        {"first_name": "X", "last_name": "Y", "email": known.email},
        {"first_name": "X", "last_name": "Y", "email": "nobody@example.com"},
    ):
        response = cast.as_("client_a").post("/clients", body)
        assert response.status_code == 403
        assert str(known.pk) not in response.content.decode()
