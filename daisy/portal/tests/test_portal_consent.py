"""The client's consents in the portal (issue 14 item 4): signing for an upcoming appointment,
the PDF download, withdrawal without having to give a reason; another client's consent or
appointment is a 404 and staff are sent away; every view and download is audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from daisy.accounts.models import Role
from daisy.audit.models import AuditEntry
from daisy.booking.services import appointment_book
from daisy.records.consent_selectors import consent_current, consent_status, consent_template_for
from daisy.records.models import Consent
from tests.support.testing import make_clinic, make_user, staff_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict[str, Any]:
    clinic = make_clinic()
    now = timezone.now()
    people = []
    for n, client in enumerate(clinic.clients):
        user = make_user(role=Role.CLIENT, email=client.email, email_verified_at=now)
        client.user = user
        client.save()
        http = HttpClient()
        http.force_login(user)
        starts = (now + timezone.timedelta(days=10)).replace(
            hour=10 + 4 * n, minute=0, second=0, microsecond=0
        )
        while starts.weekday() == 6:
            starts += timezone.timedelta(days=1)
        appt = appointment_book(
            client=client,
            treatment=clinic.microneedling,
            starts_at=starts,
            booked_by=clinic.reception,
            now=now,
            location=clinic.location,
        ).appointment
        people.append({"client": client, "user": user, "http": http, "appt": appt})
    return {"clinic": clinic, "a": people[0], "b": people[1]}


def _form(clinic: Any, **extra: str) -> dict[str, str]:
    template = consent_template_for(kind="treatment", treatment=clinic.microneedling)
    data = {
        "signed_name": "Ласло Ng",
        "method": "typed",
        "agree_treatment": "on",
        "version_treatment": str(template.version),
        "version_photos_record": "1",
        "version_photos_marketing": "1",
    }
    data.update(extra)
    return data


def test_the_client_signs_for_their_appointment_in_the_portal(world: dict[str, Any]) -> None:
    a, clinic = world["a"], world["clinic"]
    page = a["http"].get(reverse("portal:consents")).content.decode()
    assert "Still to sign" in page
    url = reverse("portal:consent-sign-appointment", args=[a["appt"].pk])
    assert url in page
    assert a["http"].get(url).status_code == 200
    answer = a["http"].post(
        url, _form(clinic, agree_photos_marketing="on"), REMOTE_ADDR="203.0.113.9"
    )
    assert answer.status_code == 302
    consent = Consent.objects.get(client=a["client"], kind="treatment")
    assert consent.via == "portal" and consent.taken_by is None
    assert consent.ip_address == "203.0.113.9"
    assert consent_status(a["appt"]).state == "signed"
    assert consent_current(a["client"], kind="photos_marketing") is not None
    assert consent_current(a["client"], kind="photos_record") is None
    sign = AuditEntry.objects.get(action="consent.sign", object_id=str(consent.pk))
    assert sign.actor == a["user"]
    page = a["http"].get(reverse("portal:consents")).content.decode()
    assert "Still to sign" not in page


def test_the_pdf_is_the_clients_own_and_each_download_is_audited(world: dict[str, Any]) -> None:
    a, b, clinic = world["a"], world["b"], world["clinic"]
    a["http"].post(reverse("portal:consent-sign-appointment", args=[a["appt"].pk]), _form(clinic))
    consent = Consent.objects.get(client=a["client"])
    pdf = a["http"].get(reverse("portal:consent-pdf", args=[consent.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert ("<feff" + "Ласло Ng".encode("utf-16-be").hex()).encode() in pdf.content
    assert AuditEntry.objects.filter(action="consent.view", object_id=str(consent.pk)).count() == 1
    # Another client: not found, and nothing recorded as seen.
    assert b["http"].get(reverse("portal:consent-pdf", args=[consent.pk])).status_code == 404
    other = b["http"].post(reverse("portal:consent-withdraw", args=[consent.pk]))
    assert other.status_code == 404
    sign_other = reverse("portal:consent-sign-appointment", args=[a["appt"].pk])
    assert b["http"].get(sign_other).status_code == 404
    assert b["http"].post(sign_other, _form(clinic)).status_code == 404
    assert AuditEntry.objects.filter(action="consent.view").count() == 1
    consent.refresh_from_db()
    assert consent.withdrawn_at is None
    assert Consent.objects.filter(client=b["client"]).count() == 0


def test_staff_and_visitors_do_not_use_the_portals_consents(world: dict[str, Any]) -> None:
    a, clinic = world["a"], world["clinic"]
    a["http"].post(reverse("portal:consent-sign-appointment", args=[a["appt"].pk]), _form(clinic))
    consent = Consent.objects.get()
    url = reverse("portal:consent-pdf", args=[consent.pk])
    assert HttpClient().get(url).status_code == 302
    for user in (clinic.reception, clinic.specialists[0].user, clinic.manager):
        assert staff_login(HttpClient(), user).get(url).status_code == 403


def test_the_client_withdraws_without_having_to_say_why(world: dict[str, Any]) -> None:
    a = world["a"]
    a["http"].post(
        reverse("portal:consent-sign"),
        {
            "signed_name": "Ласло Ng",
            "method": "typed",
            "agree_photos_marketing": "on",
            "version_photos_record": "1",
            "version_photos_marketing": "1",
        },
    )
    consent = Consent.objects.get(client=a["client"], kind="photos_marketing")
    answer = a["http"].post(reverse("portal:consent-withdraw", args=[consent.pk]), {"reason": ""})
    assert answer.status_code == 302
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None and consent.withdrawn_by == a["user"]
    assert "no reason given" in consent.withdrawn_reason
    assert consent_current(a["client"], kind="photos_marketing") is None
    again = a["http"].post(reverse("portal:consent-withdraw", args=[consent.pk]))
    assert again.status_code == 302  # told it was already withdrawn, nothing changed


def test_photo_consents_alone_need_at_least_one_box(world: dict[str, Any]) -> None:
    a = world["a"]
    answer = a["http"].post(
        reverse("portal:consent-sign"),
        {
            "signed_name": "Ласло Ng",
            "method": "typed",
            "version_photos_record": "1",
            "version_photos_marketing": "1",
        },
    )
    assert answer.status_code == 422
    assert not Consent.objects.exists()
