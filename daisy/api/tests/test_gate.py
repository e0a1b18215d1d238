"""The API runs the same eligibility gate as every other path (issue 11 item 2): a client's own
booking answers the health questions or is refused with a clear error, and a move into a
deferral or onto a client on a clinical hold is refused, for client and staff tokens alike,
changing nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from daisy.api.tests.conftest import error_of
from daisy.clients.models import Contraindication, Tier
from daisy.clients.services import client_hold_place
from daisy.scheduling.models import Appointment
from tests.support.testing import MONDAY, PRESCREEN_CLEAR, at, booking_now

pytestmark = pytest.mark.django_db


def _body(cast, day=MONDAY, hour=10, **extra):
    start = at(day, hour).isoformat()
    return {"client": str(cast.client_a.pk), "treatment": "microneedling", "start": start, **extra}


def _post(cast, role, body, key):
    return cast.as_(role).post("/appointments", body, headers={"Idempotency-Key": key})


def test_a_client_booking_without_the_health_questions_is_refused_clearly(cast):
    response = _post(cast, "client_a", _body(cast), "k1")
    assert response.status_code == 422
    err = error_of(response)
    assert err["code"] == "prescreen_required"
    assert "health questions" in err["message"]
    assert not Appointment.objects.exists()


def test_a_partial_answer_set_is_refused_and_names_what_is_missing(cast):
    partial = {k: v for k, v in PRESCREEN_CLEAR.items() if k != "allergy"}
    response = _post(cast, "client_a", _body(cast, prescreen=partial), "k2")
    assert response.status_code == 422
    assert "allergy" in str(error_of(response)["fields"])
    assert not Appointment.objects.exists()


def test_a_yes_answer_stops_the_booking_and_offers_a_consultation(cast):
    answers = {**PRESCREEN_CLEAR, "pregnant": True}
    response = _post(cast, "client_a", _body(cast, prescreen=answers), "k3")
    assert response.status_code == 409
    err = error_of(response)
    assert err["code"] == "prescreen_stop" and "consultation" in err["message"]
    assert not Appointment.objects.exists()


def test_staff_book_without_the_online_questions(cast):
    response = _post(cast, "reception", _body(cast), "k4")
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("role", ["client_a", "reception"])
def test_a_move_into_a_deferral_is_refused_and_changes_nothing(cast, role):
    booked = _post(cast, "reception", _body(cast, day=MONDAY + timedelta(days=21)), "k5").json()
    Contraindication.objects.create(
        client=cast.client_a,
        condition="Botulinum toxin in the area",
        tier=Tier.DEFER,
        until_on=MONDAY + timedelta(days=14),
    )
    response = cast.as_(role).post(
        f"/appointments/{booked['id']}/reschedule", {"start": at(MONDAY, 10).isoformat()}
    )
    assert response.status_code == 409
    assert error_of(response)["code"] == "contraindicated"
    assert Appointment.objects.get().starts_at == at(MONDAY + timedelta(days=21), 10)


def test_a_client_on_a_clinical_hold_cannot_move_or_book(cast):
    booked = _post(cast, "reception", _body(cast, day=MONDAY + timedelta(days=21)), "k6").json()
    client_hold_place(
        client=cast.client_a, reason="Spreading redness", source="check-in", now=booking_now()
    )
    moved = cast.as_("client_a").post(
        f"/appointments/{booked['id']}/reschedule", {"start": at(MONDAY, 10).isoformat()}
    )
    assert moved.status_code == 409 and error_of(moved)["code"] == "clinical_hold"
    again = _post(cast, "client_a", _body(cast, prescreen=PRESCREEN_CLEAR), "k7")
    assert again.status_code == 409 and error_of(again)["code"] == "clinical_hold"
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize("role", ["client_a", "reception"])
def test_a_sixteen_year_old_is_refused_micro_needling_with_a_clear_error(cast, role):
    # Issue 12: the age limit on the API path, for the client's own token and the desk's.
    cast.client_a.date_of_birth = MONDAY.replace(year=MONDAY.year - 16)
    cast.client_a.save()
    response = _post(cast, role, _body(cast, prescreen=PRESCREEN_CLEAR), f"age-{role}")
    assert response.status_code == 409
    err = error_of(response)
    assert err["code"] == "age_limit"
    assert "only for clients aged 18 or over on the day of the session" in err["message"]
    assert not Appointment.objects.exists()
