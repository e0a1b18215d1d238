"""The consent endpoints (issue 14 item 4): an appointment's consent state with its reason, a
client's signed consents with the hash of each text; another client's ids are 404 and a bad id
is a 422, both as JSON errors."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from daisy.api.tests.conftest import error_of
from daisy.booking.services import appointment_book
from daisy.records.consent_selectors import consent_template_for
from daisy.records.consent_services import Signing, consent_sign, consent_template_save
from tests.support.testing import MONDAY, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def appt(cast):
    return appointment_book(
        client=cast.client_a,
        treatment=cast.clinic.microneedling,
        starts_at=at(MONDAY, 10),
        booked_by=cast.clinic.reception,
        now=at(MONDAY - timedelta(days=7), 8),
    ).appointment


def _sign(cast, appt):
    template = consent_template_for(kind="treatment", treatment=cast.clinic.microneedling)
    return consent_sign(
        client=cast.client_a,
        signing=[Signing(template, template.version)],
        method="typed",
        signed_name="Client A",
        via="desk",
        taken_by=cast.clinic.specialists[0].user,
        appointment=appt,
        now=at(MONDAY, 9),
    )[0]


def test_status_goes_from_missing_to_signed_to_out_of_date(cast, appt):
    api = cast.as_("specialist")
    body = api.get(f"/appointments/{appt.pk}/consent").json()
    assert body["state"] == "missing" and body["consent"] is None
    assert body["reason"]
    consent = _sign(cast, appt)
    body = api.get(f"/appointments/{appt.pk}/consent").json()
    assert body["state"] == "signed"
    assert body["consent"]["id"] == str(consent.pk) and body["consent"]["is_current"]
    assert body["photos_record"] is False
    template = consent_template_for(kind="treatment", treatment=cast.clinic.microneedling)
    template.body += "\nA new line.\n"
    consent_template_save(
        template=template, by=cast.clinic.manager, now=at(MONDAY, 9), is_new=False
    )
    body = cast.as_("client_a").get(f"/appointments/{appt.pk}/consent").json()
    assert body["state"] == "out_of_date" and "version 1, now 2" in body["reason"]


def test_the_list_gives_each_consents_hash(cast, appt):
    consent = _sign(cast, appt)
    body = cast.as_("client_a").get(f"/clients/{cast.client_a.pk}/consents").json()
    assert body["count"] == 1
    (item,) = body["items"]
    assert item["text_sha256"] == hashlib.sha256(consent.text.encode()).hexdigest()
    assert item["taken_by"] and item["via"] == "desk" and item["treatment"] == "microneedling"
    assert "text" not in item and "signature_png" not in item


def test_another_clients_consents_are_not_found(cast, appt):
    _sign(cast, appt)
    for path in (f"/clients/{cast.client_a.pk}/consents", f"/appointments/{appt.pk}/consent"):
        response = cast.as_("client_b").get(path)
        assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    bad = cast.as_("reception").get("/clients/not-a-uuid/consents")
    assert bad.status_code == 422 and error_of(bad)
