"""Issue 12, item 2: pre-care as a booking rule. A client's own new booking leaves every pre-care
step its full time, or the client confirms, step by step, that they already follow the steps it
cuts short (kept with the appointment); a course a client books starts late enough; and no
session, single or planned, sits in the two weeks after a sun holiday."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from daisy.aftercare.models import PrecareConfirmation
from daisy.booking.courses import course_book
from daisy.booking.services import appointment_book
from daisy.courses.services import important_date_create
from daisy.lib.errors import CourseUnavailable, ImportantDateConflict, PrecareTooSoon
from daisy.scheduling.models import Appointment
from tests.support.testing import MONDAY, PRESCREEN_CLEAR, Clinic, at, make_user

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)
NOW = at(MONDAY - DAY, 8)  # Sunday 6 January 2030, 08:00 London: the session is tomorrow


def _own_login(clinic: Clinic) -> tuple[Any, Any]:
    user = make_user()
    client = clinic.clients[0]
    client.user = user
    client.save()
    return client, user


def _book(clinic: Clinic, client: Any, user: Any, **kw: Any) -> Any:
    return appointment_book(
        client=client,
        treatment=clinic.microneedling,
        starts_at=kw.pop("starts_at", at(MONDAY, 10)),
        booked_by=user,
        now=kw.pop("now", NOW),
        prescreen=PRESCREEN_CLEAR,
        **kw,
    )


def test_a_session_tomorrow_names_the_steps_it_is_too_soon_for(clinic: Clinic) -> None:
    client, user = _own_login(clinic)
    with pytest.raises(PrecareTooSoon) as refused:
        _book(clinic, client, user)
    error = refused.value
    titles = [s["title"] for s in error.extra["precare_steps"]]
    # Two weeks without tanning and a week without retinoids cannot be had by tomorrow; the
    # step that begins 3 hours before can.
    assert "No tanning, sunbeds or sunburn" in " ".join(titles)
    assert any("retinoid" in t for t in titles)
    assert not any("makeup" in t.lower() for t in titles)
    assert "too soon to prepare for Micro-needling" in error.message
    assert "Choose a time from Sunday 20 January, 08:00 GMT" in error.message
    assert error.http_status == 409 and error.code == "precare_too_soon"
    assert not Appointment.objects.exists()


def test_a_client_who_confirms_every_step_is_booked_and_their_word_is_kept(
    clinic: Clinic,
) -> None:
    client, user = _own_login(clinic)
    with pytest.raises(PrecareTooSoon) as refused:
        _book(clinic, client, user)
    keys = [s["key"] for s in refused.value.extra["precare_steps"]]
    # One step left unconfirmed: still refused, naming only that one.
    with pytest.raises(PrecareTooSoon) as still:
        _book(clinic, client, user, precare_confirmed=keys[1:])
    assert [s["key"] for s in still.value.extra["precare_steps"]] == keys[:1]
    booked = _book(clinic, client, user, precare_confirmed=keys).appointment
    kept = list(PrecareConfirmation.objects.filter(appointment=booked))
    assert sorted(str(c.step_id) for c in kept) == sorted(keys)
    assert all(c.confirmed_by == user and c.confirmed_at == NOW for c in kept)
    assert all(c.step_started_at < NOW for c in kept)


def test_a_time_that_leaves_room_for_every_step_needs_no_confirmation(clinic: Clinic) -> None:
    client, user = _own_login(clinic)
    ready = at(MONDAY + 15 * DAY, 10)
    booked = _book(clinic, client, user, starts_at=ready).appointment
    assert not PrecareConfirmation.objects.filter(appointment=booked).exists()


def test_staff_booking_tomorrow_is_not_stopped(clinic: Clinic) -> None:
    client, _ = _own_login(clinic)
    booked = appointment_book(
        client=client,
        treatment=clinic.microneedling,
        starts_at=at(MONDAY, 10),
        booked_by=clinic.reception,
        now=NOW,
    )
    assert booked.appointment.pk


def test_a_single_booking_in_the_two_weeks_after_a_beach_holiday_needs_confirming(
    clinic: Clinic,
) -> None:
    client, _ = _own_login(clinic)
    now = at(MONDAY - 30 * DAY, 8)
    important_date_create(
        client=client,
        kind="beach_holiday",
        start_on=MONDAY - 10 * DAY,
        end_on=MONDAY - 3 * DAY,
        by=clinic.reception,
        now=now,
    )
    book = dict(client=client, treatment=clinic.microneedling, booked_by=clinic.reception)
    with pytest.raises(ImportantDateConflict) as refused:
        appointment_book(starts_at=at(MONDAY, 10), now=now, **book)
    assert "Beach holiday" in refused.value.message or "beach" in refused.value.message.lower()
    # The holiday's last day is 4 January: from 19 January the two weeks are over.
    assert appointment_book(starts_at=at(MONDAY + 12 * DAY, 10), now=now, **book).appointment


def test_a_course_a_client_books_starts_once_its_preparation_can_be_followed(
    clinic: Clinic,
) -> None:
    client, user = _own_login(clinic)
    book = dict(
        client=client,
        treatment=clinic.microneedling,
        booked_by=user,
        now=NOW,
        sessions=2,
        prescreen=PRESCREEN_CLEAR,
    )
    # Starting this week is too soon to prepare; the planner says from when it works.
    with pytest.raises(CourseUnavailable) as refused:
        course_book(earliest_start=MONDAY, **book)
    assert "too soon to prepare for" in refused.value.message
    assert "20 January, 08:00" in refused.value.message
    booked = course_book(earliest_start=MONDAY + 14 * DAY, **book)
    first = min(a.starts_at for a in booked.appointments)
    assert first >= at(MONDAY + 14 * DAY, 8)
