"""The messages a booking causes (issue 6 item 3), made inside the booking's own transaction:
the exact set and their local, DST-correct send times; nothing from a booking that rolled back;
a reschedule replaces them (the old never go out) and a cancellation cancels them and says so;
the calendar event keeps its UID and raises its SEQUENCE."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail, signing
from icalendar import Calendar

from daisy.aftercare.selectors import checkin_token_read
from daisy.aftercare.services import checkin_link
from daisy.booking.services import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    appointment_set_status,
)
from daisy.clients.models import Contraindication, Tier
from daisy.lib.errors import ClientContraindicated, SlotUnavailable
from daisy.notifications.delivery import Deliverer
from daisy.notifications.models import Message, MessageStatus
from daisy.notifications.rendering import render_message
from daisy.scheduling.models import Status
from tests.support.testing import LONDON, MONDAY, at, booking_now, make_client, make_clinic

pytestmark = pytest.mark.django_db
H = timedelta(hours=1)
D = timedelta(days=1)
EVERY_DAY = {d: (9, 19) for d in range(7)}


@pytest.fixture(autouse=True)
def _settings(settings: Any, tmp_path: Any) -> None:
    settings.DAISY_MESSAGE_ENQUEUE_TASK = False
    settings.DAISY_REMINDER_HOURS = [48, 24]
    settings.DAISY_SMS_REMINDER_HOURS = [24]
    settings.DAISY_PUBLIC_URL = "https://clinic.example"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DAISY_SMS_BACKEND = "file"
    settings.DAISY_SMS_FILE_DIR = tmp_path / "sms"


def book(clinic: Any, start: datetime, *, now: datetime | None = None, **kw: Any) -> Any:
    return appointment_book(
        client=kw.pop("client", None) or clinic.clients[0],
        treatment=kw.pop("treatment", None) or clinic.microneedling,
        starts_at=start,
        booked_by=clinic.reception,
        now=now or booking_now(start.astimezone(LONDON).date()),
        **kw,
    ).appointment


def pending(appt: Any) -> list[Message]:
    return list(
        Message.objects.filter(about=f"appointment:{appt.pk}", status=MessageStatus.PENDING)
    )


def schedule_of(appt: Any, tz: ZoneInfo = LONDON) -> set[tuple[str, str, str]]:
    """(channel, what, local send time) for the appointment's pending messages."""
    return {
        (
            m.channel,
            m.dedupe_key.rsplit(":", 1)[1],
            f"{m.send_after.astimezone(tz):%a %d %b %H:%M %Z}",
        )
        for m in pending(appt)
    }


def step_key(appt: Any, title_start: str) -> str:
    msgs = [m for m in pending(appt) if m.template == "aftercare/step"]
    [m] = [m for m in msgs if m.context["title"].startswith(title_start)]
    return str(m.dedupe_key.rsplit(":", 1)[1])


# --- what one booking schedules ---------------------------------------------------------------


