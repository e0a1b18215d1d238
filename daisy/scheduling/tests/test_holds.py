"""Slot holds (issue 4): the chosen time is kept for a few minutes while the client fills in the
booking form, the booking honours it, and nobody else can take it meanwhile. Runs on whichever
database DATABASE_URL names (SQLite and PostgreSQL).

These holds are made by a signed-in client unless a test says otherwise: a visitor who is not
signed in holds more briefly, and staff book over their holds (test_hold_limits.py)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client as HttpClient

from daisy.accounts.tokens import api_token_create
from daisy.audit.models import AuditEntry
from daisy.booking.services import (
    appointment_book,
    appointment_reschedule,
    slot_hold_create,
    slot_hold_release,
)
from daisy.clinic.models import Location
from daisy.lib.errors import InvalidTime, SlotUnavailable, ValidationFailed
from daisy.notifications.models import Message
from daisy.scheduling import selectors
from daisy.scheduling.models import Allocation, Appointment, SlotHold
from daisy.scheduling.services import slot_holds_purge
from daisy.scheduling.tests.test_races import overlapping_allocations, raw_insert_allocation
from daisy.treatments.models import Treatment
from tests.support.testing import (
    MONDAY,
    PRESCREEN_CLEAR,
    at,
    booking_now,
    make_clinic,
    make_user,
    precare_keys,
)

pytestmark = pytest.mark.django_db

NOW = booking_now()
TEN = at(MONDAY, 10)


def signed_in(clinic) -> Any:
    """One signed-in client account per clinic, who makes the holds of these tests."""
    if not hasattr(clinic, "visitor"):
        clinic.visitor = make_user()
    return clinic.visitor


def hold(clinic, start=TEN, *, owner="owner-a", now=NOW, **kw) -> SlotHold:
    kw.setdefault("by", signed_in(clinic))
    return slot_hold_create(
        treatment=clinic.microneedling, starts_at=start, now=now, held_by=owner, **kw
    )


def book(clinic, start=TEN, *, client=None, now=NOW, by=None, **kw):
    return appointment_book(
        client=client or clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=start,
        booked_by=by if by is not None else clinic.reception,
        now=now,
        prescreen=PRESCREEN_CLEAR,  # as an online client answered it (ignored for staff)
        **kw,
    ).appointment


def starts(clinic, *, now=NOW, held_by=None, day=MONDAY):
    found = selectors.availability_list(
        treatment=clinic.microneedling,
        window_start=at(day, 9),
        window_end=at(day, 19),
        now=now,
        location=clinic.location,
        held_by=held_by,
    )
    return {ls.slot.start for ls in found}


def resources_of(rows) -> set[tuple[Any, str]]:
    return {(a.resource_id, a.role) for a in rows}


def test_hold_blocks_another_owners_booking_and_offers_the_nearest_alternatives():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    held = hold(clinic)
    assert held.starts_at == TEN
    assert held.expires_at == NOW + timedelta(minutes=10)  # settings.DAISY_SLOT_HOLD_MINUTES

    with pytest.raises(SlotUnavailable) as refused:
        book(clinic)
    assert refused.value.code == "slot_unavailable"
    alternatives = [ls.slot.start for ls in refused.value.alternatives]
    assert 1 <= len(alternatives) <= 3
    assert all(s >= held.ends_at or s + timedelta(minutes=80) <= TEN for s in alternatives)
    # Nor can anyone else hold it.
    with pytest.raises(SlotUnavailable) as also_refused:
        hold(clinic, owner="owner-b")
    assert also_refused.value.alternatives
    assert Appointment.objects.count() == 0
    assert SlotHold.objects.count() == 1


def test_availability_hides_other_owners_live_holds_but_not_the_owners_own():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    assert TEN in starts(clinic)
    hold(clinic)
    assert TEN not in starts(clinic)
    assert TEN not in starts(clinic, held_by="owner-b")
    assert TEN in starts(clinic, held_by="owner-a")  # they may pick it again


def test_owner_books_through_the_hold_on_the_held_resources():
    clinic = make_clinic(specialists=3, rooms=3, pens=2)
    held = hold(clinic)
    held_resources = resources_of(held.allocations.all())
    # Someone else's booking now takes the tie-break's favourite resources elsewhere in the day;
    # the booking must still use exactly the held ones.
    book(clinic, at(MONDAY, 9), client=clinic.clients[1])

    appt = book(clinic, hold_id=held.pk, held_by="owner-a")

    assert appt.starts_at == TEN
    assert resources_of(appt.allocations.filter(is_active=True)) == held_resources
    assert appt.specialist_id == held.specialist_id
    assert not SlotHold.objects.exists()
    assert not Allocation.objects.filter(hold__isnull=False).exists()
    entry = AuditEntry.objects.get(action="appointment.book", object_id=str(appt.pk))
    assert entry.data["hold"] == str(held.pk)
    assert overlapping_allocations() == []


def test_hold_keeps_the_time_while_the_client_types_past_the_minimum_notice():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    client_user = make_user()
    notice = clinic.microneedling.min_notice
    start = at(MONDAY, 12)
    held_at = start - notice - timedelta(minutes=2)
    held = hold(clinic, start, now=held_at, by=client_user)
    typed_until = held_at + timedelta(minutes=5)  # now inside the minimum notice
    with pytest.raises(InvalidTime):
        book(clinic, start, now=typed_until, by=client_user)  # without the hold: refused
    appt = book(
        clinic,
        start,
        now=typed_until,
        by=client_user,
        hold_id=held.pk,
        held_by="owner-a",
        precare_confirmed=precare_keys(clinic.microneedling),  # already prepared
    )
    assert appt.starts_at == start


def test_expired_hold_blocks_nobody():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    held = hold(clinic)
    later = held.expires_at + timedelta(seconds=1)

    assert TEN in starts(clinic, now=later)
    other = hold(clinic, owner="owner-b", now=later)  # another owner may hold it now
    assert other.starts_at == TEN
    slot_hold_release(hold_id=other.pk, held_by="owner-b", now=later)
    appt = book(clinic, now=later)  # and anyone may book it
    assert appt.starts_at == TEN
    assert overlapping_allocations() == []


def test_expired_hold_is_not_honoured_but_the_time_is_booked_if_still_free():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    held = hold(clinic)
    later = held.expires_at + timedelta(minutes=1)
    appt = book(clinic, now=later, hold_id=held.pk, held_by="owner-a")
    assert appt.starts_at == TEN
    assert not SlotHold.objects.exists()


def test_expired_hold_of_a_time_taken_meanwhile_gets_the_friendly_refusal():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    held = hold(clinic)
    later = held.expires_at + timedelta(minutes=1)
    book(clinic, now=later, client=clinic.clients[1])
    with pytest.raises(SlotUnavailable) as refused:
        book(clinic, now=later, hold_id=held.pk, held_by="owner-a")
    assert refused.value.alternatives
    assert Appointment.objects.count() == 1


def test_a_new_hold_releases_the_owners_previous_one():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    first = hold(clinic)
    second = hold(clinic, at(MONDAY, 14))
    assert list(SlotHold.objects.values_list("pk", flat=True)) == [second.pk]
    assert not Allocation.objects.filter(hold_id=first.pk).exists()
    assert TEN in starts(clinic, held_by="owner-b")
    assert at(MONDAY, 14) not in starts(clinic, held_by="owner-b")
    # The old id grants nothing any more: a booking with it takes the time only if free.
    book(clinic, at(MONDAY, 14), client=clinic.clients[1], hold_id=first.pk, held_by="owner-a")
    assert not SlotHold.objects.exists()


def test_only_the_owner_can_use_or_release_a_hold():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    held = hold(clinic)
    assert slot_hold_release(hold_id=held.pk, held_by="owner-b", now=NOW) is False
    with pytest.raises(SlotUnavailable):
        book(clinic, hold_id=held.pk, held_by="owner-b")
    with pytest.raises(ValidationFailed):
        book(clinic, hold_id=held.pk)  # an id without its owner key
    assert slot_hold_release(hold_id="not-a-uuid", held_by="owner-a", now=NOW) is False
    assert slot_hold_release(hold_id=held.pk, held_by="owner-a", now=NOW) is True
    assert TEN in starts(clinic)
    assert book(clinic).starts_at == TEN


def test_hold_input_is_validated_with_clear_messages():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    for bad in ("", " ", "x" * 129):
        with pytest.raises(ValidationFailed):
            hold(clinic, owner=bad)
    with pytest.raises(ValidationFailed):
        hold(clinic, ttl=timedelta(0))
    with pytest.raises(InvalidTime):
        hold(clinic, TEN.replace(tzinfo=None))
    with pytest.raises(SlotUnavailable):
        hold(clinic, at(MONDAY, 20))  # after closing
    assert not SlotHold.objects.exists()


def test_hold_lasts_as_configured(settings):
    settings.DAISY_SLOT_HOLD_MINUTES = 3
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    assert hold(clinic).expires_at == NOW + timedelta(minutes=3)
    assert hold(clinic, owner="b", start=at(MONDAY, 14), ttl=timedelta(seconds=90)).expires_at == (
        NOW + timedelta(seconds=90)
    )


def test_reschedule_may_take_a_time_whose_hold_expired():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    appt = book(clinic, at(MONDAY, 14))
    held = hold(clinic)
    later = held.expires_at + timedelta(seconds=1)
    with pytest.raises(SlotUnavailable):
        appointment_reschedule(appointment=appt, starts_at=TEN, by=clinic.reception, now=NOW)
    moved = appointment_reschedule(appointment=appt, starts_at=TEN, by=clinic.reception, now=later)
    assert moved.starts_at == TEN
    assert overlapping_allocations() == []


def test_hold_sends_nothing_and_appears_in_no_appointment_list():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    hold(clinic)
    assert Message.objects.count() == 0
    assert Appointment.objects.count() == 0
    assert list(selectors.appointment_list()) == []
    assert list(selectors.appointment_list(first_day=MONDAY, last_day=MONDAY)) == []
    assert list(clinic.clients[0].appointments.all()) == []
    token = api_token_create(user=clinic.manager, name="t", now=NOW).raw
    response = HttpClient().get(
        "/api/v1/appointments",
        {"start": MONDAY.isoformat(), "end": MONDAY.isoformat()},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["items"] == []
    # The booking that converts it sends the usual messages, once.
    appt = book(clinic, hold_id=SlotHold.objects.get().pk, held_by="owner-a")
    assert Message.objects.count() > 0
    assert list(selectors.appointment_list()) == [appt]


def test_database_backstop_covers_holds():
    clinic = make_clinic(specialists=1, rooms=1, pens=1)
    held = hold(clinic)
    blocker = book(clinic, at(MONDAY, 14))  # any appointment, to own the raw rows
    room = clinic.rooms[0].pk
    with pytest.raises(IntegrityError), transaction.atomic():
        raw_insert_allocation(blocker, room, TEN + timedelta(minutes=5), TEN + timedelta(hours=1))
    # A row must belong to exactly one appointment or one hold.
    with pytest.raises(IntegrityError), transaction.atomic():
        Allocation.objects.filter(hold=held).update(appointment=blocker)
    assert overlapping_allocations() == []


def test_purge_deletes_only_expired_holds():
    clinic = make_clinic(specialists=2, rooms=2, pens=2)
    old = hold(clinic, owner="a")
    fresh = hold(clinic, owner="b", now=NOW + timedelta(minutes=8))
    assert slot_holds_purge(now=old.expires_at) == 1
    assert list(SlotHold.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert Allocation.objects.filter(hold_id=old.pk).count() == 0


@pytest.mark.django_db(transaction=True)
def test_owners_racing_for_one_time_hold_it_exactly_once():
    clinic = make_clinic(specialists=1, rooms=1, pens=1, clients=0)
    n = 8
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            treatment = Treatment.objects.prefetch_related("phases").get(pk=clinic.microneedling.pk)
            location = Location.objects.get(pk=clinic.location.pk)
            connection.ensure_connection()
            barrier.wait(timeout=60)
            results[i] = slot_hold_create(
                treatment=treatment,
                location=location,
                starts_at=TEN,
                now=NOW,
                held_by=f"owner-{i}",
            )
        except BaseException as exc:  # noqa: BLE001 - asserted on below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    winners = [r for r in results if isinstance(r, SlotHold)]
    losers = [r for r in results if isinstance(r, SlotUnavailable)]
    assert len(winners) == 1, results
    assert len(losers) == n - 1, results
    assert SlotHold.objects.count() == 1
    assert overlapping_allocations() == []


def test_abandoned_holds_are_cleared_by_the_workers_periodic_job():
    from daisy.notifications.management.commands.worker import periodic_jobs

    clinic = make_clinic(specialists=2, rooms=2, pens=2)
    abandoned = hold(clinic, owner="left-the-page")
    later = abandoned.expires_at + timedelta(minutes=1)
    hold(clinic, at(MONDAY, 14), owner="next-visitor", now=later)
    # Every `daisy worker` runs the purge; a client's request does not pay for it.
    (purge,) = [job for path, job, _ in periodic_jobs() if path.endswith("slot_holds_purge")]
    purge(now=later)
    assert list(SlotHold.objects.values_list("held_by", flat=True)) == ["next-visitor"]
    assert not Allocation.objects.filter(hold_id=abandoned.pk).exists()
