"""Plans in the back-office (issue 5 item 6) and the plan services behind it: recommendation
from DOMAIN.md 1.2/1.3, clinical approvals, accept, stop; and the selectors the portal reads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from daisy.audit.models import AuditEntry
from daisy.booking.courses import SessionTime, course_book
from daisy.booking.services import appointment_set_status
from daisy.courses.models import Plan, PlanStatus
from daisy.courses.selectors import course_get_for_client, course_list_for_client
from daisy.courses.services import AreaInput, plan_accept, plan_area_grade, plan_create, plan_stop
from daisy.lib.errors import NotFound, PermissionDenied
from daisy.scheduling.models import Appointment, Status
from tests.support.testing import (
    MONDAY,
    Clinic,
    at,
    booking_now,
    consent_signed,
    rescreen_clear,
    staff_login,
)

pytestmark = pytest.mark.django_db

NOW = booking_now()


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def specialist(clinic: Clinic) -> Any:
    return clinic.specialists[0].user


@pytest.mark.parametrize(
    ("concern", "grade", "sessions", "note"),
    [
        ("acne_scars", 2, 3, ""),  # DOMAIN.md 1.3: grades 2-3 standard 3-5
        ("acne_scars", 3, 4, ""),
        ("acne_scars", 4, 6, "clinician's review"),  # grade 4: 5-6+, combination therapy
        ("acne_scars", 1, 3, "not the primary tool"),
        ("sun_damage", 2, 4, ""),  # DOMAIN.md 1.2: 4 x 30 days
        ("fine_lines", 4, 6, "Glogau type IV"),
        ("laxity", 1, 2, ""),
    ],
)
def test_the_recommendation_follows_the_concern_and_its_grade(
    clinic: Clinic, concern: str, grade: int, sessions: int, note: str
) -> None:
    plan = plan_create(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        by=specialist(clinic),
        now=NOW,
        areas=[AreaInput("cheeks", concern, grade)],
    )
    assert plan.recommended_sessions == sessions == plan.sessions
    assert plan.interval_days == 28 and (plan.min_interval_days, plan.max_interval_days) == (21, 42)
    entry = AuditEntry.objects.get(action="course.plan_create")
    assert note in " ".join(entry.data["notes"])


def test_the_most_demanding_area_sets_the_course(clinic: Clinic) -> None:
    plan = plan_create(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        by=specialist(clinic),
        now=NOW,
        areas=[AreaInput("cheeks", "acne_scars", 3), AreaInput("forehead", "fine_lines", 2)],
    )
    assert plan.sessions == 4 and plan.areas.count() == 2


def test_grading_is_for_clinicians_and_a_plan_is_for_staff(clinic: Clinic) -> None:
    with pytest.raises(PermissionDenied):
        plan_create(
            client=clinic.clients[0],
            treatment=clinic.microneedling,
            by=clinic.reception,
            now=NOW,
            areas=[AreaInput("cheeks", "acne_scars", 3)],
        )
    plan = plan_create(
        client=clinic.clients[0], treatment=clinic.microneedling, by=clinic.reception, now=NOW,
        sessions=4,
    )  # fmt: skip
    assert plan.status == PlanStatus.PROPOSED and plan.recommended_sessions is None


def test_accept_then_book_then_progress_and_severity_history(clinic: Clinic) -> None:
    client = clinic.clients[0]
    plan = plan_create(
        client=client,
        treatment=clinic.microneedling,
        by=specialist(clinic),
        now=NOW,
        areas=[AreaInput("cheeks", "acne_scars", 3)],
    )
    plan = plan_accept(plan=plan, by=clinic.reception, now=NOW)
    assert plan.status == PlanStatus.ACCEPTED
    booked = course_book(
        client=client,
        treatment=clinic.microneedling,
        booked_by=clinic.reception,
        now=NOW,
        plan=plan,
        session_times=[SessionTime(at(MONDAY + timedelta(days=28 * k), 10)) for k in range(4)],
    )
    assert booked.plan.pk == plan.pk
    first = booked.appointments[0]
    done_at = at(MONDAY, 12)
    rescreen_clear(first)
    consent_signed(first)
    appointment_set_status(appointment=first, status=Status.COMPLETED, by=clinic.reception,
                           now=done_at)  # fmt: skip
    area = plan.areas.get()
    plan_area_grade(area=area, grade=2, by=specialist(clinic), now=done_at, note="Improving")
    view = course_get_for_client(client, plan.pk)
    assert view.status == PlanStatus.IN_PROGRESS
    assert view.progress_label == "Session 2 of 4"
    assert (view.sessions_done, view.sessions_booked) == (1, 3)
    assert [s.state for s in view.sessions] == ["done", "planned", "planned", "planned"]
    assert [g.grade for g in view.areas[0].grades] == [3, 2]
    assert view.areas[0].scale == "goodman_baron"
    assert [c.id for c in course_list_for_client(client)] == [plan.pk]
    with pytest.raises(NotFound):
        course_get_for_client(clinic.clients[1], plan.pk)


def test_stopping_a_course_cancels_its_future_sessions_in_one_go(clinic: Clinic) -> None:
    booked = course_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        booked_by=clinic.reception,
        now=NOW,
        session_times=[SessionTime(at(MONDAY + timedelta(days=28 * k), 10)) for k in range(3)],
    )
    plan_stop(plan=booked.plan, by=clinic.manager, now=NOW, reason="Client moved away")
    statuses = set(
        Appointment.objects.filter(course_session__plan=booked.plan).values_list(
            "status", flat=True
        )
    )
    assert statuses == {Status.CANCELLED}
    assert Plan.objects.get(pk=booked.plan.pk).status == PlanStatus.STOPPED


def test_staff_create_and_accept_a_plan_in_the_admin(clinic: Clinic) -> None:
    http = HttpClient()
    staff_login(http, clinic.manager)
    url = reverse("admin:courses_plan_add")
    assert http.get(url).status_code == 200
    response = http.post(
        url,
        {
            "client": str(clinic.clients[0].pk),
            "treatment": str(clinic.microneedling.pk),
            "sessions": "",
            "interval_days": "",
            "min_interval_days": "21",
            "max_interval_days": "42",
            "interval_override_reason": "",
            "notes": "Rolling scars on both cheeks",
            "areas-TOTAL_FORMS": "1",
            "areas-INITIAL_FORMS": "0",
            "areas-MIN_NUM_FORMS": "0",
            "areas-MAX_NUM_FORMS": "1000",
            "areas-0-area": "cheeks",
            "areas-0-concern": "acne_scars",
            "areas-0-grade": "4",
            "plan_sessions-TOTAL_FORMS": "0",
            "plan_sessions-INITIAL_FORMS": "0",
            "plan_sessions-MIN_NUM_FORMS": "0",
            "plan_sessions-MAX_NUM_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    plan = Plan.objects.get()
    assert plan.sessions == 6 and plan.recommended_sessions == 6
    assert plan.areas.get().grades.get().grade == 4
    changelist = reverse("admin:courses_plan_changelist")
    http.post(changelist, {"action": "accept_plans", "_selected_action": [str(plan.pk)]})
    assert Plan.objects.get().status == PlanStatus.ACCEPTED
    assert http.get(reverse("admin:courses_plan_change", args=[plan.pk])).status_code == 200


def test_the_admin_shows_session_times_in_the_locations_zone(clinic: Clinic) -> None:
    booked = course_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        booked_by=clinic.reception,
        now=NOW,
        session_times=[SessionTime(at(MONDAY + timedelta(days=28 * k), 10)) for k in range(2)],
    )
    http = HttpClient()
    staff_login(http, clinic.reception)
    page = http.get(reverse("admin:courses_plan_change", args=[booked.plan.pk]))
    assert page.status_code == 200
    assert "Mon 07 Jan 2030 10:00 (GMT)" in page.content.decode()


def test_a_refused_admin_save_shows_why_and_saves_nothing(clinic: Clinic) -> None:
    http = HttpClient()
    staff_login(http, clinic.reception)
    url = reverse("admin:courses_plan_add")
    response = http.post(
        url,
        {
            "client": str(clinic.clients[0].pk),
            "treatment": str(clinic.microneedling.pk),
            "sessions": "8",
            "min_interval_days": "21",
            "max_interval_days": "42",
            "areas-TOTAL_FORMS": "0",
            "areas-INITIAL_FORMS": "0",
            "areas-MIN_NUM_FORMS": "0",
            "areas-MAX_NUM_FORMS": "1000",
            "plan_sessions-TOTAL_FORMS": "0",
            "plan_sessions-INITIAL_FORMS": "0",
            "plan_sessions-MIN_NUM_FORMS": "0",
            "plan_sessions-MAX_NUM_FORMS": "0",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "a specialist must confirm it" in response.content.decode()
    assert not Plan.objects.exists()
