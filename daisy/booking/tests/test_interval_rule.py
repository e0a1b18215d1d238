"""DOMAIN.md 1.2 interval rules (issue 14): a course's needling sessions are at least 28 days
after the course's previous session. A course booked with closer sessions (by reception, whose
window allowed 21 days), or a session moved closer to the one before, is refused unless a
specialist or the manager gives a reason, which is kept (IntervalOverride) and audited. Staff
are told who can override; a client booking for themselves cannot."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client as HttpClient

from daisy.accounts.tokens import api_token_create
from daisy.audit.models import AuditEntry
from daisy.booking.courses import SessionTime, course_book
from daisy.booking.diary import appointment_version
from daisy.booking.services import appointment_reschedule
from daisy.lib.errors import ClientContraindicated, PermissionDenied
from daisy.records.models import IntervalOverride
from daisy.scheduling.models import Appointment
from tests.support.testing import (
    MONDAY,
    PRESCREEN_CLEAR,
    at,
    booking_now,
    make_user,
    precare_keys,
    staff_login,
)

pytestmark = pytest.mark.django_db

NOW = booking_now()
FIRST = at(MONDAY, 10)
DAY = timedelta(days=1)


def _course(clinic: Any, by: Any, gap_days: int, reason: str = "") -> Any:
    return course_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        booked_by=by,
        now=NOW,
        session_times=[SessionTime(FIRST + k * gap_days * DAY) for k in range(3)],
        interval_override_reason=reason,
    )


def test_reception_cannot_book_a_course_21_days_apart_and_is_told_who_can(clinic: Any) -> None:
    with pytest.raises(ClientContraindicated) as refused:
        _course(clinic, clinic.reception, 21)
    assert refused.value.code == "interval_too_short"
    assert "21 days" in refused.value.message
    assert "specialist or the clinic manager" in refused.value.message
    assert refused.value.fields == {"gap_reason": "required"}
    with pytest.raises(PermissionDenied):
        _course(clinic, clinic.reception, 21, reason="Client asked")
    assert not Appointment.objects.exists() and not IntervalOverride.objects.exists()


def test_28_days_needs_no_reason(clinic: Any) -> None:
    assert len(_course(clinic, clinic.reception, 28).appointments) == 3
    assert not IntervalOverride.objects.exists()


def test_a_clinicians_reason_is_kept_and_audited(clinic: Any) -> None:
    specialist = clinic.specialists[0].user
    booked = _course(clinic, specialist, 21, reason="El-Domyati protocol, three weeks")
    overrides = list(IntervalOverride.objects.order_by("at", "gap_days"))
    assert len(overrides) == 2
    assert {o.appointment for o in overrides} == set(booked.appointments[1:])
    assert overrides[0].neighbour == booked.appointments[0]
    assert {o.gap_days for o in overrides} == {21} and overrides[0].by == specialist
    entries = AuditEntry.objects.filter(action="interval.override")
    assert entries.count() == 2
    assert entries.first().data["reason"] == "El-Domyati protocol, three weeks"
    made = AuditEntry.objects.get(
        action="appointment.book", object_id=str(booked.appointments[1].pk)
    )
    assert made.data["short_interval"]["gap_days"] == 21


def test_a_client_online_cannot_override(clinic: Any) -> None:
    user = make_user()
    client = clinic.clients[0]
    client.user = user
    client.save()
    with pytest.raises(ClientContraindicated) as refused:
        course_book(
            client=client,
            treatment=clinic.microneedling,
            booked_by=user,
            now=NOW,
            session_times=[SessionTime(FIRST + k * 21 * DAY) for k in range(3)],
            prescreen=PRESCREEN_CLEAR,
            precare_confirmed=precare_keys(clinic.microneedling),
        )
    assert refused.value.code == "interval_too_short"
    assert "specialist" not in refused.value.message
    assert not Appointment.objects.exists()


def test_moving_a_session_too_close_to_the_one_before_needs_a_reason(clinic: Any) -> None:
    first, second, _third = _course(clinic, clinic.reception, 28).appointments
    with pytest.raises(ClientContraindicated) as refused:
        appointment_reschedule(
            appointment=second, starts_at=FIRST + 19 * DAY, by=clinic.reception, now=NOW
        )
    assert refused.value.code == "interval_too_short"
    specialist = clinic.specialists[0].user
    moved = appointment_reschedule(
        appointment=second,
        starts_at=FIRST + 19 * DAY,
        by=specialist,
        now=NOW,
        gap_reason="Healed well; event on day 25",
    )
    assert moved.starts_at == FIRST + 19 * DAY
    override = IntervalOverride.objects.get()
    # Measured against the session before (19 days), never against its own old time.
    assert override.gap_days == 19 and override.neighbour == first


def test_the_desk_says_who_can_and_a_clinician_gives_the_reason(clinic: Any) -> None:
    with time_machine.travel(NOW, tick=False):
        _first, second, _third = _course(clinic, clinic.reception, 28).appointments
        choice = f"{(FIRST + 19 * DAY).isoformat()}|"
        url = f"/desk/appointments/{second.pk}/move/"
        http = staff_login(HttpClient(), clinic.reception)
        refused = http.post(url, {"choice": choice, "version": appointment_version(second)})
        text = refused.content.decode()
        assert refused.status_code == 409
        assert "A specialist or the clinic manager can still book it" in text
        assert 'name="gap_reason"' not in text  # reception reads who can, and cannot give one
        http = staff_login(HttpClient(), clinic.specialists[0].user)
        refused = http.post(url, {"choice": choice, "version": appointment_version(second)})
        assert 'name="gap_reason"' in refused.content.decode()
        moved = http.post(
            url,
            {
                "choice": choice,
                "version": appointment_version(second),
                "gap_reason": "Event on day 25; skin healed",
            },
        )
        assert moved.status_code == 302
    assert IntervalOverride.objects.get().reason == "Event on day 25; skin healed"


def test_the_api_takes_a_clinicians_reason(clinic: Any) -> None:
    def post(user: Any, body: dict[str, Any]) -> Any:
        token = api_token_create(user=user, name="t", now=NOW).raw
        return HttpClient().post(
            f"/api/v1/appointments/{second.pk}/reschedule",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )

    with time_machine.travel(NOW, tick=False):
        _first, second, _third = _course(clinic, clinic.reception, 28).appointments
        body = {"start": (FIRST + 19 * DAY).isoformat()}
        refused = post(clinic.reception, body)
        assert refused.status_code == 409, refused.json()
        assert refused.json()["error"]["code"] == "interval_too_short"
        assert post(clinic.reception, {**body, "gap_reason": "asked"}).status_code == 403
        moved = post(clinic.specialists[0].user, {**body, "gap_reason": "Three-week protocol"})
        assert moved.status_code == 200, moved.content
    assert IntervalOverride.objects.get().reason == "Three-week protocol"
