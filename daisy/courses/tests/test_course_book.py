"""Booking whole courses (issue 5 item 4): every session in one transaction or none, around the
client's important dates, with the same rules as single bookings. Runs on SQLite and, with
DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from daisy.accounts.models import Role
from daisy.audit.models import AuditEntry
from daisy.booking.courses import SessionTime, course_book
from daisy.booking.services import appointment_book, slot_hold_create
from daisy.clients.models import Contraindication, Tier
from daisy.clients.services import client_hold_place
from daisy.clinic.models import Closure
from daisy.core import courses as core
from daisy.courses.models import ImportantDate, Plan, PlanSession, PlanStatus
from daisy.courses.selectors import course_get_for_client
from daisy.courses.services import important_date_create
from daisy.lib.errors import (
    ClientContraindicated,
    CourseUnavailable,
    IdempotencyConflict,
    ImportantDateConflict,
    InvalidTime,
    PermissionDenied,
    SlotUnavailable,
    ValidationFailed,
)
from daisy.notifications.models import Message
from daisy.scheduling.models import Allocation, Appointment, Status
from tests.support.testing import (
    LONDON,
    MONDAY,
    PRESCREEN_CLEAR,
    Clinic,
    at,
    booking_now,
    make_client,
    make_user,
)

pytestmark = pytest.mark.django_db

NOW = booking_now()
WEEK = timedelta(days=7)


def wedding(clinic: Clinic, client: Any, on: date) -> ImportantDate:
    return important_date_create(
        client=client, kind="wedding", start_on=on, label="Sam's wedding", by=clinic.reception,
        now=NOW,
    )  # fmt: skip


def local_days(appointments: list[Appointment]) -> list[date]:
    return [a.starts_at.astimezone(LONDON).date() for a in appointments]


def counts() -> tuple[int, int, int, int, int]:
    return (
        Appointment.objects.count(),
        Allocation.objects.count(),
        Message.objects.count(),
        Plan.objects.count(),
        PlanSession.objects.count(),
    )


def test_books_a_four_session_course_around_a_wedding(clinic: Clinic) -> None:
    client = clinic.clients[0]
    # 28 days after Monday 7 January is Monday 4 February: its 72 h recovery would cover the
    # wedding on Wednesday 6 February, so session 2 must move.
    wed = wedding(clinic, client, MONDAY + timedelta(days=30))
    result = course_book(
        client=client,
        treatment=clinic.microneedling,
        booked_by=clinic.reception,
        now=NOW,
        sessions=4,
        earliest_start=MONDAY,
    )
    appts = result.appointments
    assert len(appts) == 4 and not result.replayed
    days = local_days(appts)
    gaps = [(b - a).days for a, b in zip(days, days[1:], strict=False)]
    assert all(21 <= g <= 42 for g in gaps), gaps
    wedding_starts = at(wed.start_on, 0)
    for appt in appts:
        assert not (appt.starts_at < wedding_starts + timedelta(days=1)
                    and wedding_starts < appt.starts_at + timedelta(hours=72))  # fmt: skip
    assert result.plan.status == PlanStatus.ACCEPTED
    assert Allocation.objects.filter(appointment__in=appts, is_active=True).count() >= 4 * 3
    # Each session is a real booking: confirmation messages and an audit entry each.
    assert Message.objects.filter(about__in=[f"appointment:{a.pk}" for a in appts]).count() >= 4
    assert AuditEntry.objects.filter(action="appointment.book").count() == 4
    assert AuditEntry.objects.filter(action="course.book").count() == 1
    view = course_get_for_client(client, result.plan.pk)
    assert view.progress_label == "Session 1 of 4"
    assert [s.number for s in view.sessions] == [1, 2, 3, 4]


def _explicit(clinic: Clinic, hour: int = 10, sessions: int = 4) -> list[SessionTime]:
    return [SessionTime(at(MONDAY + k * 4 * WEEK, hour)) for k in range(sessions)]


def test_a_client_on_clinical_hold_cannot_book_a_course(clinic: Clinic) -> None:
    # DOMAIN.md 5.2: a warning sign holds the next session; a whole course is no way round it.
    client = clinic.clients[0]
    client_hold_place(client=client, reason="signs of infection", source="alert:1", now=NOW)
    before = counts()
    with pytest.raises(ClientContraindicated, match="Session 1: .*on hold") as refused:
        course_book(
            client=client,
            treatment=clinic.microneedling,
            booked_by=clinic.reception,
            now=NOW,
            session_times=_explicit(clinic),
        )
    assert refused.value.code == "clinical_hold"
    assert counts() == before


def test_course_session_times_in_absurd_years_are_refused(clinic: Clinic) -> None:
    times = _explicit(clinic)
    far = [SessionTime(t.start.replace(year=9999)) for t in times]
    with pytest.raises(InvalidTime):
        course_book(
            client=clinic.clients[0],
            treatment=clinic.microneedling,
            booked_by=clinic.reception,
            now=NOW,
            session_times=far,
        )


def test_an_expired_hold_on_a_session_time_does_not_block_the_course(clinic: Clinic) -> None:
    # Someone held session 3's time (the clinic's only pen) and walked away: once the hold has
    # expired the course books, as a single booking would.
    slot_hold_create(
        treatment=clinic.microneedling,
        starts_at=at(MONDAY + 8 * WEEK, 10),
        now=NOW,
        held_by="abandoned-browser",
    )
    later = NOW + timedelta(hours=1)
    result = course_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        booked_by=clinic.reception,
        now=later,
        session_times=_explicit(clinic),
    )
    assert len(result.appointments) == 4
    assert local_days(result.appointments)[2] == MONDAY + 8 * WEEK


def test_a_course_whose_third_session_is_taken_books_nothing(clinic: Clinic) -> None:
    other = make_client()
    # The clinic has one pen: a single booking at session 3's time leaves no pen for it.
    appointment_book(
        client=other,
        treatment=clinic.microneedling,
        starts_at=at(MONDAY + 8 * WEEK, 10),
        booked_by=clinic.reception,
        now=NOW,
    )
    before = counts()
    with pytest.raises(SlotUnavailable, match="Session 3"):
        course_book(
            client=clinic.clients[0],
            treatment=clinic.microneedling,
            booked_by=clinic.reception,
            now=NOW,
            session_times=_explicit(clinic),
        )
    # Sessions 1 and 2 were written before session 3 failed; the rollback took them all.
    assert counts() == before
    assert not Appointment.objects.filter(client=clinic.clients[0]).exists()


def test_explicit_times_must_keep_the_interval_window(clinic: Clinic) -> None:
    times = _explicit(clinic)
    times[2] = SessionTime(times[1].start + timedelta(days=14))
    with pytest.raises(ValidationFailed, match="14 days after session 2"):
        course_book(
            client=clinic.clients[0],
            treatment=clinic.microneedling,
            booked_by=clinic.reception,
            now=NOW,
            session_times=times,
        )
    assert counts()[0] == 0


def test_an_important_date_inside_a_recovery_window_needs_confirmation(clinic: Clinic) -> None:
    client = clinic.clients[0]
    wedding(clinic, client, MONDAY + 4 * WEEK + timedelta(days=2))
    kwargs: dict[str, Any] = {
        "client": client,
        "treatment": clinic.microneedling,
        "booked_by": clinic.reception,
        "now": NOW,
        "session_times": _explicit(clinic),
    }
    with pytest.raises(ImportantDateConflict, match="Session 2.*Sam's wedding") as caught:
        course_book(**kwargs)
    assert caught.value.http_status == 409
    assert counts()[0] == 0
    result = course_book(**kwargs, confirm_important_dates=True)
    assert len(result.appointments) == 4
    entry = AuditEntry.objects.get(action="course.book")
    assert entry.data["important_dates_confirmed"][0]["session"] == 2


def test_dates_sent_with_the_request_count_too(clinic: Clinic) -> None:
    holiday = core.ImportantDate("beach_holiday", MONDAY + 5 * WEEK, MONDAY + 6 * WEEK)
    with pytest.raises(ImportantDateConflict, match="beach holiday"):
        course_book(
            client=clinic.clients[0],
            treatment=clinic.microneedling,
            booked_by=clinic.reception,
            now=NOW,
            session_times=_explicit(clinic),
            important_dates=[holiday],
        )


def test_more_than_six_sessions_needs_a_specialist(clinic: Clinic) -> None:
    kwargs: dict[str, Any] = {
        "client": clinic.clients[0],
        "treatment": clinic.microneedling,
        "now": NOW,
        "sessions": 7,
        "earliest_start": MONDAY,
    }
    with pytest.raises(PermissionDenied, match="specialist must confirm"):
        course_book(booked_by=clinic.reception, **kwargs)
    assert counts()[0] == 0
    specialist = clinic.specialists[0].user
    result = course_book(booked_by=specialist, **kwargs)
    assert len(result.appointments) == 7
    assert result.plan.is_extended and result.plan.extended_confirmed_by == specialist


def test_an_interval_below_28_days_needs_a_clinicians_reason(clinic: Clinic) -> None:
    kwargs: dict[str, Any] = {
        "client": clinic.clients[0],
        "treatment": clinic.microneedling,
        "now": NOW,
        "sessions": 3,
        "earliest_start": MONDAY,
        "interval_days": 21,
    }
    with pytest.raises(ValidationFailed, match="below 28 days"):
        course_book(booked_by=clinic.manager, **kwargs)
    with pytest.raises(PermissionDenied):
        course_book(booked_by=clinic.reception, interval_override_reason="Bride", **kwargs)
    result = course_book(
        booked_by=clinic.manager, interval_override_reason="Wedding in 7 weeks", **kwargs
    )
    days = local_days(result.appointments)
    assert [(b - a).days for a, b in zip(days, days[1:], strict=False)] == [21, 21]
    assert result.plan.interval_override_reason == "Wedding in 7 weeks"


def test_the_same_idempotency_key_replays_the_course(clinic: Clinic) -> None:
    kwargs: dict[str, Any] = {
        "client": clinic.clients[0],
        "treatment": clinic.microneedling,
        "booked_by": clinic.reception,
        "now": NOW,
        "session_times": _explicit(clinic, sessions=3),
        "idempotency_key": "course-1",
    }
    first = course_book(**kwargs)
    again = course_book(**kwargs)
    assert again.replayed and again.plan.pk == first.plan.pk
    assert [a.pk for a in again.appointments] == [a.pk for a in first.appointments]
    assert Appointment.objects.count() == 3
    with pytest.raises(IdempotencyConflict):
        course_book(**{**kwargs, "session_times": _explicit(clinic, hour=11, sessions=3)})


def test_no_full_course_names_the_problem_and_offers_a_later_start(clinic: Clinic) -> None:
    for k in range(7):
        Closure.objects.create(on=MONDAY + timedelta(days=k), name="Refurbishment")
    with pytest.raises(CourseUnavailable) as caught:
        course_book(
            client=clinic.clients[0],
            treatment=clinic.microneedling,
            booked_by=clinic.reception,
            now=NOW,
            sessions=3,
            earliest_start=MONDAY,
        )
    extra = caught.value.extra
    assert extra["problems"][0]["session"] == 1
    assert "Session 1" in caught.value.message
    assert extra["alternative"] is not None and extra["alternative"].shift_days == 7
    assert counts()[0] == 0


def test_a_hard_stop_refuses_the_whole_course(clinic: Clinic) -> None:
    client = clinic.clients[0]
    Contraindication.objects.create(client=client, condition="Active acne", tier=Tier.HARD_STOP)
    with pytest.raises(ClientContraindicated, match="Session 1"):
        course_book(
            client=client,
            treatment=clinic.microneedling,
            booked_by=clinic.manager,
            now=NOW,
            session_times=_explicit(clinic, sessions=3),
        )
    assert counts()[0] == 0


def test_a_client_cannot_book_a_course_for_a_treatment_the_clinic_books(clinic: Clinic) -> None:
    treatment = clinic.microneedling
    treatment.is_online_bookable = False
    treatment.save()
    with pytest.raises(PermissionDenied):
        course_book(
            client=clinic.clients[0],
            treatment=treatment,
            booked_by=make_user(role=Role.CLIENT),
            now=NOW,
            sessions=3,
            earliest_start=MONDAY,
        )


def test_the_first_session_keeps_the_booking_rules_later_ones_may_be_further_ahead(
    clinic: Clinic,
) -> None:
    client_user = make_user(role=Role.CLIENT)
    # The treatment's 180-day horizon: a six-session course started at day 170 ends ~ day 310.
    start = NOW.astimezone(LONDON).date() + timedelta(days=170)
    result = course_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        booked_by=client_user,
        now=NOW,
        sessions=6,
        earliest_start=start,
        prescreen=PRESCREEN_CLEAR,
    )
    assert len(result.appointments) == 6
    assert result.appointments[-1].starts_at - NOW > timedelta(days=300)
    assert all(a.status == Status.BOOKED for a in result.appointments)
