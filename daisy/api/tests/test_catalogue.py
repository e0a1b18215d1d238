"""Public reads: treatments, locations, specialists, availability."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.test import override_settings

from daisy.api.tests.conftest import error_of
from daisy.treatments.models import Treatment
from tests.support.testing import MONDAY, make_location, make_room, make_specialist

pytestmark = pytest.mark.django_db


def test_treatments_are_public_with_duration_price_and_phases(cast):
    response = cast.as_("anonymous").get("/treatments")
    assert response.status_code == 200
    by_slug = {t["slug"]: t for t in response.json()}
    mn = by_slug["microneedling"]
    assert mn["duration_minutes"] == 70  # with the client; the clean-down is not their time
    assert [p["name"] for p in mn["phases"]][-1] == "Clean-down"
    assert mn["phases"][-1]["is_buffer"] is True
    assert mn["price"].count(".") == 1 and mn["currency"] == "GBP"


def test_inactive_treatments_are_not_listed(cast):
    Treatment.objects.filter(slug="chemical-peel").update(is_active=False)
    slugs = {t["slug"] for t in cast.as_("anonymous").get("/treatments").json()}
    assert "chemical-peel" not in slugs and "microneedling" in slugs


def test_locations_with_zone_and_opening_hours(cast):
    [loc] = cast.as_("anonymous").get("/locations").json()
    assert loc["id"] == str(cast.clinic.location.pk)
    assert loc["time_zone"] == "Europe/London"
    assert {"weekday": 0, "opens": "09:00", "closes": "19:00"} in loc["opening_hours"]
    assert not [h for h in loc["opening_hours"] if h["weekday"] == 6]


def test_specialists_with_their_locations(cast):
    rows = cast.as_("anonymous").get("/specialists").json()
    assert {r["id"] for r in rows} == {str(s.pk) for s in cast.clinic.specialists}
    assert all(r["locations"] == [str(cast.clinic.location.pk)] for r in rows)


def slots(cast, role="anonymous", **params):
    query = {"treatment": "microneedling", "start": str(MONDAY), "end": str(MONDAY)}
    query.update({k: str(v) for k, v in params.items() if v is not None})
    return cast.as_(role).get("/availability", query)


def test_availability_lists_one_slot_per_start_with_phases_and_resources(cast):
    response = slots(cast)
    assert response.status_code == 200
    found = response.json()["slots"]
    starts = [s["start"] for s in found]
    assert starts == sorted(set(starts))
    first = found[0]
    assert first["start"] == "2030-01-07T09:00:00Z"  # London in winter is UTC+0
    assert first["location"] == {
        "id": str(cast.clinic.location.pk),
        "name": cast.clinic.location.name,
        "time_zone": "Europe/London",
    }
    assert first["specialist"]["id"] in {str(s.pk) for s in cast.clinic.specialists}
    names = [p["name"] for p in first["phases"]]
    assert names == ["Consultation and photos", "Numbing", "Needling", "Post-care", "Clean-down"]
    numbing = first["phases"][1]
    assert {r["kind"] for r in numbing["resources"]} == {"room"}
    needling = first["phases"][2]
    assert {r["kind"] for r in needling["resources"]} == {"specialist", "room", "device"}
    # On the 15-minute grid, the last start that fits 70 min with the client and 10 of
    # clean-down before 19:00.
    assert found[-1]["start"] == "2030-01-07T17:30:00Z"


def test_the_days_form_lists_the_same_times_compactly_a_day_at_a_time(cast):
    """/availability/days: the same question, the same times, as a booking page wants them."""
    params = {"start": MONDAY, "end": MONDAY + timedelta(days=2)}
    full = slots(cast, role="reception", **params)
    query = {"treatment": "microneedling", "start": str(MONDAY), "end": str(params["end"])}
    days = cast.as_("reception").get("/availability/days", query)
    assert days.status_code == 200
    body = days.json()
    assert [d["date"] for d in body["days"]] == [
        str(MONDAY + timedelta(days=k)) for k in range(3)
    ]
    assert body["locations"] == [
        {"id": str(cast.clinic.location.pk), "name": cast.clinic.location.name,
         "time_zone": "Europe/London"}
    ]
    named = {s["id"]: s["name"] for s in body["specialists"]}
    flat = [
        (t["start"], t["end"], t["specialist"], named[t["specialist"]])
        for d in body["days"]
        for t in d["times"]
    ]
    assert flat == [
        (s["start"], s["end"], s["specialist"]["id"], s["specialist"]["name"])
        for s in full.json()["slots"]
    ]
    assert all(d["location"] == str(cast.clinic.location.pk) for d in body["days"])
    assert len(days.content) * 10 < len(full.content)
    # The same rules: a treatment booked by the clinic only is refused to the public.
    Treatment.objects.filter(slug="microneedling").update(is_online_bookable=False)
    refused = cast.as_("anonymous").get("/availability/days", query)
    assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden"
    too_long = cast.as_("reception").get(
        "/availability/days", {**query, "end": str(MONDAY + timedelta(days=400))}
    )
    assert too_long.status_code == 422


def test_dates_are_local_and_both_inclusive_in_summer_time(cast):
    summer = date(2030, 7, 1)  # a Monday, British Summer Time (UTC+1)
    found = slots(cast, role="reception", start=summer, end=summer + timedelta(days=1)).json()
    days = {datetime.fromisoformat(s["start"]).date() for s in found["slots"]}
    assert days == {summer, summer + timedelta(days=1)}
    assert found["slots"][0]["start"] == "2030-07-01T09:00:00+01:00"


def test_specialist_filter_gives_one_slot_per_start_and_specialist(cast):
    spec = cast.clinic.specialists[1]
    found = slots(cast, specialist=spec.pk).json()["slots"]
    assert found and all(s["specialist"]["id"] == str(spec.pk) for s in found)


def test_location_filter_and_two_locations(cast):
    other = make_location(name="Annex")
    make_specialist(other)
    make_room(other)
    found = slots(cast, location=cast.clinic.location.pk).json()["slots"]
    assert {s["location"]["name"] for s in found} == {cast.clinic.location.name}
    # The annex has no pen: micro-needling cannot be offered there, so nothing from it.
    everywhere = slots(cast).json()["slots"]
    assert {s["location"]["name"] for s in everywhere} == {cast.clinic.location.name}
    consult = slots(cast, treatment="consultation").json()["slots"]
    assert {s["location"]["name"] for s in consult} == {cast.clinic.location.name, "Annex"}


def test_staff_see_inside_minimum_notice_but_the_public_does_not(cast):
    # The clock is stopped at 08:00 on the Monday a week before; ask about that very day.
    today = MONDAY - timedelta(days=7)
    public = slots(cast, start=today, end=today).json()["slots"]
    staff = slots(cast, role="reception", start=today, end=today).json()["slots"]
    assert public[0]["start"] >= f"{today}T10:00:00Z"  # two hours' notice for clients
    assert staff[0]["start"] == f"{today}T09:00:00Z"


def test_not_online_bookable_treatment_is_403_for_the_public_only(cast):
    Treatment.objects.filter(slug="microneedling").update(is_online_bookable=False)
    assert error_of(slots(cast))["code"] == "forbidden"
    assert slots(cast).status_code == 403
    assert slots(cast, role="client_a").status_code == 403
    assert slots(cast, role="specialist").status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"treatment": "no-such-thing"}, "treatment"),
        ({"treatment": "bad slug!"}, "treatment"),
        ({"start": "2030-02-30"}, "start"),
        ({"start": "yesterday"}, "start"),
        ({"end": "2030-01-06"}, "end"),  # before start
        ({"end": "2031-01-08"}, "end"),  # 367 days
        ({"start": "9999-12-31", "end": "9999-12-31"}, "start"),
        ({"start": "0001-01-01"}, "start"),
        ({"location": "not-a-uuid"}, "location"),
        ({"location": "00000000-0000-0000-0000-000000000000"}, "location"),
        ({"specialist": "00000000-0000-0000-0000-000000000000"}, "specialist"),
        ({"treatment": "micro\x00needling"}, "treatment"),
    ],
)
def test_availability_bad_input_is_422_naming_the_field(cast, params, field):
    response = slots(cast, **params)
    assert response.status_code == 422, response.content
    err = error_of(response)
    assert field in err["fields"], err


def test_availability_requires_treatment_start_and_end(cast):
    response = cast.as_("anonymous").get("/availability")
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"treatment", "start", "end"}


@pytest.mark.parametrize("start", [date(2030, 3, 30), date(2030, 10, 26)])
def test_a_366_day_window_never_exceeds_366_days_across_clock_changes(cast, monkeypatch, start):
    from daisy.api.endpoints import catalogue

    asked = []

    def record(**kwargs):
        asked.append(kwargs["window_end"] - kwargs["window_start"])
        return []

    monkeypatch.setattr(catalogue, "availability_list", record)
    end = start + timedelta(days=365)  # 366 local days, from summer time into winter time
    assert slots(cast, role="reception", start=start, end=end).status_code == 200
    assert asked and all(span <= timedelta(days=366) for span in asked)


def test_a_366_day_window_is_allowed_even_across_a_clock_change(cast):
    # A location with no rooms offers nothing, so this checks the window, not the search.
    empty = make_location(name="Empty")
    start = date(2030, 3, 30)  # a day before the spring change; 366 local days span it
    end = start + timedelta(days=365)
    response = slots(cast, role="reception", start=start, end=end, location=empty.pk)
    assert response.status_code == 200, response.content
    assert response.json() == {"slots": []}


@override_settings(DAISY_API_RATE_LIMITS={"availability": {"ip": "3/minute"}})
def test_availability_is_rate_limited_per_address(cast):
    for _ in range(3):
        assert slots(cast).status_code == 200
    response = slots(cast, role="reception")
    assert response.status_code == 429
    assert error_of(response)["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60


def test_availability_answer_matches_its_documented_schema(cast):
    from daisy.api.schemas import AvailabilityOut

    body = slots(cast, end=MONDAY + timedelta(days=1)).json()
    assert body["slots"]
    AvailabilityOut.model_validate(body)
    assert all(datetime.fromisoformat(s["start"]).utcoffset() is not None for s in body["slots"])
