"""The treatment chart (issue 14 item 5, DOMAIN.md 3.3, 6.2): depth caps, lots, signing,
append-only amendments, co-signature, defaults for a repeat session, and the audit trail.
Runs on SQLite and PostgreSQL alike (the database triggers are each engine's own)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from daisy.audit.models import AuditEntry
from daisy.booking.services import appointment_book, appointment_set_status
from daisy.courses.models import Plan, PlanArea, PlanSession
from daisy.lib.errors import DomainError, PermissionDenied
from daisy.records.charting import (
    AreaIn,
    ChartIn,
    ChartSigned,
    DepthRefused,
    LotRefused,
    ProductIn,
    chart_amend,
    chart_cosign,
    chart_defaults,
    chart_for_appointment,
    chart_save,
    chart_state,
)
from daisy.records.models import (
    Chart,
    ChartAmendment,
    ChartArea,
    ChartLocked,
    ChartPolicy,
    ChartProduct,
)
from daisy.scheduling.models import Status
from tests.support.testing import MONDAY, at, booking_now, make_clinic

EXPIRY = date(2031, 6, 30)


@pytest.fixture
def clinic(db: Any) -> Any:
    clinic = make_clinic(specialists=2, rooms=2, pens=1, clients=3)
    pen = clinic.devices[0]
    pen.max_depth_mm = Decimal("2.00")
    pen.save()
    return clinic


def arrived(clinic: Any, client: Any, day: date = MONDAY, hh: int = 10) -> Any:
    appt = appointment_book(
        client=client,
        treatment=clinic.microneedling,
        starts_at=at(day, hh),
        booked_by=clinic.reception,
        now=booking_now(day),
        location=clinic.location,
    ).appointment
    return appointment_set_status(
        appointment=appt, status=Status.CHECKED_IN, by=clinic.reception, now=at(day, hh)
    )


def full(clinic: Any, *, cartridge: str = "CART-1", **over: Any) -> ChartIn:
    values: dict[str, Any] = {
        "areas": [
            AreaIn("forehead", Decimal("0.50"), 3, "erythema", "crosshatch"),
            AreaIn("cheek_left", Decimal("1.50"), 3, "pinpoint_bleeding", "crosshatch"),
        ],
        "products": [
            ProductIn("cartridge", "14-pin cartridge", cartridge, EXPIRY),
            ProductIn("numbing", "Lidocaine 4% cream", "NUMB-7", EXPIRY, "5 g"),
        ],
        "device": clinic.devices[0],
        "operator": clinic.specialists[0],
        "cartridge_opened_at_chair": True,
        "skin_type": 2,
    }
    values.update(over)
    return ChartIn(**values)


def specialist(clinic: Any, n: int = 0) -> Any:
    return clinic.specialists[n].user


def test_signed_chart_keeps_zones_lots_and_is_audited(clinic: Any) -> None:
    appt = arrived(clinic, clinic.clients[0])
    saved = chart_save(
        appointment=appt, data=full(clinic), by=specialist(clinic), now=at(MONDAY, 11), sign=True
    )
    chart = chart_for_appointment(appt)
    assert chart is not None and chart.is_signed
    assert {a.zone: a.depth_mm for a in chart.areas.all()} == {
        "forehead": Decimal("0.50"),
        "cheek_left": Decimal("1.50"),
    }
    assert sorted(p.lot.number for p in chart.products.all()) == ["CART-1", "NUMB-7"]
    assert saved.warnings == ()
    assert chart_state(chart) == "signed"
    # The consent as it stood at signing (daisy.records.consent_selectors.consent_status).
    assert chart.consent_version.startswith(("Consent", "No consent"))
    # ... and the start-of-needling gate as it stood (daisy.records.gate): here no re-screen.
    assert "clear to start" in chart.rescreen_summary.lower()
    assert AuditEntry.objects.filter(action="chart.sign", client_ref=str(appt.client_id)).exists()


def test_depth_above_the_device_label_is_refused(clinic: Any) -> None:
    appt = arrived(clinic, clinic.clients[0])
    data = full(clinic, areas=[AreaIn("cheek_left", Decimal("2.50"), 3, "erythema")])
    with pytest.raises(DepthRefused) as refused:
        chart_save(appointment=appt, data=data, by=specialist(clinic), now=at(MONDAY, 11))
    assert "labelled maximum of 2.00 mm" in refused.value.message
    assert "areas.0.depth_mm" in refused.value.fields
    assert not Chart.objects.exists()


def test_depth_above_the_skin_type_cap_is_refused(clinic: Any) -> None:
    appt = arrived(clinic, clinic.clients[0])
    ChartPolicy.objects.filter(pk=1).update(cap_type_v_mm=Decimal("1.00"))
    data = full(clinic, skin_type=5)
    with pytest.raises(DepthRefused) as refused:
        chart_save(appointment=appt, data=data, by=specialist(clinic), now=at(MONDAY, 11))
    assert "skin type" in refused.value.message
    assert refused.value.fields == {"areas.1.depth_mm": refused.value.message}
    # Type II has no cap: the same depths are charted.
    chart_save(appointment=appt, data=full(clinic), by=specialist(clinic), now=at(MONDAY, 11))


def test_the_shipped_skin_type_caps_apply_when_the_clinic_has_no_rules_row(clinic: Any) -> None:
    # The API fuzz test found a 500 here: without the row, the shipped defaults were compared
    # as text. They are the caps the clinic gets: 1.00 mm for type V.
    appt = arrived(clinic, clinic.clients[0])
    ChartPolicy.objects.all().delete()
    with pytest.raises(DepthRefused) as refused:
        chart_save(
            appointment=appt,
            data=full(clinic, skin_type=5),
            by=specialist(clinic),
            now=at(MONDAY, 11),
        )
    assert "at most 1.00 mm" in refused.value.message


def test_deeper_than_usual_warns_but_is_charted(clinic: Any) -> None:
    appt = arrived(clinic, clinic.clients[0])
    data = full(clinic, areas=[AreaIn("forehead", Decimal("1.00"), 2, "erythema")])
    saved = chart_save(appointment=appt, data=data, by=specialist(clinic), now=at(MONDAY, 11))
    assert saved.warnings and "deeper than usual" in saved.warnings[0]


def test_expired_lot_is_refused(clinic: Any) -> None:
    appt = arrived(clinic, clinic.clients[0])
    data = full(
        clinic, products=[ProductIn("cartridge", "14-pin cartridge", "OLD-1", date(2029, 12, 31))]
    )
    with pytest.raises(DomainError) as refused:
        chart_save(appointment=appt, data=data, by=specialist(clinic), now=at(MONDAY, 11))
    assert refused.value.code == "lot_expired"
    assert "expired on 2029-12-31" in refused.value.message
    assert not Chart.objects.exists()


def test_single_use_lot_used_on_another_client_is_refused(clinic: Any) -> None:
    first = arrived(clinic, clinic.clients[0], hh=10)
    second = arrived(clinic, clinic.clients[1], hh=14)
    chart_save(
        appointment=first, data=full(clinic), by=specialist(clinic), now=at(MONDAY, 11), sign=True
    )
    with pytest.raises(LotRefused) as refused:
        chart_save(appointment=second, data=full(clinic), by=specialist(clinic), now=at(MONDAY, 15))
    assert refused.value.code == "lot_reused"
    assert "single-use" in refused.value.message
    # The numbing cream's lot is not single-use: another client may have it.
    chart_save(
        appointment=second,
        data=full(clinic, cartridge="CART-2"),
        by=specialist(clinic),
        now=at(MONDAY, 15),
    )
    assert ChartProduct.objects.filter(lot__number="NUMB-7").count() == 2


def test_a_lot_with_another_expiry_than_received_is_refused(clinic: Any) -> None:
    appt = arrived(clinic, clinic.clients[0])
    chart_save(appointment=appt, data=full(clinic), by=specialist(clinic), now=at(MONDAY, 11))
    other = full(
        clinic, products=[ProductIn("numbing", "lidocaine 4% CREAM", "NUMB-7", date(2032, 1, 1))]
    )
    with pytest.raises(DomainError) as refused:
        chart_save(appointment=appt, data=other, by=specialist(clinic), now=at(MONDAY, 11))
    assert "2031-06-30" in refused.value.message


def test_signing_needs_the_minimum_data_set(clinic: Any) -> None:
    appt = arrived(clinic, clinic.clients[0])
    data = full(clinic, cartridge_opened_at_chair=False, products=[])
    with pytest.raises(DomainError) as refused:
        chart_save(
            appointment=appt, data=data, by=specialist(clinic), now=at(MONDAY, 11), sign=True
        )
    assert {"products", "cartridge_opened_at_chair"} <= set(refused.value.fields)


def test_only_clinicians_chart(clinic: Any) -> None:
    appt = arrived(clinic, clinic.clients[0])
    with pytest.raises(PermissionDenied):
        chart_save(appointment=appt, data=full(clinic), by=clinic.reception, now=at(MONDAY, 11))


def test_a_booked_session_not_yet_arrived_is_not_charted(clinic: Any) -> None:
    appt = appointment_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=at(MONDAY, 10),
        booked_by=clinic.reception,
        now=booking_now(),
        location=clinic.location,
    ).appointment
    with pytest.raises(DomainError) as refused:
        chart_save(appointment=appt, data=full(clinic), by=specialist(clinic), now=at(MONDAY, 9))
    assert refused.value.code == "not_chartable"


def _signed(clinic: Any) -> Chart:
    appt = arrived(clinic, clinic.clients[0])
    return chart_save(
        appointment=appt, data=full(clinic), by=specialist(clinic), now=at(MONDAY, 11), sign=True
    ).chart


def test_a_signed_chart_is_never_overwritten(clinic: Any) -> None:
    chart = _signed(clinic)
    with pytest.raises(ChartSigned):
        chart_save(
            appointment=chart.appointment,
            data=full(clinic, areas=[AreaIn("nose", Decimal("0.25"), 1, "erythema")]),
            by=specialist(clinic),
            now=at(MONDAY, 12),
        )
    # Through the model...
    chart.refresh_from_db()
    chart.events = "rewritten"
    with pytest.raises(ChartLocked):
        chart.save()
    area = ChartArea.objects.filter(chart=chart).first()
    assert area is not None
    area.depth_mm = Decimal("0.25")
    with pytest.raises(ChartLocked):
        area.save()
    with pytest.raises(ChartLocked):
        chart.delete()
    # ...and behind its back: the database refuses too.
    for attempt in (
        lambda: Chart.objects.filter(pk=chart.pk).update(events="rewritten"),
        lambda: Chart.objects.filter(pk=chart.pk).update(signed_at=at(MONDAY, 13)),
        lambda: ChartArea.objects.filter(chart=chart).update(depth_mm=Decimal("0.25")),
        lambda: ChartArea.objects.filter(chart=chart).delete(),
        lambda: ChartProduct.objects.filter(chart=chart).delete(),
        lambda: ChartArea.objects.bulk_create(
            [ChartArea(chart=chart, zone="nose", depth_mm=Decimal("0.25"), passes=1)]
        ),
    ):
        with pytest.raises((DatabaseError, ChartLocked)), transaction.atomic():
            attempt()
    assert ChartArea.objects.filter(chart=chart).count() == 2
    assert Chart.objects.get(pk=chart.pk).events == ""


def test_amendments_are_appended_and_never_changed(clinic: Any) -> None:
    chart = _signed(clinic)
    amendment = chart_amend(
        chart=chart,
        by=specialist(clinic, 1),
        now=at(MONDAY, 16),
        reason="Serum lot missed at the chair",
        text="Hyaluronic serum applied after needling.",
        products=[ProductIn("glide", "HA serum", "SER-9", EXPIRY)],
    )
    assert amendment.by == specialist(clinic, 1)
    assert ChartProduct.objects.get(lot__number="SER-9").amendment == amendment
    assert AuditEntry.objects.filter(action="chart.amend").count() == 1
    amendment.text = "something else"
    with pytest.raises(ChartLocked):
        amendment.save()
    with pytest.raises(ChartLocked):
        amendment.delete()
    for attempt in (
        lambda: ChartAmendment.objects.filter(pk=amendment.pk).update(text="changed"),
        lambda: ChartAmendment.objects.filter(pk=amendment.pk).delete(),
    ):
        with pytest.raises((DatabaseError, ChartLocked)), transaction.atomic():
            attempt()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE records_chartamendment SET reason = %s WHERE id = %s", ["x", amendment.pk]
        )
    assert (
        ChartAmendment.objects.get(pk=amendment.pk).text
        == "Hyaluronic serum applied after needling."
    )


def test_an_amendment_needs_a_reason(clinic: Any) -> None:
    chart = _signed(clinic)
    with pytest.raises(DomainError) as refused:
        chart_amend(chart=chart, by=specialist(clinic), now=at(MONDAY, 16), reason=" ", text="x")
    assert "reason" in refused.value.fields


def test_cosign_by_another_clinician_where_required(clinic: Any) -> None:
    ChartPolicy.objects.filter(pk=1).update(cosign_required=True)
    chart = _signed(clinic)
    assert chart_state(chart) == "awaiting_cosign"
    with pytest.raises(PermissionDenied):
        chart_cosign(chart=chart, by=specialist(clinic), now=at(MONDAY, 12))
    chart_cosign(chart=chart, by=clinic.manager, now=at(MONDAY, 12))
    chart.refresh_from_db()
    assert chart.cosigned_by == clinic.manager
    assert chart_state(chart) == "signed"
    with pytest.raises(ChartSigned):
        chart_cosign(chart=chart, by=specialist(clinic, 1), now=at(MONDAY, 13))


def test_a_repeat_session_starts_from_the_last_one_and_the_plan(clinic: Any) -> None:
    client = clinic.clients[0]
    first = arrived(clinic, client, MONDAY)
    chart_save(
        appointment=first,
        data=full(clinic, numbing_amount_g=Decimal("5.0"), needle_count=14),
        by=specialist(clinic),
        now=at(MONDAY, 11),
        sign=True,
    )
    later = MONDAY + timedelta(days=28)
    second = arrived(clinic, client, later)
    plan = Plan.objects.create(
        client=client,
        treatment=clinic.microneedling,
        sessions=3,
        created_at=at(MONDAY, 9),
        updated_at=at(MONDAY, 9),
    )
    PlanArea.objects.create(plan=plan, area="cheeks", concern="acne_scars")
    PlanSession.objects.create(plan=plan, appointment=second)

    start = chart_defaults(second)

    zones = {a.zone: a.depth_mm for a in start.areas}
    assert zones == {
        "forehead": Decimal("0.50"),
        "cheek_left": Decimal("1.50"),
        "cheek_right": Decimal("0.50"),
    }
    assert start.skin_type == 2
    assert start.needle_count == 14
    assert start.numbing_amount_g == Decimal("5.0")
    assert start.device == clinic.devices[0]
    # The cartridge is single-use: a new lot each time; the cream's lot is offered again.
    kinds = {p.kind: p.lot for p in start.products}
    assert kinds == {"cartridge": "", "numbing": "NUMB-7"}
    assert start.next_earliest_on == later + timedelta(days=plan.min_interval_days)
