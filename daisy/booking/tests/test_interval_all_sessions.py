"""DOMAIN.md 1.2 interval rules on every needling session (issue 14: "a gap under 28 days needs a
clinician's recorded reason"): not only between a course's sessions, but between any two active
needling sessions of a client, course or not, before or after. Online the client is refused,
told the other session's day, and not offered those days; reception is refused and told who
can override; a specialist's reason books it, kept (IntervalOverride) and audited. A course
re-plan is judged on where the sessions end up, not on each step."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client as HttpClient

from daisy.accounts.tokens import api_token_create
from daisy.audit.models import AuditEntry
from daisy.booking.courses import SessionTime, course_book
from daisy.booking.services import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    desk_book,
)
from daisy.lib.errors import ClientContraindicated, PermissionDenied
from daisy.records.models import IntervalOverride
from daisy.scheduling.models import Appointment, Status
from tests.support.testing import (
    FORM_NO_TO_ALL,
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


def _standalone(clinic: Any, when: Any, **kwargs: Any) -> Appointment:
    return desk_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=when,
        location=clinic.location,
        by=kwargs.pop("by", clinic.reception),
        now=NOW,
        **kwargs,
    ).appointment


def _signed_in(clinic: Any) -> Any:
    person = clinic.clients[0]
    person.user = make_user(email=person.email)
    person.save()
    return person


def test_reception_cannot_book_a_standalone_session_21_days_after_another(clinic: Any) -> None:
    _standalone(clinic, FIRST)
    with pytest.raises(ClientContraindicated) as refused:
        _standalone(clinic, FIRST + 21 * DAY)
    assert refused.value.code == "interval_too_short"
    assert "21 days" in refused.value.message and "Monday 7 January 2030" in refused.value.message
    assert "specialist or the clinic manager" in refused.value.message
    assert refused.value.fields == {"gap_reason": "required"}
    with pytest.raises(PermissionDenied) as not_theirs:
        _standalone(clinic, FIRST + 21 * DAY, gap_reason="The client asked")
    assert not_theirs.value.code == "interval_override_not_allowed"
    assert Appointment.objects.count() == 1 and not IntervalOverride.objects.exists()


def test_a_session_21_days_before_an_existing_one_is_refused_too(clinic: Any) -> None:
    later = _standalone(clinic, FIRST + 21 * DAY)
    with pytest.raises(ClientContraindicated) as refused:
        _standalone(clinic, FIRST)
    assert refused.value.code == "interval_too_short"
    assert refused.value.extra["neighbour"] == str(later.pk)
    assert "Monday 28 January 2030" in refused.value.message
    assert Appointment.objects.count() == 1


def test_28_days_either_side_needs_no_reason_and_other_clients_do_not_count(
    clinic: Any,
) -> None:
    _standalone(clinic, FIRST + 28 * DAY)
    _standalone(clinic, FIRST)
    _standalone(clinic, FIRST + 56 * DAY)
    desk_book(
        client=clinic.clients[1],
        treatment=clinic.microneedling,
        starts_at=FIRST + 7 * DAY,
        location=clinic.location,
        by=clinic.reception,
        now=NOW,
    )
    assert Appointment.objects.count() == 4 and not IntervalOverride.objects.exists()


def test_a_cancelled_session_does_not_count(clinic: Any) -> None:
    first = _standalone(clinic, FIRST)
    Appointment.objects.filter(pk=first.pk).update(status=Status.CANCELLED)
    assert _standalone(clinic, FIRST + 21 * DAY).status == Status.BOOKED


def test_a_clinicians_reason_books_it_kept_and_audited(clinic: Any) -> None:
    first = _standalone(clinic, FIRST)
    specialist = clinic.specialists[0].user
    second = _standalone(
        clinic, FIRST + 21 * DAY, by=specialist, gap_reason="Wedding on day 30; healed well"
    )
    override = IntervalOverride.objects.get()
    assert override.appointment == second and override.neighbour == first
    assert override.gap_days == 21 and override.by == specialist
    assert override.reason == "Wedding on day 30; healed well"
    entry = AuditEntry.objects.get(action="interval.override")
    assert entry.data["gap_days"] == 21 and entry.data["neighbour"] == str(first.pk)
    made = AuditEntry.objects.get(action="appointment.book", object_id=str(second.pk))
    assert made.data["short_interval"]["reason"] == "Wedding on day 30; healed well"


def test_a_course_next_to_a_standalone_session_needs_a_reason(clinic: Any) -> None:
    _standalone(clinic, FIRST)
    times = [SessionTime(FIRST + (21 + 28 * k) * DAY) for k in range(3)]
    with pytest.raises(ClientContraindicated) as refused:
        course_book(
            client=clinic.clients[0],
            treatment=clinic.microneedling,
            booked_by=clinic.reception,
            now=NOW,
            session_times=times,
        )
    assert refused.value.code == "interval_too_short"
    assert refused.value.message.startswith("Session 1:")
    assert Appointment.objects.count() == 1


def test_moving_a_standalone_session_into_the_window_needs_a_reason(clinic: Any) -> None:
    _standalone(clinic, FIRST)
    second = _standalone(clinic, FIRST + 35 * DAY)
    with pytest.raises(ClientContraindicated) as refused:
        appointment_reschedule(
            appointment=second, starts_at=FIRST + 21 * DAY, by=clinic.reception, now=NOW
        )
    assert refused.value.code == "interval_too_short"
    second.refresh_from_db()
    assert second.starts_at == FIRST + 35 * DAY
    moved = appointment_reschedule(
        appointment=second,
        starts_at=FIRST + 21 * DAY,
        by=clinic.specialists[0].user,
        now=NOW,
        gap_reason="Event on day 26",
    )
    assert moved.starts_at == FIRST + 21 * DAY
    assert IntervalOverride.objects.get().gap_days == 21
    # Moving it within its own 28-day neighbourhood is not measured against its old time.
    assert (
        appointment_reschedule(
            appointment=second, starts_at=FIRST + 42 * DAY, by=clinic.reception, now=NOW
        ).starts_at
        == FIRST + 42 * DAY
    )


def test_a_client_moving_online_is_told_the_other_sessions_day(clinic: Any) -> None:
    person = _signed_in(clinic)
    _standalone(clinic, FIRST + 35 * DAY)
    mine = _standalone(clinic, FIRST)
    with pytest.raises(ClientContraindicated) as refused:
        appointment_reschedule(
            appointment=mine, starts_at=FIRST + 14 * DAY, by=person.user, now=NOW
        )
    assert refused.value.code == "interval_too_short"
    assert "Monday 11 February 2030" in refused.value.message
    assert "specialist" not in refused.value.message


def test_a_client_booking_for_themselves_cannot_override(clinic: Any) -> None:
    person = _signed_in(clinic)
    _standalone(clinic, FIRST)
    with pytest.raises(ClientContraindicated) as refused:
        appointment_book(
            client=person,
            treatment=clinic.microneedling,
            starts_at=FIRST + 21 * DAY,
            booked_by=person.user,
            now=NOW,
            location=clinic.location,
            prescreen=PRESCREEN_CLEAR,
            precare_confirmed=precare_keys(clinic.microneedling),
            gap_reason="I am sure",
        )
    assert refused.value.code == "interval_too_short"
    assert "Monday 7 January 2030" in refused.value.message
    assert Appointment.objects.count() == 1


def _visible(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_online_the_days_too_close_are_not_offered_and_a_chosen_one_is_refused(
    clinic: Any, site_content: Any
) -> None:
    person = _signed_in(clinic)
    _standalone(clinic, FIRST)
    http = HttpClient()
    with time_machine.travel(NOW, tick=False):
        http.force_login(person.user)
        assert http.get("/book/?treatment=microneedling").url == "/book/areas/"
        http.post("/book/areas/", {"areas": ["Cheeks"]})
        http.post("/book/clinic/", {"location": str(clinic.location.pk), "specialist": "anyone"})
        page = _visible(http.get("/book/time/?day=2030-01-28").content.decode())
        assert "You have a needling session on Monday 7 January 2030" in page
        # The week of the 28th is all inside the 28 days: the next free day is 4 February.
        assert "Monday 4 February 2030" in page
        # A time from that week, sent anyway (an old page), is refused in words.
        refused = http.post(
            "/book/time/", {"start": (FIRST + 21 * DAY).isoformat(), "day": "2030-01-28"}
        )
        text = _visible(refused.content.decode())
        assert "Needling sessions are at least 28 days apart" in text
        assert "you have Micro-needling on Monday 7 January 2030" in text
        # 28 days on is fine, through to the booking.
        assert (
            http.post("/book/time/", {"start": (FIRST + 28 * DAY).isoformat()}).url
            == "/book/health-check/"
        )
        http.post("/book/health-check/", FORM_NO_TO_ALL)
        http.post("/book/review/", {"precare": precare_keys(clinic.microneedling)})
    assert Appointment.objects.filter(starts_at=FIRST + 28 * DAY).exists()


def test_the_api_refuses_a_booking_21_days_after_and_takes_a_clinicians_reason(
    clinic: Any,
) -> None:
    def post(user: Any, body: dict[str, Any], key: str) -> Any:
        token = api_token_create(user=user, name="t", now=NOW).raw
        return HttpClient().post(
            "/api/v1/appointments",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_IDEMPOTENCY_KEY=key,
        )

    with time_machine.travel(NOW, tick=False):
        _standalone(clinic, FIRST)
        body = {
            "client": str(clinic.clients[0].pk),
            "treatment": "microneedling",
            "start": (FIRST + 21 * DAY).isoformat(),
        }
        refused = post(clinic.reception, body, "k1")
        assert refused.status_code == 409, refused.json()
        assert refused.json()["error"]["code"] == "interval_too_short"
        not_theirs = post(clinic.reception, {**body, "gap_reason": "asked"}, "k2")
        assert not_theirs.status_code == 403
        assert not_theirs.json()["error"]["code"] == "interval_override_not_allowed"
        made = post(clinic.specialists[0].user, {**body, "gap_reason": "Three-week protocol"}, "k3")
        assert made.status_code == 201, made.content
    assert IntervalOverride.objects.get().reason == "Three-week protocol"


def test_the_desk_booking_page_asks_a_clinician_for_the_reason(clinic: Any) -> None:
    _standalone(clinic, FIRST)
    choice = f"{(FIRST + 21 * DAY).isoformat()}|"
    body = {
        "location": str(clinic.location.pk),
        "client": str(clinic.clients[0].pk),
        "treatment": "microneedling",
        "on": "2030-01-28",
        "choice": choice,
    }
    with time_machine.travel(NOW, tick=False):
        http = staff_login(HttpClient(), clinic.reception)
        refused = http.post("/desk/book/", body)
        text = refused.content.decode()
        assert refused.status_code == 409
        assert "A specialist or the clinic manager can still book it" in text
        assert 'name="gap_reason"' not in text
        http = staff_login(HttpClient(), clinic.specialists[0].user)
        asked = http.post("/desk/book/", body)
        assert 'name="gap_reason"' in asked.content.decode()
        booked = http.post("/desk/book/", {**body, "gap_reason": "Skin healed; event on day 25"})
        assert booked.status_code == 302
    assert IntervalOverride.objects.get().reason == "Skin healed; event on day 25"


def test_a_course_re_plan_is_judged_on_where_the_sessions_end_up(clinic: Any) -> None:
    """Session 2 moved ten days later: session 3 (now 18 days after it) follows to keep 28 days,
    and nothing asks for a reason, though session 2's new time is 18 days from session 3's
    old one."""
    booked = course_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        booked_by=clinic.reception,
        now=NOW,
        session_times=[SessionTime(FIRST + 28 * k * DAY) for k in range(3)],
    )
    _first, second, third = booked.appointments
    moved = appointment_reschedule(
        appointment=second, starts_at=FIRST + 38 * DAY, by=clinic.reception, now=NOW
    )
    third.refresh_from_db()
    tz = clinic.location.tz
    gap = (third.starts_at.astimezone(tz).date() - moved.starts_at.astimezone(tz).date()).days
    assert gap >= 28
    assert not IntervalOverride.objects.exists()


def test_a_move_the_re_plan_cannot_follow_keeps_the_rule(clinic: Any) -> None:
    """A course whose re-plan cannot place session 3 clear of a standalone session: the re-plan
    fails, session 3 stays, and a move 21 days from it is refused at reception."""
    booked = course_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        booked_by=clinic.reception,
        now=NOW,
        session_times=[SessionTime(FIRST + 28 * k * DAY) for k in range(3)],
    )
    # A standalone session 28 days after session 3: session 3 can only move earlier.
    _standalone(clinic, FIRST + 84 * DAY)
    _first, second, third = booked.appointments
    with pytest.raises(ClientContraindicated) as refused:
        appointment_reschedule(
            appointment=second, starts_at=FIRST + 35 * DAY, by=clinic.reception, now=NOW
        )
    assert refused.value.code == "interval_too_short"
    second.refresh_from_db()
    third.refresh_from_db()
    assert second.starts_at == FIRST + 28 * DAY and third.starts_at == FIRST + 56 * DAY


def test_a_plans_short_interval_reason_covers_its_own_sessions_only(clinic: Any) -> None:
    """A clinician allowed 21 days between this course's sessions: reception books the course
    on that reason, but not a session of it 21 days after a standalone session."""
    from daisy.courses.services import plan_accept, plan_create

    specialist = clinic.specialists[0].user

    def accepted_plan() -> Any:
        plan = plan_create(
            client=clinic.clients[0],
            treatment=clinic.microneedling,
            by=specialist,
            now=NOW,
            sessions=3,
            interval_days=21,
            interval_override_reason="El-Domyati protocol",
        )
        return plan_accept(plan=plan, by=clinic.reception, now=NOW)

    def book_on(plan: Any, first: Any) -> Any:
        return course_book(
            client=clinic.clients[0],
            treatment=clinic.microneedling,
            booked_by=clinic.reception,
            now=NOW,
            plan=plan,
            session_times=[SessionTime(first + 21 * k * DAY) for k in range(3)],
        )

    booked = book_on(accepted_plan(), FIRST)
    assert {o.reason for o in IntervalOverride.objects.all()} == {"El-Domyati protocol"}
    for appt in booked.appointments:
        appointment_cancel(appointment=appt, by=clinic.reception, now=NOW)
    IntervalOverride.objects.all().delete()
    _standalone(clinic, FIRST)
    with pytest.raises(ClientContraindicated) as refused:
        book_on(accepted_plan(), FIRST + 21 * DAY)
    assert refused.value.code == "interval_too_short"
    assert "Monday 7 January 2030" in refused.value.message
