"""A course booked at once sends ONE confirmation with every session's date (issue 12 item 4:
"a guest course sends five emails at once, out of order, and no summary of all dates"),
through the real outbox to a real SMTP server; each session keeps its own reminders, steps and
check-ins."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client as HttpClient
from icalendar import Calendar

from daisy.aftercare.services import appointment_messages_schedule
from daisy.booking.courses import SessionTime, course_book
from daisy.clients.accounts import client_account_ensure
from daisy.courses.services import course_presets_install
from daisy.notifications.delivery import Deliverer
from daisy.notifications.models import Message, MessageStatus
from tests.support.notifications import SmtpSink
from tests.support.testing import MONDAY, PRESCREEN_CLEAR, at, booking_now, make_clinic

pytestmark = pytest.mark.django_db(transaction=True)
WEEK = timedelta(days=7)


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    settings.DAISY_MESSAGE_ENQUEUE_TASK = False
    settings.DAISY_PUBLIC_URL = "https://clinic.example"


@pytest.fixture
def sink(settings: Any) -> Iterator[SmtpSink]:
    with SmtpSink() as smtp:
        for key, value in smtp.settings().items():
            setattr(settings, key, value)
        yield smtp


def test_a_guests_course_is_confirmed_once_with_every_date_in_order(
    sink: SmtpSink, client: HttpClient
) -> None:
    course_presets_install()
    clinic = make_clinic(phone="+442071234567")
    _user, guest, _created = client_account_ensure(
        email="guest@example.com",
        first_name="Gina",
        last_name="Guest",
        phone="",
        date_of_birth=date(1991, 2, 14),  # the site asks it: needling is for adults only
        now=booking_now(),
    )
    times = [SessionTime(at(MONDAY + k * 4 * WEEK, 10)) for k in range(5)]
    result = course_book(
        client=guest,
        treatment=clinic.microneedling,
        booked_by=guest.user,
        now=booking_now() - WEEK,  # two weeks ahead: room for the preparation
        sessions=5,
        session_times=times,
        prescreen=PRESCREEN_CLEAR,
    )
    appts = result.appointments
    per_session = Message.objects.filter(
        about__in=[f"appointment:{a.pk}" for a in appts], template="appointment/confirmed"
    )
    assert {m.status for m in per_session} <= {MessageStatus.CANCELLED}
    # Each session still has its own reminders and check-ins.
    for appt in appts:
        kept = Message.objects.filter(about=f"appointment:{appt.pk}", status="pending")
        assert {"appointment/reminder", "aftercare/checkin"} <= {m.template for m in kept}

    Deliverer(owner="test", clock=booking_now).drain()
    to_guest = [r.parsed() for r in sink.received if r.rcpt_tos == ["guest@example.com"]]
    confirmations = [m for m in to_guest if str(m["Subject"]).startswith("Booked")]
    assert len(confirmations) == 1
    [mail] = confirmations
    assert str(mail["Subject"]) == (
        "Booked: your Micro-needling course, 5 sessions from Monday 7 January 2030, 10:00 GMT"
    )
    text = mail.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    lines = [line for line in text.splitlines() if line.startswith("Session ")]
    assert [line.split(",")[0] for line in lines] == [
        "Session 1: Monday 7 January 2030",
        "Session 2: Monday 4 February 2030",
        "Session 3: Monday 4 March 2030",
        "Session 4: Monday 1 April 2030",
        "Session 5: Monday 29 April 2030",
    ]
    assert "Session 4: Monday 1 April 2030, 10:00 BST" in text
    assert "(session 1: until Saturday 5 January, 10:00 GMT)" in text
    # The one-time sign-in link leads to the course's page.
    assert f"?next=%2Fportal%2Fcourses%2F{result.plan.pk}%2F" in text
    assert "signs you in once, without a password" in text
    [attachment] = [p for p in mail.iter_attachments() if p.get_filename() == "course.ics"]
    events = Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    assert [str(e["uid"]) for e in events] == [f"{a.pk}@daisy" for a in appts]
    # "Add every session to your calendar" serves the same five events.
    link = text.split("(or open the attached course.ics):\n", 1)[1].split("\n", 1)[0]
    response = client.get(link.removeprefix("https://clinic.example"))
    assert response.status_code == 200
    assert len(Calendar.from_ical(response.content).walk("VEVENT")) == 5


def test_a_booking_service_can_leave_the_per_session_confirmation_out() -> None:
    clinic = make_clinic()
    from daisy.booking.services import appointment_book

    appt = appointment_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=at(MONDAY, 10),
        booked_by=clinic.reception,
        now=booking_now(),
    ).appointment
    with transaction.atomic():
        made = appointment_messages_schedule(
            appointment=appt,
            now=booking_now(),
            version=appt.messages_version + 1,
            confirmation=False,
        )
    templates = {m.template for m in made}
    assert "appointment/confirmed" not in templates
    assert {"appointment/reminder", "aftercare/checkin"} <= templates
