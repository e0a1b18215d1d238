"""Erasure requests and legal holds through the API (issue 14, item 8): the manager's token
reads what would go and what is kept, records a request only when told the client asked, and
places and lifts a legal hold with a reason. Errors are JSON with a code; none is a 500."""

from __future__ import annotations

import pytest

from daisy.api.tests.conftest import Cast, error_of
from daisy.audit.models import AuditEntry
from daisy.booking.services import appointment_book
from daisy.records.models import ErasureRequest, LegalHold
from tests.support.testing import MONDAY, at, booking_now, consent_signed

pytestmark = pytest.mark.django_db


def test_the_manager_sees_what_goes_and_records_the_request(cast: Cast) -> None:
    api = cast.as_("manager")
    url = f"/clients/{cast.client_a.pk}/erasure"
    body = api.get(url).json()
    assert "The online account (signing in stops working)" in body["deleted_now"]
    assert body["kept"] == [] and body["keep_until"] is None  # never treated
    assert body["request"] is None and body["legal_hold"] is None
    assert AuditEntry.objects.filter(action="client.view", data__via="api, erasure").exists()

    refused = api.post(url, {"confirm": False})
    assert refused.status_code == 422
    assert error_of(refused)["code"] == "confirm_required"
    assert api.post(url, {}).status_code == 422
    assert not ErasureRequest.objects.exists()

    done = api.post(url, {"confirm": True})
    assert done.status_code == 201
    assert done.json()["status"] == "done" and "client details" in done.json()["erased"]
    assert api.get(url).json()["request"]["status"] == "done"


def test_a_second_request_while_one_is_open_is_409(cast: Cast) -> None:
    # A signed consent is a clinical record: it is kept, and the request stays open.
    appt = appointment_book(
        client=cast.client_a,
        treatment=cast.clinic.microneedling,
        starts_at=at(MONDAY, 10),
        booked_by=cast.clinic.reception,
        now=booking_now(),
    ).appointment
    consent_signed(appt)
    api = cast.as_("manager")
    url = f"/clients/{cast.client_a.pk}/erasure"
    first = api.post(url, {"confirm": True})
    assert first.status_code == 201 and first.json()["status"] == "kept"
    assert first.json()["keep_until"] is not None
    again = api.post(url, {"confirm": True})
    assert again.status_code == 409 and error_of(again)["message"]


def test_a_legal_hold_is_placed_once_and_lifted_once_with_a_reason(cast: Cast) -> None:
    api = cast.as_("manager")
    place = f"/clients/{cast.client_a.pk}/legal-holds"
    blank = api.post(place, {"reason": "  "})
    assert blank.status_code == 422 and error_of(blank)["fields"] == {"reason": "Say why."}
    placed = api.post(place, {"reason": "A claim"})
    assert placed.status_code == 201 and placed.json()["lifted_at"] is None
    assert api.post(place, {"reason": "Again"}).status_code == 409
    lift = f"/legal-holds/{placed.json()['id']}/lift"
    assert api.post(lift, {"reason": ""}).status_code == 422
    lifted = api.post(lift, {"reason": "Settled"})
    assert lifted.status_code == 200 and lifted.json()["lift_reason"] == "Settled"
    assert api.post(lift, {"reason": "Settled"}).status_code == 409
    assert LegalHold.objects.get().lifted_by == cast.clinic.manager
    missing = api.post("/legal-holds/999999/lift", {"reason": "x"})
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    assert api.post("/legal-holds/not-a-number/lift", {"reason": "x"}).status_code == 422


def test_unknown_clients_are_404(cast: Cast) -> None:
    api = cast.as_("manager")
    unknown = "00000000-0000-0000-0000-000000000001"
    for path, body in (
        (f"/clients/{unknown}/erasure", None),
        (f"/clients/{unknown}/erasure", {"confirm": True}),
        (f"/clients/{unknown}/legal-holds", {"reason": "x"}),
    ):
        response = api.get(path) if body is None else api.post(path, body)
        assert response.status_code == 404, path
        error_of(response)
