"""Issue 12 items 2 and 3 through the API: a client's booking too soon for its preparation is a
409 naming the steps and their keys (then booked with `precare_confirmed`); a move keeps the
specialist unless `any_specialist` is given; every appointment says until when it can be
changed online (`change_until`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from daisy.aftercare.models import PrecareConfirmation
from daisy.api.tests.conftest import error_of
from daisy.scheduling.models import Appointment
from tests.support.testing import MONDAY, PRESCREEN_CLEAR, at

pytestmark = pytest.mark.django_db


def _client_body(cast, **extra):
    return {
        "client": str(cast.client_a.pk),
        "treatment": "microneedling",
        "start": at(MONDAY, 10).isoformat(),
        "prescreen": PRESCREEN_CLEAR,
        **extra,
    }


def test_a_client_booking_too_soon_to_prepare_is_409_then_booked_with_its_confirmations(cast):
    api = cast.as_("client_a")
    refused = api.post("/appointments", _client_body(cast), headers={"Idempotency-Key": "p1"})
    assert refused.status_code == 409
    body = refused.json()["error"]
    assert body["code"] == "precare_too_soon"
    keys = [step["key"] for step in body["precare_steps"]]
    assert keys and all(f"precare_confirmed.{k}" in body["fields"] for k in keys)
    assert body["ready_at"].startswith("2030-01-14")  # two weeks after now (31 Dec, 08:00)
    assert not Appointment.objects.exists()
    booked = api.post(
        "/appointments",
        _client_body(cast, precare_confirmed=keys),
        headers={"Idempotency-Key": "p2"},
    )
    assert booked.status_code == 201, booked.content
    kept = PrecareConfirmation.objects.filter(appointment_id=booked.json()["id"])
    assert sorted(str(c.step_id) for c in kept) == sorted(keys)


def test_precare_keys_are_validated(cast):
    response = cast.as_("client_a").post(
        "/appointments",
        _client_body(cast, precare_confirmed=["sun; drop table"]),
        headers={"Idempotency-Key": "p3"},
    )
    assert response.status_code == 422
    assert "precare_confirmed" in " ".join(error_of(response)["fields"])


def _booked_with(cast, specialist, hour=10, client=None):
    response = cast.as_("reception").post(
        "/appointments",
        {
            "client": str((client or cast.client_a).pk),
            "treatment": "microneedling",
            "start": at(MONDAY, hour).isoformat(),
            "specialist": str(specialist.pk),
        },
        headers={"Idempotency-Key": f"s-{hour}"},
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_a_move_keeps_the_specialist_unless_any_specialist_is_asked_for(cast):
    first, second = cast.clinic.specialists[:2]
    appt = _booked_with(cast, first)
    # Client B's: one client's needling sessions are 28 days apart (DOMAIN.md 1.2).
    _booked_with(cast, first, hour=12, client=cast.client_b)
    # The other specialist is the least booked that day, so the slot finder alone would pick
    # them for 16:00; the move keeps the client's own.
    moved = cast.as_("reception").post(
        f"/appointments/{appt['id']}/reschedule", {"start": at(MONDAY, 16).isoformat()}
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["specialist"] == str(first.pk)
    anyone = cast.as_("reception").post(
        f"/appointments/{appt['id']}/reschedule",
        {"start": at(MONDAY + timedelta(days=1), 16).isoformat(), "any_specialist": True},
    )
    assert anyone.status_code == 200, anyone.content
    assert anyone.json()["specialist"] in {str(first.pk), str(second.pk)}


def test_every_appointment_says_until_when_it_can_be_changed_online(cast):
    appt = _booked_with(cast, cast.clinic.specialists[0])
    assert appt["change_until"] == "2030-01-05T10:00:00Z"  # 48 hours before, London = UTC
