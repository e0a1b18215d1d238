"""Health, the OpenAPI document and the docs page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection

from daisy.api.tests.conftest import Api
from daisy.notifications.services import worker_heartbeat_beat
from tests.support.testing import booking_now

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("get", "/api/v1/health"),
    ("get", "/api/v1/clients/{client_id}/consultations"),
    ("post", "/api/v1/clients/{client_id}/consultations"),
    ("get", "/api/v1/consultations/{consultation_id}"),
    ("post", "/api/v1/consultations/{consultation_id}/history"),
    ("post", "/api/v1/consultations/{consultation_id}/sign"),
    ("post", "/api/v1/consultations/{consultation_id}/amendments"),
    ("get", "/api/v1/treatments"),
    ("get", "/api/v1/locations"),
    ("get", "/api/v1/specialists"),
    ("get", "/api/v1/availability"),
    ("get", "/api/v1/availability/days"),
    ("get", "/api/v1/treatments/{slug}/prescreen"),
    ("get", "/api/v1/clients"),
    ("post", "/api/v1/clients"),
    ("get", "/api/v1/clients/{client_id}"),
    ("patch", "/api/v1/clients/{client_id}"),
    ("get", "/api/v1/appointments"),
    ("post", "/api/v1/appointments"),
    ("get", "/api/v1/appointments/{appointment_id}"),
    ("post", "/api/v1/appointments/{appointment_id}/reschedule"),
    ("post", "/api/v1/appointments/{appointment_id}/cancel"),
    ("post", "/api/v1/courses/plan"),
    ("post", "/api/v1/courses"),
    ("get", "/api/v1/courses/{course_id}"),
    ("get", "/api/v1/clients/{client_id}/important-dates"),
    ("post", "/api/v1/clients/{client_id}/important-dates"),
    ("get", "/api/v1/waitlist"),
    ("post", "/api/v1/waitlist"),
    ("delete", "/api/v1/waitlist/{entry_id}"),
    ("post", "/api/v1/waitlist/offers/{offer_id}/accept"),
    ("get", "/api/v1/diary"),
    ("post", "/api/v1/appointments/{appointment_id}/status"),
    ("get", "/api/v1/clients/{client_id}/consents"),
    ("get", "/api/v1/appointments/{appointment_id}/consent"),
    ("post", "/api/v1/appointments/{appointment_id}/record"),
    ("get", "/api/v1/appointments/{appointment_id}/record"),
    ("get", "/api/v1/lots/{lot}/treatments"),
    ("get", "/api/v1/appointments/{appointment_id}/rescreen"),
    ("post", "/api/v1/appointments/{appointment_id}/rescreen"),
    ("get", "/api/v1/clients/{client_id}/erasure"),
    ("post", "/api/v1/clients/{client_id}/erasure"),
    ("post", "/api/v1/clients/{client_id}/legal-holds"),
    ("post", "/api/v1/legal-holds/{hold_id}/lift"),
}


def test_health_without_a_worker_is_degraded(frozen):
    response = Api(None).get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "cache": "ok",  # no REDIS_URL: nothing to reach
        "worker": {
            "last_beat_at": None,
            "age_seconds": None,
            "healthy": False,
            "oldest_due_at": None,
            "oldest_due_age_seconds": None,
        },
        "version": "0.1.0",
    }


def test_health_with_a_beating_worker_is_ok(frozen):
    now = booking_now()
    worker_heartbeat_beat(worker_id="w1", started_at=now, now=now - timedelta(seconds=30))
    body = Api(None).get("/health").json()
    assert body["status"] == "ok"
    assert body["worker"]["last_beat_at"] == "2029-12-31T07:59:30Z"
    assert body["worker"]["age_seconds"] == 30.0
    assert body["worker"]["healthy"] is True


def test_health_with_a_stale_worker_is_degraded(frozen):
    now = booking_now()
    worker_heartbeat_beat(worker_id="w1", started_at=now, now=now - timedelta(minutes=6))
    body = Api(None).get("/health").json()
    assert body["status"] == "degraded" and body["worker"]["healthy"] is False


def test_health_without_a_database_is_503(frozen, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(connection, "cursor", unreachable)
    response = Api(None).get("/health")
    assert response.status_code == 503
    assert response.json()["database"] == "error" and response.json()["status"] == "error"


def spec() -> dict:
    response = Api(None).get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_spec_lists_every_endpoint_with_documented_errors():
    doc = spec()
    assert doc["openapi"].startswith("3.")
    found = {(m, p) for p, methods in doc["paths"].items() for m in methods}
    assert found == OPERATIONS
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            codes = set(op["responses"])
            assert "500" in codes, (method, path)
            assert op.get("summary") and op.get("operationId"), (method, path)
            if path != "/api/v1/health":
                assert "401" in codes, (method, path)
            if method in {"post", "patch"}:
                assert {"400", "413", "422", "429"} <= codes, (method, path)
            for code, resp in op["responses"].items():
                if code.startswith(("4", "5")) and code != "503":
                    schema = resp["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorOut"}
                    assert resp["description"] and "Unknown" not in resp["description"]
            if "429" in codes:
                assert "Retry-After" in op["responses"]["429"]["headers"]


def test_spec_security_public_reads_and_token_for_the_rest():
    doc = spec()
    assert doc["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    public = {"/api/v1/treatments", "/api/v1/locations", "/api/v1/specialists"}
    public |= {"/api/v1/availability", "/api/v1/availability/days"}
    public.add("/api/v1/treatments/{slug}/prescreen")
    for path, methods in doc["paths"].items():
        for op in methods.values():
            security = op.get("security")
            if path == "/api/v1/health":
                assert not security
            elif path in public:
                assert {} in security and {"TokenAuth": []} in security
            else:
                assert security == [{"TokenAuth": []}]


def test_spec_names_the_contract_fields():
    schemas = spec()["components"]["schemas"]
    client = set(schemas["ClientOut"]["properties"])
    assert client == {"id", "first_name", "last_name", "email", "phone", "date_of_birth"}
    appt_in = schemas["AppointmentIn"]["properties"]
    assert set(appt_in) == {
        "client",
        "treatment",
        "start",
        "specialist",
        "location",
        "confirm_important_dates",  # issue 5
        "prescreen",  # issue 11: a client's own booking answers the health questions
        "precare_confirmed",  # issue 12: the preparation steps a client already follows
        "gap_reason",  # issue 14: a clinician's reason for under 28 days from another session
    }
    appt = set(schemas["AppointmentOut"]["properties"])
    assert "change_until" in appt  # issue 12: until when it can be changed online
    assert {"id", "status", "start", "end", "client", "treatment", "specialist", "location"} <= appt
    assert set(schemas["SlotOut"]["properties"]) == {
        "start",
        "end",
        "specialist",
        "location",
        "phases",
    }
    assert set(schemas["SlotLocation"]["properties"]) == {"id", "name", "time_zone"}
    assert set(schemas["Ref"]["properties"]) == {"id", "name"}
    assert {"name", "start", "end", "resources"} <= set(schemas["SlotPhase"]["properties"])
    assert schemas["ErrorOut"]["required"] == ["error"]
    # Issue 5: the course plan's request and answer.
    assert set(schemas["PlanIn"]["properties"]) == {
        "client",
        "treatment",
        "sessions",
        "interval_days",
        "earliest_start",
        "specialist",
        "preferred_weekdays",
        "preferred_times",
        "important_dates",
        "precare_confirmed",  # issue 12: a client's course starts when it can be prepared for
    }
    assert set(schemas["PlanOut"]["properties"]) == {"sessions", "problems", "alternative"}
    planned = set(schemas["PlannedSessionOut"]["properties"])
    assert planned == {"start", "end", "specialist", "location"}
    assert set(schemas["ProblemOut"]["properties"]) == {"session", "reason"}
    assert {"kind", "start", "end"} <= set(schemas["ImportantDateIn"]["properties"])


def test_docs_page_uses_only_local_assets():
    response = Api(None).get("/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/v1/openapi.json" in html
    assert '"validatorUrl": null' in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html), html
    for asset in re.findall(r"(?:src|href)=\"(/static/[^\"]+)\"", html):
        assert Api(None).http.get(asset).status_code == 200, asset
