"""The consultation at the desk (issue 14, item 2): a specialist starts one, records the skin
type, concerns and goals, asks the medical history and signs; the signed page is read-only and
changes are amendments with a reason; every opening is audited; reception is refused and a
consultation is only found under its own client."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from daisy.audit.models import AuditEntry
from daisy.records.consultations import consultation_questionnaire, consultation_start
from daisy.records.models import Consultation, ConsultationAmendment, ScreeningResponse
from tests.support.testing import make_client, staff_login

from .conftest import DESK_NOW

pytestmark = pytest.mark.django_db


def _all_no(consultation: Consultation) -> dict[str, str]:
    asked = consultation_questionnaire(consultation)
    return {q.key: "no" for q in asked.questions if q.key != "dark_skin"}


def test_a_specialist_takes_a_consultation_from_start_to_signature(
    client: HttpClient, clinic: Any
) -> None:
    person = make_client()
    specialist = clinic.specialists[0].user
    staff_login(client, specialist)
    listing = client.get(reverse("desk:consultations", kwargs={"client_id": person.pk}))
    assert listing.status_code == 200 and "Start the consultation" in listing.content.decode()

    started = client.post(reverse("desk:consultation-new", kwargs={"client_id": person.pk}))
    consultation = Consultation.objects.get(client=person)
    url = reverse(
        "desk:consultation", kwargs={"client_id": person.pk, "consultation_id": consultation.pk}
    )
    assert started.status_code == 302 and started["Location"] == url

    # Signing too early says what is missing.
    early = client.post(f"{url}sign/")
    assert early.status_code == 422 and "Record the skin type" in early.content.decode()

    saved = client.post(
        f"{url}details/",
        {
            "skin_type": "4",
            "c_cheek_right": "acne_scars",
            "n_cheek_right": "rolling scars",
            "c_body": "",
            "n_body": "abdomen, stretch marks",
            "goals": "Smoother cheeks",
            "notes": "",
            "plan": "",
        },
    )
    assert saved.status_code == 302
    consultation.refresh_from_db()
    assert consultation.skin_type == 4
    assert consultation.concerns == [
        {"zone": "cheek_right", "concern": "acne_scars", "note": "rolling scars"},
        {"zone": "body", "concern": "", "note": "abdomen, stretch marks"},
    ]

    page = client.get(url).content.decode()
    assert "Asked only here, in person" in page and "Also asked online" in page

    answers = _all_no(consultation)
    missing = dict(answers)
    del missing["keloid"]
    refused = client.post(f"{url}history/", missing)
    assert refused.status_code == 422 and not ScreeningResponse.objects.exists()
    recorded = client.post(f"{url}history/", answers)
    assert recorded.status_code == 302
    response = ScreeningResponse.objects.get(client=person)
    assert response.via == "consultation"
    assert response.answers["dark_skin"] == {"yes": True}  # from the skin type (IV)

    assert client.post(f"{url}sign/").status_code == 302
    consultation.refresh_from_db()
    assert consultation.signed_by == specialist

    signed = client.get(url).content.decode()
    assert "Signed by" in signed and "Amend (with a reason)" in signed
    assert f'action="{url}details/"' not in signed  # read-only
    changed = client.post(
        f"{url}details/", {"skin_type": "2", "goals": "x", "notes": "", "plan": ""}
    )
    assert changed.status_code == 422
    consultation.refresh_from_db()
    assert consultation.skin_type == 4

    amend_url = f"{url}amend/"
    assert client.get(amend_url).status_code == 200
    no_reason = client.post(amend_url, {"skin_type": "5", "c_cheek_right": "acne_scars"})
    assert no_reason.status_code == 422
    amended = client.post(
        amend_url,
        {
            "skin_type": "5",
            "c_cheek_right": "acne_scars",
            "n_cheek_right": "rolling scars",
            "n_body": "abdomen, stretch marks",
            "goals": "Smoother cheeks",
            "notes": "",
            "plan": "",
            "reason": "Seen again in daylight",
        },
    )
    assert amended.status_code == 302
    (amendment,) = ConsultationAmendment.objects.filter(consultation=consultation)
    assert (amendment.field, amendment.before, amendment.after) == ("skin_type", 4, 5)
    assert "Seen again in daylight" in client.get(url).content.decode()

    views = AuditEntry.objects.filter(action="consultation.view", object_id=str(consultation.pk))
    assert views.count() >= 3
    assert set(views.values_list("client_ref", flat=True)) == {str(person.pk)}


def test_reception_is_refused_and_another_clients_consultation_is_not_found(
    client: HttpClient, clinic: Any
) -> None:
    person, other = make_client(), make_client()
    consultation = consultation_start(client=person, by=clinic.manager, now=DESK_NOW)
    staff_login(client, clinic.reception)
    url = reverse(
        "desk:consultation", kwargs={"client_id": person.pk, "consultation_id": consultation.pk}
    )
    assert client.get(url).status_code == 403
    page = client.get(reverse("desk:client", kwargs={"client_id": person.pk})).content.decode()
    assert "Consultations" not in page

    staff_login(client, clinic.manager)
    wrong = reverse(
        "desk:consultation", kwargs={"client_id": other.pk, "consultation_id": consultation.pk}
    )
    assert client.get(wrong).status_code == 404
    assert not AuditEntry.objects.filter(action="consultation.view").exists()
