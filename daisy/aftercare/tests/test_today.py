"""aftercare_today_for_client (issue 6 item 2, for the portal's "Your aftercare today"): what to
avoid and what is fine again today, in the location's local time, for the most recent session;
plus the whole dated timeline to print."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from daisy.aftercare.selectors import aftercare_today_for_client
from daisy.booking.services import appointment_book, appointment_cancel
from tests.support.testing import MONDAY, at, booking_now, make_clinic

pytestmark = pytest.mark.django_db
D = timedelta(days=1)


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    settings.DAISY_MESSAGE_ENQUEUE_TASK = False


def book(clinic: Any, start: Any) -> Any:
    return appointment_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=start,
        booked_by=clinic.reception,
        now=booking_now(start.date()),
    ).appointment


def texts(lines: Any) -> list[str]:
    return [line.text for line in lines]


def test_the_day_after_a_session() -> None:
    clinic = make_clinic()
    appt = book(clinic, at(MONDAY, 10))
    today = aftercare_today_for_client(clinic.clients[0], at(MONDAY + D, 8))
    assert today is not None and today.appointment == appt
    assert today.session_when == "Monday 7 January 2030, 10:00 GMT (Europe/London)"
    assert today.zone == "Europe/London"
    avoid = texts(today.avoid)
    assert "Strictly avoid the sun from now until Tuesday 8 January, 10:00 GMT" in avoid
    assert any(
        t.startswith("No sweaty exercise") and "until Thursday 10 January, 10:00 GMT" in t
        for t in avoid
    )
    # Makeup is fine again later today, at the session's clock time; daily SPF starts.
    assert set(texts(today.allowed)) == {
        "A gentle cleanser, mineral sunscreen (SPF 30+) and makeup are fine again from "
        "Tuesday 8 January, 10:00 GMT",
        "Broad-spectrum SPF 30+ every day and as little sun as you can from Tuesday 8 January, "
        "10:00 GMT until Monday 21 January, 10:00 GMT",
    }
    assert all(line.source.startswith("Aftercare, ") for line in today.avoid)
    # The printable timeline has every step, pre-care included, with dates, never "now".
    assert len(today.timeline) >= 10
    assert not any("from now" in t for t in texts(today.timeline))
    assert "Drinking enough water" in today.general_advice


def test_a_week_later_the_usual_routine_is_back() -> None:
    clinic = make_clinic()
    book(clinic, at(MONDAY, 10))
    today = aftercare_today_for_client(clinic.clients[0], at(MONDAY + 7 * D, 12))
    assert today is not None
    assert any(t.startswith("Back to your usual skincare routine") for t in texts(today.allowed))
    assert not any(t.startswith("No retinoids") for t in texts(today.avoid))


def test_local_day_across_the_clocks_going_forward() -> None:
    clinic = make_clinic(hours={d: (9, 19) for d in range(7)})
    sunday_change = date(2030, 3, 31)  # BST starts at 01:00 UTC
    book(clinic, at(sunday_change - D, 10))
    today = aftercare_today_for_client(clinic.clients[0], at(sunday_change, 9))
    assert today is not None
    assert "Strictly avoid the sun from now until Sunday 31 March, 10:00 BST" in texts(today.avoid)


def test_the_most_recent_session_that_has_started_counts() -> None:
    clinic = make_clinic()
    client = clinic.clients[0]
    assert aftercare_today_for_client(client, at(MONDAY, 9)) is None
    first = book(clinic, at(MONDAY, 10))
    later = book(clinic, at(MONDAY + 28 * D, 10))
    assert aftercare_today_for_client(client, at(MONDAY + 2 * D, 9)).appointment == first
    assert aftercare_today_for_client(client, at(MONDAY + 29 * D, 9)).appointment == later
    appointment_cancel(appointment=later, by=clinic.reception, now=booking_now())
    assert aftercare_today_for_client(client, at(MONDAY + 29 * D, 9)).appointment == first
