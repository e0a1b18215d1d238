"""The owner reports' fixed data set (issue 16, item 5): a small clinic week whose every figure
was worked out by hand (the numbers are written beside each test that reads them).

London ("Clinic N", Mon-Sat 09:00-19:00; one room, one pen, specialists S0 and S1) over the week
of Monday 7 January 2030 (GMT: local time is UTC):
- Wednesday 9th closed (a closure); Saturday 12th open 09:00-13:00 only (an override); S1 off
  all of Tuesday 8th (time off). Open minutes: room, pen and S0 600+600+0+600+600+240 = 2640,
  S1 2640 - 600 = 2040.
- Micro-needling: the room 80 minutes, the pen 40 (needling, post-care, clean-down), the
  specialist 30 (consultation 10 + needling 20); GBP 240.
  A1 Mon 10:00 S0 client 0, completed, 240
  A2 Mon 12:00 S1 client 1, completed, price agreed 200
  A3 Tue 10:00 S0 client 2, no-show
  A4 Tue 14:00 S0 client 3, cancelled Mon 12:00 (26 h before: late)
  A5 Thu 10:00 S0 client 0, cancelled Mon 09:00 (73 h before: not late)
  A6 Fri 10:00 S1 client 0, still booked
  A7 Thu 14:00 S1 client 1, completed, 240
  A9 Sat 10:00 S1 client 3, completed, 240
  A10 Mon 18 Feb 10:00 S1 client 3, booked on 15 Feb (outside the week)
Every booking but A10 was made on Tuesday 1 January.

Uptown (New York, every day 09:00-21:00; specialist S2, a room and a pen):
  B1 Mon 7 Jan 10:00 local, client 2, completed, 240
  B2 Sun 13 Jan 19:30 local (00:30 on the 14th in London), client 2, completed, 240

Courses (London): P1 3 sessions, A1 completed + A6 booked (under way); P2 3 sessions, A3 a
no-show, stopped; P3 2 sessions, A2 and A7 completed (finished); P4 4 sessions, A9 completed and
nothing else booked (dropped after session 1).

Messages due that week (London days): email sent 3 (one re-sent after an unknown outcome),
failed 1, outcome unknown 1; SMS sent 2, pending 1, cancelled 1; and one email due on Monday
14th (outside)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from daisy.booking.reports import Period
from daisy.booking.services import appointment_book, appointment_cancel
from daisy.clinic.models import Closure, DateOverride, Location, TimeOff
from daisy.courses.models import Plan, PlanSession, PlanStatus
from daisy.notifications.models import Message, MessageStatus
from daisy.scheduling.models import Appointment, Status
from daisy.scheduling.services import appointment_set_status
from tests.support.testing import (
    MONDAY,
    Clinic,
    at,
    make_client,
    make_clinic,
    make_device,
    make_location,
    make_room,
    make_specialist,
)

NEW_YORK = ZoneInfo("America/New_York")
SUNDAY = MONDAY + timedelta(days=6)
WEEK = Period(first_day=MONDAY, last_day=SUNDAY)
BOOKED_ON = at(date(2030, 1, 1), 8)


@dataclass
class ReportClinic:
    clinic: Clinic
    london: Location
    uptown: Location
    specialists: list[Any]
    appointments: dict[str, Appointment]

    def period(self, location: Location | None = None, **kw: Any) -> Period:
        return Period(
            first_day=kw.pop("first_day", MONDAY),
            last_day=kw.pop("last_day", SUNDAY),
            location_id=location.pk if location is not None else None,
            **kw,
        )


def _day(n: int) -> date:
    return MONDAY + timedelta(days=n)


def make_report_clinic() -> ReportClinic:
    clinic = make_clinic(specialists=2, rooms=1, pens=1, clients=4)
    london = clinic.location
    s0, s1 = clinic.specialists
    Closure.objects.create(location=london, on=_day(2), name="Staff training")
    DateOverride.objects.create(location=london, on=_day(5), opens_at=time(9), closes_at=time(13))
    TimeOff.objects.create(
        resource=s1, starts_at=at(_day(1), 0), ends_at=at(_day(2), 0), reason="Holiday"
    )
    uptown = make_location(
        name="Uptown", time_zone="America/New_York", hours={d: (9, 21) for d in range(7)}
    )
    s2 = make_specialist(uptown)
    make_room(uptown)
    make_device(uptown)
    c = clinic.clients
    treatment = clinic.microneedling
    r = clinic.reception

    def book(
        client: Any,
        when: datetime,
        specialist: Any,
        where: Location = london,
        now: datetime = BOOKED_ON,
    ) -> Appointment:
        # A week of data has a client's sessions days apart: the manager books them, with the
        # reason a clinician must give for needling sessions under 28 days apart (DOMAIN.md 1.2).
        return appointment_book(
            client=client,
            treatment=treatment,
            starts_at=when,
            booked_by=clinic.manager,
            now=now,
            location=where,
            specialist=specialist,
            gap_reason="Report test data: sessions days apart",
        ).appointment

    def done(appt: Appointment) -> None:
        appointment_set_status(appointment=appt, status=Status.COMPLETED, by=r, now=appt.ends_at)

    a = {
        "A1": book(c[0], at(_day(0), 10), s0),
        "A2": book(c[1], at(_day(0), 12), s1),
        "A3": book(c[2], at(_day(1), 10), s0),
        "A4": book(c[3], at(_day(1), 14), s0),
        "A5": book(c[0], at(_day(3), 10), s0),
        "A6": book(c[0], at(_day(4), 10), s1),
        "A7": book(c[1], at(_day(3), 14), s1),
        "A9": book(c[3], at(_day(5), 10), s1),
        "A10": book(c[3], at(date(2030, 2, 18), 10), s1, now=at(date(2030, 2, 15), 9)),
        "B1": book(c[2], at(_day(0), 10, tz=NEW_YORK), s2, uptown),
        "B2": book(c[2], at(_day(6), 19, 30, tz=NEW_YORK), s2, uptown),
    }
    Appointment.objects.filter(pk=a["A2"].pk).update(price=Decimal("200.00"))
    for key in ("A1", "A2", "A7", "A9", "B1", "B2"):
        done(a[key])
    appointment_set_status(
        appointment=a["A3"], status=Status.NO_SHOW, by=r, now=at(_day(1), 10, 30)
    )
    appointment_cancel(appointment=a["A4"], by=r, now=at(_day(0), 12))
    appointment_cancel(appointment=a["A5"], by=r, now=at(_day(0), 9))

    def plan(sessions: int, status: str, *keys: str) -> Plan:
        first = a[keys[0]]
        p = Plan.objects.create(
            client=first.client,
            treatment=treatment,
            location=london,
            specialist=first.specialist,
            status=status,
            sessions=sessions,
            created_at=BOOKED_ON,
            updated_at=BOOKED_ON,
        )
        for key in keys:
            PlanSession.objects.create(plan=p, appointment=a[key])
        return p

    plan(3, PlanStatus.IN_PROGRESS, "A1", "A6")
    plan(3, PlanStatus.STOPPED, "A3")
    plan(2, PlanStatus.COMPLETED, "A2", "A7")
    plan(4, PlanStatus.IN_PROGRESS, "A9")

    # The bookings' own messages are replaced by a fixed set.
    Message.objects.all().delete()
    counter = iter(range(1000))

    def message(channel: str, status: str, due: datetime, unknown: int = 0) -> None:
        Message.objects.create(
            channel=channel,
            recipient="client@example.com" if channel == "email" else "+447700900500",
            template="reminder",
            dedupe_key=f"report-test-{next(counter)}",
            about="test",
            send_after=due,
            status=status,
            unknown_outcomes=unknown,
            created_at=BOOKED_ON,
        )

    mon = at(_day(0), 9)
    for _ in range(2):
        message("email", MessageStatus.SENT, mon)
    message("email", MessageStatus.SENT, at(_day(6), 23, 59), unknown=1)
    message("email", MessageStatus.FAILED, mon)
    message("email", MessageStatus.OUTCOME_UNKNOWN, mon)
    message("sms", MessageStatus.SENT, mon)
    message("sms", MessageStatus.SENT, mon)
    message("sms", MessageStatus.PENDING, mon)
    message("sms", MessageStatus.CANCELLED, mon)
    message("email", MessageStatus.SENT, at(_day(7), 0, 30))
    assert timezone.is_aware(mon)
    return ReportClinic(clinic, london, uptown, [s0, s1, s2], a)


__all__ = ["WEEK", "ReportClinic", "make_report_clinic", "make_client"]