def test_a_booking_schedules_exactly_the_expected_messages() -> None:
    clinic = make_clinic()
    appt = book(clinic, at(MONDAY, 10))  # booked a week ahead, Monday 31 December 08:00
    retinoids = step_key(appt, "Stop topical retinoids")
    acids = step_key(appt, "Stop AHA/BHA")
    makeup = step_key(appt, "A gentle cleanser")
    routine = step_key(appt, "Back to your usual")
    assert schedule_of(appt) == {
        ("email", "confirmed", "Mon 31 Dec 08:00 GMT"),  # at once
        ("email", retinoids, "Mon 31 Dec 10:00 GMT"),  # -7 d, DOMAIN.md 4.1
        ("email", acids, "Fri 04 Jan 10:00 GMT"),  # -3 d
        ("email", "reminder-48h-email", "Sat 05 Jan 10:00 GMT"),
        ("email", "reminder-24h-email", "Sun 06 Jan 10:00 GMT"),
        ("sms", "reminder-24h-sms", "Sun 06 Jan 10:00 GMT"),  # the client has a phone
        ("email", makeup, "Tue 08 Jan 10:00 GMT"),  # +24 h, DOMAIN.md 4.2 row Day 1
        ("email", "checkin-24h", "Tue 08 Jan 10:00 GMT"),  # DOMAIN.md 5.2
        ("email", "checkin-72h", "Thu 10 Jan 10:00 GMT"),
        ("email", routine, "Mon 14 Jan 10:00 GMT"),  # +7 d
        ("email", "checkin-168h", "Mon 14 Jan 10:00 GMT"),
    }
    assert {m.dedupe_key.split(":v")[1][0] for m in pending(appt)} == {"0"}
    reminders = [m for m in pending(appt) if m.template == "appointment/reminder"]
    assert {m.expires_at for m in reminders} == {appt.starts_at}
    client = clinic.clients[0]
    assert {m.recipient for m in pending(appt) if m.channel == "email"} == {client.email}
    assert {m.recipient for m in pending(appt) if m.channel == "sms"} == {client.phone}
    assert {m.client_id for m in pending(appt)} == {client.pk}


def test_no_phone_means_no_sms_and_no_email_means_everything_by_sms() -> None:
    clinic = make_clinic()
    no_phone = make_client(phone="")
    appt = book(clinic, at(MONDAY, 10), client=no_phone)
    assert {m.channel for m in pending(appt)} == {"email"}
    # Service messages always go by at least one channel: without an email address, the
    # confirmation, both reminders, the aftercare steps and the check-ins all go by SMS.
    no_email = make_client(email="")
    appt = book(clinic, at(MONDAY, 12), client=no_email)
    assert {m.channel for m in pending(appt)} == {"sms"}
    assert {m.template for m in pending(appt)} == {
        "appointment/confirmed",
        "appointment/reminder",
        "aftercare/step",
        "aftercare/checkin",
    }
    assert len([m for m in pending(appt) if m.template == "appointment/reminder"]) == 2


def test_an_unusable_phone_number_does_not_stop_the_booking() -> None:
    clinic = make_clinic()
    appt = book(clinic, at(MONDAY, 10), client=make_client(phone="call my mum"))
    assert appt.status == Status.BOOKED
    assert {m.channel for m in pending(appt)} == {"email"}


def test_a_late_booking_skips_what_is_already_past() -> None:
    clinic = make_clinic()
    appt = book(clinic, at(MONDAY, 10), now=at(MONDAY - D, 7))  # Sunday 07:00, 27 h ahead
    whats = {what for _, what, _ in schedule_of(appt)}
    assert "reminder-48h-email" not in whats
    assert {"confirmed", "reminder-24h-email", "reminder-24h-sms"} <= whats
    pre = [
        m for m in pending(appt) if m.template == "aftercare/step" and m.context["kind"] == "pre"
    ]
    assert pre == []  # -7 d and -3 d have passed; the confirmation lists the pre-care
    confirmed = next(m for m in pending(appt) if m.template == "appointment/confirmed")
    texts = [line["text"] for line in confirmed.context["pre_care"]]
    assert "Stop topical retinoids from now until your appointment" in texts


def test_a_consultation_has_a_confirmation_and_reminders_but_no_aftercare() -> None:
    clinic = make_clinic()
    appt = book(clinic, at(MONDAY, 10), treatment=clinic.treatments["consultation"])
    assert {m.template for m in pending(appt)} == {"appointment/confirmed", "appointment/reminder"}


def test_an_idempotent_replay_schedules_nothing_more() -> None:
    clinic = make_clinic()
    first = book(clinic, at(MONDAY, 10), idempotency_key="k1")
    count = Message.objects.count()
    again = book(clinic, at(MONDAY, 10), idempotency_key="k1")
    assert again.pk == first.pk
    assert Message.objects.count() == count


# --- local time, DST and quiet hours ----------------------------------------------------------


