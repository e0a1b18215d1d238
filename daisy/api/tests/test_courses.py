"""The course API (issue 5): POST /courses/plan (no writes), POST /courses, GET /courses/{id},
GET/POST /clients/{id}/important-dates, and confirm_important_dates on single bookings."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from daisy.api.tests.conftest import Cast, error_of
from daisy.audit.models import AuditEntry
from daisy.courses.models import Plan
from daisy.courses.services import course_presets_install
from daisy.scheduling.models import Appointment
from tests.support.testing import LONDON, MONDAY, PRESCREEN_CLEAR, at, precare_keys

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _kinds(db: Any) -> None:
    course_presets_install()


def plan_body(cast: Cast, **changes: Any) -> dict[str, Any]:
    return {
        "client": str(cast.client_a.pk),
        "treatment": "microneedling",
        "sessions": 4,
        "interval_days": 28,
        "earliest_start": str(MONDAY),
        # A week ahead is too soon for the two-week preparation; this client follows it.
        "precare_confirmed": precare_keys(cast.clinic.microneedling),
        **changes,
    }


def local_day(text: str) -> date:
    return datetime.fromisoformat(text).astimezone(LONDON).date()


def test_plan_proposes_every_session_and_writes_nothing(cast: Cast) -> None:
    response = cast.as_("client_a").post("/courses/plan", plan_body(cast))
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"sessions", "problems", "alternative"}
    assert body["problems"] == [] and body["alternative"] is None
    sessions = body["sessions"]
    assert len(sessions) == 4
    assert set(sessions[0]) == {"start", "end", "specialist", "location"}
    days = [local_day(s["start"]) for s in sessions]
    assert [(b - a).days for a, b in zip(days, days[1:], strict=False)] == [28, 28, 28]
    assert len({s["specialist"] for s in sessions}) == 1  # the same specialist throughout
    assert not Appointment.objects.exists() and not Plan.objects.exists()


def test_plan_keeps_recovery_windows_clear_of_dates_sent_and_stored(cast: Cast) -> None:
    api = cast.as_("client_a")
    wedding = MONDAY + timedelta(days=30)  # Wednesday 6 February
    stored = api.post(
        f"/clients/{cast.client_a.pk}/important-dates",
        {"kind": "wedding", "start": str(wedding), "label": "Sam's wedding"},
    )
    assert stored.status_code == 201, stored.content
    assert set(stored.json()) == {"id", "kind", "label", "start", "end"}
    holiday = {"kind": "beach_holiday", "start": "2030-04-01", "end": "2030-04-10"}
    body = api.post("/courses/plan", plan_body(cast, important_dates=[holiday])).json()
    assert body["problems"] == []
    for session in body["sessions"]:
        start = datetime.fromisoformat(session["start"])
        day = start.astimezone(LONDON).date()
        # 72 h after a session stays clear of the wedding day; 14 days clear of the beach.
        assert not (day <= wedding <= (start + timedelta(hours=72)).astimezone(LONDON).date())
        assert not (date(2030, 3, 18) <= day <= date(2030, 4, 10))


def test_plan_names_the_failing_session_and_offers_a_later_start(cast: Cast) -> None:
    # Mondays only, 09:00-09:30: no visit fits a window shorter than the treatment.
    body = (
        cast.as_("reception")
        .post(
            "/courses/plan",
            plan_body(cast, preferred_times=[{"start": "09:00", "end": "09:30"}]),
        )
        .json()
    )
    assert body["problems"][0]["session"] == 1
    assert "preferred hours" in body["problems"][0]["reason"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"preferred_times": [{"start": "13:00", "end": "09:00"}]}, "preferred_times"),
        ({"preferred_weekdays": [7]}, "preferred_weekdays"),
        ({"sessions": 13}, "sessions"),
        ({"interval_days": 10}, "interval_days"),
        ({"important_dates": [{"kind": "gala", "start": "2030-02-01"}]}, "important_dates"),
        ({"earliest_start": "2020-01-01"}, "earliest_start"),
    ],
)
def test_plan_refuses_bad_requests_with_a_field_message(
    cast: Cast, changes: dict[str, Any], field: str
) -> None:
    response = cast.as_("reception").post("/courses/plan", plan_body(cast, **changes))
    assert response.status_code == 422, response.content
    fields = error_of(response)["fields"]
    assert any(name.startswith(field) for name in fields), fields


def test_book_the_proposal_then_read_it_back(cast: Cast) -> None:
    api = cast.as_("client_a")
    proposal = api.post("/courses/plan", plan_body(cast, sessions=3)).json()
    body = {
        **plan_body(cast, sessions=3),
        "session_times": [
            {"start": s["start"], "specialist": s["specialist"]} for s in proposal["sessions"]
        ],
        "prescreen": PRESCREEN_CLEAR,
    }
    response = api.post("/courses", body, headers={"Idempotency-Key": "course-1"})
    assert response.status_code == 201, response.content
    course = response.json()
    assert course["status"] == "accepted" and course["progress"] == "Session 1 of 3"
    assert [s["start"] for s in course["sessions"]] == [s["start"] for s in proposal["sessions"]]
    again = api.get(f"/courses/{course['id']}")
    assert again.status_code == 200 and again.json() == course
    assert cast.as_("client_b").get(f"/courses/{course['id']}").status_code == 404
    # The same key and body replays the course instead of booking it twice.
    replay = api.post("/courses", body, headers={"Idempotency-Key": "course-1"})
    assert replay.status_code == 201 and replay.json()["id"] == course["id"]
    assert Appointment.objects.count() == 3
    # A client reading their own course is not audited; a member of staff reading it is (its
    # areas and severity grades are health data), and so is a staff read of important dates.
    assert not AuditEntry.objects.filter(action="client.view").exists()
    assert cast.as_("reception").get(f"/courses/{course['id']}").status_code == 200
    dates = cast.as_("reception").get(f"/clients/{cast.client_a.pk}/important-dates")
    assert dates.status_code == 200
    views = AuditEntry.objects.filter(action="client.view", object_id=str(cast.client_a.pk))
    assert sorted(v.data["via"] for v in views) == ["api:course", "api:important-dates"]


def test_book_from_the_earliest_start_in_one_step(cast: Cast) -> None:
    response = cast.as_("reception").post(
        "/courses", plan_body(cast), headers={"Idempotency-Key": "one-step"}
    )
    assert response.status_code == 201, response.content
    assert len(response.json()["sessions"]) == 4


def test_a_session_time_taken_books_nothing_and_says_which(cast: Cast) -> None:
    api = cast.as_("reception")
    taken = at(MONDAY + timedelta(days=56), 10)
    single = {
        "client": str(cast.client_b.pk),
        "treatment": "microneedling",
        "start": taken.isoformat(),
    }
    assert api.post("/appointments", single, headers={"Idempotency-Key": "b"}).status_code == 201
    times = [{"start": at(MONDAY + timedelta(days=28 * k), 10).isoformat()} for k in range(3)]
    response = api.post(
        "/courses",
        plan_body(cast, sessions=3, session_times=times),
        headers={"Idempotency-Key": "c"},
    )
    assert response.status_code == 409
    assert "Session 3" in error_of(response)["message"]
    assert Appointment.objects.filter(client=cast.client_a).count() == 0


def test_an_important_date_conflict_is_409_until_confirmed(cast: Cast) -> None:
    api = cast.as_("reception")
    api.post(
        f"/clients/{cast.client_a.pk}/important-dates",
        {"kind": "job_interview", "start": str(MONDAY + timedelta(days=1))},
    )
    single = {"client": str(cast.client_a.pk), "treatment": "microneedling",
              "start": at(MONDAY, 10).isoformat()}  # fmt: skip
    refused = api.post("/appointments", single, headers={"Idempotency-Key": "x1"})
    assert refused.status_code == 409
    error = error_of(refused)
    assert error["code"] == "important_date_conflict" and "job interview" in error["message"]
    confirmed = api.post(
        "/appointments",
        {**single, "confirm_important_dates": True},
        headers={"Idempotency-Key": "x2"},
    )
    assert confirmed.status_code == 201, confirmed.content
    # The course starts the same day: the single session makes way for it (one client's
    # needling sessions are 28 days apart, DOMAIN.md 1.2).
    single_id = confirmed.json()["id"]
    assert api.post(f"/appointments/{single_id}/cancel", {}).status_code == 200
    times = [{"start": at(MONDAY + timedelta(days=28 * k), 11).isoformat()} for k in range(2)]
    body = plan_body(cast, sessions=2, session_times=times)
    assert api.post("/courses", body, headers={"Idempotency-Key": "c1"}).status_code == 409
    body["confirm_important_dates"] = True
    assert api.post("/courses", body, headers={"Idempotency-Key": "c2"}).status_code == 201


def test_an_extended_course_needs_a_specialists_token(cast: Cast) -> None:
    body = plan_body(cast, sessions=7)
    refused = cast.as_("client_a").post("/courses", body, headers={"Idempotency-Key": "e1"})
    assert refused.status_code == 403
    assert error_of(refused)["code"] == "extended_course_needs_specialist"
    booked = cast.as_("specialist").post("/courses", body, headers={"Idempotency-Key": "e2"})
    assert booked.status_code == 201, booked.content
    assert booked.json()["is_extended"] is True


def test_important_dates_are_listed_for_the_client_and_staff_only(cast: Cast) -> None:
    path = f"/clients/{cast.client_a.pk}/important-dates"
    body = {"kind": "beach_holiday", "start": "2030-08-02", "end": "2030-08-16", "label": "Crete"}
    assert cast.as_("specialist").post(path, body).status_code == 201
    listed = cast.as_("client_a").get(path).json()
    assert [(d["kind"], d["start"], d["end"], d["label"]) for d in listed] == [
        ("beach_holiday", "2030-08-02", "2030-08-16", "Crete")
    ]
    assert cast.as_("client_b").get(path).status_code == 404
    bad = cast.as_("reception").post(
        path, {"kind": "wedding", "start": "2030-08-02", "end": "2030-08-01"}
    )
    assert bad.status_code == 422
