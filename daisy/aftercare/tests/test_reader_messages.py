"""What a person reads in the messages a booking and a check-in cause (issue 12 item 4): dates
that cannot be mistaken, out-of-hours routes when the clinic is closed, numbers that dial, and
no internal references. Emails go through the real outbox to a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from daisy.aftercare.services import checkin_link, checkin_record
from daisy.lib.testing import MONDAY, Clinic, at, booking_now, make_clinic
from daisy.notifications.delivery import Deliverer
from daisy.notifications.models import Message
from daisy.notifications.rendering import render_message
from daisy.notifications.testing import SmtpSink
from daisy.scheduling.services import appointment_book

pytestmark = pytest.mark.django_db(transaction=True)
H = timedelta(hours=1)
D = timedelta(days=1)
CALM = {
    "redness": "better",
    "swelling": "none",
    "pain": "none",
    "hot_or_weeping": False,
    "spots": False,
    "blisters": False,
    "dark_patches": False,
    "fever": False,
    "toxicity": [],
    "notes": "",
}


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


def clinic_with_emails() -> Clinic:
    clinic = make_clinic(email="frontdesk@clinic.example", phone="+442071234567")
    for n, specialist in enumerate(clinic.specialists):
        specialist.user.email = f"specialist{n}@clinic.example"
        specialist.user.save()
    return clinic


def book(clinic: Clinic, start: datetime, **kw: Any) -> Any:
    return appointment_book(
        client=kw.pop("client", clinic.clients[0]),
        treatment=clinic.microneedling,
        starts_at=start,
        booked_by=clinic.reception,
        now=kw.pop("now", booking_now()),
        **kw,
    ).appointment


def bodies(received: Any) -> tuple[str, str]:
    mail = received.parsed()
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    return text, html


# --- red flags: out of hours ------------------------------------------------------------------


def test_a_red_flag_at_0328_on_a_sunday_tells_staff_the_client_was_sent_out_of_hours(
    sink: SmtpSink,
) -> None:
    clinic = clinic_with_emails()  # open Monday to Saturday, 09:00-19:00
    appt = book(clinic, at(MONDAY, 10))
    sunday = at(MONDAY + 6 * D, 3, 28)
    token = checkin_link(appt, "72h").rsplit("/", 1)[1]
    result = checkin_record(token=token, answers={**CALM, "hot_or_weeping": True}, now=sunday)
    assert result.alert is not None and result.alert.severity == "urgent"
    Deliverer(owner="test", clock=lambda: sunday).drain()
    [first, *_] = [r for r in sink.received if r.rcpt_tos[0].endswith("@clinic.example")]
    for body in bodies(first):
        assert "told to call the clinic today" not in body
        assert "The clinic was closed when they answered" in body
        assert "call NHS 111 now and the clinic when it opens" in body
        assert "Monday 14 January, 09:00 GMT" in body
        assert "signs of infection: same-day clinician review" in body
        assert "DOMAIN.md" not in body


def test_the_checkin_message_names_the_out_of_hours_line_and_numbers_dial() -> None:
    clinic = make_clinic(phone="+442071234567")
    appt = book(clinic, at(MONDAY, 10))
    checkin = Message.objects.filter(
        about=f"appointment:{appt.pk}", template="aftercare/checkin", channel="email"
    ).first()
    assert checkin is not None
    rendered = render_message(checkin)
    assert "call us today on +442071234567, or NHS 111 on 111 while we are closed." in rendered.text
    assert "call 999 now" in rendered.text
    assert '<a href="tel:+442071234567">+442071234567</a>' in rendered.html
    assert '<a href="tel:111">111</a>' in rendered.html
    assert '<a href="tel:999">999</a>' in rendered.html