def test_24h_before_is_the_same_local_time_the_day_before_across_spring_forward() -> None:
    # London's clocks go forward at 01:00 UTC on Sunday 31 March 2030.
    clinic = make_clinic(hours=EVERY_DAY)
    sunday = book(clinic, at(date(2030, 3, 31), 10))  # 10:00 BST on the day of the change
    sent = {m.dedupe_key.rsplit(":", 1)[1]: m.send_after for m in pending(sunday)}
    assert sent["reminder-24h-email"] == at(date(2030, 3, 30), 10)  # Saturday 10:00 GMT
    assert sunday.starts_at - sent["reminder-24h-email"] == 23 * H  # not 09:00 GMT
    assert sent["reminder-48h-email"] == at(date(2030, 3, 29), 10)
    # Another client: one client's needling sessions are at least 28 days apart.
    monday = book(clinic, at(date(2030, 4, 1), 10), client=clinic.clients[1])  # the day after
    sent = {m.dedupe_key.rsplit(":", 1)[1]: m.send_after for m in pending(monday)}
    assert sent["reminder-24h-sms"] == at(date(2030, 3, 31), 10)  # Sunday 10:00 BST
    assert sent["reminder-48h-email"] == at(date(2030, 3, 30), 10)  # Saturday 10:00 GMT
    assert monday.starts_at - sent["reminder-48h-email"] == 47 * H


def test_24h_before_across_fall_back_and_aftercare_after_a_change() -> None:
    clinic = make_clinic(hours=EVERY_DAY)
    # Clocks go back at 01:00 UTC on Sunday 27 October 2030.
    appt = book(clinic, at(date(2030, 10, 26), 10))  # Saturday 10:00 BST
    schedule = schedule_of(appt)
    assert ("email", "checkin-24h", "Sun 27 Oct 10:00 GMT") in schedule  # 25 h later
    assert ("email", "checkin-72h", "Tue 29 Oct 10:00 GMT") in schedule
    assert ("email", "reminder-24h-email", "Fri 25 Oct 10:00 BST") in schedule
    makeup = next(m for m in pending(appt) if m.context.get("title", "").startswith("A gentle"))
    assert makeup.send_after == at(date(2030, 10, 27), 10)
    # The step's own message arrives when it begins ("from now"); the confirmation names the
    # zone, since the clocks changed between the session and then.
    assert makeup.context["text"] == (
        "A gentle cleanser, mineral sunscreen (SPF 30+) and makeup are fine again from now"
    )
    confirmed = next(m for m in pending(appt) if m.template == "appointment/confirmed")
    after = [line["text"] for line in confirmed.context["aftercare"]]
    assert "from Sunday 27 October, 10:00 GMT" in next(t for t in after if t.startswith("A gentle"))
    assert confirmed.context["when"] == "Saturday 26 October 2030, 10:00 BST (Europe/London)"


def test_quiet_hours_hold_messages_until_they_end_in_local_time() -> None:
    clinic = make_clinic(quiet_hours_start=time(9, 30), quiet_hours_end=time(11))
    appt = book(clinic, at(MONDAY, 10))
    by_what = {what: when for _, what, when in schedule_of(appt)}
    assert by_what["confirmed"] == "Mon 31 Dec 08:00 GMT"  # a direct answer: not held
    assert by_what["reminder-24h-email"] == "Sun 06 Jan 11:00 GMT"
    assert by_what["checkin-24h"] == "Tue 08 Jan 11:00 GMT"
    assert by_what[step_key(appt, "A gentle cleanser")] == "Tue 08 Jan 11:00 GMT"


