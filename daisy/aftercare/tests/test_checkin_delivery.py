"""Check-ins that work whenever they arrive (issue 12 item 5; DOMAIN.md 5.1, 5.2).

The tests run what `daisy worker` runs (the apps' periodic jobs, then delivery of everything
due) with the clock moved to each moment a message falls due, receive the emails on a real SMTP
server, and open each check-in link from the email at the moment it was delivered: a session
booked weeks ahead, and every session of a course, gets links that work, every follow-up of
DOMAIN.md 5.2 arrives (or is covered by the next session), and every red flag of DOMAIN.md 5.1
raises its alert."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.test import Client as HttpClient
from django.utils import timezone

from daisy.aftercare.followups import checkin_reviews_schedule_due
from daisy.aftercare.models import Alert, CheckIn
from daisy.aftercare.selectors import checkin_token_read
from daisy.aftercare.services import alert_clear
from daisy.booking.courses import SessionTime, course_book
from daisy.booking.services import appointment_book, appointment_cancel
from daisy.core.checkins import FOLLOW_UPS, RED_FLAG_CODES
from daisy.courses.services import course_presets_install
from daisy.notifications.delivery import Deliverer
from daisy.notifications.management.commands.worker import periodic_jobs
from daisy.notifications.models import CLAIMABLE, Message
from tests.support.notifications import Received, SmtpSink
from tests.support.testing import LONDON, MONDAY, Clinic, at, booking_now, make_client, make_clinic

pytestmark = pytest.mark.django_db
D = timedelta(days=1)
LINK = re.compile(r"https://clinic\.example(/check-in/[A-Za-z0-9_:\-]+)")
CALM = {
    "redness": "none",
    "swelling": "none",
    "pain": "none",
    "hot_or_weeping": "False",
    "spots": "False",
    "blisters": "False",
    "dark_patches": "False",
    "fever": "False",
    "rash": "False",
    "breakouts": "False",
    "track_marks": "False",
    "notes": "",
}
# What a client answers to show each warning sign of DOMAIN.md 5.1.
SHOWS = {
    "toxicity": {"toxicity": ["numb_mouth"]},
    "infection": {"hot_or_weeping": "True"},
    "hsv": {"blisters": "True"},
    "redness_persisting": {"redness": "better"},
    "swelling_persisting": {"swelling": "same"},
    "pain_persisting": {"pain": "same"},
    "rash": {"rash": "True"},
    "papules_persisting": {"spots": "True"},
    "pih": {"dark_patches": "True"},
    "tram_tracks": {"track_marks": "True"},
    "breakouts_persisting": {"breakouts": "True"},
}
ADVICE = {
    "emergency": 'Call <a href="tel:999">999</a> now',
    # Open: "Please call the clinic today"; closed: the out-of-hours line (issue 12).
    "urgent": "needs to be seen by a clinician today",
    "routine": "A clinician will review this",
    "": "this sounds like normal healing",
}


@pytest.fixture(autouse=True)
def _settings(settings: Any, tmp_path: Any) -> None:
    settings.DAISY_MESSAGE_ENQUEUE_TASK = False
    settings.DAISY_PUBLIC_URL = "https://clinic.example"
    settings.DAISY_CHECKIN_LINK_MAX_AGE_DAYS = 14
    settings.DAISY_SMS_BACKEND = "file"
    settings.DAISY_SMS_FILE_DIR = tmp_path / "sms"


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


def worker(
    sink: SmtpSink, *, start: datetime, until: datetime, texts: Path | None = None
) -> Iterator[tuple[datetime, list[Received], list[str]]]:
    """What a `daisy worker` does, from `start` to `until`: at least once a day and at every
    moment a message falls due, the apps' periodic jobs, then delivery of everything due. Yields
    (the moment, the emails and the text messages that arrived) with the clock still held at
    that moment. `texts`: the file SMS channel's directory."""
    moment, seen, seen_texts = start, len(sink.received), set[Path]()
    while moment <= until:
        with time_machine.travel(moment, tick=False):
            for _path, job, _every in periodic_jobs():
                job(now=timezone.now())
            Deliverer(owner="test-worker").drain()
            arrived, seen = sink.received[seen:], len(sink.received)
            sms = set(texts.glob("*.txt")) - seen_texts if texts and texts.exists() else set()
            seen_texts |= sms
            if arrived or sms:
                yield moment, arrived, [p.read_text(encoding="utf-8") for p in sorted(sms)]
        next_due = (
            Message.objects.filter(status__in=CLAIMABLE, send_after__gt=moment)
            .order_by("send_after")
            .values_list("send_after", flat=True)
            .first()
        )
        moment = min(moment + D, next_due) if next_due else moment + D


