"""The API's pre-screen (issue 12 item 6, issue 14 item 1): each treatment lists its own
questions; a client's answers are stored with the booking; a "when" answer that calls for a
wait is refused inside it with the first possible day, additively to the existing codes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from daisy.api.tests.conftest import error_of
from daisy.clients.models import Contraindication, Tier
from daisy.records.models import ScreeningResponse
from daisy.scheduling.models import Appointment
from tests.support.testing import MONDAY, PRESCREEN_CLEAR, at, booking_now, precare_keys

pytestmark = pytest.mark.django_db

TODAY = booking_now().date()


def _body(cast, day=MONDAY, **extra):
    start = at(day, 10).isoformat()
    # A week ahead is too soon for the two-week preparation: the client follows it already.
    ready = precare_keys(cast.clinic.microneedling)
    return {
        "client": str(cast.client_a.pk),
        "treatment": "microneedling",
        "start": start,
        "precare_confirmed": ready,
        **extra,
    }


def _post(cast, body, key):
    return cast.as_("client_a").post("/appointments", body, headers={"Idempotency-Key": key})


def test_each_treatment_lists_its_own_online_questions(cast):
    needling = cast.as_("anonymous").get("/treatments/microneedling/prescreen").json()
    laser = cast.as_("anonymous").get("/treatments/laser-hair-removal/prescreen").json()
    assert needling["questionnaire"] == "microneedling" and needling["version"] == 1
    keys = {q["key"] for q in laser["questions"]}
    assert {"tan", "photosensitising", "tattoo"} <= keys and "numbing_allergy" not in keys
    tan = next(q for q in needling["questions"] if q["key"] == "tan")
    assert tan["asks_when"] and "tanned" in tan["text"]
    consultation = cast.as_("anonymous").get("/treatments/consultation/prescreen").json()
    assert consultation["questions"] == []
    missing = cast.as_("anonymous").get("/treatments/nothing-like-it/prescreen")
    assert missing.status_code == 404


def test_a_booking_keeps_its_answers_and_their_findings(cast):
    answers = {**PRESCREEN_CLEAR, "tattoo": True}
    response = _post(cast, _body(cast, prescreen=answers), "s1")
    assert response.status_code == 201, response.content
    stored = ScreeningResponse.objects.get()
    assert stored.via == "api" and str(stored.appointment.pk) == response.json()["id"]
    finding = Contraindication.objects.get(client=cast.client_a)
    assert finding.tier == Tier.ZONE_EXCLUDED


def test_a_wait_is_refused_with_the_first_possible_day(cast):
    answers = {**PRESCREEN_CLEAR, "waxing": True, "waxing_on": TODAY.isoformat()}
    response = _post(cast, _body(cast, day=TODAY + timedelta(days=3), prescreen=answers), "s2")
    assert response.status_code == 409
    err = error_of(response)
    assert err["code"] == "prescreen_deferred"
    assert err["earliest_on"] == (TODAY + timedelta(days=7)).isoformat()
    assert err["fields"] == {"prescreen.waxing": "wait"}
    assert not Appointment.objects.exists()


def test_a_yes_without_its_date_is_a_422_naming_the_date(cast):
    response = _post(cast, _body(cast, prescreen={**PRESCREEN_CLEAR, "retinoids": True}), "s3")
    assert response.status_code == 422
    err = error_of(response)
    assert err["code"] == "prescreen_required"
    assert err["fields"] == {"prescreen.retinoids_on": "required"}


def test_an_answer_to_no_question_is_named(cast):
    response = _post(cast, _body(cast, prescreen={**PRESCREEN_CLEAR, "colour": True}), "s4")
    assert response.status_code == 422
    assert error_of(response)["fields"] == {"prescreen.colour": "unknown"}
