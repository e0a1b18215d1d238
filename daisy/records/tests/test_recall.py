"""Lot recall (issue 14 item 6; DOMAIN.md 6.2): every client treated with a lot (client,
appointment, date, zones), as CSV, and one message to each of them, sent once."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from daisy.audit.models import AuditEntry
from daisy.lib.errors import DomainError
from daisy.notifications.models import Message
from daisy.records.charting import AreaIn, ChartIn, ProductIn, chart_amend, chart_save
from daisy.records.recall import (
    lot_list,
    lot_recall_send,
    lot_treatments,
    lot_treatments_csv,
    lots_by_number,
)
from daisy.records.tests.test_chart import arrived
from tests.support.testing import MONDAY, at, make_clinic

EXPIRY = date(2031, 6, 30)


@pytest.fixture
def clinic(db: Any) -> Any:
    return make_clinic(specialists=1, rooms=2, pens=1, clients=3)


def chart(clinic: Any, client: Any, day: date, cartridge: str, zones: list[str]) -> Any:
    appt = arrived(clinic, client, day)
    chart_save(
        appointment=appt,
        data=ChartIn(
            areas=[AreaIn(z, Decimal("0.5"), 2, "erythema") for z in zones],
            products=[
                ProductIn("cartridge", "14-pin cartridge", cartridge, EXPIRY),
                ProductIn("numbing", "Lidocaine cream", "NUMB-RECALL", EXPIRY, "4 g"),
            ],
            device=clinic.devices[0],
            operator=clinic.specialists[0],
            cartridge_opened_at_chair=True,
        ),
        by=clinic.specialists[0].user,
        now=at(day, 11),
        sign=True,
    )
    return appt


@pytest.fixture
def treated(clinic: Any) -> list[Any]:
    a, b, c = clinic.clients
    return [
        chart(clinic, a, MONDAY, "C-1", ["forehead", "nose"]),
        chart(clinic, b, MONDAY + timedelta(days=1), "C-2", ["cheek_left"]),
        chart(clinic, a, MONDAY + timedelta(days=28), "C-3", ["forehead"]),
        chart(clinic, c, MONDAY + timedelta(days=2), "C-4", ["chin"]),
    ]


def test_recall_lists_every_session_with_the_lot(clinic: Any, treated: list[Any]) -> None:
    (lot,) = lots_by_number("NUMB-RECALL")
    rows = lot_treatments([lot])
    assert [(r.appointment_id, r.zones) for r in rows] == [
        (treated[0].pk, ("forehead", "nose")),
        (treated[1].pk, ("cheek_left",)),
        (treated[3].pk, ("chin",)),
        (treated[2].pk, ("forehead",)),
    ]
    assert rows[0].client_id == clinic.clients[0].pk
    assert rows[0].performed_on == MONDAY
    (single,) = lots_by_number("C-2")
    assert [r.client_id for r in lot_treatments([single])] == [clinic.clients[1].pk]
    listed = {lot.number: lot for lot in lot_list()}
    assert listed["NUMB-RECALL"].sessions == 4
    assert listed["NUMB-RECALL"].clients == 3


def test_a_lot_added_by_an_amendment_is_recalled_too(clinic: Any, treated: list[Any]) -> None:
    from daisy.records.charting import chart_for_appointment

    signed = chart_for_appointment(treated[1])
    chart_amend(
        chart=signed,
        by=clinic.manager,
        now=at(MONDAY, 18),
        reason="Serum missed",
        text="Serum applied.",
        products=[ProductIn("glide", "HA serum", "SER-77", EXPIRY)],
    )
    (lot,) = lots_by_number("SER-77")
    rows = lot_treatments([lot])
    assert [(r.client_id, r.via_amendment) for r in rows] == [(clinic.clients[1].pk, True)]


def test_csv_has_a_row_per_session(clinic: Any, treated: list[Any]) -> None:
    (lot,) = lots_by_number("NUMB-RECALL")
    clinic.clients[2].last_name = "=HYPERLINK(1)"
    clinic.clients[2].save()
    rows = list(csv.reader(io.StringIO(lot_treatments_csv(lot_treatments([lot])))))
    assert rows[0] == [
        "client_id",
        "client",
        "email",
        "phone",
        "appointment_id",
        "date",
        "zones",
        "product",
        "lot",
    ]
    assert len(rows) == 5
    assert rows[1][4] == str(treated[0].pk)
    assert rows[1][5] == MONDAY.isoformat()
    assert rows[1][6] == "forehead nose"
    assert rows[1][8] == "NUMB-RECALL"
    # A name that a spreadsheet would run as a formula stays text.
    assert not any(cell.startswith("=") for row in rows for cell in row)


def test_recall_tells_each_client_once(clinic: Any, treated: list[Any]) -> None:
    (lot,) = lots_by_number("NUMB-RECALL")
    told = lot_recall_send(lot=lot, text="Please call us.", by=clinic.manager, now=at(MONDAY, 20))
    assert told == 3
    sent = Message.objects.filter(about=f"lot:{lot.pk}")
    # Factory clients take email and SMS ("both"): one of each per client, whatever the
    # number of their sessions with the lot.
    assert sent.count() == 6
    assert {m.client_id for m in sent} == {c.pk for c in clinic.clients}
    assert all("Please call us." in m.context["paragraphs"] for m in sent)
    again = lot_recall_send(lot=lot, text="Please call us.", by=clinic.manager, now=at(MONDAY, 21))
    assert again == 3
    assert Message.objects.filter(about=f"lot:{lot.pk}").count() == 6
    assert AuditEntry.objects.filter(action="lot.recall_send").count() == 2


def test_recall_needs_a_message(clinic: Any, treated: list[Any]) -> None:
    (lot,) = lots_by_number("C-1")
    with pytest.raises(DomainError):
        lot_recall_send(lot=lot, text="  ", by=clinic.manager, now=at(MONDAY, 20))
    assert not Message.objects.filter(about=f"lot:{lot.pk}").exists()
