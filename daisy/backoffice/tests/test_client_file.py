"""The client file and search at the desk (issue 13, item 4), the affected-bookings worklist
(item 5) and the desk's waitlist (item 3), as the people at the desk use them."""

from __future__ import annotations

from typing import Any

from django.test import Client as HttpClient
from django.urls import reverse

from daisy.audit.models import AuditEntry
from daisy.booking.models import EntryStatus, WaitlistEntry
from daisy.clients.models import ClinicalHold
from daisy.clients.services import client_hold_place
from daisy.clinic.models import Closure
from daisy.notifications.models import Message
from daisy.scheduling.models import Status
from tests.support.testing import MONDAY, make_client, staff_login

from .conftest import DESK_NOW, book


def test_search_finds_a_client_by_phone_written_any_way(client: HttpClient, clinic: Any) -> None:
    person = make_client(first_name="Wren", phone="+447700900017")
    staff_login(client, clinic.reception)

    for typed in ("07700 900017", "+44 7700 900017", "900017", "wren"):
        page = client.get(reverse("desk:clients"), {"q": typed}).content.decode()
        assert person.full_name in page, typed
    assert "Nobody matches" in client.get(reverse("desk:clients"), {"q": "zzz"}).content.decode()


def test_a_clinician_sees_the_clinical_detail_clears_the_hold_and_both_are_audited(
    client: HttpClient, clinic: Any, on_monday: Any
) -> None:
    person = make_client()
    book(clinic, person, 15)
    client_hold_place(client=person, reason="Signs of infection", source="test:1", now=DESK_NOW)
    specialist = clinic.specialists[0].user
    staff_login(client, specialist)
    url = reverse("desk:client", kwargs={"client_id": person.pk})

    page = client.get(url).content.decode()

    assert "Signs of infection" in page and "Micro-needling" in page
    viewed = AuditEntry.objects.get(action="client.view", object_id=str(person.pk))
    assert viewed.actor == specialist and viewed.data == {"via": "desk, clinical detail"}
    hold = ClinicalHold.objects.get(client=person)
    clear = reverse("desk:client-hold-clear", kwargs={"client_id": person.pk, "hold_id": hold.pk})

    refused = client.post(clear, {"reason": ""})
    assert refused.status_code == 422
    assert "Say why" in refused.content.decode()
    cleared = client.post(clear, {"reason": "Reviewed in clinic: healing well"})

    assert cleared.status_code == 302
    hold.refresh_from_db()
    assert not hold.is_open and hold.cleared_by == specialist
    assert AuditEntry.objects.filter(action="client.hold_clear", actor=specialist).exists()


def test_the_worklist_cancels_a_broken_booking_and_tells_the_client(
    client: HttpClient, clinic: Any, on_monday: Any
) -> None:
    broken = book(clinic, clinic.clients[0], 15)
    Closure.objects.create(location=clinic.location, on=MONDAY, name="Burst pipe")
    staff_login(client, clinic.reception)

    page = client.get(reverse("desk:worklist")).content.decode()
    assert clinic.clients[0].full_name in page and "Burst pipe" in page
    done = client.post(
        reverse("desk:worklist-cancel", kwargs={"appointment_id": broken.pk}),
        {"reason": "The clinic is closed that day. Sorry: please book again."},
    )

    assert done.status_code == 302
    broken.refresh_from_db()
    assert broken.status == Status.CANCELLED
    assert Message.objects.filter(client=clinic.clients[0], template="appointment/cancelled")
    assert "Nothing to do" in client.get(reverse("desk:worklist")).content.decode()


def test_reception_puts_a_client_on_the_waitlist(client: HttpClient, clinic: Any) -> None:
    person = make_client()
    staff_login(client, clinic.reception)

    form = client.get(reverse("desk:waitlist-add"), {"client": person.pk})
    assert form.status_code == 200
    added = client.post(
        reverse("desk:waitlist-add"),
        {
            "client": person.pk,
            "treatment": clinic.microneedling.pk,
            "specialist": "",
            "location": "",
            "from_on": "2030-01-08",
            "until_on": "2030-01-01",
            "note": "",
        },
    )
    assert added.status_code == 422
    assert "on or after the first day" in added.content.decode()
    added = client.post(
        reverse("desk:waitlist-add"),
        {"client": person.pk, "treatment": clinic.microneedling.pk, "note": "Mornings"},
    )
    assert added.status_code == 302
    entry = WaitlistEntry.objects.get(client=person)
    assert entry.status == EntryStatus.WAITING and entry.created_by == clinic.reception
    assert person.full_name in client.get(reverse("desk:waitlist")).content.decode()


def test_reception_sees_an_unconfirmed_message_and_sends_it_again_audited(
    client: HttpClient, clinic: Any, on_monday: Any
) -> None:
    person = make_client()
    book(clinic, person, 15)
    message = Message.objects.filter(client=person).order_by("send_after").first()
    assert message is not None
    Message.objects.filter(pk=message.pk).update(
        status="unconfirmed",
        attempts=1,
        unknown_outcomes=1,
        last_error="handed over at attempt 1, not confirmed: timed out",
    )
    staff_login(client, clinic.reception)
    url = reverse("desk:client", kwargs={"client_id": person.pk})

    page = client.get(url).content.decode()
    assert "probably delivered, not confirmed" in page
    assert "Send it again" in page
    resend = reverse(
        "desk:client-message-resend", kwargs={"client_id": person.pk, "message_id": message.pk}
    )
    # Not this client's message: nothing happens.
    other = reverse(
        "desk:client-message-resend",
        kwargs={"client_id": clinic.clients[0].pk, "message_id": message.pk},
    )
    assert client.post(other).status_code == 404

    assert client.post(resend).status_code == 302
    message.refresh_from_db()
    assert message.status == "pending" and "sent again by" in message.last_error
    entry = AuditEntry.objects.get(action="message.resend")
    assert entry.actor == clinic.reception and entry.object_id == str(message.pk)
    assert entry.client_ref == str(person.pk)
    # A second press changes nothing more: it is no longer waiting for a decision.
    assert client.post(resend).status_code == 302
    assert AuditEntry.objects.filter(action="message.resend").count() == 1
    assert "Send it again" not in client.get(url).content.decode()