def checkin_links(mail: Received) -> list[str]:
    """The check-in links of a delivered email, the same in its text and its HTML."""
    parsed = mail.parsed()
    text = parsed.get_body(preferencelist=("plain",)).get_content()
    html = parsed.get_body(preferencelist=("html",)).get_content()
    links = LINK.findall(text)
    assert links == LINK.findall(html)
    return links


def open_and_answer(
    http: HttpClient, path: str, answers: dict[str, Any], *, delivered: datetime
) -> str:
    """Open the link as it arrived, answer, and return the page the client is shown."""
    assert timezone.now() == delivered
    form = http.get(path)
    assert form.status_code == 200, form.content.decode()
    assert "How is your skin healing?" in form.content.decode()
    sent = http.post(path, {**CALM, **answers})
    assert sent.status_code == 302 and sent["Location"] == f"{path}?sent=1"
    shown = http.get(sent["Location"])
    assert shown.status_code == 200
    return shown.content.decode()


def test_a_course_booked_1_5_and_12_weeks_ahead_gets_working_links_and_every_red_flag_alerts(
    sink: SmtpSink, client: HttpClient
) -> None:
    course_presets_install()
    clinic = clinic_with_emails()
    booked_at = booking_now()  # Monday 31 December 2029, 08:00
    starts = [at(MONDAY, 10), at(MONDAY + 28 * D, 10), at(MONDAY + 77 * D, 10)]
    assert [(s - booked_at).days // 7 for s in starts] == [1, 5, 12]
    with time_machine.travel(booked_at, tick=False):
        course = course_book(
            client=clinic.clients[0],
            treatment=clinic.microneedling,
            booked_by=clinic.reception,
            now=booked_at,
            session_times=[SessionTime(s) for s in starts],
            interval_days=56,
        )
    number = {str(a.pk): n for n, a in enumerate(course.appointments, start=1)}
    # Which warning sign the client reports at each check-in; the day-0-3 rash at 72 h, the
    # late ones (spots beyond 2 weeks, dark patches, track marks) at the reviews.
    answers_for = {
        (1, "24h"): "toxicity",
        (1, "72h"): "rash",
        (1, "168h"): "redness_persisting",
        (2, "24h"): "infection",
        (2, "72h"): "hsv",
        (2, "168h"): "swelling_persisting",
        (2, "30d"): "papules_persisting",
        (3, "24h"): None,
        (3, "72h"): None,
        (3, "168h"): "pain_persisting",
        (3, "30d"): "pih",
        (3, "91d"): "tram_tracks",
        (3, "182d"): "breakouts_persisting",
    }
    answered: list[tuple[int, str]] = []
    for moment, arrived, _texts in worker(sink, start=booked_at, until=starts[-1] + 200 * D):
        for mail in arrived:
            for path in checkin_links(mail):
                appointment_id, kind = checkin_token_read(path.rsplit("/", 1)[1])
                key = (number[appointment_id], kind)
                code = answers_for[key]
                page = open_and_answer(client, path, SHOWS[code] if code else {}, delivered=moment)
                checkin = CheckIn.objects.get(appointment_id=appointment_id, kind=kind)
                assert ADVICE[checkin.severity] in page
                if code is None:
                    assert not Alert.objects.filter(checkin=checkin).exists()
                else:
                    alert = Alert.objects.get(checkin=checkin)
                    assert alert.flags == [code], key
                    # A clinician reviews and clears it, so the course goes on.
                    alert_clear(
                        alert=alert,
                        by=clinic.specialists[0].user,
                        reason="Reviewed with the client.",
                        now=moment,
                    )
                answered.append(key)
    # Every check-in arrived once, in this order; a session's later reviews were left to the
    # next session when it came first (DOMAIN.md 5.2 row "Each session"): session 1 has none,
    # session 2 only its 1-month review (session 3 is 8 weeks later).
    assert answered == list(answers_for)
    # Each red flag of DOMAIN.md 5.1 raised its alert, and the staff were emailed about each.
    assert sorted(f for a in Alert.objects.all() for f in a.flags) == sorted(RED_FLAG_CODES)
    staff = [r for r in sink.received if r.rcpt_tos[0].endswith("@clinic.example")]
    assert len(staff) == 2 * len(RED_FLAG_CODES)


def test_a_session_booked_20_weeks_ahead_gets_every_follow_up_with_a_working_link(
    sink: SmtpSink, client: HttpClient
) -> None:
    clinic = clinic_with_emails()
    booked_at = booking_now()
    session = at(MONDAY + 19 * 7 * D, 10)  # Monday 20 May 2030, 10:00 BST: 20 weeks ahead
    with time_machine.travel(booked_at, tick=False):
        appt = appointment_book(
            client=clinic.clients[0],
            treatment=clinic.microneedling,
            starts_at=session,
            booked_by=clinic.reception,
            now=booked_at,
        ).appointment
    arrivals: dict[str, tuple[datetime, Any]] = {}
    for moment, arrived, _texts in worker(sink, start=booked_at, until=session + 200 * D):
        for mail in arrived:
            for path in checkin_links(mail):
                appointment_id, kind = checkin_token_read(path.rsplit("/", 1)[1])
                assert appointment_id == str(appt.pk)
                page = open_and_answer(client, path, {}, delivered=moment)
                assert ADVICE[""] in page
                arrivals[kind] = (moment, mail.parsed())
    assert list(arrivals) == [f.kind for f in FOLLOW_UPS if f.kind]
    for kind, days in (("24h", 1), ("72h", 3), ("168h", 7), ("30d", 30), ("91d", 91)):
        delivered, _ = arrivals[kind]
        assert days * D <= delivered - session < (days + 1) * D
    assert CheckIn.objects.filter(appointment=appt).count() == 6
    _, one_month = arrivals["30d"]
    text = one_month.get_body(preferencelist=("plain",)).get_content()
    assert one_month["Subject"] == "How is your skin, 1 month after your Micro-needling?"
    assert "about 1 month since your Micro-needling on Monday 20 May 2030, 10:00 BST" in text
    assert "maintenance" not in text
    _, six_months = arrivals["182d"]
    assert six_months["Subject"] == "How is your skin, 6 months after your Micro-needling?"
    text = six_months.get_body(preferencelist=("plain",)).get_content()
    assert "one maintenance session 6 to 12 months" in text and "https://clinic.example/" in text
    assert "DOMAIN.md" not in six_months.as_string()


def test_a_client_who_chose_text_messages_gets_every_check_in_by_text_outside_quiet_hours(
    sink: SmtpSink, client: HttpClient, settings: Any
) -> None:
    clinic = clinic_with_emails()
    clinic.location.quiet_hours_start, clinic.location.quiet_hours_end = time(16), time(9)
    clinic.location.save()
    texter = make_client(contact_channel="sms", phone="+447700900123")
    booked_at = booking_now()
    session = at(MONDAY + 6 * 7 * D, 17)  # Monday 18 February 2030, 17:00: check-ins fall at 17:00
    with time_machine.travel(booked_at, tick=False):
        appt = appointment_book(
            client=texter,
            treatment=clinic.microneedling,
            starts_at=session,
            booked_by=clinic.reception,
            now=booked_at,
        ).appointment
    kinds = []
    for moment, arrived, texts in worker(
        sink, start=booked_at, until=session + 200 * D, texts=settings.DAISY_SMS_FILE_DIR
    ):
        assert not [m for m in arrived if texter.email in m.rcpt_tos]
        for text in texts:
            assert text.startswith("To: +447700900123\n")
            for path in LINK.findall(text):
                assert time(9) <= moment.astimezone(LONDON).time() < time(16)
                appointment_id, kind = checkin_token_read(path.rsplit("/", 1)[1])
                assert appointment_id == str(appt.pk)
                assert ADVICE[""] in open_and_answer(client, path, {}, delivered=moment)
                kinds.append(kind)
    assert kinds == [f.kind for f in FOLLOW_UPS if f.kind]


def test_the_review_sweep_sends_each_review_once_and_not_for_a_cancelled_session() -> None:
    clinic = clinic_with_emails()
    kept, cancelled = (
        appointment_book(
            client=client,
            treatment=clinic.microneedling,
            starts_at=at(MONDAY, hour),
            booked_by=clinic.reception,
            now=booking_now(),
        ).appointment
        for client, hour in zip(clinic.clients, (10, 13), strict=True)
    )
    appointment_cancel(appointment=cancelled, by=clinic.reception, now=booking_now())
    month = at(MONDAY + 30 * D, 10)
    assert checkin_reviews_schedule_due(now=month - timedelta(minutes=1)) == 0
    assert checkin_reviews_schedule_due(now=month) == 1
    assert checkin_reviews_schedule_due(now=month + timedelta(hours=1)) == 0  # every worker runs it
    (review,) = Message.objects.filter(template="aftercare/review")
    assert review.about == f"appointment:{kept.pk}" and review.send_after == month
    assert checkin_token_read(review.context["link"].rsplit("/", 1)[1]) == (str(kept.pk), "30d")
    # A worker that was stopped for over a week does not send a review that late.
    assert checkin_reviews_schedule_due(now=at(MONDAY + 91 * D, 10) + 8 * D) == 0
