"""The desk's permission matrix (issue 13, item 6; DESIGN.md 8): every /desk/ address, read
from the URL resolver so a new page is covered without editing this test, is tried with GET
and POST by an anonymous visitor, a client, reception, a specialist and the manager. Visitors
are sent to the sign-in page, clients are refused, and a refused request changes nothing and
sends nothing. Clearing a clinical hold is for clinicians only."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from daisy.accounts.models import Role
from daisy.audit.models import AuditEntry
from daisy.booking.models import WaitlistEntry, WaitlistOffer
from daisy.booking.services import appointment_cancel, appointment_set_status
from daisy.booking.waitlist import waitlist_join
from daisy.clients.models import Client, ClinicalHold, Contraindication, Tier
from daisy.clients.services import client_hold_place
from daisy.notifications.models import Message
from daisy.records.charting import AreaIn, ChartIn, ProductIn, chart_save
from daisy.records.consent_selectors import consent_template_for
from daisy.records.consent_services import Signing, consent_sign
from daisy.records.consultations import consultation_start
from daisy.records.models import (
    Chart,
    ChartAmendment,
    ChartProduct,
    Consent,
    Consultation,
    ConsultationAmendment,
    ErasureRequest,
    LegalHold,
    Photo,
    ScreeningResponse,
)
from daisy.records.photos import photo_add
from daisy.records.recall import lot_list
from daisy.records.retention import legal_hold_place
from daisy.scheduling.models import Allocation, Appointment, Status
from tests.support.photos import as_upload, phone_jpeg, photo_consent
from tests.support.testing import make_client, make_user, staff_login

from .conftest import DESK_NOW, book

ROLES = ("anonymous", "client", Role.RECEPTION, Role.SPECIALIST, Role.MANAGER)
# Pages anyone may open: signing in and out.
OPEN_TO_ALL = {"sign-in", "sign-out"}
# Pages that only clinicians (specialists, the manager) may use: clearing a hold, and the
# treatment chart and lot recall (issue 14: health records, and messages to clients about them).
CLINICIANS_ONLY = {
    "client-hold-clear",
    "chart",
    "chart-cosign",
    "chart-amend",
    "lots",
    "lot",
    "lot-csv",
    "lot-recall",
    # The consultation (issue 14, item 2): the medical history is a health record.
    "consultations",
    "consultation-new",
    "consultation",
    "consultation-details",
    "consultation-history",
    "consultation-sign",
    "consultation-amend",
    # Consent (issue 14): taken by a clinician; the signed document is clinical.
    "consent-sign",
    "consent",
    "consent-pdf",
    "consent-withdraw",
    "appointment-photos",
    "client-photos",
    "photo-file",
    "photo-thumb",
    # Issue 14: starting a session despite the gate; recording and resolving findings.
    "appointment-override",
    "client-finding-add",
    "client-finding-resolve",
}
# Pages only the clinic manager may open.
MANAGER_ONLY = {
    "client-audit",
    "reports",
    "report-csv",
    # Issue 14 item 8: recording an erasure request, placing and lifting a legal hold.
    "client-erasure",
    "client-legal-hold-place",
    "client-legal-hold-lift",
}


def desk_patterns() -> list[tuple[str, URLPattern]]:
    """(name, pattern) for every route in the desk's namespace."""
    (desk,) = [
        p
        for p in get_resolver().url_patterns
        if isinstance(p, URLResolver) and p.namespace == "desk"
    ]
    out: list[tuple[str, URLPattern]] = []

    def walk(patterns: list[Any]) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns)
            elif p.name:
                out.append((p.name, p))

    walk(desk.url_patterns)
    return out


def _samples(world: dict[str, Any]) -> dict[str, Any]:
    return {
        "on": "2030-01-07",
        "client_id": world["client"].pk,
        "hold_id": world["hold"].pk,
        "legal_hold_id": world["legal_hold"].pk,
        "finding_id": world["finding"].pk,
        "appointment_id": world["appointment"].pk,
        "entry_id": world["entry"].pk,
        "offer_id": world["offer"].pk,
        "pk": world["appointment"].pk,
        "report": "utilisation",
        "lot_id": world["lot"].pk,
        "consultation_id": world["consultation"].pk,
        "consent_id": world["consent"].pk,
        "photo_id": world["photo"].pk,
        "message_id": Message.objects.order_by("pk").values_list("pk", flat=True).first(),
    }


def desk_urls(world: dict[str, Any]) -> list[tuple[str, str]]:
    samples = _samples(world)
    urls = []
    for name, pattern in desk_patterns():
        kwargs = {}
        for arg in pattern.pattern.converters:
            assert arg in samples, f"add a sample value for <{arg}> (desk:{name}) to this test"
            kwargs[arg] = samples[arg]
        urls.append((name, reverse(f"desk:{name}", kwargs=kwargs)))
    return urls


def snapshot() -> dict[str, Any]:
    return {
        "clients": list(Client.objects.order_by("pk").values()),
        "appointments": list(Appointment.objects.order_by("pk").values()),
        "allocations": Allocation.objects.filter(is_active=True).count(),
        "holds": list(ClinicalHold.objects.order_by("pk").values()),
        "findings": list(Contraindication.objects.order_by("pk").values()),
        "waitlist": list(WaitlistEntry.objects.order_by("pk").values()),
        "offers": list(WaitlistOffer.objects.order_by("pk").values()),
        "messages": Message.objects.count(),
        "charts": list(Chart.objects.order_by("pk").values()),
        "amendments": ChartAmendment.objects.count(),
        "chart_products": ChartProduct.objects.count(),
        "consultations": list(Consultation.objects.order_by("pk").values()),
        "consultation_amendments": ConsultationAmendment.objects.count(),
        "screenings": ScreeningResponse.objects.count(),
        "audit": AuditEntry.objects.count(),
        "consents": list(Consent.objects.order_by("pk").values()),
        "photos": list(Photo.objects.order_by("pk").values()),
        "legal_holds": list(LegalHold.objects.order_by("pk").values()),
        "erasure_requests": list(ErasureRequest.objects.order_by("pk").values()),
    }


