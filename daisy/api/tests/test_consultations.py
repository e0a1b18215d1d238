"""The consultation API (issue 14, items 2 and 10): clinicians start, fill in, sign and amend a
consultation; reception and client tokens are refused; errors are 4xx JSON; in the spec."""

from __future__ import annotations

from typing import Any

import pytest

from daisy.audit.models import AuditEntry
from daisy.records.consultations import consultation_questionnaire
from daisy.records.models import Consultation

from .conftest import Cast, error_of

pytestmark = pytest.mark.django_db


def test_a_specialist_starts_fills_in_signs_and_amends(cast: Cast) -> None:
    api = cast.as_("specialist")
    client_id = cast.client_a.pk
    made = api.post(
        f"/clients/{client_id}/consultations",
        {"skin_type": 3, "concerns": [{"zone": "forehead", "concern": "fine_lines"}],
         "goals": "Softer lines"},
    )  # fmt: skip
    assert made.status_code == 201, made.content
    body = made.json()
    cid = body["id"]
    assert body["skin_type"] == 3 and body["concerns"][0]["zone"] == "forehead"
    assert body["signed_at"] is None and body["medical_history"] is None

    early = api.post(f"/consultations/{cid}/sign")
    assert early.status_code == 422 and "screening" in error_of(early)["fields"]

    asked = consultation_questionnaire(Consultation.objects.get(pk=cid))
    missing = api.post(f"/consultations/{cid}/history", {"answers": {"keloid": False}})
    assert missing.status_code == 422 and "pregnant" in error_of(missing)["fields"]
    answers: dict[str, Any] = {q.key: False for q in asked.questions}
    answers |= {"toxin": True, "toxin_on": "2029-12-30"}
    history = api.post(f"/consultations/{cid}/history", {"answers": answers})
    assert history.status_code == 200, history.content
    assert history.json()["medical_history"]["outcome"] == "deferred"

    signed = api.post(f"/consultations/{cid}/sign")
    assert signed.status_code == 200 and signed.json()["signed_by"]
    again = api.post(f"/consultations/{cid}/sign")
    assert again.status_code == 409 and error_of(again)["code"] == "consultation_signed"

    no_reason = api.post(f"/consultations/{cid}/amendments", {"skin_type": 4})
    assert no_reason.status_code == 422
    amended = api.post(
        f"/consultations/{cid}/amendments", {"skin_type": 4, "reason": "Daylight"}
    )
    assert amended.status_code == 201, amended.content
    out = amended.json()
    assert out["skin_type"] == 4 and out["amendments"][0]["before"] == 3

    listing = cast.as_("manager").get(f"/clients/{client_id}/consultations")
    assert listing.status_code == 200 and listing.json()["count"] == 1
    one = api.get(f"/consultations/{cid}")
    assert one.status_code == 200 and one.json()["amendments"][0]["reason"] == "Daylight"
    assert AuditEntry.objects.filter(action="consultation.view", object_id=cid).count() == 2


@pytest.mark.parametrize("role", ["reception", "client_a", "client_b"])
def test_other_roles_are_refused(cast: Cast, role: str) -> None:
    client_id = cast.client_a.pk
    api = cast.as_(role)
    for response in (
        api.get(f"/clients/{client_id}/consultations"),
        api.post(f"/clients/{client_id}/consultations", {}),
    ):
        assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
    assert not Consultation.objects.exists()
    assert (
        cast.as_("anonymous").get(f"/clients/{client_id}/consultations").status_code == 401
    )


def test_unknown_ids_and_bad_input_are_4xx_json(cast: Cast) -> None:
    api = cast.as_("manager")
    unknown = "00000000-0000-4000-8000-000000000000"
    assert api.get(f"/consultations/{unknown}").status_code == 404
    assert api.get(f"/clients/{unknown}/consultations").status_code == 404
    bad = api.post(
        f"/clients/{cast.client_a.pk}/consultations", {"concerns": [{"zone": "elbow"}]}
    )
    assert bad.status_code == 422 and error_of(bad)
    too_dark = api.post(f"/clients/{cast.client_a.pk}/consultations", {"skin_type": 7})
    assert too_dark.status_code == 422
    other_visit = api.post(
        f"/clients/{cast.client_a.pk}/consultations", {"appointment": unknown}
    )
    assert other_visit.status_code == 404


def test_the_spec_documents_the_consultation_operations(cast: Cast) -> None:
    spec = cast.as_("anonymous").get("/openapi.json").json()
    paths = spec["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/clients/{client_id}/consultations"])
    for path in ("sign", "history", "amendments"):
        assert "post" in paths[f"/api/v1/consultations/{{consultation_id}}/{path}"]
    assert "get" in paths["/api/v1/consultations/{consultation_id}"]
