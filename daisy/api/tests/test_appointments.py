"""Appointments through the API: idempotent booking, refusals with alternatives, list filters
and paging, reschedule and cancel."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from daisy.api.tests.conftest import error_of
from daisy.clients.models import Contraindication, Tier
from daisy.scheduling.models import Allocation, Appointment, Status
from daisy.treatments.models import Treatment
from tests.support.testing import (
    MONDAY,
    PRESCREEN_CLEAR,
    at,
    booking_now,
    make_client,
    precare_keys,
)

pytestmark = pytest.mark.django_db


def body(cast, hour=10, minute=0, **extra):
    start = at(MONDAY, hour, minute).isoformat()
    return {"client": str(cast.client_a.pk), "treatment": "microneedling", "start": start, **extra}


def book(cast, role="reception", key="key-1", **kw):
    if role.startswith("client"):
        kw.setdefault("prescreen", PRESCREEN_CLEAR)  # a client answers the health questions
        # A week ahead is too soon for the two-week preparation; this client follows it.
        kw.setdefault("precare_confirmed", precare_keys(cast.clinic.microneedling))
    return cast.as_(role).post("/appointments", body(cast, **kw), headers={"Idempotency-Key": key})


def test_books_and_returns_201_with_the_contract_fields(cast):
    response = book(cast)
    assert response.status_code == 201, response.content
    appt = response.json()
    assert {"id", "status", "start", "end", "client", "treatment", "specialist", "location"} <= set(
        appt
    )
    assert appt["status"] == "booked"
    assert appt["start"] == "2030-01-07T10:00:00Z"
    assert appt["end"] == "2030-01-07T11:10:00Z"
    assert appt["client"] == str(cast.client_a.pk)
    assert appt["treatment"] == "microneedling"
    assert appt["location"] == str(cast.clinic.location.pk)
    assert appt["specialist"] in {str(s.pk) for s in cast.clinic.specialists}
    assert "Idempotent-Replayed" not in response
    stored = Appointment.objects.get(pk=appt["id"])
    assert stored.booked_by == cast.clinic.reception


def test_start_may_be_given_with_any_offset(cast):
    response = cast.as_("reception").post(
        "/appointments",
        {**body(cast), "start": "2030-01-07T11:00:00+01:00"},
        headers={"Idempotency-Key": "k"},
    )
    assert response.status_code == 201
    assert response.json()["start"] == "2030-01-07T10:00:00Z"


def test_same_key_and_body_replays_the_first_result(cast):
    first = book(cast)
    again = book(cast)
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Appointment.objects.count() == 1


def test_same_key_with_another_body_is_422_and_books_nothing_more(cast):
    book(cast)
    response = book(cast, hour=12)
    assert response.status_code == 422
    assert error_of(response)["code"] == "idempotency_key_reused"
    assert Appointment.objects.count() == 1


def test_keys_are_per_user(cast):
    assert book(cast, role="reception", key="shared").status_code == 201
    # Another client: one client's needling sessions are 28 days apart (DOMAIN.md 1.2).
    response = book(cast, role="manager", key="shared", hour=12, client=str(cast.client_b.pk))
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert Appointment.objects.count() == 2


@pytest.mark.parametrize("key", [None, "", "has space", "x" * 256, "caf\u00e9"])
def test_idempotency_key_is_required_and_checked(cast, key):
    headers = {} if key is None else {"Idempotency-Key": key}
    response = cast.as_("reception").post("/appointments", body(cast), headers=headers)
    assert response.status_code == 422
    assert "Idempotency-Key" in error_of(response)["fields"]
    assert not Appointment.objects.exists()


def test_taken_slot_is_409_with_up_to_three_alternatives_in_the_slot_shape(cast):
    assert book(cast, key="a").status_code == 201
    response = book(cast, key="b")  # the clinic has one pen: the needling clashes
    assert response.status_code == 409
    err = error_of(response)
    assert err["code"] == "slot_unavailable"
    alternatives = err["alternatives"]
    assert 1 <= len(alternatives) <= 3
    for slot in alternatives:
        assert {"start", "end", "specialist", "location", "phases"} <= set(slot)
        assert slot["location"]["time_zone"] == "Europe/London"
        assert all({"id", "name", "kind"} == set(r) for p in slot["phases"] for r in p["resources"])
    assert Appointment.objects.count() == 1


def test_contraindicated_client_is_409(cast):
    Contraindication.objects.create(
        client=cast.client_a, condition="Active acne", tier=Tier.CLINICIAN_REVIEW
    )
    response = book(cast)
    assert response.status_code == 409
    assert error_of(response)["code"] == "contraindicated"
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"client": "00000000-0000-0000-0000-000000000000"}, "client"),
        ({"client": "nope"}, "client"),
        ({"treatment": "nothing-like-it"}, "treatment"),
        ({"location": "00000000-0000-0000-0000-000000000000"}, "location"),
        ({"specialist": "00000000-0000-0000-0000-000000000000"}, "specialist"),
        ({"start": "2030-01-07T10:00:00"}, "start"),  # no offset
        ({"start": "next tuesday"}, "start"),
        ({"start": "9999-12-31T23:59:59-23:59"}, "start"),
        ({"start": "0001-01-01T00:00:00+01:00"}, "start"),
        ({"start": "2030-01-07T10:00:30Z"}, "start"),
        ({"start": "2030-01-07T10:00:00.123456Z"}, "start"),
        ({"start": 1893924000}, "start"),
        ({"notes": "hello"}, "notes"),
    ],
)
def test_invalid_booking_is_422_naming_the_field(cast, change, field):
    response = cast.as_("reception").post(
        "/appointments", {**body(cast), **change}, headers={"Idempotency-Key": "k"}
    )
    assert response.status_code == 422, response.content
    assert field in error_of(response)["fields"]
    assert not Appointment.objects.exists()


def test_booking_rules_come_back_as_422_codes(cast):
    past = cast.as_("reception").post(
        "/appointments",
        {**body(cast), "start": (booking_now() - timedelta(days=1)).isoformat()},
        headers={"Idempotency-Key": "k"},
    )
    assert past.status_code == 422
    assert error_of(past)["code"] == "in_past"


def test_a_time_when_the_clinic_is_closed_is_409(cast):
    response = book(cast, hour=22)
    assert response.status_code == 409
    assert error_of(response)["code"] == "slot_unavailable"
    assert not Appointment.objects.exists()


def test_client_books_for_itself_but_not_a_treatment_booked_by_phone(cast):
    response = book(cast, role="client_a")
    assert response.status_code == 201
    assert Appointment.objects.get().booked_by == cast.client_a.user
    Treatment.objects.filter(slug="microneedling").update(is_online_bookable=False)
    response = book(cast, role="client_a", key="other", hour=14)
    assert response.status_code == 403
    assert Appointment.objects.count() == 1


def make_appointments(cast):
    # Three clients on day 1 (one client's needling sessions are 28 days apart: DOMAIN.md 1.2).
    ids = []
    clients = [cast.client_a, make_client(), make_client()]
    for n, (hour, client) in enumerate(zip((9, 11, 13), clients, strict=True)):
        ids.append(book(cast, key=f"day1-{n}", hour=hour, client=str(client.pk)).json()["id"])
    other = {**body(cast), "client": str(cast.client_b.pk)}
    other["start"] = at(MONDAY + timedelta(days=1), 10).isoformat()
    response = cast.as_("reception").post("/appointments", other, headers={"Idempotency-Key": "b"})
    ids.append(response.json()["id"])
    return ids


def test_list_filters_by_local_date_client_specialist_and_status(cast):
    ids = make_appointments(cast)
    api = cast.as_("reception")
    day1 = api.get("/appointments", {"start": str(MONDAY), "end": str(MONDAY)}).json()
    assert [a["id"] for a in day1["items"]] == ids[:3] and day1["count"] == 3
    day2 = api.get("/appointments", {"start": str(MONDAY + timedelta(days=1))}).json()
    assert [a["id"] for a in day2["items"]] == ids[3:]
    until = api.get("/appointments", {"end": str(MONDAY - timedelta(days=1))}).json()
    assert until["count"] == 0
    mine = api.get("/appointments", {"client": str(cast.client_b.pk)}).json()
    assert [a["id"] for a in mine["items"]] == ids[3:]
    spec = Appointment.objects.get(pk=ids[0]).specialist_id
    by_spec = api.get("/appointments", {"specialist": str(spec)}).json()
    assert ids[0] in [a["id"] for a in by_spec["items"]]
    assert all(a["specialist"] == str(spec) for a in by_spec["items"])
    api.post(f"/appointments/{ids[1]}/cancel", {})
    cancelled = api.get("/appointments", {"status": "cancelled"}).json()
    assert [a["id"] for a in cancelled["items"]] == [ids[1]]


def test_list_is_paged(cast):
    ids = make_appointments(cast)
    api = cast.as_("reception")
    page = api.get("/appointments", {"limit": 2, "offset": 1}).json()
    assert page["count"] == 4 and page["limit"] == 2 and page["offset"] == 1
    assert [a["id"] for a in page["items"]] == ids[1:3]
    assert api.get("/appointments", {"limit": 101}).status_code == 422
    assert api.get("/appointments", {"status": "lost"}).status_code == 422
    response = api.get("/appointments", {"start": "2030-01-08", "end": "2030-01-07"})
    assert response.status_code == 422 and "end" in error_of(response)["fields"]


def test_clients_only_ever_list_their_own(cast):
    ids = make_appointments(cast)
    mine = cast.as_("client_b").get("/appointments").json()
    assert [a["id"] for a in mine["items"]] == ids[3:]
    asked = cast.as_("client_b").get("/appointments", {"client": str(cast.client_a.pk)}).json()
    assert asked["items"] == [] and asked["count"] == 0


def test_get_one(cast):
    appt_id = book(cast).json()["id"]
    response = cast.as_("specialist").get(f"/appointments/{appt_id}")
    assert response.status_code == 200 and response.json()["id"] == appt_id
    missing = cast.as_("reception").get("/appointments/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404


def test_reschedule_moves_the_appointment(cast):
    appt_id = book(cast).json()["id"]
    new_start = at(MONDAY, 14).isoformat()
    response = cast.as_("reception").post(
        f"/appointments/{appt_id}/reschedule", {"start": new_start}
    )
    assert response.status_code == 200, response.content
    assert response.json()["start"] == "2030-01-07T14:00:00Z"
    assert Appointment.objects.get(pk=appt_id).starts_at == at(MONDAY, 14)


def test_reschedule_to_a_taken_time_is_409_and_leaves_it_in_place(cast):
    first = book(cast, key="a").json()["id"]
    book(cast, key="b", hour=14, client=str(cast.client_b.pk))
    response = cast.as_("reception").post(
        f"/appointments/{first}/reschedule", {"start": at(MONDAY, 14).isoformat()}
    )
    assert response.status_code == 409
    assert error_of(response)["code"] == "slot_unavailable"
    assert "alternatives" in error_of(response)
    assert Appointment.objects.get(pk=first).starts_at == at(MONDAY, 10)


def test_reschedule_body_is_validated(cast):
    appt_id = book(cast).json()["id"]
    api = cast.as_("reception")
    assert api.post(f"/appointments/{appt_id}/reschedule", {}).status_code == 422
    response = api.post(f"/appointments/{appt_id}/reschedule", {"start": "2030-01-07T14:00"})
    assert response.status_code == 422 and "start" in error_of(response)["fields"]
    unknown = {"start": at(MONDAY, 14).isoformat(), "specialist": str(cast.client_a.pk)}
    assert api.post(f"/appointments/{appt_id}/reschedule", unknown).status_code == 422


def test_cancel_with_and_without_a_body(cast):
    first = book(cast, key="a").json()["id"]
    second = book(cast, key="b", hour=14, client=str(cast.client_b.pk)).json()["id"]
    response = cast.as_("reception").post(f"/appointments/{first}/cancel", {"reason": "ill"})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancelled_at"] is not None
    assert Appointment.objects.get(pk=first).cancel_reason == "ill"
    assert not Allocation.objects.filter(appointment_id=first, is_active=True).exists()
    assert cast.as_("reception").post(f"/appointments/{second}/cancel").status_code == 200


def test_cancelling_twice_is_409(cast):
    appt_id = book(cast).json()["id"]
    cast.as_("reception").post(f"/appointments/{appt_id}/cancel")
    response = cast.as_("reception").post(f"/appointments/{appt_id}/cancel")
    assert response.status_code == 409
    assert error_of(response)["code"] == "policy_violation"


def test_a_client_cannot_move_inside_the_cancellation_window_but_staff_can(cast, frozen):
    appt_id = book(cast, role="client_a").json()["id"]
    frozen.move_to(at(MONDAY, 8))  # two hours before: inside the 48-hour window
    response = cast.as_("client_a").post(
        f"/appointments/{appt_id}/reschedule", {"start": at(MONDAY, 15).isoformat()}
    )
    assert response.status_code == 409
    assert error_of(response)["code"] == "late_change"
    assert Appointment.objects.get(pk=appt_id).starts_at == at(MONDAY, 10)
    response = cast.as_("reception").post(
        f"/appointments/{appt_id}/reschedule", {"start": at(MONDAY, 15).isoformat()}
    )
    assert response.status_code == 200


def test_late_cancellation_is_made_and_marked(cast):
    appt_id = book(cast, role="client_a").json()["id"]
    with time_machine.travel(at(MONDAY, 9), tick=False):
        response = cast.as_("client_a").post(f"/appointments/{appt_id}/cancel", {})
    assert response.status_code == 200
    assert response.json()["is_late_cancellation"] is True


def test_statuses_match_the_model():
    from typing import get_args

    from daisy.api.schemas import AppointmentStatus

    assert set(get_args(AppointmentStatus)) == set(Status.values)
