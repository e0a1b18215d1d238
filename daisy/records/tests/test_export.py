"""The client's data download carries their clinical record (issue 14, item 8): the screening
answers as given, each consultation as it reads now with its amendments, and signed consents
with their text; nothing of another client."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.test import Client as HttpClient

from daisy.accounts.models import Role
from daisy.records.consultations import (
    consultation_amend,
    consultation_history_record,
    consultation_questionnaire,
    consultation_sign,
    consultation_start,
)
from tests.support.testing import make_client, make_clinic, make_user

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 1, 7, 10, 0, tzinfo=UTC)


def _consulted(clinic: Any, client: Any, goals: str) -> Any:
    by = clinic.specialists[0].user
    consultation = consultation_start(
        client=client,
        by=by,
        now=NOW,
        skin_type=3,
        concerns=[{"zone": "forehead", "concern": "fine_lines", "note": ""}],
        goals=goals,
    )
    asked = consultation_questionnaire(consultation)
    answers: dict[str, object] = {q.key: False for q in asked.questions} | {"keloid": True}
    consultation_history_record(
        consultation=consultation, answers=answers, by=by, now=NOW, today=date(2030, 1, 7)
    )
    consultation_sign(consultation=consultation, by=by, now=NOW)
    consultation_amend(consultation=consultation, by=by, now=NOW, reason="Typo", goals=goals + "!")
    return consultation


def test_the_download_has_my_screening_answers_and_consultation_only() -> None:
    clinic = make_clinic()
    login = make_user(role=Role.CLIENT)
    mine = make_client(user=login)
    theirs = make_client()
    consultation = _consulted(clinic, mine, "Fewer lines")
    _consulted(clinic, theirs, "Someone else's goal")
    http = HttpClient()
    http.force_login(login)

    response = http.post("/portal/my-data/download/")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        data = json.loads(archive.read("my-data.json"))
        names = archive.namelist()
    assert names == ["my-data.json"]  # no consent signed, no photo taken
    (answers,) = data["screening_answers"]
    assert answers["asked"] == "At the consultation"
    assert answers["answers"]["keloid"] == {"yes": True}
    assert "keloid" in answers["questions"]
    (exported,) = data["consultations"]
    assert exported["id"] == str(consultation.pk)
    assert exported["goals"] == "Fewer lines!" and exported["skin_type"] == 3
    assert exported["signed_at"] and exported["amendments"][0]["reason"] == "Typo"
    assert exported["medical_history"] == answers["id"]
    assert data["signed_consents"] == []
    assert "Someone else's goal" not in json.dumps(data)


def test_the_download_carries_each_signed_consent_as_its_pdf() -> None:
    from daisy.records.consent_selectors import consent_templates_to_sign
    from daisy.records.consent_services import Signing, consent_sign

    clinic = make_clinic()
    login = make_user(role=Role.CLIENT)
    mine = make_client(user=login)
    templates = {t.kind: t for t in consent_templates_to_sign(clinic.microneedling)}
    (signed,) = consent_sign(
        client=mine,
        signing=[Signing(templates["treatment"], templates["treatment"].version)],
        method="typed",
        signed_name="Ada Client",
        via="desk",
        taken_by=clinic.specialists[0].user,
        now=NOW,
    )
    http = HttpClient()
    http.force_login(login)
    response = http.post("/portal/my-data/download/")
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        data = json.loads(archive.read("my-data.json"))
        (pdf_name,) = [n for n in archive.namelist() if n.startswith("consents/")]
        pdf = archive.read(pdf_name)
    assert pdf.startswith(b"%PDF") and str(signed.pk) in pdf_name
    (exported,) = data["signed_consents"]
    assert exported["text_sha256"] == signed.text_sha256
