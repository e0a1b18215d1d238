"""The owner reports' figures against answers worked out by hand on a fixed week
(report_data.py says what happened; each test says how its numbers come out)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from daisy.booking import reports
from daisy.booking.tests.report_data import ReportClinic, make_report_clinic


@pytest.fixture
def data(db: Any) -> ReportClinic:
    return make_report_clinic()


def test_utilisation_divides_booked_by_open_minutes(data: ReportClinic) -> None:
    rows = {r.name: r for r in reports.utilisation(data.period(data.london))}
    s0, s1, _s2 = data.specialists
    room = data.clinic.rooms[0]
    pen = data.clinic.devices[0]
    # Room: A1, A2, A6, A7, A9 hold it 80 minutes each (A3's no-show and the cancellations
    # released theirs); open 10 h Mon, Tue, Thu, Fri, 4 h Saturday, Wednesday closed.
    assert (rows[room.name].booked_minutes, rows[room.name].open_minutes) == (400, 2640)
    assert rows[pen.name].booked_minutes == 5 * 40
    assert rows[pen.name].open_minutes == 2640
    assert (rows[s0.name].booked_minutes, rows[s0.name].open_minutes) == (30, 2640)
    # S1: A2, A6, A7, A9 at 30 minutes; Tuesday off.
    assert (rows[s1.name].booked_minutes, rows[s1.name].open_minutes) == (120, 2040)
    assert rows[s1.name].share == pytest.approx(120 / 2040)
    assert [r.kind for r in rows.values()] == ["specialist", "specialist", "room", "device"]


def test_utilisation_of_every_location_reads_each_in_its_own_hours(data: ReportClinic) -> None:
    rows = {r.name: r for r in reports.utilisation(data.period())}
    s2 = data.specialists[2]
    # Uptown opens 12 h every day of its own week; B1 and B2 (the Sunday evening, Monday in
    # London) are both inside it.
    assert (rows[s2.name].booked_minutes, rows[s2.name].open_minutes) == (60, 7 * 720)
    assert len(rows) == 3 + 2 + 2


def test_no_show_and_late_cancellation_rates(data: ReportClinic) -> None:
    found = reports.attendance(data.period(data.london))
    s0, s1, _s2 = data.specialists
    by = {r.specialist: r for r in found.rows}
    # S0: A1, A3, A4, A5; A4 and A5 cancelled (A4 late), A3 a no-show: 1 of the 2 still on.
    assert (by[s0.name].appointments, by[s0.name].cancelled, by[s0.name].late_cancelled) == (
        4,
        2,
        1,
    )
    assert by[s0.name].no_show_rate == pytest.approx(0.5)
    assert by[s0.name].late_cancel_rate == pytest.approx(0.25)
    assert (by[s1.name].no_show_rate, by[s1.name].late_cancel_rate) == (0, 0)
    # The week: 8 appointments, 2 cancelled (1 late), 1 no-show of the 6 still on.
    total = found.total
    assert (total.appointments, total.due, total.no_shows, total.late_cancelled) == (8, 6, 1, 1)
    assert total.no_show_rate == pytest.approx(1 / 6)
    assert total.late_cancel_rate == pytest.approx(1 / 8)


def test_revenue_of_completed_sessions_at_their_booked_price(data: ReportClinic) -> None:
    found = reports.revenue(data.period(data.london))
    s0, s1, _s2 = data.specialists
    # A1 240, A2 200 (agreed at booking), A7 240, A9 240.
    assert [(r.name, r.sessions, r.amount) for r in found.by_treatment] == [
        ("Micro-needling", 4, Decimal("920.00"))
    ]
    assert {(r.name, r.sessions, r.amount) for r in found.by_specialist} == {
        (s0.name, 1, Decimal("240.00")),
        (s1.name, 3, Decimal("680.00")),
    }
    assert [(r.currency, r.amount) for r in found.totals] == [("GBP", Decimal("920.00"))]


def test_revenue_filters_by_location_in_its_own_zone(data: ReportClinic) -> None:
    uptown = reports.revenue(data.period(data.uptown))
    # B2 starts at 00:30 on the 14th in London but 19:30 on the 13th in New York: inside.
    assert [(r.name, r.sessions, r.amount) for r in uptown.by_location] == [
        ("Uptown", 2, Decimal("480.00"))
    ]
    everywhere = reports.revenue(data.period())
    assert [(r.sessions, r.amount) for r in everywhere.totals] == [(6, Decimal("1400.00"))]
    assert len(everywhere.by_location) == 2
    # The Monday alone, everywhere: A1, A2 in London and B1 in New York.
    monday = reports.revenue(data.period(last_day=data.period().first_day))
    assert [(r.sessions, r.amount) for r in monday.totals] == [(3, Decimal("680.00"))]


def test_course_completion_and_drop_off_by_session_number(data: ReportClinic) -> None:
    found = reports.courses(data.period(data.london))
    # P1 1 of 3 done, A6 booked; P2 none done, stopped; P3 2 of 2; P4 1 of 4, nothing booked.
    assert (found.courses, found.finished, found.stopped) == (4, 1, 2)
    assert [(s.number, s.planned, s.completed, s.stopped_before) for s in found.steps] == [
        (1, 4, 3, 1),
        (2, 4, 1, 1),
        (3, 3, 0, 0),
        (4, 1, 0, 0),
    ]
    assert found.completion_rate == pytest.approx(0.25)
    assert reports.courses(data.period(data.uptown)).courses == 0


def test_rebooking_within_n_days(data: ReportClinic) -> None:
    found = reports.rebooking(data.period(data.london))
    s0, s1, _s2 = data.specialists
    # Client 0 (A1) has A6 booked; client 1 (A2) has A7; client 3 (A9) booked A10 on 15 Feb,
    # 34 days after A9 ended.
    assert (found.total.clients, found.total.rebooked) == (3, 2)
    by = {r.specialist: (r.clients, r.rebooked) for r in found.rows}
    assert by == {s0.name: (1, 1), s1.name: (2, 1)}
    longer = reports.rebooking(data.period(data.london, rebook_days=40))
    assert (longer.total.clients, longer.total.rebooked) == (3, 3)
    # Every location: client 2's B1 was followed by B2.
    assert (reports.rebooking(data.period()).total.rebooked) == 3


def test_message_delivery_by_channel(data: ReportClinic) -> None:
    rows, zone = reports.delivery(data.period())
    assert zone.key == "Europe/London"
    by = {r.channel: r for r in rows}
    email, sms = by["email"], by["sms"]
    assert (email.messages, email.sent, email.failed, email.unknown, email.resent) == (
        5,
        3,
        1,
        1,
        1,
    )
    assert email.failure_rate == pytest.approx(1 / 5)
    assert (sms.messages, sms.sent, sms.waiting, sms.cancelled) == (4, 2, 1, 1)


def test_each_report_costs_the_same_queries_however_much_data(data: ReportClinic) -> None:
    period = data.period()

    def counts() -> list[int]:
        out = []
        for report in (
            reports.utilisation,
            reports.attendance,
            reports.revenue,
            reports.courses,
            reports.rebooking,
            reports.delivery,
        ):
            report(period)  # the calendars' set-up is cached after the first read
            with CaptureQueriesContext(connection) as seen:
                report(period)
            out.append(len(seen))
        return out

    before = counts()
    extra = make_report_clinic()  # a second clinic week's rows, doubled
    assert extra
    assert counts() == before
    assert max(before) <= 8
