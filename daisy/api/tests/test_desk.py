"""Issue 13, item 8: the diary and status changes for integrations."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from daisy.api.tests.conftest import error_of
from daisy.booking.services import appointment_book
from tests.support.testing import MONDAY, at, consent_signed, rescreen_clear

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(cast):
    return appointment_book(
        client=cast.client_a,
        treatment=cast.clinic.microneedling,
        starts_at=at(MONDAY, 10),
        booked_by=cast.clinic.reception,
        now=at(MONDAY - timedelta(days=7), 8),
        location=cast.clinic.location,
    ).appointment


def test_the_diary_lists_columns_and_appointments_with_phases_and_flags(cast, booked):
    r = cast.as_("reception").get(
        "/diary", {"location": str(cast.clinic.location.pk), "date": str(MONDAY)}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["time_zone"] == "Europe/London"
    assert {c["kind"] for c in body["columns"]} == {"specialist", "room", "device"}
    (appt,) = body["appointments"]
    assert appt["id"] == str(booked.pk)
    assert appt["start"] == "2030-01-07T10:00:00Z"
    assert [p["kind"] for p in appt["phases"]][:2] == ["specialist", "room"]
    assert "first_visit" in [f["code"] for f in appt["flags"]]
    assert appt["version"]


def test_status_changes_and_a_stale_version_is_refused(cast, booked):
    api = cast.as_("reception")
    day = api.get("/diary", {"location": str(cast.clinic.location.pk), "date": str(MONDAY)})
    seen = day.json()["appointments"][0]["version"]
    rescreen_clear(booked)
    consent_signed(booked)
    with time_machine.travel(at(MONDAY, 9, 50), tick=False):
        r = api.post(f"/appointments/{booked.pk}/status", {"status": "arrived", "version": seen})
        assert r.status_code == 200 and r.json()["status"] == "checked_in"
        r = api.post(f"/appointments/{booked.pk}/status", {"status": "completed", "version": seen})
        assert r.status_code == 409
        assert error_of(r)["code"] == "changed_meanwhile"
        r = api.post(f"/appointments/{booked.pk}/status", {"status": "in_treatment"})
        assert r.json()["status"] == "in_treatment"
        r = api.post(f"/appointments/{booked.pk}/status", {"status": "wandered_off"})
        assert r.status_code == 422


def test_unknown_location_and_bad_dates_are_clear_errors(cast):
    api = cast.as_("reception")
    r = api.get(
        "/diary", {"location": "00000000-0000-4000-8000-000000000000", "date": "2030-01-07"}
    )
    assert r.status_code == 404 and error_of(r)["code"] == "not_found"
    r = api.get("/diary", {"location": str(cast.clinic.location.pk), "date": "2030-02-31"})
    assert r.status_code == 422
