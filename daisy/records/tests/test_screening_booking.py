"""Answers given while booking are stored with the booking and become findings that the gate
then applies on every path; a wait they call for moves the first possible day, and the course
planner starts after it (issue 14 item 1; issue 12 item 6)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from daisy.audit.models import AuditEntry
from daisy.booking.courses import course_book
from daisy.booking.eligibility import Asking, prescreen_evaluated
from daisy.booking.merge import client_merge
from daisy.booking.services import appointment_book, appointment_reschedule
from daisy.clients.models import Contraindication, Tier
from daisy.courses.services import course_presets_install
from daisy.lib.errors import ClientContraindicated, ValidationFailed
from daisy.records.models import Questionnaire, ScreeningResponse
from daisy.scheduling.models import Appointment
from tests.support.testing import (
    LONDON,
    MONDAY,
    PRESCREEN_CLEAR,
    at,
    booking_now,
    make_clinic,
    make_user,
    precare_keys,
)

pytestmark = pytest.mark.django_db

NOW = booking_now()  # Monday 31 December 2029, 08:00
TODAY = NOW.date()
DAY = timedelta(days=1)


@pytest.fixture
def clinic() -> Any:
    course_presets_install()
    return make_clinic()


@pytest.fixture
def own(clinic: Any) -> tuple[Any, Any]:
    """Client A and their own login (a client booking for themselves)."""
    user = make_user()
    client = clinic.clients[0]
    client.user = user
    client.save()
    return client, user


def _book(clinic: Any, own: tuple[Any, Any], answers: dict[str, object], when: Any) -> Any:
    client, user = own
    return appointment_book(
        client=client,
        treatment=clinic.microneedling,
        starts_at=when,
        booked_by=user,
        now=NOW,
        prescreen=answers,
        # A week ahead is too soon for the two-week preparation: the client follows it already.
        precare_confirmed=precare_keys(clinic.microneedling),
    )


def test_answers_are_stored_with_the_booking_and_the_questionnaire_version(clinic, own):
    answers = {**PRESCREEN_CLEAR, "tattoo": True, "numbing_allergy": True}
    result = _book(clinic, own, answers, at(MONDAY, 10))
    response = ScreeningResponse.objects.get()
    questionnaire = Questionnaire.objects.get(slug="microneedling")
    assert response.appointment == result.appointment
    assert response.client == own[0] and response.answered_by == own[1]
    assert (response.questionnaire, response.questionnaire_version) == (questionnaire, 1)
    assert response.via == "online" and response.answered_at == NOW
    assert response.answers["tattoo"] == {"yes": True}
    assert response.answers["pregnant"] == {"yes": False}
    assert response.questions["tattoo"].startswith("Do you have a tattoo")
    # Only the treatment's own questions are kept (not the laser's, say).
    assert "photosensitising" not in response.answers
    assert response.outcome == "zone_excluded"  # the most severe of the two


def test_answers_become_findings_that_change_how_the_session_goes(clinic, own):
    answers = {**PRESCREEN_CLEAR, "tattoo": True, "numbing_allergy": True, "cold_sores": True}
    _book(clinic, own, answers, at(MONDAY, 10))
    found = {c.tier: c for c in Contraindication.objects.filter(client=own[0])}
    assert set(found) == {Tier.ZONE_EXCLUDED, Tier.NO_NUMBING, Tier.CAUTION}
    assert "tattoo" in found[Tier.ZONE_EXCLUDED].modification
    assert "without numbing" in found[Tier.NO_NUMBING].modification
    assert found[Tier.CAUTION].domain_row == "3"
    response = ScreeningResponse.objects.get()
    assert {c.source for c in found.values()} == {f"screening:{response.pk}"}
    assert AuditEntry.objects.filter(action="finding.record").count() == 3
    assert AuditEntry.objects.filter(action="screening.record").count() == 1
    # None of them stops the next booking: they change how, not whether.
    _book(clinic, own, answers, at(MONDAY + 28 * DAY, 10))
    assert Contraindication.objects.filter(client=own[0]).count() == 3  # not doubled


def test_a_recent_tan_defers_the_session_and_names_the_first_day(clinic, own):
    tanned = {**PRESCREEN_CLEAR, "tan": True, "tan_on": (TODAY - 2 * DAY).isoformat()}
    first_day = TODAY - 2 * DAY + 14 * DAY  # 12 January 2030
    with pytest.raises(ClientContraindicated) as refused:
        _book(clinic, own, tanned, at(MONDAY, 10))
    assert refused.value.code == "prescreen_deferred"
    assert refused.value.extra == {"earliest_on": first_day.isoformat()}
    assert "Saturday 12 January 2030" in refused.value.message
    assert refused.value.fields == {"prescreen.tan": "wait"}
    assert not Appointment.objects.exists() and not ScreeningResponse.objects.exists()
    assert not Contraindication.objects.exists()
    # From that day on, the booking goes ahead, and the wait is on the record.
    booked = _book(clinic, own, tanned, at(MONDAY + 7 * DAY, 10))
    (finding,) = Contraindication.objects.filter(client=own[0])
    assert (finding.tier, finding.until_on) == (Tier.DEFER, first_day)
    # So the gate keeps every later path out of the wait: a move to before it is refused.
    with pytest.raises(ClientContraindicated):
        appointment_reschedule(
            appointment=booked.appointment, starts_at=at(MONDAY, 11), by=own[1], now=NOW
        )


def test_a_yes_to_a_when_question_needs_its_date(clinic, own):
    with pytest.raises(ValidationFailed) as refused:
        _book(clinic, own, {**PRESCREEN_CLEAR, "toxin": True}, at(MONDAY, 10))
    assert refused.value.code == "prescreen_required"
    assert refused.value.fields == {"prescreen.toxin_on": "required"}
    ahead = {**PRESCREEN_CLEAR, "toxin": True, "toxin_on": (TODAY + DAY).isoformat()}
    with pytest.raises(ValidationFailed) as refused:
        _book(clinic, own, ahead, at(MONDAY, 10))
    assert refused.value.fields == {"prescreen.toxin_on": "future"}


def test_a_clinician_review_answer_stops_online_booking(clinic, own):
    with pytest.raises(ClientContraindicated) as refused:
        _book(clinic, own, {**PRESCREEN_CLEAR, "anticoagulant": True}, at(MONDAY, 10))
    assert refused.value.code == "prescreen_stop"
    assert refused.value.fields == {"prescreen.anticoagulant": "yes"}
    assert not Contraindication.objects.exists()  # a refused booking keeps no answer


def test_laser_asks_its_own_questions(clinic, own):
    client, user = own
    laser = clinic.treatments["laser-hair-removal"]
    old_eight = {
        k: False
        for k in ["pregnant", "infection", "acne", "isotretinoin", "bleeding", "flare", "lesion"]
    }

    def asking(answers: dict[str, object]) -> Asking:
        return Asking(client=client, treatment=laser, by=user, prescreen=answers, now=NOW)

    with pytest.raises(ValidationFailed) as refused:
        prescreen_evaluated(asking(old_eight), today=TODAY)
    missing = set(refused.value.fields)
    assert {"prescreen.tan", "prescreen.photosensitising", "prescreen.tattoo"} <= missing
    with pytest.raises(ClientContraindicated) as refused:
        prescreen_evaluated(asking({**PRESCREEN_CLEAR, "photosensitising": True}), today=TODAY)
    assert refused.value.code == "prescreen_stop"
    assert prescreen_evaluated(asking(PRESCREEN_CLEAR), today=TODAY) is not None


def test_staff_bookings_store_no_answers(clinic, own):
    appointment_book(
        client=own[0],
        treatment=clinic.microneedling,
        starts_at=at(MONDAY, 10),
        booked_by=clinic.reception,
        now=NOW,
    )
    assert not ScreeningResponse.objects.exists()


def test_the_course_planner_starts_after_a_wait_from_the_answers(clinic, own):
    client, user = own
    # Anti-wrinkle injections yesterday: needling waits 14 days (to 14 January 2030).
    answers = {**PRESCREEN_CLEAR, "toxin": True, "toxin_on": (TODAY - DAY).isoformat()}
    booked = course_book(
        client=client,
        treatment=clinic.microneedling,
        booked_by=user,
        now=NOW,
        sessions=3,
        earliest_start=TODAY + DAY,
        prescreen=answers,
        precare_confirmed=precare_keys(clinic.microneedling),
    )
    first = booked.appointments[0].starts_at.astimezone(LONDON).date()
    assert first >= TODAY - DAY + 14 * DAY
    response = ScreeningResponse.objects.get()
    assert response.course == booked.plan and response.appointment == booked.appointments[0]
    assert response.deferred_until == TODAY - DAY + 14 * DAY


def test_the_course_planner_starts_after_a_wait_on_the_record(clinic, own):
    client, _user = own
    until = TODAY + 20 * DAY
    Contraindication.objects.create(
        client=client, condition="Filler in the area", tier=Tier.DEFER, until_on=until
    )
    booked = course_book(
        client=client,
        treatment=clinic.microneedling,
        booked_by=clinic.reception,
        now=NOW,
        sessions=3,
        earliest_start=TODAY + DAY,
    )
    assert booked.appointments[0].starts_at.astimezone(LONDON).date() >= until


def test_a_merge_moves_the_answers_to_the_record_kept(clinic, own):
    _book(clinic, own, PRESCREEN_CLEAR, at(MONDAY, 10))
    keep = clinic.clients[1]
    client_merge(keep=keep, merge=own[0], by=clinic.manager, reason="same person", now=NOW)
    assert ScreeningResponse.objects.get().client == keep
