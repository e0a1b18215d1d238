"""Issue 14 at the desk: the health questions on the tablet (pre-filled, confirmed one by one),
the start-of-needling gate on the appointment panel and its refusal of "in treatment", a
clinician's override with a reason, and findings recorded and resolved with a reason."""

from __future__ import annotations

from datetime import date

import pytest

from daisy.audit.models import AuditEntry
from daisy.backoffice.tests.conftest import book
from daisy.booking.diary import appointment_version
from daisy.clients.models import Contraindication, Tier
from daisy.records.models import NeedlingOverride, ScreeningResponse
from daisy.records.services import screening_evaluate, screening_record
from daisy.scheduling.models import Status
from tests.support.testing import (
    MICRONEEDLING_RESCREEN,
    PRESCREEN_CLEAR,
    consent_signed,
    staff_login,
)

pytestmark = [pytest.mark.django_db]


def _no_to_all() -> dict[str, str]:
    return dict.fromkeys(MICRONEEDLING_RESCREEN, "no")


def test_in_treatment_is_refused_until_the_tablet_questions_are_answered(client, clinic, on_monday):
    appt = book(clinic, clinic.clients[0], 10)
    consent_signed(appt)  # signed: these tests are about the health questions
    staff_login(client, clinic.reception)
    panel = client.get(f"/desk/appointments/{appt.pk}/").content.decode()
    assert "Not ready to start" in panel and "hand the tablet to the client" in panel

    r = client.post(
        f"/desk/appointments/{appt.pk}/status/",
        {"status": "in_treatment", "version": appointment_version(appt)},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 409
    assert "has not answered the health questions" in r.content.decode()
    appt.refresh_from_db()
    assert appt.status == Status.BOOKED

    # The tablet page: the client's own questions, no staff navigation.
    page = client.get(f"/desk/appointments/{appt.pk}/health-questions/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "anything changed since your last answers?" in text
    assert 'class="desk-nav"' not in text
    assert "Do you have psoriasis, lichen planus or vitiligo" in text  # not only the online ones
    missing = client.post(f"/desk/appointments/{appt.pk}/health-questions/", {"pregnant": "no"})
    assert missing.status_code == 400 and not ScreeningResponse.objects.exists()
    done = client.post(f"/desk/appointments/{appt.pk}/health-questions/", _no_to_all())
    assert done.status_code == 200 and "hand the tablet back" in done.content.decode()
    response = ScreeningResponse.objects.get()
    assert response.via == "desk" and response.is_rescreen
    assert response.answered_by == clinic.reception and response.appointment_id == appt.pk

    assert "Ready to start" in client.get(f"/desk/appointments/{appt.pk}/").content.decode()
    appt.refresh_from_db()
    r = client.post(
        f"/desk/appointments/{appt.pk}/status/",
        {"status": "in_treatment", "version": appointment_version(appt)},
    )
    assert r.status_code == 302
    appt.refresh_from_db()
    assert appt.status == Status.IN_TREATMENT


def test_the_tablet_shows_the_last_answers_and_each_must_be_confirmed(client, clinic, on_monday):
    appt = book(clinic, clinic.clients[0], 10)
    consent_signed(appt)  # signed: these tests are about the health questions
    evaluated = screening_evaluate(
        treatment=clinic.microneedling,
        answers={**PRESCREEN_CLEAR, "retinoids": True, "retinoids_on": "2029-12-01"},
        today=date(2029, 12, 31),
    )
    screening_record(client=appt.client, evaluated=evaluated, by=None, via="online", now=on_monday)
    staff_login(client, clinic.specialists[0].user)
    text = client.get(f"/desk/appointments/{appt.pk}/health-questions/").content.decode()
    assert "No, still not" in text and "Last time you said no." in text
    assert "Yes, still" in text and "Last time you said yes (1 December 2029)." in text
    assert 'value="2029-12-01"' in text  # the date given last time, to confirm or correct
    assert "checked" not in text  # nothing is answered for the client


def test_a_clinician_overrides_with_a_reason_reception_cannot(client, clinic, on_monday):
    appt = book(clinic, clinic.clients[0], 10)
    consent_signed(appt)  # signed: these tests are about the health questions
    staff_login(client, clinic.reception)
    panel = client.get(f"/desk/appointments/{appt.pk}/").content.decode()
    assert "Start anyway" not in panel
    assert (
        client.post(f"/desk/appointments/{appt.pk}/override/", {"reason": "x"}).status_code == 403
    )
    assert not NeedlingOverride.objects.exists()

    specialist = clinic.specialists[0].user
    staff_login(client, specialist)
    assert "Start anyway" in client.get(f"/desk/appointments/{appt.pk}/").content.decode()
    client.post(f"/desk/appointments/{appt.pk}/override/", {"reason": ""})
    assert not NeedlingOverride.objects.exists()
    client.post(
        f"/desk/appointments/{appt.pk}/override/",
        {"reason": "Client answered on paper; form scanned to the file"},
    )
    override = NeedlingOverride.objects.get()
    assert override.by == specialist
    entry = AuditEntry.objects.get(action="needling.override")
    assert entry.data["reason"] == "Client answered on paper; form scanned to the file"
    panel = client.get(f"/desk/appointments/{appt.pk}/").content.decode()
    assert "Client answered on paper" in panel and "Start allowed by" in panel
    appt.refresh_from_db()
    r = client.post(
        f"/desk/appointments/{appt.pk}/status/",
        {"status": "in_treatment", "version": appointment_version(appt)},
    )
    assert r.status_code == 302


def test_reception_reads_that_a_finding_stops_the_start_not_what_it_is(client, clinic, on_monday):
    appt = book(clinic, clinic.clients[0], 10)
    consent_signed(appt)  # signed: these tests are about the health questions
    Contraindication.objects.create(
        client=appt.client, condition="Pregnant or breastfeeding", tier=Tier.HARD_STOP
    )
    staff_login(client, clinic.reception)
    panel = client.get(f"/desk/appointments/{appt.pk}/").content.decode()
    assert "hard stop" in panel and "Pregnant" not in panel
    staff_login(client, clinic.specialists[0].user)
    panel = client.get(f"/desk/appointments/{appt.pk}/").content.decode()
    assert "Pregnant or breastfeeding" in panel and "Start anyway" not in panel


def test_findings_recorded_and_resolved_on_the_desk_ask_why_and_are_audited(
    client, clinic, on_monday
):
    person = clinic.clients[1]
    url = f"/desk/clients/{person.pk}/findings/add/"
    staff_login(client, clinic.reception)
    assert (
        client.post(url, {"condition": "x", "tier": "hard_stop", "reason": "y"}).status_code == 403
    )
    specialist = clinic.specialists[0].user
    staff_login(client, specialist)
    page = client.get(f"/desk/clients/{person.pk}/").content.decode()
    assert "Record a health finding" in page
    client.post(url, {"condition": "Cold sore on the lip", "tier": "hard_stop", "reason": ""})
    assert not Contraindication.objects.filter(client=person).exists()
    client.post(
        url,
        {"condition": "Cold sore on the lip", "tier": "hard_stop", "reason": "Seen at arrival"},
    )
    finding = Contraindication.objects.get(client=person)
    assert finding.recorded_by == specialist
    made = AuditEntry.objects.get(action="finding.create", object_id=str(finding.pk))
    assert made.data["reason"] == "Seen at arrival"

    resolve = f"/desk/clients/{person.pk}/findings/{finding.pk}/resolve/"
    client.post(resolve, {"reason": ""})
    finding.refresh_from_db()
    assert finding.resolved_at is None
    client.post(resolve, {"reason": "Healed: no crust left"})
    finding.refresh_from_db()
    assert finding.resolved_at is not None
    resolved = AuditEntry.objects.get(action="finding.resolve", object_id=str(finding.pk))
    assert resolved.data["reason"] == "Healed: no crust left" and resolved.actor == specialist
