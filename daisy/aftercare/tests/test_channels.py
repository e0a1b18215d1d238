"""A booking's messages honour the client's channel choice (email, SMS, both), and every text
message keeps out of the location's quiet hours, confirmations included (issue 6 items 4, 5)."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest

from daisy.booking.services import appointment_book, appointment_cancel
from daisy.clients.services import client_preferences_update
from daisy.notifications.models import Message, MessageStatus
from daisy.notifications.rendering import render_message
from tests.support.testing import LONDON, MONDAY, at, booking_now, make_client, make_clinic

pytestmark = pytest.mark.django_db
EVERY_DAY = {d: (9, 19) for d in range(7)}


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    settings.DAISY_MESSAGE_ENQUEUE_TASK = False
    settings.DAISY_REMINDER_HOURS = [48, 24]
    settings.DAISY_SMS_REMINDER_HOURS = [24]
    settings.DAISY_PUBLIC_URL = "https://clinic.example"


def book(clinic: Any, client: Any, start: Any, now: Any = None) -> Any:
    return appointment_book(
        client=client,
        treatment=clinic.microneedling,
        starts_at=start,
        booked_by=clinic.reception,
        now=now or booking_now(),
        location=clinic.location,
    ).appointment


def pending(appt: Any) -> list[Message]:
    return list(
        Message.objects.filter(about=f"appointment:{appt.pk}", status=MessageStatus.PENDING)
    )


def channels(appt: Any) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for m in pending(appt):
        out.setdefault(m.template, set()).add(m.channel)
    return out


def choose(client: Any, channel: str) -> Any:
    return client_preferences_update(
        client=client, by=None, now=booking_now(), contact_channel=channel
    )


def test_email_only_means_no_text_message_at_all() -> None:
    clinic = make_clinic()
    client = choose(make_client(), "email")
    appt = book(clinic, client, at(MONDAY, 10))
    assert {c for chans in channels(appt).values() for c in chans} == {"email"}
    assert len(pending(appt)) > 5


def test_sms_only_sends_every_service_message_by_sms_and_no_email() -> None:
    clinic = make_clinic()
    client = choose(make_client(), "sms")
    appt = book(clinic, client, at(MONDAY, 10))
    assert channels(appt) == {
        "appointment/confirmed": {"sms"},
        "appointment/reminder": {"sms"},
        "aftercare/step": {"sms"},
        "aftercare/checkin": {"sms"},
    }
    checkin = next(m for m in pending(appt) if m.template == "aftercare/checkin")
    text = render_message(checkin).text
    assert "https://clinic.example/check-in/" in text and "\n\n" not in text.strip()
    confirmed = next(m for m in pending(appt) if m.template == "appointment/confirmed")
    assert confirmed.attachments == []  # no .ics by SMS
    assert "is booked for Monday 7 January 2030" in render_message(confirmed).text
    appointment_cancel(appointment=appt, by=clinic.reception, now=booking_now())
    cancelled = Message.objects.get(
        about=f"appointment:{appt.pk}", template="appointment/cancelled"
    )
    assert cancelled.channel == "sms"
    assert "is cancelled" in render_message(cancelled).text


def test_both_means_email_for_everything_and_sms_reminders() -> None:
    clinic = make_clinic()
    appt = book(clinic, make_client(), at(MONDAY, 10))  # "both" is the default
    found = channels(appt)
    assert found["appointment/reminder"] == {"email", "sms"}
    assert found["appointment/confirmed"] == {"email"}
    assert found["aftercare/checkin"] == {"email"}


def test_sms_choice_without_a_usable_phone_falls_back_to_email() -> None:
    clinic = make_clinic()
    client = choose(make_client(), "sms")
    client.phone = "not a number"
    client.save()
    appt = book(clinic, client, at(MONDAY, 10))
    assert {c for chans in channels(appt).values() for c in chans} == {"email"}


def test_a_late_night_booking_confirms_by_sms_when_quiet_hours_end() -> None:
    clinic = make_clinic(hours=EVERY_DAY, quiet_hours_start=time(22), quiet_hours_end=time(7, 30))
    client = choose(make_client(), "sms")
    late = at(MONDAY, 23, 15)
    appt = book(clinic, client, at(MONDAY + timedelta(days=1), 10), now=late)
    confirmed = next(m for m in pending(appt) if m.template == "appointment/confirmed")
    assert confirmed.send_after.astimezone(LONDON) == at(MONDAY + timedelta(days=1), 7, 30)
    # Every text message of the booking is outside 22:00-07:30 local time.
    for m in pending(appt):
        local = m.send_after.astimezone(LONDON).time()
        assert time(7, 30) <= local < time(22), m.dedupe_key


def test_each_location_keeps_its_own_quiet_hours() -> None:
    quiet = make_clinic(hours=EVERY_DAY, quiet_hours_start=time(20), quiet_hours_end=time(10))
    appt = book(quiet, make_client(), at(MONDAY, 12))
    sms = [m for m in pending(appt) if m.channel == "sms"]
    assert sms and all(time(10) <= m.send_after.astimezone(LONDON).time() < time(20) for m in sms)
    early_hours = {d: (6, 19) for d in range(7)}
    none = make_clinic(hours=early_hours, quiet_hours_start=time(0), quiet_hours_end=time(0))
    appt = book(none, make_client(), at(MONDAY, 6, 30) + timedelta(days=1))
    reminder = next(m for m in pending(appt) if m.channel == "sms")
    assert reminder.send_after == at(MONDAY, 6, 30)  # 24 h before, no quiet hours to wait for
