"""The owner's reports at /desk/reports/ (issue 16, item 5): the page, its filters and its CSV
files, on the fixed week of daisy/booking/tests/report_data.py (the figures themselves are
checked in daisy/booking/tests/test_reports.py)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from daisy.booking.tests.report_data import ReportClinic, make_report_clinic
from tests.support.testing import staff_login

WEEK = {"start": "2030-01-07", "end": "2030-01-13"}
SECTIONS = ("utilisation", "attendance", "revenue", "courses", "rebooking", "delivery")


@pytest.fixture
def data(db: Any) -> ReportClinic:
    return make_report_clinic()


@pytest.fixture
def manager(client: HttpClient, data: ReportClinic) -> HttpClient:
    return staff_login(client, data.clinic.manager)


def _csv(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_every_report_has_a_chart_and_a_table_of_the_same_numbers(
    manager: HttpClient, data: ReportClinic
) -> None:
    page = manager.get(reverse("desk:reports"), {**WEEK, "location": data.london.pk})
    html = page.content.decode()

    assert page.status_code == 200
    for slug in SECTIONS:
        assert f'id="{slug}"' in html
        assert reverse("desk:report-csv", kwargs={"report": slug}) + "?start=2030-01-07" in html
    charts = re.findall(r'<svg [^>]*role="img"[^>]*>\s*<title id="([^"]+)">', html)
    # Revenue draws three (by treatment, specialist and location).
    assert len(charts) == 8
    assert html.count("<table") == 8
    # Revenue at London, by treatment and by location: in each chart and each table.
    assert html.count(">920.00<") == 4
    assert "920.00 GBP from 4 completed sessions" in html
    assert "Europe/London" in html


def test_the_location_filter_and_its_zone(manager: HttpClient, data: ReportClinic) -> None:
    uptown = manager.get(reverse("desk:reports"), {**WEEK, "location": data.uptown.pk})
    html = uptown.content.decode()
    assert "480.00 GBP from 2 completed sessions" in html
    assert "America/New_York" in html
    everywhere = manager.get(reverse("desk:reports"), WEEK).content.decode()
    assert "1,400.00 GBP from 6 completed sessions" in everywhere


def test_days_that_make_no_sense_are_refused_with_a_message(manager: HttpClient) -> None:
    backwards = manager.get(reverse("desk:reports"), {"start": "2030-01-13", "end": "2030-01-07"})
    assert backwards.status_code == 400
    assert "The last day must be on or after the first." in backwards.content.decode()
    too_long = manager.get(reverse("desk:reports"), {"start": "2020-01-01", "end": "2030-01-07"})
    assert "Choose at most 731 days at a time." in too_long.content.decode()
    junk = manager.get(
        reverse("desk:report-csv", kwargs={"report": "revenue"}),
        {"start": "yesterday", "end": "2030-01-07", "rebook_days": "0"},
    )
    assert junk.status_code == 400
    assert manager.get(reverse("desk:report-csv", kwargs={"report": "nope"})).status_code == 404


def test_the_page_opens_on_the_last_30_days(manager: HttpClient) -> None:
    page = manager.get(reverse("desk:reports"))
    assert page.status_code == 200
    assert 'name="rebook_days" value="30"' in page.content.decode()


def test_csv_of_each_report(manager: HttpClient, data: ReportClinic) -> None:
    s0, s1, _s2 = data.specialists
    params = {**WEEK, "location": data.london.pk}

    def get(slug: str) -> list[list[str]]:
        response = manager.get(reverse("desk:report-csv", kwargs={"report": slug}), params)
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert (
            f'filename="daisy-{slug}-2030-01-07-to-2030-01-13.csv"'
            in response["Content-Disposition"]
        )
        return _csv(response)

    attendance = get("attendance")
    assert attendance[0][0] == "Specialist"
    assert [s0.name, "4", "2", "1", "1", "50.0%", "25.0%"] in attendance
    assert ["All specialists", "8", "2", "1", "1", "16.7%", "12.5%"] in attendance
    revenue = get("revenue")
    assert revenue[0] == ["Grouped", "Name", "Currency", "Completed sessions", "Revenue"]
    assert ["By treatment", "Micro-needling", "GBP", "4", "920.00"] in revenue
    assert ["By specialist", s1.name, "GBP", "3", "680.00"] in revenue
    utilisation = get("utilisation")
    assert [data.clinic.rooms[0].name, "Room", "400", "2640", "15.2%"] in utilisation
    courses = get("courses")
    assert courses[1:] == [
        ["Session 1", "4", "3", "75.0%", "1"],
        ["Session 2", "4", "1", "25.0%", "1"],
        ["Session 3", "3", "0", "0.0%", "0"],
        ["Session 4", "1", "0", "0.0%", "0"],
    ]
    rebooking = get("rebooking")
    assert rebooking[0][2] == "Rebooked within 30 days"
    assert ["All specialists", "3", "2", "66.7%"] in rebooking
    delivery = get("delivery")
    assert ["Email", "5", "3", "1", "1", "0", "0", "1", "20.0%"] in delivery
    assert ["SMS", "4", "2", "0", "0", "1", "1", "0", "0.0%"] in delivery


def test_the_rebooking_window_is_a_filter(manager: HttpClient, data: ReportClinic) -> None:
    response = manager.get(
        reverse("desk:report-csv", kwargs={"report": "rebooking"}),
        {**WEEK, "location": data.london.pk, "rebook_days": "40"},
    )
    assert ["All specialists", "3", "3", "100.0%"] in _csv(response)


def test_only_the_manager_sees_the_reports_in_the_menu(
    client: HttpClient, data: ReportClinic
) -> None:
    staff_login(client, data.clinic.reception)
    assert "Reports" not in client.get(reverse("desk:diary")).content.decode()
    assert client.get(reverse("desk:reports")).status_code == 403
    staff_login(client, data.clinic.manager)
    assert 'href="/desk/reports/"' in client.get(reverse("desk:diary")).content.decode()


def test_the_page_costs_the_same_queries_however_much_data(
    manager: HttpClient, data: ReportClinic
) -> None:
    manager.get(reverse("desk:reports"), WEEK)

    def count() -> int:
        with CaptureQueriesContext(connection) as seen:
            assert manager.get(reverse("desk:reports"), WEEK).status_code == 200
        return len(seen)

    before = count()
    make_report_clinic()
    assert count() == before
