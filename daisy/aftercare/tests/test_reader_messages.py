"""What a person reads in the messages a booking and a check-in cause (issue 12 item 4): dates
that cannot be mistaken, out-of-hours routes when the clinic is closed, numbers that dial, and
no internal references. Emails go through the real outbox to a real SMTP server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.test import Client as HttpClient
from icalendar import Calendar

from daisy.accounts.models import Role, User
from daisy.aftercare.services import checkin_link, checkin_record
from daisy.booking.services import appointment_book
from daisy.clients.accounts import client_account_ensure
from daisy.notifications.delivery import Deliverer
from daisy.notifications.models import Message
from daisy.notifications.rendering import render_message
from tests.support.notifications import SmtpSink
from tests.support.testing import MONDAY, Clinic, at, booking_now, make_client, make_clinic

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


# --- the confirmation: manage your booking, add to calendar, the change deadline ----------------

WEEKDAY_WITHOUT_DATE = re.compile(
    r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b(?! \d{1,2} [A-Z][a-z]+)"
)


def guest(clinic: Clinic) -> Any:
    """A client who booked without a password, as the public booking makes them."""
    _user, client, created = client_account_ensure(
        email="guest@example.com",
        first_name="Gina",
        last_name="Guest",
        phone="+447700900123",
        date_of_birth=date(1990, 5, 17),
        now=booking_now(),
    )
    assert created
    return client


def sent_to(sink: SmtpSink, address: str, subject_start: str) -> tuple[str, str]:
    for received in sink.received:
        mail = received.parsed()
        if received.rcpt_tos == [address] and str(mail["Subject"]).startswith(subject_start):
            return bodies(received)
    raise AssertionError(f"no email to {address} starting {subject_start!r}")


def link_after(text: str, label: str) -> str:
    match = re.search(re.escape(label) + r"[^\n]*\n(https?://\S+)", text)
    assert match, f"no link after {label!r} in:\n{text}"
    return match.group(1)


def test_a_guests_confirmation_signs_them_in_to_their_booking_and_offers_a_password(
    sink: SmtpSink, client: HttpClient
) -> None:
    clinic = clinic_with_emails()
    appt = book(clinic, at(MONDAY, 10), client=guest(clinic))
    Deliverer(owner="test", clock=booking_now).drain()
    text, html = sent_to(sink, "guest@example.com", "Booked:")
    # The way to change it online, and until when, for this booking, in absolute terms.
    assert "To change or cancel, call us" not in text
    assert (
        "You can move or cancel it online until Saturday 5 January, 10:00 GMT (48 hours before "
        "it starts):" in text
    )
    assert "<strong>Saturday 5 January, 10:00 GMT</strong>" in html
    manage = link_after(text, "(48 hours before it starts):")
    assert manage.startswith("https://clinic.example/account/sign-in/link/")
    assert f'href="{manage}"'.replace("&", "&amp;") in html or f'href="{manage}"' in html
    assert "signs you in once, without a password" in text

    # The link signs the guest in (after a button press: mail scanners must not spend it),
    # then offers a password, then shows the booking.
    path = manage.removeprefix("https://clinic.example")
    assert client.get(path).status_code == 200
    response = client.post(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/account/password/?next=")
    page = client.get(response["Location"]).content.decode()
    assert "Choose a password for next time" in page
    assert f'href="/portal/appointments/{appt.pk}/"' in page  # "Not now: go to my booking"
    saved = client.post(
        response["Location"],
        {"password": "a-long-new-passphrase", "next": f"/portal/appointments/{appt.pk}/"},
    )
    assert saved.status_code == 302 and saved["Location"] == f"/portal/appointments/{appt.pk}/"
    booking = client.get(saved["Location"])
    assert booking.status_code == 200 and "Micro-needling" in booking.content.decode()
    user = User.objects.get(email="guest@example.com")
    assert user.has_usable_password() and user.check_password("a-long-new-passphrase")
    # One use only.
    client.logout()
    assert client.post(path).status_code == 400


def test_the_first_email_a_guest_gets_says_how_to_get_a_password() -> None:
    clinic = make_clinic()
    client = guest(clinic)
    [verify] = Message.objects.filter(about=f"user:{client.user.pk}")
    text = render_message(verify).text
    assert "choose a password, or sign in with a link we email you" in text


def test_a_client_with_a_password_is_linked_to_the_booking_page_and_the_calendar_file(
    sink: SmtpSink, client: HttpClient
) -> None:
    clinic = clinic_with_emails()
    user = User.objects.create_user(
        username="amelia", email="amelia@example.com", password="pw-test-123", role=Role.CLIENT
    )
    customer = make_client(email="amelia@example.com", user=user)
    appt = book(clinic, at(MONDAY, 10), client=customer)
    Deliverer(owner="test", clock=booking_now).drain()
    text, html = sent_to(sink, "amelia@example.com", "Booked:")
    assert link_after(text, "(48 hours before it starts):") == (
        f"https://clinic.example/portal/appointments/{appt.pk}/"
    )
    assert "signs you in once" not in text
    calendar = link_after(text, "Add to calendar")
    assert f'<a href="{calendar}">Add to calendar</a>' in html
    response = client.get(calendar.removeprefix("https://clinic.example"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    event = Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert str(event["uid"]) == f"{appt.pk}@daisy"
    assert f"/portal/appointments/{appt.pk}/" in str(event["description"])
    # A forged or altered address opens nothing.
    assert (
        client.get(calendar.removeprefix("https://clinic.example")[:-8] + "x.ics").status_code
        == 404
    )


def test_a_booking_inside_the_change_window_says_the_online_deadline_has_passed() -> None:
    clinic = make_clinic(phone="+442071234567")
    user = User.objects.create_user(
        username="late", email="late@example.com", password="pw-test-123", role=Role.CLIENT
    )
    customer = make_client(email="late@example.com", user=user)
    appt = book(clinic, at(MONDAY, 10), now=at(MONDAY - D, 8), client=customer)  # 26 h ahead
    [confirmation] = Message.objects.filter(
        about=f"appointment:{appt.pk}", template="appointment/confirmed", channel="email"
    )
    text = render_message(confirmation).text
    assert "The time to move it online ended on Saturday 5 January, 10:00 GMT." in text
    assert "To change it, call us on +442071234567." in text


def test_every_message_a_booking_causes_names_dates_never_a_bare_weekday() -> None:
    clinic = make_clinic(phone="+442071234567")
    clinic.clients[0].contact_channel = "both"
    clinic.clients[0].save()
    appt = book(clinic, at(MONDAY + 70 * D, 10))  # late March: "Thursday" must not stand alone
    messages = list(Message.objects.filter(about=f"appointment:{appt.pk}"))
    assert {m.template for m in messages} >= {
        "appointment/confirmed",
        "appointment/reminder",
        "aftercare/step",
        "aftercare/checkin",
    }
    assert {m.channel for m in messages} == {"email", "sms"}
    for message in messages:
        rendered = render_message(message)
        for part in (rendered.subject, rendered.text):
            assert not WEEKDAY_WITHOUT_DATE.search(part), (message.template, part)
        for attachment in rendered.attachments:
            event = Calendar.from_ical(attachment.content).walk("VEVENT")[0]
            assert event.decoded("dtstart").tzinfo is not None  # an absolute UTC time
    [confirmation] = [
        m for m in messages if m.template == "appointment/confirmed" and m.channel == "email"
    ]
    assert (
        "fish oil and vitamin E you take yourself from Wednesday 13 March, 10:00 GMT"
        in render_message(confirmation).text
    )
