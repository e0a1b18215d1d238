"""Course follow-ups (issue 6 item 3): a next-session reminder when a course has a gap coming
up and nothing booked, and a recall once the gap passes the plan's maximum interval. The sweep
runs in every worker, so it must be idempotent."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from daisy.aftercare.followups import course_followups_schedule
from daisy.aftercare.services import checkin_link, checkin_record
from daisy.booking.courses import course_book
from daisy.courses.models import PlanStatus
from daisy.courses.services import course_presets_install
from daisy.notifications.management.commands.worker import periodic_jobs, run_periodic_jobs
from daisy.notifications.models import Message
from daisy.notifications.rendering import render_message
from daisy.scheduling.models import Appointment, Status
from tests.support.testing import LONDON, MONDAY, at, booking_now, make_clinic

pytestmark = pytest.mark.django_db
D = timedelta(days=1)


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    settings.DAISY_MESSAGE_ENQUEUE_TASK = False
    settings.DAISY_PUBLIC_URL = "https://clinic.example"


@pytest.fixture
def course() -> Any:
    course_presets_install()
    clinic = make_clinic(phone="+442071234567")
    booked = course_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        booked_by=clinic.reception,
        now=booking_now(),
        sessions=3,
        earliest_start=MONDAY,
    )
    first, *later = sorted(booked.appointments, key=lambda a: a.starts_at)
    # Session 1 took place; the client cancelled the others by phone (no re-plan here).
    Appointment.objects.filter(pk=first.pk).update(status=Status.COMPLETED)
    Appointment.objects.filter(pk__in=[a.pk for a in later]).update(status=Status.CANCELLED)
    plan = booked.plan
    return clinic, plan, first


def followups(plan: Any) -> list[Message]:
    return list(Message.objects.filter(about=f"course:{plan.pk}").order_by("created_at"))


def test_reminds_a_week_before_the_ideal_date_then_recalls_after_the_latest(course: Any) -> None:
    clinic, plan, first = course
    ideal = first.starts_at + timedelta(days=plan.interval_days)
    latest = first.starts_at + timedelta(days=plan.max_interval_days)
    assert course_followups_schedule(now=ideal - 8 * D) == 0
    assert course_followups_schedule(now=ideal - 6 * D) == 1
    assert course_followups_schedule(now=ideal - 5 * D) == 0  # once per gap, however often
    (reminder,) = followups(plan)
    assert (reminder.template, reminder.channel) == ("course/next_session", "email")
    rendered = render_message(reminder)
    assert rendered.subject == "Time to book your next Micro-needling session"
    local_ideal = ideal.astimezone(LONDON)
    assert f"{local_ideal.day} " in rendered.text and "1 of the 3 sessions" in rendered.text
    assert "https://clinic.example/" in rendered.html

    assert course_followups_schedule(now=latest - D) == 0
    assert course_followups_schedule(now=latest + D) == 1
    assert course_followups_schedule(now=latest + 2 * D) == 0
    recall = followups(plan)[1]
    assert recall.template == "course/recall"
    assert "no next session is booked" in render_message(recall).text


def test_nothing_when_the_next_session_is_booked_or_the_course_is_stopped(course: Any) -> None:
    clinic, plan, first = course
    later = Appointment.objects.filter(course_session__plan=plan).exclude(pk=first.pk).first()
    Appointment.objects.filter(pk=later.pk).update(status=Status.BOOKED)
    ideal = first.starts_at + timedelta(days=plan.interval_days)
    assert course_followups_schedule(now=min(ideal - 6 * D, later.starts_at - D)) == 0
    Appointment.objects.filter(pk=later.pk).update(status=Status.CANCELLED)
    plan.status = PlanStatus.STOPPED
    plan.save(update_fields=["status"])
    assert course_followups_schedule(now=ideal - 6 * D) == 0


def test_nothing_while_a_clinical_hold_is_open(course: Any) -> None:
    clinic, plan, first = course
    token = checkin_link(first, "72h").rsplit("/", 1)[1]
    answers = {
        "redness": "worse", "swelling": "none", "pain": "none", "hot_or_weeping": False,
        "spots": False, "blisters": False, "dark_patches": False, "fever": False,
        "toxicity": [], "notes": "",
    }  # fmt: skip
    checkin_record(token=token, answers=answers, now=first.starts_at + 3 * D)
    ideal = first.starts_at + timedelta(days=plan.interval_days)
    assert course_followups_schedule(now=ideal - 6 * D) == 0


def test_the_worker_runs_the_apps_periodic_jobs_and_survives_a_failing_one() -> None:
    paths = [path for path, _, _ in periodic_jobs()]
    assert "daisy.aftercare.followups.course_followups_run" in paths
    stop = threading.Event()
    ran: list[Any] = []

    def broken(*, now: Any) -> None:
        raise RuntimeError("boom")

    def fine(*, now: Any) -> None:
        ran.append(now)
        stop.set()

    run_periodic_jobs(
        [("broken", broken, 60), ("fine", fine, 60)], stop=stop, clock=lambda: at(MONDAY, 9)
    )
    assert ran == [at(MONDAY, 9)]
