"""Moving or cancelling one session re-plans the later ones inside their windows, and tells the
client and staff what moved (issue 5 item 4)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from daisy.audit.models import AuditEntry
from daisy.booking.courses import SessionTime, course_book
from daisy.booking.services import appointment_cancel, appointment_reschedule
from daisy.clinic.models import Closure
from daisy.lib.errors import ClientContraindicated
from daisy.notifications.models import Message
from daisy.scheduling.models import Appointment, Status
from tests.support.testing import LONDON, MONDAY, Clinic, at, booking_now

pytestmark = pytest.mark.django_db

NOW = booking_now()
DAY = timedelta(days=1)


def course(clinic: Clinic):
    times = [SessionTime(at(MONDAY + k * 28 * DAY, 10)) for k in range(4)]
    return course_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        booked_by=clinic.reception,
        now=NOW,
        session_times=times,
    )


def booked_days(plan) -> list[date]:
    return [
        a.starts_at.astimezone(LONDON).date()
        for a in Appointment.objects.filter(course_session__plan=plan, status=Status.BOOKED)
    ]


def gaps(days: list[date]) -> list[int]:
    return [(b - a).days for a, b in zip(days, days[1:], strict=False)]


def course_messages(plan) -> list[Message]:
    return list(Message.objects.filter(about=f"course:{plan.pk}"))


def test_moving_a_session_ten_days_later_moves_the_ones_after_it(clinic: Clinic) -> None:
    booked = course(clinic)
    s2 = booked.appointments[1]
    appointment_reschedule(
        appointment=s2, starts_at=at(MONDAY + 38 * DAY, 10), by=clinic.reception, now=NOW
    )
    days = booked_days(booked.plan)
    # Session 3 was 18 days after the new session 2: both later sessions follow it by 28 days.
    assert days == [MONDAY, MONDAY + 38 * DAY, MONDAY + 66 * DAY, MONDAY + 94 * DAY]
    assert all(21 <= g <= 42 for g in gaps(days))
    later = Appointment.objects.filter(course_session__plan=booked.plan).order_by("starts_at")[2:]
    assert {a.starts_at.astimezone(LONDON).hour for a in later} == {10}  # same time of day
    (told,) = course_messages(booked.plan)
    assert told.recipient == clinic.clients[0].email
    text = " ".join(told.context["paragraphs"])
    assert "Session 3" in text and "Session 4" in text
    # Each moved session is a real reschedule: new confirmation, old reminders cancelled.
    assert AuditEntry.objects.filter(action="appointment.reschedule").count() == 3


def test_cancelling_a_session_closes_the_gap_it_leaves(clinic: Clinic) -> None:
    booked = course(clinic)
    appointment_cancel(appointment=booked.appointments[1], by=clinic.reception, now=NOW)
    days = booked_days(booked.plan)
    # Session 3 would be 56 days after session 1; it moves into session 2's place.
    assert days == [MONDAY, MONDAY + 28 * DAY, MONDAY + 56 * DAY]
    assert len(course_messages(booked.plan)) == 1


def test_a_move_that_keeps_every_window_moves_nothing_else(clinic: Clinic) -> None:
    booked = course(clinic)
    appointment_reschedule(
        appointment=booked.appointments[1],
        starts_at=at(MONDAY + 28 * DAY, 15),
        by=clinic.reception,
        now=NOW,
    )
    assert booked_days(booked.plan) == [
        MONDAY,
        MONDAY + 28 * DAY,
        MONDAY + 56 * DAY,
        MONDAY + 84 * DAY,
    ]
    assert course_messages(booked.plan) == []


def test_a_move_that_leaves_a_gap_under_28_days_re_plans_the_rest(clinic: Clinic) -> None:
    """Session 2 three days later leaves session 3 only 25 days after it: inside the 21-42 day
    window, but under the 28 days between needling sessions (DOMAIN.md 1.2), so the later
    sessions follow rather than leave a gap nobody gave a reason for."""
    booked = course(clinic)
    appointment_reschedule(
        appointment=booked.appointments[1],
        starts_at=at(MONDAY + 31 * DAY, 10),
        by=clinic.reception,
        now=NOW,
    )
    days = booked_days(booked.plan)
    assert days[:2] == [MONDAY, MONDAY + 31 * DAY]
    assert all(28 <= g <= 42 for g in gaps(days))


def test_when_no_re_plan_fits_the_sessions_stay_and_staff_are_told(clinic: Clinic) -> None:
    booked = course(clinic)
    new_s2 = MONDAY + 38 * DAY
    # Closed for the whole window in which session 3 could follow the moved session 2.
    for k in range(21, 43):
        Closure.objects.create(on=new_s2 + k * DAY, name="Refurbishment")
    # Session 3 stays 18 days after the moved session 2: under 28 days, so only a clinician
    # can make this move, with a reason (DOMAIN.md 1.2); reception is told so.
    with pytest.raises(ClientContraindicated) as refused:
        appointment_reschedule(
            appointment=booked.appointments[1],
            starts_at=at(new_s2, 10),
            by=clinic.reception,
            now=NOW,
        )
    assert refused.value.code == "interval_too_short" and "18 days" in refused.value.message
    assert not AuditEntry.objects.filter(action="course.replan_failed").exists()
    appointment_reschedule(
        appointment=booked.appointments[1],
        starts_at=at(new_s2, 10),
        by=clinic.specialists[0].user,
        now=NOW,
        gap_reason="Client travels; skin healed well",
    )
    assert booked_days(booked.plan)[2:] == [MONDAY + 56 * DAY, MONDAY + 84 * DAY]
    entry = AuditEntry.objects.get(action="course.replan_failed")
    assert entry.data["reason"].startswith("Session 3: no free time")
    # Nothing was told to the client about dates that did not change.
    assert all(m.client_id is None for m in course_messages(booked.plan))
