"""Consent that holds up (issue 14 item 4; DOMAIN.md 6.4): versioned templates, the exact text
signed and its hash, re-consent when the template or the plan changes, withdrawal, the photo
consents the photos part reads, and the diary's "consent not done"."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image

from daisy.audit.models import AuditEntry
from daisy.booking.services import appointment_book
from daisy.core import consent as core
from daisy.courses.models import Plan, PlanArea, PlanSession
from daisy.lib.errors import DomainError, ValidationFailed
from daisy.records.consent_selectors import (
    consent_current,
    consent_missing_for,
    consent_status,
    consent_template_for,
    consent_templates_to_sign,
    consent_withdrawn_latest,
)
from daisy.records.consent_services import (
    Signing,
    consent_sign,
    consent_template_save,
    consent_withdraw,
    signature_check,
)
from daisy.records.models import Consent, ConsentTemplate, ConsentTemplateVersion
from tests.support.testing import MONDAY, at, booking_now, make_clinic

pytestmark = pytest.mark.django_db

NOW = booking_now()
TABLET = (
    "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36"
)


def png(width: int = 300, height: int = 100) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 0, 0, 0)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def clinic() -> Any:
    return make_clinic()


@pytest.fixture
def appt(clinic: Any) -> Any:
    return appointment_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=at(MONDAY, 10),
        booked_by=clinic.reception,
        now=NOW,
        location=clinic.location,
    ).appointment


def sign(
    clinic: Any, appt: Any, *kinds: str, method: str = "drawn", when: Any = NOW
) -> list[Consent]:
    templates = {t.kind: t for t in consent_templates_to_sign(appt.treatment)}
    return consent_sign(
        client=appt.client,
        signing=[Signing(templates[k], templates[k].version) for k in kinds or ("treatment",)],
        method=method,
        signed_name="Zoë Łukasiewicz-Nguyễn",
        signature_png=png() if method == "drawn" else b"",
        via="desk",
        taken_by=clinic.specialists[0].user,
        appointment=appt,
        ip_address="192.0.2.10",
        user_agent=TABLET,
        now=when,
    )


def edit(template: ConsentTemplate, by: Any, **changes: str) -> ConsentTemplate:
    for name, value in changes.items():
        setattr(template, name, value)
    return consent_template_save(template=template, by=by, now=NOW, is_new=False)


# --- the pure rules --------------------------------------------------------------------------


def test_document_hash_is_sha256_of_the_exact_text() -> None:
    text = "Consent\n\nRisks: redness.\n"
    assert core.document_hash(text) == hashlib.sha256(text.encode()).hexdigest()
    assert core.document_hash(text) != core.document_hash(text.replace(" ", "  "))


def test_plan_fingerprint_ignores_order_case_spacing_and_depth_spelling() -> None:
    one = core.plan_facts(treatment="t", zones=["Cheeks", "forehead"], depths={"cheeks": "1.50"})
    two = core.plan_facts(treatment="t", zones=["forehead ", "cheeks"], depths={"Cheeks": 1.5})
    assert core.plan_fingerprint(one) == core.plan_fingerprint(two)
    deeper = core.plan_facts(treatment="t", zones=["cheeks", "forehead"], depths={"cheeks": 2})
    assert core.plan_fingerprint(one) != core.plan_fingerprint(deeper)


def test_more_than_was_consented_is_a_change_less_is_not() -> None:
    signed = core.plan_facts(
        treatment="t", zones=["cheeks", "forehead"], depths={"cheeks": "1.0"}, products=["HA gel"]
    )
    less = core.plan_facts(treatment="t", zones=["cheeks"], depths={"cheeks": "0.5"})
    assert core.plan_changes(signed, less) == ()
    more = core.plan_facts(
        treatment="t",
        zones=["cheeks", "forehead", "neck"],
        depths={"cheeks": "1.5"},
        products=["ha gel", "Lidocaine 4%"],
    )
    assert [c.what for c in core.plan_changes(signed, more)] == ["zone", "depth", "product"]


def test_state_of_a_consent() -> None:
    plan = core.plan_facts(treatment="t", zones=["cheeks"])
    signed = core.Signed(template_version=2, plan=plan)
    assert core.consent_state(signed, current_version=None).state == core.State.NOT_NEEDED
    assert core.consent_state(None, current_version=2).state == core.State.MISSING
    assert core.consent_state(signed, current_version=2, plan=plan).state == core.State.SIGNED
    moved = core.consent_state(signed, current_version=3, plan=plan)
    assert moved.state == core.State.OUT_OF_DATE and moved.template_changed
    withdrawn = core.Signed(template_version=2, plan=plan, is_withdrawn=True)
    assert core.consent_state(withdrawn, current_version=2).state == core.State.MISSING


def test_a_depth_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(ValueError):
        core.plan_facts(treatment="t", depths={"cheeks": "deep"})
    with pytest.raises(ValueError):
        core.plan_facts(treatment="t", depths={"cheeks": "-1"})


# --- templates and their versions ------------------------------------------------------------


def test_shipped_templates_for_microneedling_and_both_photo_consents(clinic: Any) -> None:
    kinds = [t.kind for t in consent_templates_to_sign(clinic.microneedling)]
    assert kinds == ["treatment", "photos_record", "photos_marketing"]
    text = consent_template_for(kind="treatment", treatment=clinic.microneedling).body
    for words in ("Infection", "Alternatives", "withdraw", "aftercare", "may not give me"):
        assert words in text


def test_editing_the_text_makes_a_new_version_and_keeps_the_old(clinic: Any) -> None:
    template = consent_template_for(kind="treatment", treatment=clinic.microneedling)
    old_body = template.body
    edit(template, clinic.manager, body=old_body + "\nOne more line.\n")
    template.refresh_from_db()
    assert template.version == 2
    versions = ConsentTemplateVersion.objects.filter(template=template).order_by("version")
    assert [(v.version, v.body) for v in versions] == [
        (1, old_body),
        (2, old_body + "\nOne more line.\n"),
    ]
    edit(template, clinic.manager, is_active=True)  # not the text: same version
    template.refresh_from_db()
    assert template.version == 2


# --- signing ---------------------------------------------------------------------------------


def test_signing_stores_the_text_its_hash_and_who_when_where(clinic: Any, appt: Any) -> None:
    (consent,) = sign(clinic, appt)
    consent.refresh_from_db()
    assert consent.text.startswith("Consent to micro-needling\n\n")
    assert consent.text_sha256 == hashlib.sha256(consent.text.encode("utf-8")).hexdigest()
    assert consent.version == 1 and consent.template_version.version == 1
    assert consent.signed_at == NOW
    assert consent.ip_address == "192.0.2.10"
    assert consent.user_agent == TABLET and consent.device == "Tablet, Chrome"
    assert consent.taken_by == clinic.specialists[0].user
    assert consent.signed_name == "Zoë Łukasiewicz-Nguyễn"
    assert bytes(consent.signature_png).startswith(b"\x89PNG")
    assert consent.plan_fingerprint == core.plan_fingerprint(core.plan_facts_from(consent.plan))
    entry = AuditEntry.objects.get(action="consent.sign", object_id=str(consent.pk))
    assert entry.data["sha256"] == consent.text_sha256
    assert entry.client_ref == str(appt.client_id)


def test_one_signature_for_treatment_and_chosen_photo_consents(clinic: Any, appt: Any) -> None:
    signed = sign(clinic, appt, "treatment", "photos_record", method="typed")
    assert sorted(c.kind for c in signed) == ["photos_record", "treatment"]
    assert all(c.method == "typed" and not bytes(c.signature_png) for c in signed)
    assert consent_current(appt.client, kind="photos_record") == signed[1]
    assert consent_current(appt.client, kind="photos_marketing") is None
    status = consent_status(appt)
    assert status.photos_record == signed[1] and status.photos_marketing is None


def test_the_desk_needs_a_clinician_to_take_consent(clinic: Any, appt: Any) -> None:
    template = consent_template_for(kind="treatment", treatment=clinic.microneedling)
    before = Consent.objects.count()
    with pytest.raises(DomainError) as refused:
        consent_sign(
            client=appt.client,
            signing=[Signing(template, 1)],
            method="typed",
            signed_name="A Client",
            via="desk",
            taken_by=clinic.reception,
            appointment=appt,
            now=NOW,
        )
    assert refused.value.code == "consent_taker_required"
    assert Consent.objects.count() == before


def test_a_text_changed_while_being_read_is_not_signed(clinic: Any, appt: Any) -> None:
    template = consent_template_for(kind="treatment", treatment=clinic.microneedling)
    edit(template, clinic.manager, title="Consent to micro-needling (2027)")
    with pytest.raises(DomainError) as refused:
        consent_sign(
            client=appt.client,
            signing=[Signing(template, 1)],
            method="typed",
            signed_name="A Client",
            via="portal",
            appointment=appt,
            now=NOW,
        )
    assert refused.value.code == "consent_changed"
    assert not Consent.objects.exists()


@pytest.mark.parametrize(
    "picture",
    [b"", b"not a png", b"\x89PNG\r\n\x1a\nbroken", png(5000, 10), b"\x89PNG" + b"0" * 400_000],
)
def test_a_signature_that_is_no_small_png_is_refused(picture: bytes) -> None:
    with pytest.raises(ValidationFailed):
        signature_check(picture)


def test_a_typed_signature_needs_a_name(clinic: Any, appt: Any) -> None:
    template = consent_template_for(kind="treatment", treatment=clinic.microneedling)
    with pytest.raises(ValidationFailed):
        consent_sign(
            client=appt.client,
            signing=[Signing(template, 1)],
            method="typed",
            signed_name="   ",
            via="portal",
            now=NOW,
        )


# --- re-consent ------------------------------------------------------------------------------


def test_status_missing_then_signed(clinic: Any, appt: Any) -> None:
    status = consent_status(appt)
    assert status.state == "missing" and status.is_blocking
    assert "not signed" in status.reason
    sign(clinic, appt)
    status = consent_status(appt)
    assert status.state == "signed" and not status.is_blocking
    assert "version 1" in status.reason


def test_a_new_template_version_needs_a_new_signature(clinic: Any, appt: Any) -> None:
    (consent,) = sign(clinic, appt)
    template = consent_template_for(kind="treatment", treatment=clinic.microneedling)
    edit(template, clinic.manager, body=template.body + "\nNew risk explained.\n")
    assert consent_current(appt.client, kind="treatment", treatment=appt.treatment) is None
    status = consent_status(appt)
    assert status.state == "out_of_date" and status.is_blocking
    assert "version 1, now 2" in status.reason
    sign(clinic, appt, when=NOW + timedelta(minutes=5))
    assert consent_status(appt).state == "signed"


def _course(clinic: Any, appt: Any, *areas: str) -> Plan:
    plan = Plan.objects.create(
        client=appt.client,
        treatment=appt.treatment,
        sessions=3,
        created_at=NOW,
        updated_at=NOW,
    )
    PlanSession.objects.create(plan=plan, appointment=appt)
    for area in areas:
        PlanArea.objects.create(plan=plan, area=area, concern="acne_scars")
    return plan


def test_a_zone_added_to_the_plan_needs_a_new_signature(clinic: Any, appt: Any) -> None:
    plan = _course(clinic, appt, "cheeks")
    (consent,) = sign(clinic, appt)
    assert consent.course == plan and consent.plan["zones"] == ["cheeks"]
    assert consent_status(appt).state == "signed"
    PlanArea.objects.create(plan=plan, area="neck", concern="fine_lines")
    status = consent_status(appt)
    assert status.state == "out_of_date"
    assert "the plan now includes the neck" in status.reason
    PlanArea.objects.filter(area="neck").delete()
    PlanArea.objects.filter(area="cheeks").delete()  # doing less is still covered
    assert consent_status(appt).state == "signed"


def test_a_deeper_setting_or_new_product_from_the_chart_needs_a_new_signature(
    clinic: Any, appt: Any
) -> None:
    _course(clinic, appt, "cheeks")
    chart = core.plan_facts(treatment="", depths={"cheeks": "1.0"}, products=["HA gel"])
    templates = {t.kind: t for t in consent_templates_to_sign(appt.treatment)}
    consent_sign(
        client=appt.client,
        signing=[Signing(templates["treatment"], 1)],
        method="typed",
        signed_name="A Client",
        via="portal",
        appointment=appt,
        extra_plan=chart,
        now=NOW,
    )
    assert consent_status(appt, extra=chart).state == "signed"
    deeper = core.plan_facts(treatment="", depths={"cheeks": "1.5"}, products=["HA gel"])
    status = consent_status(appt, extra=deeper)
    assert status.state == "out_of_date"
    assert "from 1 mm to 1.5 mm" in status.reason
    numbing = core.plan_facts(treatment="", products=["HA gel", "Lidocaine cream"])
    assert "lidocaine cream" in consent_status(appt, extra=numbing).reason


# --- withdrawal ------------------------------------------------------------------------------


def test_withdrawal_is_recorded_and_ends_the_consent(clinic: Any, appt: Any) -> None:
    treatment, photos = sign(clinic, appt, "treatment", "photos_marketing")
    with pytest.raises(ValidationFailed):
        consent_withdraw(consent=photos, by=clinic.manager, reason=" ", now=NOW, via="desk")
    later = NOW + timedelta(days=1)
    consent_withdraw(
        consent=photos, by=appt.client.user, reason="Changed my mind", now=later, via="portal"
    )
    photos.refresh_from_db()
    assert photos.withdrawn_at == later and photos.withdrawn_reason == "Changed my mind"
    assert consent_current(appt.client, kind="photos_marketing") is None
    assert consent_withdrawn_latest(appt.client, kind="photos_marketing") == photos
    assert AuditEntry.objects.filter(action="consent.withdraw", object_id=str(photos.pk)).exists()
    with pytest.raises(DomainError):
        consent_withdraw(consent=photos, by=clinic.manager, reason="again", now=later, via="desk")
    consent_withdraw(
        consent=treatment, by=clinic.specialists[0].user, reason="Not now", now=later, via="desk"
    )
    status = consent_status(appt)
    assert status.state == "missing" and "withdrew" in status.reason and "Not now" in status.reason


# --- the diary -------------------------------------------------------------------------------


def test_diary_flags_open_appointments_without_a_current_consent(clinic: Any, appt: Any) -> None:
    other = appointment_book(
        client=clinic.clients[1],
        treatment=clinic.microneedling,
        starts_at=at(MONDAY, 14),
        booked_by=clinic.reception,
        now=NOW,
        location=clinic.location,
    ).appointment
    assert consent_missing_for([appt, other]) == {appt.pk, other.pk}
    sign(clinic, appt)
    assert consent_missing_for([appt, other]) == {other.pk}


# --- the PDF ---------------------------------------------------------------------------------


def _pdf_name(name: str) -> bytes:
    # A PDF text string outside ASCII: UTF-16BE with a byte order mark, written in hex (the
    # document's metadata carries the name given and the hash).
    return b"<feff" + name.encode("utf-16-be").hex().encode() + b">"


def test_the_pdf_carries_the_name_the_hash_and_a_unicode_font(clinic: Any, appt: Any) -> None:
    from zoneinfo import ZoneInfo

    from daisy.records.consent_pdf import consent_pdf, unicode_font_dir

    (consent,) = sign(clinic, appt)
    pdf = consent_pdf(consent, zone=ZoneInfo("Europe/London"), clinic_name="Daisy")
    assert pdf.startswith(b"%PDF-")
    assert _pdf_name("Zoë Łukasiewicz-Nguyễn") in pdf
    assert f"SHA-256 {consent.text_sha256}".encode() in pdf
    assert b"/Subtype /Image" in pdf  # the drawn signature
    if unicode_font_dir() is None:
        pytest.skip("DejaVu Sans is not installed (fonts-dejavu-core); .ci/run installs it")
    assert b"DejaVuSans" in pdf


def test_without_a_unicode_font_the_pdf_names_each_character_it_cannot_draw(
    clinic: Any, appt: Any, monkeypatch: Any
) -> None:
    from zoneinfo import ZoneInfo

    from daisy.records import consent_pdf as module

    monkeypatch.setattr(module, "FONT_DIRS", ())
    monkeypatch.delenv("DAISY_PDF_FONT_DIR", raising=False)
    (consent,) = sign(clinic, appt, method="typed")
    pdf = module.consent_pdf(consent, zone=ZoneInfo("Europe/London"))
    assert b"DejaVu" not in pdf and b"Helvetica" in pdf
    assert _pdf_name("Zoë Łukasiewicz-Nguyễn") in pdf  # the metadata keeps it whole


def test_the_manager_edits_the_text_in_the_admin_and_a_new_version_is_kept(clinic: Any) -> None:
    from django.test import Client as HttpClient

    from tests.support.testing import staff_login

    template = consent_template_for(kind="treatment", treatment=clinic.microneedling)
    http = staff_login(HttpClient(), clinic.manager)
    url = f"/admin/records/consenttemplate/{template.pk}/change/"
    assert http.get(url).status_code == 200
    answer = http.post(
        url,
        {
            "title": template.title,
            "body": template.body + "\nAsk us about anything on this page.\n",
            "is_active": "on",
            "versions-TOTAL_FORMS": "1",
            "versions-INITIAL_FORMS": "1",
            "versions-MIN_NUM_FORMS": "0",
            "versions-MAX_NUM_FORMS": "1000",
            "versions-0-id": str(template.versions.get().pk),
            "versions-0-template": str(template.pk),
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    template.refresh_from_db()
    assert template.version == 2 and template.versions.count() == 2
    assert AuditEntry.objects.filter(action="consent.template.save").exists()
    specialist = staff_login(HttpClient(), clinic.specialists[0].user)
    assert specialist.get(url).status_code == 200  # may read
    assert specialist.post(url, {"title": "x", "body": "y"}).status_code == 403
