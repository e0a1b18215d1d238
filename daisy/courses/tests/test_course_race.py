"""A whole-course booking races single bookings for the same resources (issue 5 item 7): real
threads, on SQLite and (with DATABASE_URL) PostgreSQL. Whoever wins, no resource is ever
double-booked, and the course is booked whole or not at all."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection

from daisy.accounts.models import User
from daisy.booking.courses import SessionTime, course_book
from daisy.booking.services import appointment_book
from daisy.clients.models import Client
from daisy.courses.models import Plan, PlanSession
from daisy.lib.errors import SlotUnavailable
from daisy.scheduling.models import Appointment, Status
from daisy.scheduling.tests.test_races import overlapping_allocations
from daisy.treatments.models import Treatment
from tests.support.testing import MONDAY, Clinic, at, booking_now, make_client

pytestmark = pytest.mark.django_db(transaction=True)

SESSIONS = [at(MONDAY + timedelta(days=28 * k), 10) for k in range(3)]


@dataclass
class Outcome:
    kind: str  # "course" or "single"
    start: datetime | None = None
    result: Any = None
    error: BaseException | None = None


def race(clinic: Clinic, singles: list[tuple[Any, datetime]]) -> list[Outcome]:
    outcomes = [Outcome("course")] + [Outcome("single", start) for _, start in singles]
    barrier = threading.Barrier(len(outcomes))
    now = booking_now()

    def run(index: int, outcome: Outcome) -> None:
        try:
            treatment = Treatment.objects.prefetch_related("phases").get(pk=clinic.microneedling.pk)
            reception = User.objects.get(pk=clinic.reception.pk)
            if outcome.kind == "course":
                client = Client.objects.get(pk=clinic.clients[0].pk)
                connection.ensure_connection()
                barrier.wait(timeout=60)
                outcome.result = course_book(
                    client=client,
                    treatment=treatment,
                    booked_by=reception,
                    now=now,
                    session_times=[SessionTime(s) for s in SESSIONS],
                )
            else:
                client = Client.objects.get(pk=singles[index - 1][0])
                connection.ensure_connection()
                barrier.wait(timeout=60)
                outcome.result = appointment_book(
                    client=client,
                    treatment=treatment,
                    starts_at=outcome.start,
                    booked_by=reception,
                    now=now,
                )
        except BaseException as exc:  # noqa: BLE001 - asserted on below
            outcome.error = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(i, o), daemon=True) for i, o in enumerate(outcomes)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not any(t.is_alive() for t in threads), "a booking thread hung"
    return outcomes


@pytest.mark.parametrize("round_", range(3))
def test_a_course_and_single_bookings_for_its_times_never_overlap(
    clinic: Clinic, round_: int
) -> None:
    # Two single bookings for each session's time, each by another client. The clinic has one
    # pen, so any single booking that wins takes the course's time away.
    singles = [(make_client().pk, start) for start in SESSIONS for _ in range(2)]
    outcomes = race(clinic, singles)
    unexpected = [
        o for o in outcomes if o.error is not None and not isinstance(o.error, SlotUnavailable)
    ]
    assert not unexpected, [f"{type(o.error).__name__}: {o.error}" for o in unexpected]
    assert overlapping_allocations() == []
    course, *single = outcomes
    course_appts = Appointment.objects.filter(client=clinic.clients[0], status=Status.BOOKED)
    if course.error is None:
        assert course_appts.count() == 3 and PlanSession.objects.count() == 3
        assert all(o.error is not None for o in single)
    else:
        # All or nothing: not one session, not the plan, of a course that lost.
        assert course_appts.count() == 0
        assert Plan.objects.count() == 0 and PlanSession.objects.count() == 0
        assert any(o.error is None for o in single)
    # At most one booking per session time (the pen), whoever made it.
    for start in SESSIONS:
        assert Appointment.objects.filter(starts_at=start, status=Status.BOOKED).count() <= 1


def test_two_bookings_of_one_plan_at_once_book_it_once(clinic: Clinic) -> None:
    # Two receptionists book the same proposed plan at the same moment, at different times (so
    # neither takes the other's slots): the check that the plan has no booked sessions must
    # hold under the plan's lock, or the plan ends with two courses' worth of sessions.
    from daisy.courses.services import plan_create
    from daisy.lib.errors import PolicyViolation

    now = booking_now()
    plan = plan_create(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        by=clinic.reception,
        now=now,
        sessions=3,
    )
    times = [SESSIONS, [s + timedelta(hours=2) for s in SESSIONS]]
    errors: list[BaseException | None] = [None, None]
    barrier = threading.Barrier(2)

    def run(index: int) -> None:
        try:
            treatment = Treatment.objects.prefetch_related("phases").get(pk=clinic.microneedling.pk)
            reception = User.objects.get(pk=clinic.reception.pk)
            client = Client.objects.get(pk=clinic.clients[0].pk)
            fresh = Plan.objects.get(pk=plan.pk)
            connection.ensure_connection()
            barrier.wait(timeout=60)
            course_book(
                client=client,
                treatment=treatment,
                booked_by=reception,
                now=now,
                plan=fresh,
                session_times=[SessionTime(s) for s in times[index]],
            )
        except BaseException as exc:  # noqa: BLE001 - asserted on below
            errors[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not any(t.is_alive() for t in threads), "a booking thread hung"
    failed = [e for e in errors if e is not None]
    assert len(failed) == 1, errors
    assert isinstance(failed[0], PolicyViolation) and failed[0].code == "course_already_booked"
    assert PlanSession.objects.filter(plan=plan).count() == 3
    assert Appointment.objects.filter(client=clinic.clients[0], status=Status.BOOKED).count() == 3
