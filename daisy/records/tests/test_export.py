"""The client's data download carries their clinical record (issue 14, item 8): the treatment
charts, the screening answers as given, each consultation as it reads now with its amendments,
signed consents with their text and as PDFs, and photos; nothing of another client."""

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


def test_the_zip_holds_the_whole_record_charts_answers_consents_and_photos(
    settings: Any, tmp_path: Any
) -> None:
    """Opened as the client would open it: the treatment chart with its zones, depths, lots
    and amendment; the health answers and consultation; each consent as a PDF; each photo."""
    from decimal import Decimal

    from daisy.booking.services import appointment_book, appointment_set_status
    from daisy.clients.models import Contraindication
    from daisy.records.charting import AreaIn, ChartIn, ProductIn, chart_amend, chart_save
    from daisy.records.photos import photo_add
    from daisy.scheduling.models import Status
    from tests.support.photos import as_upload, phone_jpeg, photo_consent
    from tests.support.testing import at, booking_now, consent_signed, rescreen_clear

    settings.DAISY_PHOTO_DIR = tmp_path / "photos"
    clinic = make_clinic()
    specialist = clinic.specialists[0].user
    login = make_user(role=Role.CLIENT)
    mine = make_client(user=login)
    _consulted(clinic, mine, "Fewer lines")
    # A clinician reviewed the keloid finding before the session was booked.
    Contraindication.objects.filter(client=mine).update(resolved_at=NOW)
    session = appointment_book(
        client=mine,
        treatment=clinic.microneedling,
        starts_at=at(date(2030, 1, 7), 10),
        booked_by=clinic.reception,
        now=booking_now(),
    ).appointment
    rescreen_clear(session)
    consent_signed(session)
    photo_consent(mine, by=specialist, now=session.starts_at)
    appointment_set_status(
        appointment=session, status=Status.CHECKED_IN, by=clinic.reception, now=session.starts_at
    )
    photo = photo_add(
        appointment=session,
        view="front",
        upload=as_upload(phone_jpeg()),
        source="camera",
        by=specialist,
        now=session.starts_at,
    )
    chart = chart_save(
        appointment=session,
        data=ChartIn(
            areas=[AreaIn("forehead", Decimal("0.5"), 2, "erythema")],
            products=[ProductIn("cartridge", "Cartridge", "LOT-A1", date(2031, 1, 1))],
            device=clinic.devices[0],
            operator=clinic.specialists[0],
            cartridge_opened_at_chair=True,
        ),
        by=specialist,
        now=session.starts_at,
        sign=True,
    ).chart
    chart_amend(
        chart=chart,
        by=specialist,
        now=session.starts_at,
        reason="Serum lot missed",
        text="Hyaluronic serum applied after needling.",
        products=[ProductIn("glide", "Serum", "SER-9", date(2031, 6, 1))],
    )
    http = HttpClient()
    http.force_login(login)

    response = http.post("/portal/my-data/download/")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        data = json.loads(archive.read("my-data.json"))
        names = archive.namelist()
        pdfs = [archive.read(n) for n in names if n.startswith("consents/")]
        (jpeg_name,) = [n for n in names if n.startswith("photos/")]
        jpeg = archive.read(jpeg_name)

    (record,) = data["treatment_records"]
    assert record["performed_on"] == "2030-01-07" and record["state"] == "signed"
    (area,) = record["areas"]
    assert (area["zone"], area["depth_mm"], area["passes"]) == ("forehead", "0.50", 2)
    lots = {p["lot"]: p["added_by_amendment"] for p in record["products"]}
    assert lots == {"LOT-A1": False, "SER-9": True}
    (amendment,) = record["amendments"]
    assert amendment["reason"] == "Serum lot missed"
    assert data["consultations"] and data["screening_answers"]
    assert len(pdfs) == len(data["signed_consents"]) == 2  # treatment and photos
    assert all(pdf.startswith(b"%PDF") for pdf in pdfs)
    assert str(photo.pk) in jpeg_name and jpeg.startswith(b"\xff\xd8")
    assert data["photos"][0]["id"] == str(photo.pk)
