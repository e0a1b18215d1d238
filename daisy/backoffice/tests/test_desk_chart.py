"""The treatment chart and lot recall at the desk (issue 14 items 5, 6): a specialist charts
and signs from the appointment, a refused depth or lot is said on the form, a signed chart is
read-only with amendments, the diary and panel show the chart's state, "completed" warns when
the chart is not signed, and the lot pages list, export and recall. Every opening audited."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from daisy.audit.models import AuditEntry
from daisy.booking.services import appointment_set_status
from daisy.notifications.models import Message
from daisy.records.models import Chart, ChartAmendment
from daisy.scheduling.models import Status
from tests.support.testing import consent_signed, rescreen_clear, staff_login

from .conftest import DESK_NOW, book

pytestmark = pytest.mark.usefixtures("on_monday")


@pytest.fixture
def arrived(clinic: Any) -> Any:
    appt = book(clinic, clinic.clients[0], 10, specialist=clinic.specialists[0])
    rescreen_clear(appt)  # issue 14: the session's health questions are answered
    consent_signed(appt)
    return appointment_set_status(
        appointment=appt, status=Status.CHECKED_IN, by=clinic.reception, now=DESK_NOW
    )


def signed_post(clinic: Any, **over: Any) -> dict[str, Any]:
    data = {
        "action": "sign",
        "operator": str(clinic.specialists[0].pk),
        "device": str(clinic.devices[0].pk),
        "z_forehead_on": "on",
        "z_forehead_depth": "0.5",
        "z_forehead_passes": "3",
        "z_forehead_pattern": "crosshatch",
        "z_forehead_endpoint": "erythema",
        "cartridge_name": "14-pin cartridge",
        "cartridge_lot": "DESK-C1",
        "cartridge_expires_on": "2031-01-31",
        "cartridge_opened_at_chair": "on",
        "numbing_name": "Lidocaine cream",
        "numbing_lot": "DESK-N1",
        "numbing_expires_on": "2031-01-31",
        "skin_type": "3",
        "aftercare_given": "on",
    }
    data.update(over)
    return data


def test_specialist_charts_and_signs_from_the_appointment(clinic: Any, arrived: Any) -> None:
    http = staff_login(HttpClient(), clinic.specialists[0].user)
    url = reverse("desk:chart", args=[arrived.pk])
    panel = http.get(reverse("desk:appointment", args=[arrived.pk])).content.decode()
    assert "Write the chart" in panel
    page = http.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert 'class="face-map"' in text and 'data-zone="forehead"' in text
    # The booked numbing phase is the first guess at when the cream went on and came off.
    assert 'name="numbing_on_at" value="10:10"' in text

    done = http.post(url, signed_post(clinic))
    assert done.status_code == 302
    chart = Chart.objects.get(appointment=arrived)
    assert chart.is_signed and chart.signed_by == clinic.specialists[0].user
    signed = http.get(url).content.decode()
    assert "Signed by" in signed and "DESK-C1" in signed
    assert AuditEntry.objects.filter(action="chart.view", object_id=str(chart.pk)).exists()
    panel = http.get(reverse("desk:appointment", args=[arrived.pk])).content.decode()
    assert "Charted" in panel
    # Posting over a signed chart changes nothing.
    http.post(url, signed_post(clinic, **{"z_forehead_depth": "0.25"}))
    assert Chart.objects.get(pk=chart.pk).areas.get().depth_mm == Decimal("0.50")


def test_a_refused_depth_is_said_beside_the_zone(clinic: Any, arrived: Any) -> None:
    pen = clinic.devices[0]
    pen.max_depth_mm = Decimal("1.50")
    pen.save()
    http = staff_login(HttpClient(), clinic.specialists[0].user)
    page = http.post(
        reverse("desk:chart", args=[arrived.pk]), signed_post(clinic, z_forehead_depth="2.0")
    )
    assert page.status_code == 422
    assert "labelled maximum of 1.50 mm" in page.content.decode()
    assert not Chart.objects.exists()


def test_an_expired_lot_is_refused_on_the_form(clinic: Any, arrived: Any) -> None:
    http = staff_login(HttpClient(), clinic.specialists[0].user)
    page = http.post(
        reverse("desk:chart", args=[arrived.pk]),
        signed_post(clinic, cartridge_expires_on="2029-12-31"),
    )
    assert page.status_code == 422
    assert "expired on 2029-12-31" in page.content.decode()


def test_draft_then_amend_after_signing(clinic: Any, arrived: Any) -> None:
    http = staff_login(HttpClient(), clinic.specialists[0].user)
    url = reverse("desk:chart", args=[arrived.pk])
    http.post(url, signed_post(clinic, action="save", cartridge_opened_at_chair=""))
    chart = Chart.objects.get(appointment=arrived)
    assert not chart.is_signed
    panel = http.get(reverse("desk:appointment", args=[arrived.pk])).content.decode()
    assert "Chart not signed yet" in panel
    http.post(url, signed_post(clinic))
    amend = http.post(
        reverse("desk:chart-amend", args=[arrived.pk]),
        {"reason": "Pain score missed", "text": "Pain 3/10."},
    )
    assert amend.status_code == 302
    assert ChartAmendment.objects.get().by == clinic.specialists[0].user
    missing = http.post(reverse("desk:chart-amend", args=[arrived.pk]), {"text": "x"})
    assert missing.status_code == 422
    assert ChartAmendment.objects.count() == 1


def test_completed_warns_when_the_chart_is_not_signed(clinic: Any, arrived: Any) -> None:
    http = staff_login(HttpClient(), clinic.reception)
    panel = http.get(reverse("desk:appointment", args=[arrived.pk])).content.decode()
    assert "The treatment chart is not signed yet" in panel
    arrived.refresh_from_db()
    version = arrived.updated_at.isoformat()
    http.post(
        reverse("desk:appointment-status", args=[arrived.pk]),
        {"status": "completed", "version": version},
        follow=True,
    )
    page = http.get(reverse("desk:appointment", args=[arrived.pk])).content.decode()
    assert "Chart not signed yet" in page  # the diary's flag, now a warning


def test_lot_pages_list_export_and_recall(clinic: Any, arrived: Any) -> None:
    http = staff_login(HttpClient(), clinic.manager)
    http.post(reverse("desk:chart", args=[arrived.pk]), signed_post(clinic))
    listing = http.get(reverse("desk:lots") + "?q=DESK-N1").content.decode()
    assert "DESK-N1" in listing
    from daisy.records.recall import lots_by_number

    (lot,) = lots_by_number("DESK-N1")
    page = http.get(reverse("desk:lot", args=[lot.pk])).content.decode()
    assert clinic.clients[0].full_name in page and "Forehead" in page
    exported = http.get(reverse("desk:lot-csv", args=[lot.pk]))
    assert exported["Content-Type"].startswith("text/csv")
    assert str(arrived.pk) in exported.content.decode()
    sent = http.post(reverse("desk:lot-recall", args=[lot.pk]), {"text": "Please ring us."})
    assert sent.status_code == 302
    assert Message.objects.filter(about=f"lot:{lot.pk}").count() == 2  # email and SMS
    http.post(reverse("desk:lot-recall", args=[lot.pk]), {"text": "Please ring us."})
    assert Message.objects.filter(about=f"lot:{lot.pk}").count() == 2
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"lot.recall_view", "lot.recall_send"} <= actions


def test_reception_cannot_open_a_chart_or_a_lot(clinic: Any, arrived: Any) -> None:
    http = staff_login(HttpClient(), clinic.reception)
    assert http.get(reverse("desk:chart", args=[arrived.pk])).status_code == 403
    assert http.get(reverse("desk:lots")).status_code == 403
