"""Single bookings respect important dates too (issue 5 item 5): a booking whose recovery window
covers one of the client's important dates is refused with the dates named (409), unless the
caller confirms explicitly; the confirmation is in the audit entry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from daisy.audit.models import AuditEntry
from daisy.booking.services import appointment_book, appointment_reschedule
from daisy.courses.selectors import important_date_clashes, important_date_list_for_client
from daisy.courses.services import important_date_create, important_date_delete
from daisy.lib.errors import ImportantDateConflict, ValidationFailed
from daisy.scheduling.models import Appointment
from tests.support.testing import LONDON, MONDAY, Clinic, at, booking_now

pytestmark = pytest.mark.django_db

NOW = booking_now()


def book(clinic: Clinic, start, **kw):
    return appointment_book(
        client=clinic.clients[0],
        treatment=kw.pop("treatment", clinic.microneedling),
        starts_at=start,
        booked_by=clinic.reception,
        now=NOW,
        **kw,
    )


def interview(clinic: Clinic, on=MONDAY + timedelta(days=2)):
    return important_date_create(
        client=clinic.clients[0],
        kind="job_interview",
        start_on=on,
        label="Interview at the bank",
        by=clinic.reception,
        now=NOW,
    )


def test_a_booking_whose_recovery_covers_an_interview_is_refused_naming_it(clinic: Clinic):
    interview(clinic)
    # Monday 10:00 + 72 h reaches Thursday 10:00: Wednesday's interview is inside.
    with pytest.raises(ImportantDateConflict, match="Interview at the bank") as caught:
        book(clinic, at(MONDAY, 10))
    assert caught.value.http_status == 409
    assert "Interview at the bank" in caught.value.fields["confirm_important_dates"]
    assert caught.value.extra["important_dates"][0]["start"] == str(MONDAY + timedelta(days=2))
    assert not Appointment.objects.exists()


def test_confirming_books_and_records_the_confirmation(clinic: Clinic):
    interview(clinic)
    appt = book(clinic, at(MONDAY, 10), confirm_important_dates=True).appointment
    entry = AuditEntry.objects.get(action="appointment.book", object_id=str(appt.pk))
    assert entry.data["important_dates_confirmed"] == ["Interview at the bank (09 January 2030)"]


def test_a_session_whose_recovery_ends_before_the_important_day_is_booked(clinic: Clinic):
    interview(clinic, on=MONDAY + timedelta(days=3))  # Thursday
    # Monday 09:00 + 72 h is Thursday 09:00: inside the interview's day.
    with pytest.raises(ImportantDateConflict):
        book(clinic, at(MONDAY, 9))
    # Saturday 09:00 + 72 h is Tuesday 09:00: clear of Thursday.
    assert book(clinic, at(MONDAY - timedelta(days=2), 9)).appointment


def test_sun_holidays_keep_two_weeks_clear(clinic: Clinic):
    important_date_create(
        client=clinic.clients[0],
        kind="beach_holiday",
        start_on=MONDAY + timedelta(days=12),
        end_on=MONDAY + timedelta(days=19),
        by=clinic.reception,
        now=NOW,
    )
    with pytest.raises(ImportantDateConflict, match="beach holiday"):
        book(clinic, at(MONDAY, 10))
    # Saturday, two weeks before: 72 h would be long over, but two weeks of sun care are not.
    with pytest.raises(ImportantDateConflict):
        book(clinic, at(MONDAY - timedelta(days=2), 10))
    assert book(clinic, at(MONDAY - timedelta(days=3), 10)).appointment


def test_a_treatment_without_a_recovery_window_ignores_important_dates(clinic: Clinic):
    interview(clinic, on=MONDAY)
    consultation = clinic.treatments["consultation"]
    assert book(clinic, at(MONDAY, 10), treatment=consultation).appointment


def test_moving_into_an_important_dates_recovery_window_needs_confirmation(clinic: Clinic):
    appt = book(clinic, at(MONDAY + timedelta(days=7), 10)).appointment
    interview(clinic)
    with pytest.raises(ImportantDateConflict):
        appointment_reschedule(
            appointment=appt, starts_at=at(MONDAY, 10), by=clinic.reception, now=NOW
        )
    appt.refresh_from_db()
    assert appt.starts_at == at(MONDAY + timedelta(days=7), 10)
    moved = appointment_reschedule(
        appointment=appt,
        starts_at=at(MONDAY, 10),
        by=clinic.reception,
        now=NOW,
        confirm_important_dates=True,
    )
    assert moved.starts_at == at(MONDAY, 10)
    entry = AuditEntry.objects.get(action="appointment.reschedule")
    assert entry.data["important_dates_confirmed"]


def test_important_dates_are_listed_and_deleted_and_validated(clinic: Clinic):
    item = interview(clinic)
    assert important_date_list_for_client(clinic.clients[0]) == [item]
    with pytest.raises(ValidationFailed, match="Unknown kind"):
        important_date_create(
            client=clinic.clients[0], kind="gala", start_on=MONDAY, by=clinic.reception, now=NOW
        )
    with pytest.raises(ValidationFailed, match="ends before it starts"):
        important_date_create(
            client=clinic.clients[0],
            kind="wedding",
            start_on=MONDAY,
            end_on=MONDAY - timedelta(days=1),
            by=clinic.reception,
            now=NOW,
        )
    important_date_delete(important_date=item, by=clinic.reception, now=NOW)
    assert important_date_list_for_client(clinic.clients[0]) == []
    assert AuditEntry.objects.filter(action="course.important_date_delete").count() == 1


def test_clashes_are_read_in_the_locations_zone(clinic: Clinic):
    interview(clinic)
    found = important_date_clashes(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=at(MONDAY, 10),
        tz=LONDON,
    )
    assert [c.label for c in found] == ["Interview at the bank"]
