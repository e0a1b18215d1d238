"""Consent at the desk (issue 14 item 4): the specialist hands the tablet over from the
appointment panel, the client signs (drawn or typed), the specialist is the consent-taker; the
panel, the client file and the diary say whether consent is done; reading, downloading and
withdrawing a signed consent are for clinicians and audited."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from PIL import Image

from daisy.audit.models import AuditEntry
from daisy.booking.diary import FLAG_CONSENT, diary_day
from daisy.records.consent_selectors import consent_status, consent_template_for
from daisy.records.models import Consent
from tests.support.testing import MONDAY, make_user, staff_login

from .conftest import DESK_NOW, book

pytestmark = pytest.mark.django_db
TABLET_UA = "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1"


def drawn() -> str:
    out = io.BytesIO()
    Image.new("RGBA", (900, 300), (0, 0, 0, 0)).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def _post(clinic: Any, appt: Any, **extra: str) -> dict[str, str]:
    template = consent_template_for(kind="treatment", treatment=clinic.microneedling)
    data = {
        "signed_name": "Anaïs Ødegård",
        "method": "typed",
        "signature": "",
        "agree_treatment": "on",
        "version_treatment": str(template.version),
        "version_photos_record": "1",
        "version_photos_marketing": "1",
    }
    data.update(extra)
    return data


@pytest.fixture
def appt(clinic: Any, on_monday: Any) -> Any:
    return book(clinic, clinic.clients[0], 15)


def specialist(clinic: Any) -> HttpClient:
    return staff_login(HttpClient(), clinic.specialists[0].user)


def test_panel_says_consent_is_missing_and_offers_the_tablet(clinic: Any, appt: Any) -> None:
    page = specialist(clinic).get(reverse("desk:appointment", args=[appt.pk])).content.decode()
    assert "Consent not signed" in page
    assert reverse("desk:consent-sign", args=[appt.pk]) in page
    reception = staff_login(HttpClient(), clinic.reception)
    page = reception.get(reverse("desk:appointment", args=[appt.pk])).content.decode()
    assert "Consent not signed" in page
    assert reverse("desk:consent-sign", args=[appt.pk]) not in page


def test_signing_on_the_tablet_typed_records_the_taker(clinic: Any, appt: Any) -> None:
    http = specialist(clinic)
    url = reverse("desk:consent-sign", args=[appt.pk])
    page = http.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Consent to micro-needling" in text and "desk-nav" not in text
    answer = http.post(
        url,
        _post(clinic, appt, agree_photos_record="on"),
        HTTP_USER_AGENT=TABLET_UA,
        REMOTE_ADDR="198.51.100.7",
    )
    assert answer.status_code == 200
    assert "Please hand the tablet back" in answer.content.decode()
    consents = {c.kind: c for c in Consent.objects.filter(client=appt.client)}
    assert set(consents) == {"treatment", "photos_record"}
    treatment = consents["treatment"]
    assert treatment.taken_by == clinic.specialists[0].user
    assert treatment.via == "desk" and treatment.method == "typed"
    assert treatment.signed_name == "Anaïs Ødegård"
    assert treatment.ip_address == "198.51.100.7" and treatment.device == "Tablet, Safari"
    assert consent_status(appt).state == "signed"


def test_a_drawn_signature_is_kept_as_png(clinic: Any, appt: Any) -> None:
    http = specialist(clinic)
    url = reverse("desk:consent-sign", args=[appt.pk])
    answer = http.post(url, _post(clinic, appt, method="drawn", signature=drawn()))
    assert answer.status_code == 200
    consent = Consent.objects.get(client=appt.client)
    assert consent.method == "drawn" and bytes(consent.signature_png).startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "change",
    [
        {"method": "drawn", "signature": ""},
        {"method": "drawn", "signature": "data:image/png;base64,@@@"},
        {"method": "drawn", "signature": "data:image/png;base64," + "A" * 40},
        {"signed_name": ""},
        {"agree_treatment": ""},
        {"version_treatment": "7"},
        {"method": "sideways"},
    ],
)
def test_a_signature_that_cannot_be_kept_is_refused_with_a_message(
    clinic: Any, appt: Any, change: dict[str, str]
) -> None:
    http = specialist(clinic)
    data = _post(clinic, appt, **change)
    if change.get("agree_treatment") == "":
        data.pop("agree_treatment")
    answer = http.post(reverse("desk:consent-sign", args=[appt.pk]), data)
    assert answer.status_code == 422
    assert not Consent.objects.exists()
    assert 'role="alert"' in answer.content.decode() or "field-error" in answer.content.decode()


def test_reading_downloading_and_withdrawing_are_audited(clinic: Any, appt: Any) -> None:
    http = specialist(clinic)
    http.post(reverse("desk:consent-sign", args=[appt.pk]), _post(clinic, appt))
    consent = Consent.objects.get()
    page = http.get(reverse("desk:consent", args=[consent.pk]))
    assert page.status_code == 200 and consent.text_sha256 in page.content.decode()
    pdf = http.get(reverse("desk:consent-pdf", args=[consent.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    views = AuditEntry.objects.filter(action="consent.view", object_id=str(consent.pk))
    assert views.count() == 2
    refused = http.post(reverse("desk:consent-withdraw", args=[consent.pk]), {"reason": ""})
    assert refused.status_code == 422
    http.post(
        reverse("desk:consent-withdraw", args=[consent.pk]),
        {"reason": "Client does not want treatment today"},
    )
    consent.refresh_from_db()
    assert consent.withdrawn_by == clinic.specialists[0].user
    assert AuditEntry.objects.filter(action="consent.withdraw").count() == 1
    assert consent_status(appt).state == "missing"


def test_reception_sees_the_state_not_the_document(clinic: Any, appt: Any) -> None:
    specialist(clinic).post(reverse("desk:consent-sign", args=[appt.pk]), _post(clinic, appt))
    consent = Consent.objects.get()
    reception = staff_login(HttpClient(), clinic.reception)
    file = reception.get(reverse("desk:client", args=[appt.client_id])).content.decode()
    assert "Consent to micro-needling" in file and "signed on" in file
    assert reverse("desk:consent", args=[consent.pk]) not in file
    assert reception.get(reverse("desk:consent", args=[consent.pk])).status_code == 403
    assert reception.get(reverse("desk:consent-pdf", args=[consent.pk])).status_code == 403
    assert not AuditEntry.objects.filter(action="consent.view").exists()
    clinician = specialist(clinic)
    file = clinician.get(reverse("desk:client", args=[appt.client_id])).content.decode()
    assert reverse("desk:consent", args=[consent.pk]) in file


def test_diary_flags_consent_not_done(clinic: Any, appt: Any) -> None:
    def flags() -> list[str]:
        day = diary_day(location=clinic.location, on=MONDAY, now=DESK_NOW)
        found = [p.appointment for c in day.columns for p in c.items]
        return [f.code for a in found if a.id == appt.pk for f in a.flags]

    assert FLAG_CONSENT in flags()
    specialist(clinic).post(reverse("desk:consent-sign", args=[appt.pk]), _post(clinic, appt))
    assert FLAG_CONSENT not in flags()


def test_a_client_login_cannot_reach_the_tablet(clinic: Any, appt: Any) -> None:
    http = HttpClient()
    http.force_login(make_user())
    answer = http.get(reverse("desk:consent-sign", args=[appt.pk]))
    assert answer.status_code == 403
