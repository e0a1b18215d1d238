"""Changes that break bookings are never silent (issue 13, item 5): a closure, time off or
shorter hours saved in the admin first lists the bookings it breaks and saves nothing; once
confirmed, those bookings are on the affected list until each is moved or cancelled. Times on
the time-off form are the location's, not UTC."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.test import Client as HttpClient

from daisy.booking.services import appointment_book, appointment_cancel, appointment_reschedule
from daisy.clinic.models import Closure, TimeOff, WeeklyHours
from daisy.scheduling.conflicts import appointments_affected
from tests.support.testing import MONDAY, at, booking_now, make_clinic, staff_login

pytestmark = pytest.mark.django_db

TUESDAY = MONDAY + timedelta(days=1)


@pytest.fixture
def booked():
    clinic = make_clinic(specialists=1)
    now = booking_now()
    result = appointment_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=at(TUESDAY, 10),
        booked_by=clinic.reception,
        now=now,
        location=clinic.location,
    )
    with time_machine.travel(now, tick=False):
        yield clinic, result.appointment, now


def _ids(now: datetime) -> list:
    return [a.appointment.pk for a in appointments_affected(now=now)]


def test_a_closure_lists_the_bookings_it_breaks_and_saves_nothing_until_confirmed(
    client: HttpClient, booked
) -> None:
    clinic, appt, now = booked
    staff_login(client, clinic.manager)
    data = {"on": TUESDAY.isoformat(), "name": "Flood", "location": str(clinic.location.pk)}

    asked = client.post("/admin/clinic/closure/add/", {**data, "_save": "Save"})

    page = asked.content.decode()
    assert asked.status_code == 200
    assert "These bookings no longer fit" in page
    assert clinic.clients[0].full_name in page
    assert "is closed that day (Flood)" in page
    assert "Tue 8 Jan 2030, 10:00" in page and "Europe/London" in page
    assert not Closure.objects.exists()
    assert _ids(now) == []

    saved = client.post(
        "/admin/clinic/closure/add/",
        {**data, "_save": "Save", "_affected_bookings_confirmed": "1", "_affected_ids": appt.pk},
    )

    assert saved.status_code == 302
    assert Closure.objects.filter(name="Flood").exists()
    assert _ids(now) == [appt.pk]
    followed = client.get(saved["Location"]).content.decode()
    assert "affected bookings list" in followed


def test_a_change_that_breaks_nothing_saves_at_once(client: HttpClient, booked) -> None:
    clinic, _appt, now = booked
    staff_login(client, clinic.manager)

    saved = client.post(
        "/admin/clinic/closure/add/",
        {"on": (TUESDAY + timedelta(days=1)).isoformat(), "name": "Training", "_save": "Save"},
    )

    assert saved.status_code == 302
    assert Closure.objects.filter(name="Training").exists()


def test_time_off_is_entered_in_the_location_zone_and_lists_what_it_breaks(
    client: HttpClient, booked
) -> None:
    clinic, appt, now = booked
    specialist = clinic.specialists[0]
    staff_login(client, clinic.reception)
    # 1 July: London is on summer time (UTC+1), so 09:00 there is 08:00 UTC.
    summer = {
        "resource": str(specialist.pk),
        "starts_at_0": "2030-07-01",
        "starts_at_1": "09:00",
        "ends_at_0": "2030-07-01",
        "ends_at_1": "12:00",
        "reason": "Course",
        "_save": "Save",
    }
    assert "Europe/London" in client.get("/admin/clinic/timeoff/add/").content.decode()

    assert client.post("/admin/clinic/timeoff/add/", summer).status_code == 302
    off = TimeOff.objects.get(reason="Course")
    assert off.starts_at == datetime(2030, 7, 1, 8, tzinfo=UTC)

    away = {**summer, "starts_at_0": TUESDAY.isoformat(), "ends_at_0": TUESDAY.isoformat()}
    away["reason"] = "Dentist"
    asked = client.post("/admin/clinic/timeoff/add/", away)

    assert asked.status_code == 200
    assert f"{specialist.name} is away: Dentist" in asked.content.decode()
    assert not TimeOff.objects.filter(reason="Dentist").exists()


def test_shorter_hours_list_the_bookings_outside_them(client: HttpClient, booked) -> None:
    clinic, appt, now = booked
    staff_login(client, clinic.manager)
    tuesday_hours = WeeklyHours.objects.get(location=clinic.location, weekday=1, resource=None)

    asked = client.post(
        f"/admin/clinic/weeklyhours/{tuesday_hours.pk}/change/",
        {
            "location": str(clinic.location.pk),
            "weekday": "1",
            "opens_at": "13:00",
            "closes_at": "19:00",
            "_save": "Save",
        },
    )

    assert asked.status_code == 200, asked.context and asked.context.get("errors")
    assert "Outside" in asked.content.decode()
    tuesday_hours.refresh_from_db()
    assert tuesday_hours.opens_at == time(9)


def test_a_broken_booking_leaves_the_list_once_moved_or_cancelled(booked) -> None:
    clinic, appt, now = booked
    other = appointment_book(
        client=clinic.clients[1],
        treatment=clinic.microneedling,
        starts_at=at(TUESDAY, 14),
        booked_by=clinic.reception,
        now=now,
        location=clinic.location,
    ).appointment
    Closure.objects.create(location=clinic.location, on=TUESDAY, name="Flood")
    assert set(_ids(now)) == {appt.pk, other.pk}

    appointment_reschedule(
        appointment=appt,
        starts_at=at(TUESDAY + timedelta(days=1), 10),
        by=clinic.reception,
        now=now,
    )
    appointment_cancel(appointment=other, by=clinic.reception, now=now, reason="Clinic closed")

    assert _ids(now) == []
