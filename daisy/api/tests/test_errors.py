"""Every failure is JSON in one shape, with the right status; a real server error is a 500
with a logged request id, never disguised as a 4xx; rate limits and size caps hold."""

from __future__ import annotations

import logging

import pytest
from django.test import override_settings

from daisy.api.tests.conftest import Api, error_of
from daisy.clients.models import Client
from daisy.scheduling.models import Appointment
from tests.support.testing import MONDAY, at

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("raw", ["{bad json", "", "\xff\xfe", '{"first_name": "A",}'])
def test_malformed_json_is_400(cast, raw):
    response = cast.as_("reception").post("/clients", raw=raw.encode("latin-1"))
    expected = 422 if raw == "" else 400  # no body at all: the fields are missing
    assert response.status_code == expected
    if expected == 400:
        assert error_of(response)["code"] == "malformed_request"
    assert not Client.objects.filter(first_name="A").exists()


@pytest.mark.parametrize("raw", ["[]", '"text"', "42", "null"])
def test_json_that_is_not_an_object_is_422(cast, raw):
    response = cast.as_("reception").post("/clients", raw=raw)
    assert response.status_code == 422
    error_of(response)


def test_form_encoded_body_is_400(cast):
    response = cast.as_("reception").post(
        "/clients", raw="first_name=A&last_name=B", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_a_body_over_the_cap_is_413(cast):
    big = {"first_name": "A", "last_name": "B", "email": "x" * 2000}
    response = cast.as_("reception").post("/clients", big)
    assert response.status_code == 413
    assert error_of(response)["code"] == "request_too_large"
    assert not Client.objects.filter(first_name="A").exists()


def test_too_many_query_fields_is_400(cast):
    query = "&".join(f"f{n}=1" for n in range(1100))
    response = cast.as_("reception").http.get(
        f"/api/v1/clients?{query}", headers={"Authorization": f"Bearer {cast.tokens['reception']}"}
    )
    assert response.status_code == 400
    error_of(response)


def test_unknown_paths_and_methods_answer_json(cast):
    missing = cast.as_("reception").get("/no-such-thing")
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    for path in ("/clients/", "/"):
        response = cast.as_("reception").get(path)
        assert response.status_code == 404, path
        error_of(response)
    wrong = cast.as_("reception").send("DELETE", "/clients")
    assert wrong.status_code == 405
    assert error_of(wrong)["code"] == "method_not_allowed"
    assert set(wrong["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_a_server_error_is_500_with_a_logged_request_id(cast, monkeypatch, caplog):
    def broken() -> None:
        raise RuntimeError("the database melted")

    monkeypatch.setattr("daisy.api.endpoints.catalogue.treatment_list_public", broken)
    with caplog.at_level(logging.ERROR, logger="daisy.api"):
        response = cast.as_("anonymous").get("/treatments")
    assert response.status_code == 500
    err = error_of(response)
    assert err["code"] == "server_error"
    assert len(err["request_id"]) == 32 and response["X-Request-ID"] == err["request_id"]
    assert "melted" not in response.content.decode()
    [record] = [r for r in caplog.records if err["request_id"] in r.getMessage()]
    assert record.exc_info and "melted" in str(record.exc_info[1])


def test_a_domain_error_keeps_its_status(cast, monkeypatch):
    from daisy.lib.errors import PolicyViolation

    def refuse() -> None:
        raise PolicyViolation("Not today.", code="closed_today")

    monkeypatch.setattr("daisy.api.endpoints.catalogue.treatment_list_public", refuse)
    response = cast.as_("anonymous").get("/treatments")
    assert response.status_code == 409
    assert error_of(response) == {"code": "closed_today", "message": "Not today.", "fields": {}}


def _client_body(n: int) -> dict[str, str]:
    return {"first_name": "Burst", "last_name": f"N{n}"}


def test_a_burst_of_60_writes_from_one_token_passes_with_the_default_limits(cast):
    api = cast.as_("reception")
    statuses = [api.post("/clients", _client_body(n)).status_code for n in range(60)]
    assert statuses == [201] * 60


@override_settings(DAISY_API_RATE_LIMITS={"write": {"token": "5/minute"}})
def test_writes_over_the_token_limit_are_429_with_retry_after_and_change_nothing(cast):
    api = cast.as_("reception")
    for n in range(5):
        assert api.post("/clients", _client_body(n)).status_code == 201
    response = api.post("/clients", _client_body(99))
    assert response.status_code == 429
    assert error_of(response)["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert not Client.objects.filter(last_name="N99").exists()
    # Another token has its own allowance; reads are not limited.
    assert cast.as_("manager").post("/clients", _client_body(100)).status_code == 201
    assert api.get("/clients").status_code == 200


@override_settings(DAISY_API_RATE_LIMITS={"write": {"ip": "3/minute"}})
def test_writes_are_limited_per_address_across_tokens(cast):
    for n, role in enumerate(("reception", "manager", "reception")):
        assert cast.as_(role).post("/clients", _client_body(n)).status_code == 201
    assert cast.as_("manager").post("/clients", _client_body(9)).status_code == 429
    other_address = cast.as_("manager").post("/clients", _client_body(10), REMOTE_ADDR="10.0.0.9")
    assert other_address.status_code == 201
    # A header any caller can send does not buy a fresh allowance.
    forged = cast.as_("manager").post(
        "/clients", _client_body(11), HTTP_X_FORWARDED_FOR="10.9.9.9"
    )
    assert forged.status_code == 429


@override_settings(DAISY_API_RATE_LIMITS={"write": {"token": "1/minute"}})
def test_the_limit_covers_every_write_endpoint(cast):
    api = cast.as_("reception")
    start = at(MONDAY, 10).isoformat()
    body = {"client": str(cast.client_a.pk), "treatment": "microneedling", "start": start}
    assert api.post("/appointments", body, headers={"Idempotency-Key": "a"}).status_code == 201
    appt = Appointment.objects.get()
    assert api.post(f"/appointments/{appt.pk}/cancel").status_code == 429
    assert api.post(f"/appointments/{appt.pk}/reschedule", {"start": start}).status_code == 429
    assert api.patch(f"/clients/{cast.client_a.pk}", {}).status_code == 429
    assert Appointment.objects.get().status == "booked"


def test_invalid_token_beats_validation(cast):
    response = Api("dsy_nope").post("/clients", raw="{bad")
    assert response.status_code == 401
