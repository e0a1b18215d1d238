"""The page behind a waitlist offer's link (issue 13, item 3): the client sees the time in the
clinic's zone, answers the health questions, and books it; whoever comes second is told
kindly that it has gone; a made-up link is a 404 page, never a 500."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client as HttpClient

from daisy.booking.services import appointment_book, appointment_cancel
from daisy.booking.waitlist import waitlist_join
from daisy.notifications.models import Message
from daisy.scheduling.models import Appointment, Status
from tests.support.testing import (
    MONDAY,
    PRESCREEN_CLEAR,
    at,
    booking_now,
    make_client,
    make_clinic,
    precare_keys,
)

pytestmark = pytest.mark.django_db


def _link(person: object) -> str:
    message = Message.objects.get(
        client=person, channel="email", about__startswith="waitlist-offer:"
    )
    (path,) = re.findall(r"/waitlist/offers/[^/]+/", message.context["link"])
    return path


def test_the_first_to_accept_books_and_the_second_is_told_it_has_gone(client: HttpClient) -> None:
    now = booking_now()
    clinic = make_clinic(specialists=1)
    first, second = make_client(first_name="Ada"), make_client(first_name="Bea")
    for n, person in enumerate((first, second)):
        waitlist_join(
            client=person,
            treatment=clinic.microneedling,
            by=clinic.reception,
            now=now + timedelta(minutes=n),
        )
    freed = appointment_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=at(MONDAY, 10),
        booked_by=clinic.reception,
        now=now,
        location=clinic.location,
    ).appointment
    appointment_cancel(appointment=freed, by=clinic.reception, now=now)
    ada_link, bea_link = _link(first), _link(second)

    with time_machine.travel(now, tick=False):
        page = client.get(bea_link)
        assert page.status_code == 200
        text = page.content.decode()
        assert "Bea, a time has come free" in text and "10:00" in text and "Europe/London" in text
        # A week ahead is too soon for the two-week preparation: the page asks about it.
        assert "Not enough time to prepare" in text

        incomplete = client.post(bea_link, {})
        assert incomplete.status_code == 422
        answers = {key: "yes" if yes else "no" for key, yes in PRESCREEN_CLEAR.items()}
        too_soon = client.post(bea_link, answers)
        assert too_soon.status_code == 409
        assert "too soon to prepare for" in too_soon.content.decode()
        answers["precare"] = precare_keys(clinic.microneedling)
        accepted = client.post(bea_link, answers)
        assert accepted.status_code == 302
        assert "you are booked" in client.get(bea_link).content.decode()

        late = client.post(ada_link, answers)
        assert late.status_code == 410
        assert "no longer available" in late.content.decode()
        assert client.get("/waitlist/offers/not-a-real-link/").status_code == 404

    booked = Appointment.objects.get(status=Status.BOOKED)
    assert booked.client == second and booked.starts_at == at(MONDAY, 10)
