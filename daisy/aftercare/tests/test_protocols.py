"""Protocols as data (issue 6 item 1): seeded from DOMAIN.md 4.1/4.2 for micro-needling, each step
citing its source, editable in the admin, never overwritten by a re-install."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from daisy.accounts.models import Role, User
from daisy.aftercare.models import Protocol, ProtocolStep, StepKind
from daisy.aftercare.selectors import (
    aftercare_timeline_for_appointment,
    aftercare_today_for_appointment,
    protocol_get_for_treatment,
)
from daisy.aftercare.services import protocol_presets_install
from daisy.booking.presets import clinic_presets_install
from daisy.booking.services import appointment_book
from tests.support.testing import MONDAY, at, booking_now, make_clinic, staff_login

pytestmark = pytest.mark.django_db
H = timedelta(hours=1)
D = timedelta(days=1)


def steps_of(slug: str) -> list[ProtocolStep]:
    return list(
        ProtocolStep.objects.filter(protocol__treatment__slug=slug).order_by(
            "offset_start_minutes", "pk"
        )
    )


def test_every_preset_treatment_gets_a_protocol_through_the_treatment_presets() -> None:
    clinic_presets_install()
    assert set(Protocol.objects.values_list("treatment__slug", flat=True)) == {
        "microneedling",
        "consultation",
        "chemical-peel",
        "laser-hair-removal",
        "led-therapy",
    }


def test_microneedling_follows_domain_4_1_and_4_2() -> None:
    clinic_presets_install()
    protocol = Protocol.objects.get(treatment__slug="microneedling")
    assert protocol.recovery_hours == 72  # DOMAIN.md 4.2 row Days 0-3
    assert protocol.checkin_offsets == [24, 72, 168]  # DOMAIN.md 5.2 rows +24-48 h, +3 d, +7 d
    assert protocol.review_offsets == [30, 91, 182]  # DOMAIN.md 5.2 rows +1, +3, +6 months
    rows = {(s.offset_start, s.offset_end, s.source) for s in steps_of("microneedling")}
    expected = {
        (
            -7 * D,
            0 * H,
            "Pre-care, 7 to 5 days before: retinoids, self-medicated aspirin/NSAIDs, fish oil, vitamin E (clinic practice)",  # noqa: E501
        ),  # stop retinoids
        (
            -3 * D,
            0 * H,
            "Pre-care, 3 to 1 days before: acids and exfoliants (clinic practice)",
        ),  # stop AHA/BHA
        (-48 * H, 0 * H, "Pre-care, 48 hours before: no self-tan (clinic practice)"),  # no self-tan
        (-24 * H, 0 * H, "Pre-care, 24 hours before: no sun (SkinPen pre-care sheets)"),  # no sun
        (
            0 * H,
            24 * H,
            "Aftercare, day 0: SkinPen consent form and clinic aftercare sheets",
        ),  # hydrogel only
        (
            24 * H,
            None,
            "Aftercare, day 1: clinic aftercare sheets",
        ),  # cleanser, mineral SPF, makeup
        (
            0 * H,
            72 * H,
            "Aftercare, days 0-3: SkinPen aftercare (72 hours); redness fades within 72 hours (study, PMC8008152)",  # noqa: E501
        ),  # no sweaty exercise, sauna, swimming
        (
            1 * D,
            7 * D,
            "Aftercare, days 1-6: clinic aftercare sheets; granuloma risk from unapproved products (Soltani-Arabshahi 2014)",  # noqa: E501
        ),  # no retinoids, acids, vitamin C
        (
            7 * D,
            None,
            "Aftercare, day 7 on: transient effects settle within 7 days (Chu 2021 review)",
        ),  # normal routine
        (
            1 * D,
            14 * D,
            "Aftercare, days 0-14: daily SPF 30+ (clinic aftercare sheets)",
        ),  # SPF daily for 2 weeks
    }
    assert expected <= rows
    by_source = {s.source: s for s in steps_of("microneedling")}
    assert "makeup" in by_source["Aftercare, day 1: clinic aftercare sheets"].title.lower()
    assert by_source["Aftercare, day 1: clinic aftercare sheets"].notify
    assert not by_source["Aftercare, day 1: clinic aftercare sheets"].is_restriction
    assert by_source[
        "Aftercare, days 1-6: clinic aftercare sheets; granuloma risk from unapproved products (Soltani-Arabshahi 2014)"  # noqa: E501
    ].is_restriction


def test_every_step_cites_a_source_and_pre_care_comes_before_the_session() -> None:
    clinic_presets_install()
    for step in ProtocolStep.objects.all():
        assert step.source.strip(), step
        if step.kind == StepKind.PRE:
            assert step.offset_start_minutes < 0, step
            assert step.offset_end_minutes is not None and step.offset_end_minutes <= 0, step
        else:
            assert step.offset_start_minutes >= 0, step


def test_drinking_water_is_general_advice_never_a_rule() -> None:
    # DOMAIN.md section 0: no clinical source supports it.
    clinic_presets_install()
    for step in ProtocolStep.objects.all():
        assert "water" not in f"{step.title} {step.detail}".lower().replace("lukewarm water", "")
    advice = Protocol.objects.get(treatment__slug="microneedling").general_advice
    assert "water" in advice.lower() and "not part of healing" in advice


def test_consultation_has_no_aftercare_and_the_simpler_ones_few_steps() -> None:
    clinic_presets_install()
    assert steps_of("consultation") == []
    assert steps_of("led-therapy") == []
    assert 0 < len(steps_of("chemical-peel")) < len(steps_of("microneedling"))
    assert 0 < len(steps_of("laser-hair-removal")) < len(steps_of("microneedling"))


def test_reinstalling_keeps_the_clinics_edits() -> None:
    clinic_presets_install()
    step = steps_of("microneedling")[0]
    step.title = "Edited by the medical director"
    step.save()
    assert protocol_presets_install() == []
    clinic_presets_install()
    assert steps_of("microneedling")[0].title == "Edited by the medical director"
    assert Protocol.objects.count() == 5


def test_a_treatment_without_a_protocol_reads_as_empty() -> None:
    clinic = make_clinic()
    Protocol.objects.filter(treatment=clinic.microneedling).delete()
    data = protocol_get_for_treatment(clinic.microneedling)
    assert data.steps == () and data.checkin_hours == () and data.recovery_hours == 0


def test_the_timeline_and_today_for_an_appointment() -> None:
    clinic = make_clinic()
    appt = appointment_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=at(MONDAY, 10),
        booked_by=clinic.reception,
        now=booking_now(),
    ).appointment
    items = aftercare_timeline_for_appointment(appt)
    assert (
        len(items) == ProtocolStep.objects.filter(protocol__treatment__slug="microneedling").count()
    )
    today = aftercare_today_for_appointment(appt, now=at(MONDAY + D, 12))
    phrases = [t.phrase for t in today]
    assert any(p.startswith("A gentle cleanser, mineral sunscreen") for p in phrases)
    assert any("until Thursday 10 January, 10:00 GMT" in p for p in phrases)


# --- the admin --------------------------------------------------------------------------------


@pytest.fixture
def manager(client: HttpClient) -> HttpClient:
    user = User.objects.create_superuser(
        username="manager", email="manager@example.com", password="pw-test-123", role=Role.MANAGER
    )
    staff_login(client, user)
    return client


def test_the_admin_lists_and_edits_protocols(manager: HttpClient) -> None:
    clinic_presets_install()
    protocol = Protocol.objects.get(treatment__slug="microneedling")
    listing = manager.get(reverse("admin:aftercare_protocol_changelist"))
    assert listing.status_code == 200
    assert b"Micro-needling" in listing.content
    page = manager.get(reverse("admin:aftercare_protocol_change", args=[protocol.pk]))
    assert page.status_code == 200
    assert "Aftercare, day 1: clinic aftercare sheets" in page.content.decode()
    assert "DOMAIN.md" not in page.content.decode()
    assert "-7 d → 0 h" in page.content.decode()


def test_the_admin_refuses_a_step_that_ends_before_it_starts(manager: HttpClient) -> None:
    clinic_presets_install()
    protocol = Protocol.objects.get(treatment__slug="consultation")
    data = {
        "treatment": str(protocol.treatment_id),
        "recovery_hours": "0",
        "checkin_hours": "",
        "general_advice": "",
        "steps-TOTAL_FORMS": "1",
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
        "steps-0-kind": "post",
        "steps-0-offset_start_minutes": "60",
        "steps-0-offset_end_minutes": "30",
        "steps-0-title": "Backwards",
        "steps-0-source": "test",
    }
    url = reverse("admin:aftercare_protocol_change", args=[protocol.pk])
    response = manager.post(url, data)
    assert response.status_code == 200
    assert "A step must end after it starts." in response.content.decode()
    data["steps-0-offset_end_minutes"] = "120"
    response = manager.post(url, data)
    assert response.status_code == 302
    assert ProtocolStep.objects.filter(protocol=protocol, title="Backwards").count() == 1
