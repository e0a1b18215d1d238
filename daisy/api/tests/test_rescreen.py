"""Issue 14, items 2, 3 and 5: a session's health questions and start-of-needling gate through
the API: read the status, submit the answers (staff), and the status change to in_treatment
refused with the blockers while the gate is shut. Errors are 4xx JSON."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from daisy.api.tests.conftest import error_of
from daisy.booking.services import appointment_book
from daisy.records.models import ScreeningResponse
from tests.support.testing import MONDAY, PRESCREEN_CLEAR, RESCREEN_CLEAR, at, consent_signed

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(cast):
    appt = appointment_book(
        client=cast.client_a,
        treatment=cast.clinic.microneedling,
        starts_at=at(MONDAY, 10),
        booked_by=cast.clinic.reception,
        now=at(MONDAY - timedelta(days=7), 8),
        location=cast.clinic.location,
    ).appointment
    consent_signed(appt)  # signed: these tests are about the health questions
    return appt


def test_status_submit_and_the_gate_on_in_treatment(cast, booked):
    api = cast.as_("reception")
    url = f"/appointments/{booked.pk}/rescreen"
    status = api.get(url).json()
    assert status["required"] and not status["answered"] and not status["can_start"]
    assert [b["code"] for b in status["blockers"]] == ["rescreen_missing"]
    # The online questions and what else can change between sessions (not the skin type).
    keys = {q["key"] for q in status["questions"]}
    assert keys >= {"pregnant", "toxin", "nsaids", "immunosuppression", "trauma", "granuloma"}
    assert "dark_skin" not in keys and "expectations" not in keys

    with time_machine.travel(at(MONDAY, 9, 40), tick=False):
        refused = api.post(f"/appointments/{booked.pk}/status", {"status": "in_treatment"})
        assert refused.status_code == 409
        assert error_of(refused)["code"] == "needling_gate"

        incomplete = api.post(url, {"answers": {"pregnant": False}})
        assert incomplete.status_code == 422
        err = error_of(incomplete)
        assert err["code"] == "rescreen_incomplete" and "infection" in err["fields"]
        assert api.post(url, {"answers": {}, "extra": 1}).status_code == 422
        # The pre-screen's answers alone leave the re-screen's other questions unanswered.
        online_only = api.post(url, {"answers": PRESCREEN_CLEAR})
        assert online_only.status_code == 422
        assert {"nsaids", "trauma"} <= set(error_of(online_only)["fields"])

        done = api.post(url, {"answers": RESCREEN_CLEAR})
        assert done.status_code == 201, done.content
        assert done.json()["answered"] and done.json()["via"] == "api"
        assert done.json()["can_start"]
        started = api.post(f"/appointments/{booked.pk}/status", {"status": "in_treatment"})
        assert started.status_code == 200
    assert ScreeningResponse.objects.get().answered_by == cast.clinic.reception


def test_a_hard_stop_in_the_answers_is_named_to_clinicians_only(cast, booked):
    url = f"/appointments/{booked.pk}/rescreen"
    with time_machine.travel(at(MONDAY, 9, 40), tick=False):
        r = cast.as_("specialist").post(url, {"answers": {**RESCREEN_CLEAR, "pregnant": True}})
        assert r.status_code == 201
        (blocker,) = r.json()["blockers"]
        assert blocker["code"] == "hard_stop" and "Pregnant" in blocker["message"]
        assert not blocker["can_override"]
        seen = cast.as_("reception").get(url).json()["blockers"][0]["message"]
        assert "Pregnant" not in seen


@pytest.mark.parametrize("role", ["anonymous", "client_a", "client_b"])
def test_clients_and_visitors_cannot_read_or_answer(cast, booked, role):
    url = f"/appointments/{booked.pk}/rescreen"
    api = cast.as_(role)
    assert api.get(url).status_code in (401, 403)
    assert api.post(url, {"answers": RESCREEN_CLEAR}).status_code in (401, 403)
    assert not ScreeningResponse.objects.exists()


def test_unknown_appointment_is_404_json(cast):
    r = cast.as_("reception").get("/appointments/00000000-0000-0000-0000-000000000000/rescreen")
    assert r.status_code == 404 and error_of(r)["code"]