def test_times_in_messages_are_local_with_the_zone_named() -> None:
    clinic = make_clinic()
    summer = book(clinic, at(date(2030, 7, 1), 10))
    for m in pending(summer):
        if m.channel == "email":
            assert m.context["when"] == "Monday 1 July 2030, 10:00 BST (Europe/London)"
    confirmed = next(m for m in pending(summer) if m.template == "appointment/confirmed")
    rendered = render_message(confirmed)
    assert "10:00 BST (Europe/London)" in rendered.subject
    assert "All times in this email are Europe/London time." in rendered.text
    sms = next(m for m in pending(summer) if m.channel == "sms")
    assert "Monday 1 July 2030, 10:00 BST (Europe/London)" in render_message(sms).text


def test_a_location_in_another_zone_gets_its_own_local_times() -> None:
    new_york = ZoneInfo("America/New_York")
    clinic = make_clinic(time_zone="America/New_York")
    appt = book(clinic, datetime(2030, 1, 7, 10, tzinfo=new_york), now=booking_now())
    by_what = {what: when for _, what, when in schedule_of(appt, new_york)}
    assert by_what["reminder-24h-email"] == "Sun 06 Jan 10:00 EST"
    assert pending(appt)[0].context["when"] == "Monday 7 January 2030, 10:00 EST (America/New_York)"


# --- rollback, reschedule, cancel -------------------------------------------------------------


def test_a_booking_that_loses_the_slot_creates_no_message() -> None:
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    book(clinic, at(MONDAY, 10))
    before = Message.objects.count()
    with pytest.raises(SlotUnavailable):
        book(clinic, at(MONDAY, 10), client=clinic.clients[1])
    assert Message.objects.count() == before
    assert not Message.objects.filter(client=clinic.clients[1]).exists()


def test_a_contraindicated_booking_creates_no_message() -> None:
    clinic = make_clinic()
    client = clinic.clients[1]
    Contraindication.objects.create(client=client, condition="Active acne", tier=Tier.DEFER)
    with pytest.raises(ClientContraindicated):
        book(clinic, at(MONDAY, 10), client=client)
    assert Message.objects.count() == 0


def test_reschedule_replaces_the_pending_messages_with_a_new_version() -> None:
    clinic = make_clinic()
    appt = book(clinic, at(MONDAY, 10))
    old = {m.pk for m in pending(appt)}
    # The confirmation went out already: it cannot be called back, and stays sent.
    sent = Message.objects.get(pk__in=old, template="appointment/confirmed")
    Message.objects.filter(pk=sent.pk).update(status=MessageStatus.SENT)
    moved = appointment_reschedule(
        appointment=appt, starts_at=at(MONDAY + D, 14), by=clinic.reception, now=booking_now()
    )
    assert moved.messages_version == 1
    statuses = dict(Message.objects.filter(pk__in=old).values_list("pk", "status"))
    assert statuses.pop(sent.pk) == MessageStatus.SENT
    assert set(statuses.values()) == {MessageStatus.CANCELLED}
    new = pending(moved)
    assert not {m.pk for m in new} & old
    assert {m.dedupe_key.split(":v")[1][0] for m in new} == {"1"}
    by_what = {what: when for _, what, when in schedule_of(moved)}
    assert by_what["reminder-24h-email"] == "Mon 07 Jan 14:00 GMT"
    assert by_what["checkin-24h"] == "Wed 09 Jan 14:00 GMT"
    confirmed = next(m for m in new if m.template == "appointment/confirmed")
    assert confirmed.context["changed"] is True
    assert confirmed.context["previous_when"] == "Monday 7 January 2030, 10:00 GMT (Europe/London)"
    assert render_message(confirmed).subject.startswith("Moved: your Micro-needling appointment")


