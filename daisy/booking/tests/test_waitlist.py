"""The waitlist (issue 13, item 3): a freed time is offered to the waiting clients it suits, in
the order they joined; the first to accept books it through the booking path, the others are
told it has gone; and two clients accepting at once make one booking (real threads)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection

from daisy.accounts.models import User
from daisy.booking.models import EntryStatus, OfferStatus, WaitlistEntry, WaitlistOffer
from daisy.booking.services import appointment_book, appointment_cancel, appointment_reschedule
from daisy.booking.waitlist import (
    OfferGone,
    waitlist_join,
    waitlist_leave,
    waitlist_offer_accept,
)
from daisy.lib.errors import PermissionDenied, ValidationFailed
from daisy.notifications.models import Message
from daisy.scheduling.models import Appointment, Status
from tests.support.testing import MONDAY, at, booking_now, make_client, make_clinic, make_user

TUESDAY = MONDAY + timedelta(days=1)
NOW = booking_now()


def _setup(waiting: int = 3) -> tuple[Any, Appointment, list[Any]]:
    clinic = make_clinic(specialists=1)
    booked = appointment_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=at(TUESDAY, 10),
        booked_by=clinic.reception,
        now=NOW,
        location=clinic.location,
    ).appointment
    people = [make_client() for _ in range(waiting)]
    for n, person in enumerate(people):
        waitlist_join(
            client=person,
            treatment=clinic.microneedling,
            by=clinic.reception,
            now=NOW + timedelta(minutes=n),
        )
    return clinic, booked, people


def _offers() -> list[WaitlistOffer]:
    return list(WaitlistOffer.objects.select_related("entry__client").order_by("created_at"))


@pytest.mark.django_db
def test_a_cancelled_time_is_offered_in_order_and_the_first_to_accept_gets_it() -> None:
    clinic, booked, people = _setup()

    appointment_cancel(appointment=booked, by=clinic.reception, now=NOW, reason="Ill")

    offers = _offers()
    assert [o.entry.client for o in offers] == people
    assert all(o.starts_at == booked.starts_at for o in offers)
    offered = Message.objects.filter(about__startswith="waitlist-offer:", channel="email")
    assert {m.recipient for m in offered} == {p.email for p in people}
    assert "Accept this time" in str(offered[0].context)

    second = offers[1]
    appt = waitlist_offer_accept(offer=second, by=clinic.reception, now=NOW)

    assert appt.client == people[1] and appt.status == Status.BOOKED
    assert appt.starts_at == booked.starts_at
    assert WaitlistEntry.objects.get(client=people[1]).status == EntryStatus.BOOKED
    states = {o.entry.client_id: o.status for o in _offers()}
    assert states == {
        people[0].pk: OfferStatus.GONE,
        people[1].pk: OfferStatus.ACCEPTED,
        people[2].pk: OfferStatus.GONE,
    }
    gone = Message.objects.filter(dedupe_key__startswith="waitlist-gone:", channel="email")
    assert {m.recipient for m in gone} == {people[0].email, people[2].email}
    # The first client is still waiting for the next time.
    assert WaitlistEntry.objects.get(client=people[0]).status == EntryStatus.WAITING
    with pytest.raises(OfferGone, match="someone else accepted"):
        waitlist_offer_accept(offer=offers[0], by=clinic.reception, now=NOW)
    assert Appointment.objects.filter(status=Status.BOOKED).count() == 1
    # Accepting the same offer again is answered with the booking already made.
    assert waitlist_offer_accept(offer=second, by=clinic.reception, now=NOW) == appt


@pytest.mark.django_db
def test_only_the_waiting_clients_a_time_suits_are_offered_it() -> None:
    clinic, booked, _people = _setup(waiting=0)
    other_specialist_place = make_clinic(specialists=1)
    suits = make_client()
    waitlist_join(
        client=suits,
        treatment=clinic.microneedling,
        by=clinic.reception,
        now=NOW,
        specialist=booked.specialist,
        from_on=TUESDAY,
        until_on=TUESDAY,
    )
    too_late = make_client()
    waitlist_join(
        client=too_late,
        treatment=clinic.microneedling,
        by=clinic.reception,
        now=NOW,
        from_on=TUESDAY + timedelta(days=1),
    )
    elsewhere = make_client()
    waitlist_join(
        client=elsewhere,
        treatment=clinic.microneedling,
        by=clinic.reception,
        now=NOW,
        location=other_specialist_place.location,
    )
    other_treatment = make_client()
    waitlist_join(
        client=other_treatment,
        treatment=clinic.treatments["chemical-peel"],
        by=clinic.reception,
        now=NOW,
    )

    appointment_reschedule(
        appointment=booked, starts_at=at(TUESDAY, 14), by=clinic.reception, now=NOW
    )

    assert [o.entry.client for o in _offers()] == [suits]
    assert _offers()[0].starts_at == at(TUESDAY, 10)


@pytest.mark.django_db
def test_joining_is_checked() -> None:
    clinic, _booked, people = _setup(waiting=1)
    stranger = make_user()

    with pytest.raises(ValidationFailed, match="already on the waitlist"):
        waitlist_join(
            client=people[0], treatment=clinic.microneedling, by=clinic.reception, now=NOW
        )
    with pytest.raises(ValidationFailed, match="on or after the first day"):
        waitlist_join(
            client=make_client(),
            treatment=clinic.microneedling,
            by=clinic.reception,
            now=NOW,
            from_on=TUESDAY,
            until_on=MONDAY,
        )
    with pytest.raises(PermissionDenied):
        waitlist_join(client=make_client(), treatment=clinic.microneedling, by=stranger, now=NOW)

    entry = WaitlistEntry.objects.get(client=people[0])
    waitlist_leave(entry=entry, by=clinic.reception, now=NOW)
    entry.refresh_from_db()
    assert entry.status == EntryStatus.WITHDRAWN


@pytest.mark.django_db
def test_a_rolled_back_cancellation_offers_nothing() -> None:
    from django.db import transaction

    clinic, booked, _people = _setup(waiting=1)
    with pytest.raises(RuntimeError), transaction.atomic():
        appointment_cancel(appointment=booked, by=clinic.reception, now=NOW)
        raise RuntimeError("the desk's request failed after the cancel")

    assert not WaitlistOffer.objects.exists()
    assert not Message.objects.filter(about__startswith="waitlist-offer:").exists()


@pytest.mark.django_db(transaction=True)
def test_two_clients_accepting_the_same_time_at_once_make_one_booking() -> None:
    clinic, booked, people = _setup(waiting=2)
    appointment_cancel(appointment=booked, by=clinic.reception, now=NOW)
    offer_ids = [o.pk for o in _offers()]
    barrier = threading.Barrier(2)
    outcomes: dict[Any, Any] = {}

    def accept(offer_id: Any) -> None:
        try:
            offer = WaitlistOffer.objects.select_related("entry__client").get(pk=offer_id)
            by = User.objects.get(pk=clinic.reception.pk)
            connection.ensure_connection()
            barrier.wait(timeout=60)
            outcomes[offer_id] = waitlist_offer_accept(offer=offer, by=by, now=NOW)
        except BaseException as exc:  # noqa: BLE001 - asserted on below
            outcomes[offer_id] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(pk,), daemon=True) for pk in offer_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    booked_ = [o for o in outcomes.values() if isinstance(o, Appointment)]
    refused = [o for o in outcomes.values() if isinstance(o, OfferGone)]
    assert len(booked_) == 1 and len(refused) == 1, outcomes
    assert Appointment.objects.filter(status=Status.BOOKED).count() == 1
    assert WaitlistOffer.objects.filter(status=OfferStatus.ACCEPTED).count() == 1
