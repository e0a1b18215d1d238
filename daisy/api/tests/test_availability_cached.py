"""GET /api/v1/availability: the same body as the selector's answer, a booking made through the
API is gone from the very next answer, and a change of the (cached) treatment shows at once."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from daisy.api.endpoints.catalogue import _slots_json
from daisy.scheduling import selectors
from daisy.treatments.models import Treatment
from tests.support.testing import MONDAY, at, booking_now

pytestmark = pytest.mark.django_db


def availability(cast, role="reception"):
    query = {"treatment": "microneedling", "start": MONDAY.isoformat(), "end": MONDAY.isoformat()}
    response = cast.as_(role).get("/availability", query)
    assert response.status_code == 200, response.content
    return response


def fresh_body(cast, *, for_staff):
    found = selectors.availability_list(
        treatment=cast.clinic.microneedling,
        window_start=at(MONDAY, 0),
        window_end=at(MONDAY + timedelta(days=1), 0),
        now=booking_now(),
        location=cast.clinic.location,
        for_staff=for_staff,
    )
    return json.loads(_slots_json(found))


def test_the_answer_has_the_same_body_as_the_selector_gives(cast):
    first = availability(cast).json()
    again = availability(cast).json()
    assert first == again == fresh_body(cast, for_staff=True)
    assert availability(cast, "client_a").json() == fresh_body(cast, for_staff=False)


def test_a_booking_is_gone_from_the_next_answer(cast):
    slots = availability(cast).json()["slots"]
    taken = slots[0]
    body = {"client": str(cast.client_a.pk), "treatment": "microneedling", "start": taken["start"]}
    booked = cast.as_("reception").post("/appointments", body, headers={"Idempotency-Key": "k1"})
    assert booked.status_code == 201, booked.content
    after = availability(cast).json()["slots"]
    specialist = booked.json()["specialist"]
    assert all(
        not (s["start"] == taken["start"] and s["specialist"]["id"] == specialist) for s in after
    )
    assert after == fresh_body(cast, for_staff=True)["slots"]


def test_a_treatment_change_shows_at_once_though_the_treatment_is_cached(cast):
    assert availability(cast, "anonymous").json()["slots"]
    Treatment.objects.filter(slug="microneedling").update(is_online_bookable=False)
    refused = cast.as_("anonymous").get(
        "/availability",
        {"treatment": "microneedling", "start": MONDAY.isoformat(), "end": MONDAY.isoformat()},
    )
    assert refused.status_code == 403
    Treatment.objects.filter(slug="microneedling").update(is_active=False)
    assert (
        cast.as_("reception")
        .get(
            "/availability",
            {"treatment": "microneedling", "start": MONDAY.isoformat(), "end": MONDAY.isoformat()},
        )
        .status_code
        == 422
    )