def test_after_a_reschedule_the_old_messages_never_go_out() -> None:
    clinic = make_clinic()
    appt = book(clinic, at(MONDAY, 10))
    appt = appointment_reschedule(
        appointment=appt, starts_at=at(MONDAY + 2 * D, 11), by=clinic.reception, now=booking_now()
    )
    appt = appointment_reschedule(
        appointment=appt, starts_at=at(MONDAY + D, 12), by=clinic.reception, now=booking_now()
    )
    live = {m.pk: m for m in pending(appt)}
    assert {m.dedupe_key.split(":v")[1][0] for m in live.values()} == {"2"}
    # Deliver everything, moment by moment, as a worker would.
    now = {"at": booking_now()}
    deliverer = Deliverer(owner="test", clock=lambda: now["at"])
    times = sorted({m.send_after for m in Message.objects.all()})
    for moment in times:
        now["at"] = moment
        deliverer.drain()
    delivered = set(Message.objects.filter(status=MessageStatus.SENT).values_list("pk", flat=True))
    assert delivered == set(live)
    assert len(mail.outbox) == sum(1 for m in live.values() if m.channel == "email")
    about = f"appointment:{appt.pk}"
    assert not Message.objects.filter(about=about, status=MessageStatus.PENDING).exists()


def test_cancel_cancels_pending_messages_and_queues_a_cancellation_email() -> None:
    clinic = make_clinic()
    appt = book(clinic, at(MONDAY, 10))
    old = {m.pk for m in pending(appt)}
    cancelled = appointment_cancel(appointment=appt, by=clinic.reception, now=booking_now())
    assert cancelled.messages_version == 1
    assert set(Message.objects.filter(pk__in=old).values_list("status", flat=True)) == {
        MessageStatus.CANCELLED
    }
    [notice] = pending(appt)
    assert notice.template == "appointment/cancelled" and notice.channel == "email"
    assert notice.send_after == booking_now() and notice.expires_at == appt.starts_at
    rendered = render_message(notice)
    assert rendered.subject == (
        "Cancelled: your Micro-needling appointment on Monday 7 January 2030, 10:00 GMT "
        "(Europe/London)"
    )
    assert "late-cancellation" not in rendered.text
    event = ics_event(notice)
    assert event["status"] == "CANCELLED" and int(event["sequence"]) == 1


def test_a_late_cancellation_says_the_policy_may_apply() -> None:
    clinic = make_clinic()
    appt = book(clinic, at(MONDAY, 10))
    appointment_cancel(appointment=appt, by=clinic.reception, now=at(MONDAY, 8))
    [notice] = pending(appt)
    assert notice.context["late"] is True
    assert "late-cancellation policy may apply" in render_message(notice).text


def test_a_no_show_gets_no_aftercare_or_check_ins() -> None:
    clinic = make_clinic()
    appt = book(clinic, at(MONDAY, 10))
    appointment_set_status(
        appointment=appt, status=Status.NO_SHOW, by=clinic.reception, now=at(MONDAY, 11)
    )
    assert pending(appt) == []


# --- the confirmation email and its calendar event ---------------------------------------------


def ics_event(message: Message) -> Any:
    rendered = render_message(message)
    [attachment] = rendered.attachments
    assert attachment.filename == "appointment.ics"
    assert attachment.content_type == "text/calendar"
    cal = Calendar.from_ical(attachment.content)
    assert str(cal["method"]) == "PUBLISH" and str(cal["version"]) == "2.0"
    [event] = cal.walk("VEVENT")
    return event


def confirmation(appt: Any) -> Message:
    return next(m for m in pending(appt) if m.template == "appointment/confirmed")


def test_the_confirmation_carries_a_calendar_event_that_updates_on_reschedule() -> None:
    clinic = make_clinic()
    clinic.location.phone = "+44 20 7946 0000"
    clinic.location.save()
    appt = book(clinic, at(MONDAY, 10))
    first = ics_event(confirmation(appt))
    assert str(first["uid"]) == f"{appt.pk}@daisy"
    assert int(first["sequence"]) == 0
    assert first.decoded("dtstart") == datetime(2030, 1, 7, 10, tzinfo=UTC)
    assert first.decoded("dtend") == appt.ends_at
    assert str(first["location"]) == f"{clinic.location.name}, {clinic.location.address}"
    assert str(first["status"]) == "CONFIRMED"
    assert "mailto:hello@daisy.example" in str(first["organizer"])

    moved = appointment_reschedule(
        appointment=appt, starts_at=at(MONDAY + D, 14), by=clinic.reception, now=booking_now()
    )
    second = ics_event(confirmation(moved))
    assert str(second["uid"]) == str(first["uid"])
    assert int(second["sequence"]) == 1
    assert second.decoded("dtstart") == datetime(2030, 1, 8, 14, tzinfo=UTC)

    cancelled = appointment_cancel(appointment=moved, by=clinic.reception, now=booking_now())
    [notice] = pending(cancelled)
    third = ics_event(notice)
    assert str(third["uid"]) == str(first["uid"])
    assert int(third["sequence"]) == 2


