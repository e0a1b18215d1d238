"""The booking services as the front desk and the online booking page use them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from daisy.audit.models import AuditEntry
from daisy.booking.services import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    appointment_set_status,
)
from daisy.clients.models import Contraindication, Tier
from daisy.clinic.models import Closure, DeviceStatus, TimeOff
from daisy.lib.errors import (
    ClientContraindicated,
    IdempotencyConflict,
    InvalidTime,
    PermissionDenied,
    PolicyViolation,
    SlotUnavailable,
    ValidationFailed,
)
from daisy.scheduling import selectors
from daisy.scheduling.models import Allocation, Appointment, Status
from tests.support.testing import (
    MONDAY,
    PRESCREEN_CLEAR,
    at,
    booking_now,
    consent_signed,
    make_clinic,
    make_specialist,
    make_user,
    rescreen_clear,
)

pytestmark = pytest.mark.django_db


def book(clinic, start, *, client=None, by=None, now=None, **kw):
    return appointment_book(
        client=client or clinic.clients[0],
        treatment=kw.pop("treatment", clinic.microneedling),
        starts_at=start,
        booked_by=by or clinic.reception,
        now=now or booking_now(),
        **kw,
    ).appointment


def allocations(appt):
    return {
        (a.role, a.phases, a.starts_at, a.ends_at)
        for a in Allocation.objects.filter(appointment=appt, is_active=True)
    }


def test_books_microneedling_with_specialist_room_and_pen_per_phase():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    start = at(MONDAY, 10)
    appt = book(clinic, start)

    assert appt.status == Status.BOOKED
    assert appt.starts_at == start
    # consult 10 + numbing 30 + needling 20 + post-care 10 = 70 min with the client,
    # then 10 min clean-down of the room and pen.
    assert appt.ends_at == start + timedelta(minutes=70)
    assert appt.busy_until == start + timedelta(minutes=80)
    assert appt.specialist == clinic.specialists[0]
    assert appt.room == clinic.rooms[0]
    assert appt.device == clinic.devices[0]
    m = lambda n: start + timedelta(minutes=n)  # noqa: E731
    assert allocations(appt) == {
        ("specialist", "Consultation and photos", m(0), m(10)),
        ("specialist", "Needling", m(40), m(60)),
        ("room", "Consultation and photos, Numbing, Needling, Post-care, Clean-down", m(0), m(80)),
        ("device", "Needling, Post-care, Clean-down", m(40), m(80)),
    }


def test_every_booking_leaves_an_audit_entry_naming_who_and_what():
    clinic = make_clinic()
    appt = book(clinic, at(MONDAY, 10))
    entry = AuditEntry.objects.get(action="appointment.book", object_id=str(appt.pk))
    assert entry.actor == clinic.reception
    assert entry.data["treatment"] == "microneedling"
    assert entry.at == booking_now()


def test_specialist_needles_one_client_while_another_is_numbing():
    clinic = make_clinic(specialists=1, rooms=2, pens=2)
    first = book(clinic, at(MONDAY, 10), client=clinic.clients[0])
    # The specialist is free from 10:10 to 10:40 while the first client numbs.
    second = book(clinic, at(MONDAY, 10, 30), client=clinic.clients[1])
    assert first.specialist == second.specialist
    assert first.room != second.room


def test_taken_slot_is_refused_with_nearest_alternatives():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    book(clinic, at(MONDAY, 10))
    with pytest.raises(SlotUnavailable) as caught:
        book(clinic, at(MONDAY, 10, 15), client=clinic.clients[1])
    alternatives = caught.value.alternatives
    assert 1 <= len(alternatives) <= 3
    taken_until = at(MONDAY, 11, 20)
    for alt in alternatives:
        assert alt.slot.start >= taken_until or alt.slot.busy_until <= at(MONDAY, 10)
    assert Appointment.objects.count() == 1


def test_cancelled_slot_can_be_booked_again():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    appt = book(clinic, at(MONDAY, 10))
    appointment_cancel(appointment=appt, by=clinic.reception, now=booking_now())
    again = book(clinic, at(MONDAY, 10), client=clinic.clients[1])
    assert again.status == Status.BOOKED
    assert not Allocation.objects.filter(appointment=appt, is_active=True).exists()


def test_idempotent_create_returns_the_first_booking():
    clinic = make_clinic()
    first = appointment_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=at(MONDAY, 10),
        booked_by=clinic.reception,
        now=booking_now(),
        idempotency_key="abc-123",
    )
    again = appointment_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=at(MONDAY, 10),
        booked_by=clinic.reception,
        now=booking_now(),
        idempotency_key="abc-123",
    )
    assert not first.replayed and again.replayed
    assert again.appointment.pk == first.appointment.pk
    assert Appointment.objects.count() == 1
    with pytest.raises(IdempotencyConflict):
        appointment_book(
            client=clinic.clients[0],
            treatment=clinic.microneedling,
            starts_at=at(MONDAY, 12),
            booked_by=clinic.reception,
            now=booking_now(),
            idempotency_key="abc-123",
        )
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    ("start", "now", "error", "code"),
    [
        (at(MONDAY, 10), at(MONDAY, 11), InvalidTime, "in_past"),
        (at(MONDAY, 10), at(MONDAY, 9), InvalidTime, "min_notice"),
        (at(MONDAY + timedelta(days=400), 10), booking_now(), InvalidTime, "max_advance"),
    ],
)
def test_client_booking_rules(start, now, error, code):
    clinic = make_clinic()
    client_user = clinic.clients[0]
    online = make_user()
    with pytest.raises(error) as caught:
        appointment_book(
            client=client_user,
            treatment=clinic.microneedling,
            starts_at=start,
            booked_by=online,
            now=now,
            prescreen=PRESCREEN_CLEAR,
        )
    assert caught.value.code == code
    assert Appointment.objects.count() == 0


def test_front_desk_may_book_inside_minimum_notice_but_not_in_the_past():
    clinic = make_clinic()
    appt = book(clinic, at(MONDAY, 10), now=at(MONDAY, 9, 30))
    assert appt.status == Status.BOOKED
    with pytest.raises(InvalidTime):
        book(clinic, at(MONDAY, 10), now=at(MONDAY, 10, 30), client=clinic.clients[1])


def test_naive_datetime_is_refused():
    clinic = make_clinic()
    with pytest.raises(InvalidTime):
        book(clinic, at(MONDAY, 10).replace(tzinfo=None))


@pytest.mark.parametrize("hour", [7, 18, 20])
def test_outside_open_hours_is_refused(hour):
    clinic = make_clinic()  # open 09-19; 18:00 + 80 min runs past closing
    with pytest.raises(SlotUnavailable):
        book(clinic, at(MONDAY, hour))


def test_closure_and_sunday_are_refused():
    clinic = make_clinic()
    Closure.objects.create(location=None, on=MONDAY, name="Bank holiday")
    with pytest.raises(SlotUnavailable) as caught:
        book(clinic, at(MONDAY, 10))
    assert "closed" in caught.value.message.lower() or "open" in caught.value.message.lower()
    with pytest.raises(SlotUnavailable):
        book(clinic, at(MONDAY - timedelta(days=1), 10))


def test_time_off_removes_the_specialist():
    clinic = make_clinic(specialists=1)
    TimeOff.objects.create(
        resource=clinic.specialists[0], starts_at=at(MONDAY, 9), ends_at=at(MONDAY, 13)
    )
    with pytest.raises(SlotUnavailable):
        book(clinic, at(MONDAY, 10))
    assert book(clinic, at(MONDAY, 14)).specialist == clinic.specialists[0]


def test_device_in_maintenance_and_inactive_specialist_are_not_used():
    clinic = make_clinic(specialists=1, pens=1)
    pen = clinic.devices[0]
    pen.status = DeviceStatus.MAINTENANCE
    pen.save()
    with pytest.raises(SlotUnavailable):
        book(clinic, at(MONDAY, 10))
    pen.status = DeviceStatus.IN_SERVICE
    pen.save()
    s = clinic.specialists[0]
    s.is_active = False
    s.save()
    with pytest.raises(SlotUnavailable):
        book(clinic, at(MONDAY, 10))


def test_pinned_specialist_is_honoured_or_refused():
    clinic = make_clinic(specialists=2, rooms=2, pens=2)
    wanted = clinic.specialists[1]
    appt = book(clinic, at(MONDAY, 10), specialist=wanted)
    assert appt.specialist == wanted
    with pytest.raises(SlotUnavailable):
        book(clinic, at(MONDAY, 10), specialist=wanted, client=clinic.clients[1])
    # Anyone else is still free at that time.
    assert (
        book(clinic, at(MONDAY, 10), client=clinic.clients[1]).specialist == clinic.specialists[0]
    )


def test_specialist_without_the_skill_is_never_chosen():
    clinic = make_clinic(specialists=0, rooms=1, pens=1)
    make_specialist(clinic.location, skills=["consultation"])
    with pytest.raises(SlotUnavailable):
        book(clinic, at(MONDAY, 10))


def test_hard_stop_blocks_booking_without_override():
    clinic = make_clinic()
    client = clinic.clients[0]
    Contraindication.objects.create(client=client, condition="Pregnancy", tier=Tier.HARD_STOP)
    with pytest.raises(ClientContraindicated):
        book(clinic, at(MONDAY, 10), by=clinic.manager, override_reason="I say so")
    # A consultation is where screening happens: it is always bookable.
    consult = book(clinic, at(MONDAY, 10), treatment=clinic.treatments["consultation"])
    assert consult.status == Status.BOOKED


def test_deferral_needs_a_clinicians_recorded_override():
    clinic = make_clinic()
    client = clinic.clients[0]
    Contraindication.objects.create(
        client=client,
        condition="Isotretinoin stopped 2 months ago",
        tier=Tier.DEFER,
        until_on=MONDAY + timedelta(days=30),
    )
    with pytest.raises(ClientContraindicated):
        book(clinic, at(MONDAY, 10))
    with pytest.raises(PermissionDenied):
        book(clinic, at(MONDAY, 10), override_reason="Dermatologist letter on file")
    specialist_user = clinic.specialists[0].user
    appt = book(clinic, at(MONDAY, 10), by=specialist_user, override_reason="Dermatologist letter")
    assert appt.override_by == specialist_user
    assert appt.override_reason == "Dermatologist letter"
    entry = AuditEntry.objects.get(action="appointment.book", object_id=str(appt.pk))
    assert entry.data["override_reason"] == "Dermatologist letter"
    # After the deferral ends no override is needed.
    later = book(clinic, at(MONDAY + timedelta(days=35), 10), client=client)
    assert later.override_by is None


def test_reschedule_moves_the_time_and_releases_the_old_one():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    appt = book(clinic, at(MONDAY, 10))
    moved = appointment_reschedule(
        appointment=appt, starts_at=at(MONDAY, 14), by=clinic.reception, now=booking_now()
    )
    assert moved.starts_at == at(MONDAY, 14)
    assert {a.starts_at for a in Allocation.objects.filter(appointment=appt, is_active=True)} >= {
        at(MONDAY, 14)
    }
    assert book(clinic, at(MONDAY, 10), client=clinic.clients[1]).status == Status.BOOKED
    assert AuditEntry.objects.filter(action="appointment.reschedule").count() == 1


def test_reschedule_onto_its_own_time_overlap_is_allowed():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    appt = book(clinic, at(MONDAY, 10))
    moved = appointment_reschedule(
        appointment=appt, starts_at=at(MONDAY, 10, 30), by=clinic.reception, now=booking_now()
    )
    assert moved.starts_at == at(MONDAY, 10, 30)


def test_failed_reschedule_leaves_everything_as_it_was():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    appt = book(clinic, at(MONDAY, 10))
    other = book(clinic, at(MONDAY, 14), client=clinic.clients[1])
    before = allocations(appt)
    with pytest.raises(SlotUnavailable):
        appointment_reschedule(
            appointment=appt, starts_at=at(MONDAY, 14), by=clinic.reception, now=booking_now()
        )
    appt.refresh_from_db()
    assert appt.starts_at == at(MONDAY, 10)
    assert allocations(appt) == before
    assert other.status == Status.BOOKED


def test_client_cannot_move_late_but_staff_can():
    clinic = make_clinic()
    client_user = make_user()
    appt = book(clinic, at(MONDAY, 10))
    late = at(MONDAY - timedelta(days=1), 12)  # 22 h before, window is 48 h
    with pytest.raises(PolicyViolation) as caught:
        appointment_reschedule(appointment=appt, starts_at=at(MONDAY, 15), by=client_user, now=late)
    assert "48 hours" in caught.value.message
    moved = appointment_reschedule(
        appointment=appt, starts_at=at(MONDAY, 15), by=clinic.reception, now=late
    )
    assert moved.starts_at == at(MONDAY, 15)


def test_late_cancellation_is_made_and_marked_late():
    clinic = make_clinic()
    appt = book(clinic, at(MONDAY, 10))
    cancelled = appointment_cancel(
        appointment=appt, by=clinic.reception, now=at(MONDAY, 8), reason="Unwell"
    )
    assert cancelled.status == Status.CANCELLED
    assert cancelled.is_late_cancellation
    early = book(clinic, at(MONDAY, 12), client=clinic.clients[1])
    on_time = appointment_cancel(appointment=early, by=clinic.reception, now=booking_now())
    assert not on_time.is_late_cancellation
    with pytest.raises(PolicyViolation):
        appointment_cancel(appointment=on_time, by=clinic.reception, now=booking_now())


def test_status_transitions():
    clinic = make_clinic()
    appt = book(clinic, at(MONDAY, 10))
    rescreen_clear(appt)
    consent_signed(appt)
    with pytest.raises(PolicyViolation):
        appointment_set_status(
            appointment=appt, status="checked_in", by=clinic.reception, now=booking_now()
        )
    appt = appointment_set_status(
        appointment=appt, status="checked_in", by=clinic.reception, now=at(MONDAY, 9, 50)
    )
    appt = appointment_set_status(
        appointment=appt, status="completed", by=clinic.reception, now=at(MONDAY, 11, 20)
    )
    assert appt.status == Status.COMPLETED
    with pytest.raises(PolicyViolation):
        appointment_set_status(
            appointment=appt, status="no_show", by=clinic.reception, now=at(MONDAY, 12)
        )
    with pytest.raises(ValidationFailed):
        appointment_set_status(
            appointment=appt, status="teleported", by=clinic.reception, now=at(MONDAY, 12)
        )
    with pytest.raises(PermissionDenied):
        appointment_set_status(
            appointment=appt, status="completed", by=make_user(), now=at(MONDAY, 12)
        )


def test_no_show_only_after_the_start():
    clinic = make_clinic()
    appt = book(clinic, at(MONDAY, 10))
    with pytest.raises(PolicyViolation):
        appointment_set_status(
            appointment=appt, status="no_show", by=clinic.reception, now=at(MONDAY, 9)
        )
    appt = appointment_set_status(
        appointment=appt, status="no_show", by=clinic.reception, now=at(MONDAY, 10, 30)
    )
    assert appt.status == Status.NO_SHOW


def test_database_refuses_overlapping_allocation_whatever_wrote_it():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    appt = book(clinic, at(MONDAY, 10))
    room_alloc = Allocation.objects.get(appointment=appt, role="room")
    with pytest.raises(IntegrityError), transaction.atomic():
        Allocation.objects.bulk_create(
            [
                Allocation(
                    appointment=appt,
                    resource_id=room_alloc.resource_id,
                    role="room",
                    phases="sneaky",
                    starts_at=at(MONDAY, 10, 30),
                    ends_at=at(MONDAY, 11),
                )
            ]
        )
    assert Allocation.objects.filter(appointment=appt).count() == 4


def test_availability_window_errors():
    clinic = make_clinic()
    with pytest.raises(ValidationFailed):
        selectors.availability_list(
            treatment=clinic.microneedling,
            window_start=at(MONDAY, 10),
            window_end=at(MONDAY, 9),
            now=booking_now(),
        )
    with pytest.raises(ValidationFailed):
        selectors.availability_list(
            treatment=clinic.microneedling,
            window_start=at(MONDAY, 10),
            window_end=at(MONDAY + timedelta(days=367), 10),
            now=booking_now(),
        )
    with pytest.raises(InvalidTime):
        selectors.availability_list(
            treatment=clinic.microneedling,
            window_start=at(MONDAY, 10).replace(tzinfo=None),
            window_end=at(MONDAY, 12),
            now=booking_now(),
        )


def test_unknown_treatment_is_a_clear_not_found():
    from daisy.lib.errors import NotFound
    from daisy.treatments.selectors import treatment_get

    with pytest.raises(NotFound) as caught:
        treatment_get(slug="botox-deluxe")
    assert "botox-deluxe" in caught.value.message


def test_availability_never_offers_a_taken_time():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    taken = book(clinic, at(MONDAY, 10))
    found = selectors.availability_list(
        treatment=clinic.microneedling,
        window_start=at(MONDAY, 0),
        window_end=at(MONDAY + timedelta(days=1), 0),
        now=booking_now(),
    )
    assert found, "the rest of the day is free"
    for ls in found:
        assert ls.slot.busy_until <= taken.starts_at or ls.slot.start >= taken.busy_until
        assert at(MONDAY, 9) <= ls.slot.start and ls.slot.busy_until <= at(MONDAY, 19)


def _count_availability_queries(clinic, days=7, *, warm=False):
    def ask():
        selectors.availability_list(
            treatment=clinic.microneedling,
            window_start=at(MONDAY, 0),
            window_end=at(MONDAY + timedelta(days=days), 0),
            now=booking_now(),
            location=clinic.location,
        )

    # Cold: the clinic's set-up is read too (as after any change to it); warm: it is cached
    # under an unchanged stamp and only the stamp and the window's busy time are read.
    selectors.caches_clear()
    if warm:
        ask()
    with CaptureQueriesContext(connection) as ctx:
        ask()
    return len(ctx.captured_queries)


def test_availability_query_count_does_not_grow_with_specialists_or_appointments():
    small = make_clinic(specialists=1, rooms=1, pens=1, slug="small")
    small_count = _count_availability_queries(small)
    big = make_clinic(specialists=6, rooms=4, pens=3, clients=6, slug="big")
    for i, client in enumerate(big.clients):
        appointment_book(
            client=client,
            treatment=big.microneedling,
            starts_at=at(MONDAY + timedelta(days=i % 5), 10),
            booked_by=big.reception,
            now=booking_now(),
            location=big.location,
        )
    assert _count_availability_queries(big) == small_count
    assert _count_availability_queries(big, days=60) == small_count
    assert _count_availability_queries(small, warm=True) == 2
    assert _count_availability_queries(big, days=60, warm=True) == 2


def test_local_time_in_the_spring_forward_gap_is_refused_with_a_reason():
    from datetime import datetime

    clinic = make_clinic()
    with pytest.raises(InvalidTime) as caught:
        selectors.local_start_resolve(location=clinic.location, local=datetime(2030, 3, 31, 1, 30))
    assert caught.value.code == "nonexistent_local_time"
    assert "clocks go forward" in caught.value.message
    # 10:30 on the same day exists and is British Summer Time (UTC+1).
    resolved = selectors.local_start_resolve(
        location=clinic.location, local=datetime(2030, 3, 31, 10, 30)
    )
    assert resolved.isoformat() == "2030-03-31T09:30:00+00:00"


def test_booking_across_the_dst_change_keeps_local_wall_clock_time():
    from datetime import date as d

    clinic = make_clinic()
    saturday_before = d(2030, 3, 30)  # GMT
    monday_after = d(2030, 4, 1)  # BST
    a = book(clinic, at(saturday_before, 10), now=at(saturday_before - timedelta(days=3), 9))
    # Another client: one client's needling sessions are 28 days apart (DOMAIN.md 1.2).
    b = book(
        clinic,
        at(monday_after, 10),
        client=clinic.clients[1],
        now=at(saturday_before - timedelta(days=3), 9),
    )
    assert a.starts_at.astimezone(clinic.location.tz).hour == 10
    assert b.starts_at.astimezone(clinic.location.tz).hour == 10
    assert a.starts_at.utcoffset() is not None
    assert (b.starts_at - a.starts_at) == timedelta(days=2, hours=-1)


def test_database_refuses_an_allocation_longer_than_a_day():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    appt = book(clinic, at(MONDAY, 10))
    room = Allocation.objects.get(appointment=appt, role="room")
    with pytest.raises(IntegrityError), transaction.atomic():
        Allocation.objects.create(
            appointment=appt,
            resource_id=room.resource_id,
            role="room",
            phases="too long",
            starts_at=at(MONDAY + timedelta(days=2), 10),
            ends_at=at(MONDAY + timedelta(days=4), 10),
        )


def test_a_block_that_started_the_day_before_still_blocks():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    holder = book(clinic, at(MONDAY + timedelta(days=3), 10), client=clinic.clients[1])
    # A 20-hour room block from Sunday 20:00 to Monday 16:00 (e.g. a deep clean).
    Allocation.objects.create(
        appointment=holder,
        resource=clinic.rooms[0],
        role="room",
        phases="Deep clean",
        starts_at=at(MONDAY - timedelta(days=1), 20),
        ends_at=at(MONDAY, 16),
    )
    found = selectors.availability_list(
        treatment=clinic.microneedling,
        window_start=at(MONDAY, 0),
        window_end=at(MONDAY + timedelta(days=1), 0),
        now=booking_now(),
        location=clinic.location,
    )
    assert found and min(ls.slot.start for ls in found) >= at(MONDAY, 16)
    with pytest.raises(SlotUnavailable):
        book(clinic, at(MONDAY, 10))
