"""No input causes a 500, and every answer is one the spec documents (a light, in-process
fuzz; the schemathesis run against a live server goes further)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daisy.api.tests.conftest import Api, Cast, error_of
from tests.support.testing import MONDAY, at

pytestmark = pytest.mark.django_db

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(
        [
            "2030-01-07T10:00:00Z",
            "2030-01-07T10:00:00",
            "2030-01-07",
            "9999-12-31T23:59:59+14:00",
            "0001-01-01T00:00:00-14:00",
            "microneedling",
            "00000000-0000-0000-0000-000000000000",
            "+447911123456",
            "a@b.co",
            "\x00",
            "\ud800",
        ]
    ),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)

BODY_FIELDS = {
    "/clients": ["first_name", "last_name", "email", "phone", "date_of_birth"],
    "/appointments": ["client", "treatment", "start", "specialist", "location"],
    "reschedule": ["start", "specialist"],
    "cancel": ["reason"],
}
QUERY_FIELDS = {
    "/availability": ["treatment", "start", "end", "location", "specialist"],
    "/clients": ["search", "limit", "offset"],
    "/appointments": ["start", "end", "client", "specialist", "status", "limit", "offset"],
}
query_values = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.sampled_from(["2030-01-07", "2031-01-08", "microneedling", "booked", "100", "0"]),
)
ids = st.one_of(st.uuids().map(str), st.text(max_size=40))


def documented(spec: dict[str, Any], method: str, template: str) -> set[int]:
    return {int(code) for code in spec["paths"][f"/api/v1{template}"][method]["responses"]}


def check(response: Any, allowed: set[int]) -> None:
    assert response.status_code < 500, response.content[:500]
    assert response.status_code in allowed | {404}, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    if response.status_code >= 400:
        error_of(response)
    else:
        json.loads(response.content)


FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def spec(cast: Cast) -> dict[str, Any]:
    # One appointment for client A, so that real ids reach the services.
    start = at(MONDAY, 10).isoformat()
    body = {"client": str(cast.client_a.pk), "treatment": "microneedling", "start": start}
    booked = cast.as_("reception").post("/appointments", body, headers={"Idempotency-Key": "f"})
    assert booked.status_code == 201
    return Api(None).get("/openapi.json").json()


@override_settings(DAISY_API_RATE_LIMITS={})
@FUZZ
@given(
    role=st.sampled_from(["anonymous", "client_a", "reception", "specialist"]),
    which=st.sampled_from(sorted(QUERY_FIELDS)),
    params=st.dictionaries(st.sampled_from(sum(QUERY_FIELDS.values(), [])), query_values),
)
def test_any_query_string(cast: Cast, spec: dict[str, Any], role: str, which: str, params: Any):
    response = cast.as_(role).get(which, params)
    check(response, documented(spec, "get", which))


@override_settings(DAISY_API_RATE_LIMITS={})
@FUZZ
@given(
    role=st.sampled_from(["client_a", "reception", "manager"]),
    which=st.sampled_from(["/clients", "/appointments"]),
    body=st.one_of(
        json_values,
        st.fixed_dictionaries({}, optional={f: json_scalars for f in BODY_FIELDS["/appointments"]}),
        st.fixed_dictionaries({}, optional={f: json_scalars for f in BODY_FIELDS["/clients"]}),
    ),
    key=st.one_of(st.none(), st.text(alphabet=st.characters(max_codepoint=255), max_size=20)),
)
def test_any_create_body(cast: Cast, spec: dict[str, Any], role: str, which: str, body, key):
    headers = {"Idempotency-Key": key} if key is not None else {}
    response = cast.as_(role).post(which, body, headers=headers)
    check(response, documented(spec, "post", which))


@override_settings(DAISY_API_RATE_LIMITS={})
@FUZZ
@given(
    role=st.sampled_from(["client_a", "client_b", "reception", "specialist"]),
    action=st.sampled_from(["get-client", "patch-client", "get-appt", "reschedule", "cancel"]),
    use_real_id=st.booleans(),
    some_id=ids,
    body=st.one_of(
        json_values,
        st.fixed_dictionaries({}, optional={f: json_scalars for f in BODY_FIELDS["/clients"]}),
        st.fixed_dictionaries({}, optional={"start": json_scalars, "reason": json_scalars}),
    ),
)
def test_any_id_and_body(cast: Cast, spec, role, action, use_real_id, some_id, body):
    api = cast.as_(role)
    client_id = str(cast.client_a.pk) if use_real_id else some_id
    if action.endswith("client"):
        path, template = f"/clients/{quote(client_id, safe='')}", "/clients/{client_id}"
    else:
        appt = cast.client_a.appointments.get()
        appt_id = str(appt.pk) if use_real_id else some_id
        path = f"/appointments/{quote(appt_id, safe='')}"
        template = "/appointments/{appointment_id}"
        if action in {"reschedule", "cancel"}:
            path, template = f"{path}/{action}", f"{template}/{action}"
    method = {"get": "get", "patch": "patch"}.get(action.split("-")[0], "post")
    if method == "get":
        response = api.get(path)
    else:
        response = api.send(method.upper(), path, body)
    check(response, documented(spec, method, template))