def test_the_confirmation_email_as_sent(settings: Any) -> None:
    clinic = make_clinic()
    appt = book(clinic, at(MONDAY, 10))
    Deliverer(owner="test", clock=booking_now).drain()
    [email] = mail.outbox
    assert email.to == [clinic.clients[0].email]
    assert (
        email.subject
        == "Booked: Micro-needling on Monday 7 January 2030, 10:00 GMT (Europe/London)"
    )
    assert "Before your appointment" in email.body and "After your appointment" in email.body
    assert (
        "Stop topical retinoids from Monday 31 December 2029, 10:00 GMT until your appointment"
        in (email.body)
    )
    assert "makeup are fine again from Tuesday 8 January, 10:00 GMT" in email.body
    assert "General advice: Drinking enough water" in email.body
    [(html, mimetype)] = email.alternatives
    assert mimetype == "text/html" and "<li>Stop topical retinoids" in html
    [(name, content, ctype)] = email.attachments
    assert (name, ctype) == ("appointment.ics", "text/calendar")
    assert f"UID:{appt.pk}@daisy" in content


def test_every_message_renders_in_text_and_html() -> None:
    clinic = make_clinic()
    appt = book(clinic, at(MONDAY, 10))
    appointment_reschedule(
        appointment=appt, starts_at=at(MONDAY + D, 14), by=clinic.reception, now=booking_now()
    )
    appointment_cancel(appointment=appt, by=clinic.reception, now=booking_now())
    templates = set()
    for m in Message.objects.all():
        rendered = render_message(m)
        templates.add((m.channel, m.template))
        assert "Hello Client" in rendered.text or m.channel == "sms"
        if m.channel == "email":
            assert rendered.subject and rendered.html.startswith("<!doctype html>")
            assert "{{" not in rendered.text and "{%" not in rendered.html
    assert templates == {
        ("email", "appointment/confirmed"),
        ("email", "appointment/reminder"),
        ("sms", "appointment/reminder"),
        ("email", "appointment/cancelled"),
        ("email", "aftercare/step"),
        ("email", "aftercare/checkin"),
    }


# --- check-in links -----------------------------------------------------------------------------


def test_check_in_messages_link_to_a_signed_url() -> None:
    clinic = make_clinic()
    appt = book(clinic, at(MONDAY, 10))
    checkin = next(m for m in pending(appt) if m.dedupe_key.endswith("checkin-72h"))
    link = checkin.context["link"]
    assert link.startswith("https://clinic.example/check-in/")
    assert checkin_token_read(link.rsplit("/", 1)[1]) == (str(appt.pk), "72h")
    assert "3 days since your Micro-needling" in render_message(checkin).text
    assert checkin.expires_at == checkin.send_after + 2 * D


def test_a_tampered_check_in_token_is_refused() -> None:
    clinic = make_clinic()
    appt = book(clinic, at(MONDAY, 10))
    token = checkin_link(appt, "24h").rsplit("/", 1)[1]
    with pytest.raises(signing.BadSignature):
        checkin_token_read(token[:-2] + "xx")
    other_salt = signing.TimestampSigner(salt="something.else")
    with pytest.raises(signing.BadSignature):
        other_salt.unsign_object(token)


# --- cost ---------------------------------------------------------------------------------------
