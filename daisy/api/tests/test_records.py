"""POST/GET /api/v1/appointments/{id}/record and GET /api/v1/lots/{lot}/treatments (issue 14
item 10): the contract's field names, refusals as 4xx JSON, and the recall list."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from daisy.api.tests.conftest import Cast, error_of
from daisy.booking.services import appointment_book, appointment_set_status
from daisy.scheduling.models import Status
from tests.support.testing import MONDAY, at, booking_now

pytestmark = pytest.mark.django_db
OLD = "2029-01-01"


def arrived(cast: Cast, client: Any, hh: int) -> Any:
    appt = appointment_book(
        client=client,
        treatment=cast.clinic.microneedling,
        starts_at=at(MONDAY, hh),
        booked_by=cast.clinic.reception,
        now=booking_now(),
    ).appointment
    return appointment_set_status(
        appointment=appt, status=Status.CHECKED_IN, by=cast.clinic.reception, now=at(MONDAY, hh)
    )


def body(cast: Cast, **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "areas": [
            {"zone": "forehead", "depth_mm": 0.5, "passes": 3, "endpoint": "erythema"},
            {
                "zone": "cheek_left",
                "depth_mm": 1.25,
                "passes": 2,
                "endpoint": "pinpoint_bleeding",
                "pattern": "crosshatch",
            },
        ],
        "device": str(cast.clinic.devices[0].pk),
        "products": [
            {
                "kind": "cartridge",
                "name": "14-pin cartridge",
                "lot": "API-C1",
                "expires_on": "2031-03-31",
            },
            {
                "kind": "numbing",
                "name": "Lidocaine 4%",
                "lot": "API-N1",
                "expires_on": "2031-03-31",
                "amount": "5 g",
            },
        ],
        "cartridge_opened_at_chair": True,
        "sign": True,
    }
    data.update(over)
    return data


def test_the_chart_contract_round_trips(cast: Cast) -> None:
    appt = arrived(cast, cast.client_a, 10)
    api = cast.as_("specialist")
    saved = api.post(f"/appointments/{appt.pk}/record", body(cast))
    assert saved.status_code == 200, saved.content
    out = saved.json()
    assert out["state"] == "signed"
    assert out["device"] == str(cast.clinic.devices[0].pk)
    assert out["areas"][1] == {
        "zone": "cheek_left",
        "depth_mm": 1.25,
        "passes": 2,
        "endpoint": "pinpoint_bleeding",
        "pattern": "crosshatch",
    }
    assert {(p["kind"], p["name"], p["lot"], p["expires_on"]) for p in out["products"]} == {
        ("cartridge", "14-pin cartridge", "API-C1", "2031-03-31"),
        ("numbing", "Lidocaine 4%", "API-N1", "2031-03-31"),
    }
    got = api.get(f"/appointments/{appt.pk}/record")
    assert got.status_code == 200
    assert got.json()["areas"] == out["areas"]
    again = api.post(f"/appointments/{appt.pk}/record", body(cast))
    assert again.status_code == 409 and error_of(again)["code"] == "chart_signed"


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"areas": [{"zone": "chin", "depth_mm": 2.5, "passes": 1, "endpoint": "erythema"}]},
         422, "depth_refused", "areas.0.depth_mm"),
        ({"areas": [{"zone": "ear", "depth_mm": 0.5, "passes": 1, "endpoint": "erythema"}]},
         422, "validation_error", None),
        ({"areas": [{"zone": "chin", "depth_mm": 0.333, "passes": 1, "endpoint": "erythema"}]},
         422, "validation_error", None),
        ({"products": [{"kind": "cartridge", "name": "C", "lot": "OLD", "expires_on": OLD}]},
         422, "lot_expired", "products.0.lot"),
        ({"device": "00000000-0000-4000-8000-000000000000"}, 422, "validation_error", "device"),
        ({"skin_type": 9}, 422, "validation_error", None),
    ],
)  # fmt: skip
def test_bad_input_is_a_4xx_json_error(
    cast: Cast, change: dict[str, Any], status: int, code: str, field: str | None
) -> None:
    pen = cast.clinic.devices[0]
    pen.max_depth_mm = Decimal("2.00")
    pen.save()
    appt = arrived(cast, cast.client_a, 10)
    response = cast.as_("manager").post(f"/appointments/{appt.pk}/record", body(cast, **change))
    assert response.status_code == status, response.content
    error = error_of(response)
    assert error["code"] == code
    if field:
        assert field in error["fields"]


def test_a_single_use_lot_on_another_client_is_a_409(cast: Cast) -> None:
    first = arrived(cast, cast.client_a, 10)
    second = arrived(cast, cast.client_b, 14)
    api = cast.as_("specialist")
    assert api.post(f"/appointments/{first.pk}/record", body(cast)).status_code == 200
    response = api.post(f"/appointments/{second.pk}/record", body(cast))
    assert response.status_code == 409
    assert error_of(response)["code"] == "lot_reused"


def test_lot_treatments_lists_clients_dates_and_zones(cast: Cast) -> None:
    first = arrived(cast, cast.client_a, 10)
    second = arrived(cast, cast.client_b, 14)
    api = cast.as_("specialist")
    api.post(f"/appointments/{first.pk}/record", body(cast))
    other = body(
        cast, areas=[{"zone": "nose", "depth_mm": 0.25, "passes": 1, "endpoint": "erythema"}]
    )
    other["products"][0]["lot"] = "API-C2"
    api.post(f"/appointments/{second.pk}/record", other)
    recall = api.get("/lots/API-N1/treatments")
    assert recall.status_code == 200
    data = recall.json()
    assert data["clients"] == 2
    assert [(t["client"], t["appointment"], t["date"], t["zones"]) for t in data["treatments"]] == [
        (str(cast.client_a.pk), str(first.pk), MONDAY.isoformat(), ["forehead", "cheek_left"]),
        (str(cast.client_b.pk), str(second.pk), MONDAY.isoformat(), ["nose"]),
    ]
    assert api.get("/lots/NO-SUCH/treatments").status_code == 404


def test_get_before_charting_is_404(cast: Cast) -> None:
    appt = arrived(cast, cast.client_a, 10)
    response = cast.as_("specialist").get(f"/appointments/{appt.pk}/record")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
