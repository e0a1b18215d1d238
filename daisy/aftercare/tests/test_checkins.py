"""Check-ins and red flags end to end (issue 6 item 4, DOMAIN.md 5.1): answers recorded from a
signed link; a warning sign raises an alert, emails the treating specialist and the clinic (to a
real SMTP server), and holds the client's next session until a clinician clears it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from daisy.aftercare.models import Alert, CheckIn
from daisy.aftercare.selectors import checkin_target_get
from daisy.aftercare.services import ALERT_SUMMARY, alert_clear, checkin_link, checkin_record
from daisy.audit.models import AuditEntry
from daisy.booking.services import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    appointment_set_status,
)
from daisy.clients.models import ClinicalHold
from daisy.core.checkins import RED_FLAG_CODES
from daisy.lib.errors import (
    ClientContraindicated,
    NotFound,
    PermissionDenied,
    PolicyViolation,
    ValidationFailed,
)
from daisy.notifications.delivery import Deliverer
from daisy.notifications.models import Message
from daisy.scheduling.models import Status
from tests.support.notifications import SmtpSink
from tests.support.testing import MONDAY, Clinic, at, booking_now, make_clinic

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


def token_of(appointment: Any, kind: str = "24h") -> str:
    return checkin_link(appointment, kind).rsplit("/", 1)[1]


def test_calm_answers_are_recorded_without_an_alert_or_hold() -> None:
    clinic = clinic_with_emails()
    appt = book(clinic, at(MONDAY, 10))
    result = checkin_record(token=token_of(appt), answers=CALM, now=at(MONDAY, 10) + 25 * H)
    assert not result.replayed and result.alert is None
    assert result.evaluation.advice == "expected"
    assert CheckIn.objects.get().redness == "better"
    assert not Alert.objects.exists() and not ClinicalHold.objects.exists()


def test_red_flag_alerts_specialist_and_clinic_by_email_and_holds_the_next_session(
    sink: SmtpSink,
) -> None:
    clinic = clinic_with_emails()
    first = book(clinic, at(MONDAY, 10))
    second = book(clinic, at(MONDAY + 28 * D, 10))  # the next session of the course
    answered = at(MONDAY, 10) + 26 * H
    result = checkin_record(
        token=token_of(first),
        answers={**CALM, "redness": "worse", "fever": True, "notes": "Hot and spreading."},
        now=answered,
    )
    alert = result.alert
    assert alert is not None and alert.severity == "urgent"
    assert result.evaluation.advice == "same_day"
    assert alert.flags == ["infection"] and alert.client == first.client
    hold = ClinicalHold.objects.get()
    assert hold.is_open and hold.source == f"alert:{alert.pk}"
    assert "signs of infection" in hold.reason

    # The staff emails go out at once, through the outbox, to a real SMTP server.
    Deliverer(owner="test", clock=lambda: answered).drain()
    staff = [r for r in sink.received if r.rcpt_tos[0].endswith("@clinic.example")]
    specialist_email = first.specialist.user.email
    assert sorted(r.rcpt_tos[0] for r in staff) == sorted(
        [specialist_email, "frontdesk@clinic.example"]
    )
    mail = staff[0].parsed()
    assert mail["Subject"].startswith(f"Urgent red flag: {first.client.full_name}")
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    for body in (text, html):
        # The sign and what the clinic does about it; no internal document reference.
        assert "signs of infection: same-day clinician review" in body
        assert "DOMAIN.md" not in body
        assert "told to call the clinic today" in body  # Tuesday 12:00: the clinic is open
        assert "Hot and spreading." in body
        assert "Monday 4 February 2030, 10:00 GMT" in body  # the held session is named
        assert f"/admin/aftercare/alert/{alert.pk}/change/" in body

    # The next session can neither be moved nor a new one booked...
    with pytest.raises(ClientContraindicated, match="next session is on hold") as refused:
        appointment_reschedule(
            appointment=second,
            starts_at=at(MONDAY + 29 * D, 10),
            by=clinic.reception,
            now=answered,
        )
    assert refused.value.code == "clinical_hold"
    with pytest.raises(ClientContraindicated, match="signs of infection"):
        book(clinic, at(MONDAY + 30 * D, 10), now=answered)
    # ...nor, when its day comes, checked in for treatment.
    with pytest.raises(ClientContraindicated, match="started") as refused:
        appointment_set_status(
            appointment=second, status=Status.CHECKED_IN, by=clinic.reception,
            now=at(MONDAY + 28 * D, 9),
        )  # fmt: skip
    second.refresh_from_db()
    assert refused.value.code == "clinical_hold" and second.status == Status.BOOKED
    # ...until a clinician clears the alert, saying why.
    with pytest.raises(PermissionDenied):
        alert_clear(alert=alert, by=clinic.reception, reason="Looked fine", now=answered)
    with pytest.raises(ValidationFailed):
        alert_clear(alert=alert, by=clinic.specialists[0].user, reason="  ", now=answered)
    cleared = alert_clear(
        alert=alert,
        by=clinic.specialists[0].user,
        reason="Seen in clinic: mild irritation, no infection.",
        now=answered + 5 * H,
    )
    assert cleared.cleared_by == clinic.specialists[0].user
    hold.refresh_from_db()
    assert hold.cleared_at == answered + 5 * H
    assert hold.clear_reason == "Seen in clinic: mild irritation, no infection."
    assert AuditEntry.objects.filter(action="aftercare.alert_clear").count() == 1
    moved = appointment_reschedule(
        appointment=second, starts_at=at(MONDAY + 29 * D, 10), by=clinic.reception, now=answered
    )
    assert moved.starts_at == at(MONDAY + 29 * D, 10)


def test_emergency_answers_raise_an_emergency_alert() -> None:
    clinic = clinic_with_emails()
    appt = book(clinic, at(MONDAY, 10))
    result = checkin_record(
        token=token_of(appt),
        answers={**CALM, "toxicity": ["numb_mouth", "palpitations"]},
        now=at(MONDAY, 12),
    )
    assert result.alert is not None and result.alert.severity == "emergency"
    assert result.evaluation.advice == "emergency"
    subjects = {m.template for m in Message.objects.filter(about=f"alert:{result.alert.pk}")}
    assert subjects == {"aftercare/alert"}


def test_answering_twice_keeps_the_first_answers_and_raises_one_alert() -> None:
    clinic = clinic_with_emails()
    appt = book(clinic, at(MONDAY, 10))
    token = token_of(appt, "72h")
    first = checkin_record(
        token=token, answers={**CALM, "blisters": True}, now=at(MONDAY, 10) + 3 * D
    )
    again = checkin_record(token=token, answers=CALM, now=at(MONDAY, 10) + 3 * D + H)
    assert again.replayed and again.checkin.pk == first.checkin.pk
    assert again.checkin.blisters is True and again.alert == first.alert
    assert Alert.objects.count() == 1 and ClinicalHold.objects.count() == 1


def test_a_failed_alert_leaves_no_answers_alert_or_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    clinic = clinic_with_emails()
    appt = book(clinic, at(MONDAY, 10))

    def broken(**kw: Any) -> Any:
        raise RuntimeError("outbox down")

    monkeypatch.setattr("daisy.aftercare.services.message_schedule_many", broken)
    with pytest.raises(RuntimeError):
        checkin_record(token=token_of(appt), answers={**CALM, "fever": True}, now=at(MONDAY, 12))
    assert not CheckIn.objects.exists()
    assert not Alert.objects.exists() and not ClinicalHold.objects.exists()


def test_links_that_cannot_be_answered_say_why() -> None:
    clinic = clinic_with_emails()
    appt = book(clinic, at(MONDAY, 10))
    token = token_of(appt)
    with pytest.raises(NotFound) as early:
        checkin_target_get(token=token, now=at(MONDAY, 9))
    assert early.value.code == "checkin_not_open"
    # Signed, but for a check-in that does not exist.
    unknown = checkin_link(appt, "soon").rsplit("/", 1)[1]
    for bad in ("nonsense", token[:-2] + "xx", token.replace(":", "", 1), unknown):
        with pytest.raises(NotFound) as invalid:
            checkin_target_get(token=bad, now=at(MONDAY, 12))
        assert invalid.value.code == "checkin_link_invalid"
    appointment_cancel(appointment=appt, by=clinic.reception, now=booking_now())
    with pytest.raises(NotFound) as gone:
        checkin_target_get(token=token, now=at(MONDAY, 12))
    assert gone.value.code == "checkin_not_needed"


def test_the_manager_clears_once_and_booking_opens_again() -> None:
    clinic = clinic_with_emails()
    appt = book(clinic, at(MONDAY, 10))
    checkin_record(token=token_of(appt), answers={**CALM, "dark_patches": True}, now=at(MONDAY, 12))
    alert = Alert.objects.get()
    assert alert.severity == "routine"
    with pytest.raises(ClientContraindicated):
        book(clinic, at(MONDAY + 28 * D, 10), now=at(MONDAY, 13))
    reason = "Reviewed photos: PIH, SPF advised."
    alert_clear(alert=alert, by=clinic.manager, reason=reason, now=at(MONDAY, 13))
    with pytest.raises(PolicyViolation, match="already cleared"):
        alert_clear(alert=alert, by=clinic.manager, reason="again", now=at(MONDAY, 14))
    assert book(clinic, at(MONDAY + 28 * D, 10), now=at(MONDAY, 14)).status == Status.BOOKED
    assert not ClinicalHold.objects.filter(cleared_at__isnull=True).exists()


def test_every_red_flag_is_named_in_plain_words_for_the_staff() -> None:
    assert set(ALERT_SUMMARY) == set(RED_FLAG_CODES)
    assert not [text for text in ALERT_SUMMARY.values() if "DOMAIN" in text or "_" in text]