@pytest.fixture
def world(clinic: Any, on_monday: Any, settings: Any, tmp_path: Any) -> dict[str, Any]:
    settings.DAISY_PHOTO_DIR = tmp_path / "photos"
    appointment = book(clinic, clinic.clients[0], 15)
    photo_consent(clinic.clients[0], by=clinic.specialists[0].user, now=DESK_NOW)
    photo = photo_add(
        appointment=appointment,
        view="front",
        upload=as_upload(phone_jpeg()),
        source="camera",
        by=clinic.specialists[0].user,
        now=DESK_NOW,
    )
    freed = book(clinic, clinic.clients[1], 16)
    person = make_client()
    hold = client_hold_place(
        client=person, reason="Signs of infection", source="test:1", now=DESK_NOW
    )
    entry = waitlist_join(
        client=person, treatment=clinic.microneedling, by=clinic.reception, now=DESK_NOW
    )
    appointment_cancel(appointment=freed, by=clinic.reception, now=DESK_NOW)
    finding = Contraindication.objects.create(
        client=person, condition="Keloid tendency", tier=Tier.CLINICIAN_REVIEW
    )
    return {
        "finding": finding,
        "clinic": clinic,
        "client": person,
        "hold": hold,
        "appointment": appointment,
        "entry": entry,
        "offer": WaitlistOffer.objects.get(entry=entry),
        "lot": _charted_lot(clinic),
        "consultation": consultation_start(client=person, by=clinic.manager, now=DESK_NOW),
        "consent": _signed_consent(clinic, appointment),
        "photo": photo,
        "legal_hold": legal_hold_place(
            client=clinic.clients[3], reason="A claim", by=clinic.manager, now=DESK_NOW
        ),
    }


def _charted_lot(clinic: Any) -> Any:
    """A signed chart of an attended session, with its cartridge lot (issue 14)."""
    attended = book(clinic, clinic.clients[2], 10)
    appointment_set_status(
        appointment=attended, status=Status.CHECKED_IN, by=clinic.reception, now=DESK_NOW
    )
    chart_save(
        appointment=attended,
        data=ChartIn(
            areas=[AreaIn("forehead", Decimal("0.5"), 2, "erythema")],
            products=[ProductIn("cartridge", "Cartridge", "PERM-1", date(2031, 1, 1))],
            device=clinic.devices[0],
            operator=clinic.specialists[0],
            cartridge_opened_at_chair=True,
        ),
        by=clinic.manager,
        now=DESK_NOW,
        sign=True,
    )
    return lot_list("PERM-1")[0]


def _signed_consent(clinic: Any, appointment: Any) -> Any:
    template = consent_template_for(kind="treatment", treatment=clinic.microneedling)
    (consent,) = consent_sign(
        client=appointment.client,
        signing=[Signing(template, template.version)],
        method="typed",
        signed_name="Client Signer",
        via="desk",
        taken_by=clinic.specialists[0].user,
        appointment=appointment,
        now=DESK_NOW,
    )
    return consent


def _login(http: HttpClient, clinic: Any, role: str) -> None:
    if role == "anonymous":
        return
    users = {
        "client": make_user(role=Role.CLIENT),
        Role.RECEPTION: clinic.reception,
        Role.SPECIALIST: clinic.specialists[0].user,
        Role.MANAGER: clinic.manager,
    }
    if role == "client":
        http.force_login(users[role])
    else:
        staff_login(http, users[role])


def test_every_desk_page_is_in_the_matrix(world: dict[str, Any]) -> None:
    names = {name for name, _url in desk_urls(world)}
    assert {"diary", "clients", "client", "worklist", "waitlist", "reports", "report-csv"} <= names


@pytest.mark.parametrize("role", ROLES)
def test_every_desk_address_by_every_role(world: dict[str, Any], role: str) -> None:
    clinic = world["clinic"]
    for name, url in desk_urls(world):
        if name in OPEN_TO_ALL:
            continue
        for method in ("get", "post"):
            http = HttpClient()
            _login(http, clinic, role)
            before = snapshot()
            response = getattr(http, method)(url)
            denied = (
                role in ("anonymous", "client")
                or (name in CLINICIANS_ONLY and role == Role.RECEPTION)
                or (name in MANAGER_ONLY and role != Role.MANAGER)
            )
            where = f"{method.upper()} {url} as {role}"
            assert response.status_code < 500, where
            if role == "anonymous":
                assert response.status_code == 302, where
                assert response["Location"].startswith("/desk/sign-in/"), where
            elif denied:
                assert response.status_code == 403, where
            else:
                assert response.status_code != 403, where
            if denied:
                assert snapshot() == before, f"refused {where} changed something"


def test_reception_sees_the_hold_but_not_why(client: HttpClient, world: dict[str, Any]) -> None:
    staff_login(client, world["clinic"].reception)
    page = client.get(reverse("desk:client", kwargs={"client_id": world["client"].pk}))
    text = page.content.decode()

    assert page.status_code == 200
    assert "On hold" in text
    assert "Signs of infection" not in text
    assert "Clear the hold" not in text
