"""The permission matrix (DESIGN.md 8, issue 3): every endpoint tried by anonymous, client A,
client B, reception, specialist and manager, with client B aiming at client A's ids. Each
request gets the status its role deserves, and a denied one changes nothing at all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.forms.models import model_to_dict

from daisy.accounts.models import ApiToken
from daisy.api.tests.conftest import ROLES, Cast, error_of
from daisy.audit.models import AuditEntry
from daisy.booking.courses import SessionTime, course_book
from daisy.booking.models import WaitlistEntry, WaitlistOffer
from daisy.booking.services import appointment_book, appointment_cancel, appointment_set_status
from daisy.booking.waitlist import waitlist_join
from daisy.clients.models import Client
from daisy.courses.models import ImportantDate, Plan, PlanSession
from daisy.courses.services import course_presets_install
from daisy.records.charting import AreaIn, ChartIn, ProductIn, chart_save
from daisy.records.consultations import consultation_questionnaire, consultation_start
from daisy.records.models import (
    Chart,
    ChartProduct,
    Consultation,
    ConsultationAmendment,
    ErasureRequest,
    LegalHold,
    ScreeningResponse,
)
from daisy.records.retention import legal_hold_place
from daisy.scheduling.models import Allocation, Appointment, Status
from tests.support.testing import (
    MONDAY,
    PRESCREEN_CLEAR,
    RESCREEN_CLEAR,
    at,
    consent_signed,
    precare_keys,
    rescreen_clear,
)

pytestmark = pytest.mark.django_db


@dataclass
class World:
    cast: Cast
    appt_a: Appointment  # client A's
    appt_b: Appointment  # client B's
    course_a: Any = None  # client A's course (issue 5)
    entry_a: Any = None  # client A's place on the waitlist (issue 13)
    offer_a: Any = None  # a freed time offered to client A
    consultation_a: Any = None  # client A's consultation, a draft (issue 14)
    arrived_a: Any = None  # client A has arrived for this one: it may be charted (issue 14)
    charted_a: Any = None  # client A's session with a signed chart (lot LOT)
    legal_hold_b: Any = None  # an open legal hold on client B's record (issue 14 item 8)


@dataclass(frozen=True)
class Case:
    method: str
    path: Callable[[World], str]
    body: Callable[[World, str], Any] | None = None
    headers: Callable[[str], dict[str, str]] | None = None
    params: Callable[[World], dict[str, str]] | None = None


# Client A's needling sessions keep 28 days apart (DOMAIN.md 1.2), so every permitted booking
# for A can succeed: A's chart in the past (days -63 and -35), A's session on MONDAY (day 0),
# a new booking or the waitlist's freed time on day 28, a new course from day 56, and A's
# course on days 112 and 140.
NEW_FOR_A = MONDAY + timedelta(days=28)


def _appointment(w: World, role: str) -> dict[str, str]:
    # A different free time for each role, so that every permitted booking can succeed.
    hour = {"client_a": 9, "reception": 12, "specialist": 14, "manager": 16}.get(role, 10)
    start = at(NEW_FOR_A, hour).isoformat()
    return {
        "client": str(w.cast.client_a.pk),
        "treatment": "microneedling",
        "start": start,
        "prescreen": PRESCREEN_CLEAR,  # a client answers them; staff may send them too
        # Eight days ahead is too soon for the two-week preparation; A follows it already.
        "precare_confirmed": precare_keys(w.cast.clinic.microneedling),
    }


def _course(w: World, role: str) -> dict[str, Any]:
    return {
        "client": str(w.cast.client_a.pk),
        "treatment": "microneedling",
        "sessions": 2,
        "earliest_start": str(MONDAY + timedelta(days=56)),
    }


def _course_booking(w: World, role: str) -> dict[str, Any]:
    return {**_course(w, role), "prescreen": PRESCREEN_CLEAR}


LOT = "PERM-LOT-1"


def _record(w: World, role: str) -> dict[str, Any]:
    return {
        "areas": [{"zone": "forehead", "depth_mm": 0.5, "passes": 2, "endpoint": "erythema"}],
        "device": str(w.cast.clinic.devices[0].pk),
        "products": [
            {
                "kind": "cartridge",
                "name": "Cartridge",
                "lot": f"C-{role}",
                "expires_on": "2031-01-01",
            }
        ],
    }


# POSTs that answer without writing anything.
NO_WRITES = {"course plan for A"}

CASES: dict[str, Case] = {
    "health": Case("GET", lambda w: "/health"),
    "treatments": Case("GET", lambda w: "/treatments"),
    "treatment prescreen": Case("GET", lambda w: "/treatments/microneedling/prescreen"),
    "locations": Case("GET", lambda w: "/locations"),
    "specialists": Case("GET", lambda w: "/specialists"),
    "availability": Case(
        "GET",
        lambda w: "/availability",
        params=lambda w: {"treatment": "microneedling", "start": str(MONDAY), "end": str(MONDAY)},
    ),
    "availability by day": Case(
        "GET",
        lambda w: "/availability/days",
        params=lambda w: {"treatment": "microneedling", "start": str(MONDAY), "end": str(MONDAY)},
    ),
    "client list": Case("GET", lambda w: "/clients"),
    "client create": Case(
        "POST", lambda w: "/clients", body=lambda w, r: {"first_name": "New", "last_name": r}
    ),
    "client A get": Case("GET", lambda w: f"/clients/{w.cast.client_a.pk}"),
    "client A patch": Case(
        "PATCH",
        lambda w: f"/clients/{w.cast.client_a.pk}",
        body=lambda w, r: {"last_name": f"By-{r}", "phone": "+44 7911 123456"},
    ),
    "appointment list": Case("GET", lambda w: "/appointments"),
    "appointment list for A": Case(
        "GET", lambda w: "/appointments", params=lambda w: {"client": str(w.cast.client_a.pk)}
    ),
    "appointment create for A": Case(
        "POST",
        lambda w: "/appointments",
        body=_appointment,
        headers=lambda role: {"Idempotency-Key": f"matrix-{role}"},
    ),
    "appointment A get": Case("GET", lambda w: f"/appointments/{w.appt_a.pk}"),
    "appointment A reschedule": Case(
        "POST",
        lambda w: f"/appointments/{w.appt_a.pk}/reschedule",
        body=lambda w, r: {"start": at(MONDAY, 15).isoformat()},
    ),
    "appointment A cancel": Case(
        "POST", lambda w: f"/appointments/{w.appt_a.pk}/cancel", body=lambda w, r: {"reason": r}
    ),
    "appointment A status": Case(
        "POST",
        lambda w: f"/appointments/{w.appt_a.pk}/status",
        body=lambda w, r: {"status": "completed"},
    ),
    # Issue 14: this session's health questions and the needling gate (staff only).
    "rescreen of A": Case("GET", lambda w: f"/appointments/{w.appt_a.pk}/rescreen"),
    "rescreen answers for A": Case(
        "POST",
        lambda w: f"/appointments/{w.appt_a.pk}/rescreen",
        body=lambda w, r: {"answers": RESCREEN_CLEAR},
    ),
    "diary": Case(
        "GET",
        lambda w: "/diary",
        params=lambda w: {"location": str(w.cast.clinic.location.pk), "date": str(MONDAY)},
    ),
    "course plan for A": Case("POST", lambda w: "/courses/plan", body=_course),
    "course create for A": Case(
        "POST",
        lambda w: "/courses",
        body=_course_booking,
        headers=lambda role: {"Idempotency-Key": f"course-{role}"},
    ),
    "course A get": Case("GET", lambda w: f"/courses/{w.course_a.pk}"),
    "important dates of A": Case("GET", lambda w: f"/clients/{w.cast.client_a.pk}/important-dates"),
    "important date create for A": Case(
        "POST",
        lambda w: f"/clients/{w.cast.client_a.pk}/important-dates",
        body=lambda w, r: {"kind": "wedding", "start": str(MONDAY + timedelta(days=90))},
    ),
    "consents of A": Case("GET", lambda w: f"/clients/{w.cast.client_a.pk}/consents"),
    "appointment A consent": Case("GET", lambda w: f"/appointments/{w.appt_a.pk}/consent"),
    "waitlist": Case("GET", lambda w: "/waitlist"),
    "waitlist join for A": Case(
        "POST",
        lambda w: "/waitlist",
        body=lambda w, r: {"client": str(w.cast.client_a.pk), "treatment": "chemical-peel"},
    ),
    "waitlist place of A leave": Case("DELETE", lambda w: f"/waitlist/{w.entry_a.pk}"),
    "waitlist offer to A accept": Case(
        "POST",
        lambda w: f"/waitlist/offers/{w.offer_a.pk}/accept",
        body=lambda w, r: {
            "prescreen": PRESCREEN_CLEAR,
            # A week ahead is too soon for the two-week preparation; A follows it already.
            "precare_confirmed": precare_keys(w.cast.clinic.microneedling),
        },
    ),
    # The consultation (issue 14): clinicians only.
    "consultations of A": Case("GET", lambda w: f"/clients/{w.cast.client_a.pk}/consultations"),
    "consultation create for A": Case(
        "POST",
        lambda w: f"/clients/{w.cast.client_a.pk}/consultations",
        body=lambda w, r: {"goals": f"By {r}"},
    ),
    "consultation A get": Case("GET", lambda w: f"/consultations/{w.consultation_a.pk}"),
    "consultation A history": Case(
        "POST",
        lambda w: f"/consultations/{w.consultation_a.pk}/history",
        body=lambda w, r: {
            "answers": {
                q.key: False for q in consultation_questionnaire(w.consultation_a).questions
            }
        },
    ),
    "consultation A sign": Case("POST", lambda w: f"/consultations/{w.consultation_a.pk}/sign"),
    "consultation A amend": Case(
        "POST",
        lambda w: f"/consultations/{w.consultation_a.pk}/amendments",
        body=lambda w, r: {"reason": r, "goals": "Changed"},
    ),
    "record of A save": Case(
        "POST", lambda w: f"/appointments/{w.arrived_a.pk}/record", body=_record
    ),
    "record of A get": Case("GET", lambda w: f"/appointments/{w.charted_a.pk}/record"),
    "lot treatments": Case("GET", lambda w: f"/lots/{LOT}/treatments"),
    # Erasure and legal holds (issue 14 item 8): the manager only.
    "erasure of A": Case("GET", lambda w: f"/clients/{w.cast.client_a.pk}/erasure"),
    "erasure request for A": Case(
        "POST",
        lambda w: f"/clients/{w.cast.client_a.pk}/erasure",
        body=lambda w, r: {"confirm": True},
    ),
    "legal hold on A": Case(
        "POST",
        lambda w: f"/clients/{w.cast.client_a.pk}/legal-holds",
        body=lambda w, r: {"reason": f"A claim ({r})"},
    ),
    "legal hold of B lift": Case(
        "POST",
        lambda w: f"/legal-holds/{w.legal_hold_b.pk}/lift",
        body=lambda w, r: {"reason": f"Settled ({r})"},
    ),
}

A, B, R, S, M = "client_a", "client_b", "reception", "specialist", "manager"
PUBLIC = {"anonymous": 200, A: 200, B: 200, R: 200, S: 200, M: 200}

HEALTH_READS = frozenset(
    {
        "client A get",
        "course A get",
        "important dates of A",
        "consents of A",
        "appointment A consent",
        "consultations of A",
        "consultation A get",
        "record of A get",
        "lot treatments",
        "erasure of A",
    }
)
CLINICIANS: dict[str, int] = {"anonymous": 401, A: 403, B: 403, R: 403}
# The treatment chart and lot recall (issue 14): clinicians only.
CLINICAL = {"anonymous": 401, A: 403, B: 403, R: 403, S: 200, M: 200}
MANAGER_ONLY: dict[str, int] = {"anonymous": 401, A: 403, B: 403, R: 403, S: 403}
EXPECTED: dict[str, dict[str, int]] = {
    "health": PUBLIC,
    "treatments": PUBLIC,
    "treatment prescreen": PUBLIC,
    "locations": PUBLIC,
    "specialists": PUBLIC,
    "availability": PUBLIC,
    "availability by day": PUBLIC,
    "client list": {"anonymous": 401, A: 403, B: 403, R: 200, S: 200, M: 200},
    "client create": {"anonymous": 401, A: 403, B: 403, R: 201, S: 403, M: 201},
    "client A get": {"anonymous": 401, A: 200, B: 404, R: 200, S: 200, M: 200},
    "client A patch": {"anonymous": 401, A: 200, B: 404, R: 200, S: 403, M: 200},
    "appointment list": {"anonymous": 401, A: 200, B: 200, R: 200, S: 200, M: 200},
    "appointment list for A": {"anonymous": 401, A: 200, B: 200, R: 200, S: 200, M: 200},
    "appointment create for A": {"anonymous": 401, A: 201, B: 403, R: 201, S: 201, M: 201},
    "appointment A get": {"anonymous": 401, A: 200, B: 404, R: 200, S: 200, M: 200},
    "appointment A reschedule": {"anonymous": 401, A: 200, B: 404, R: 200, S: 200, M: 200},
    "appointment A cancel": {"anonymous": 401, A: 200, B: 404, R: 200, S: 200, M: 200},
    "appointment A status": {"anonymous": 401, A: 403, B: 403, R: 200, S: 200, M: 200},
    "rescreen of A": {"anonymous": 401, A: 403, B: 403, R: 200, S: 200, M: 200},
    "rescreen answers for A": {"anonymous": 401, A: 403, B: 403, R: 201, S: 201, M: 201},
    "diary": {"anonymous": 401, A: 403, B: 403, R: 200, S: 200, M: 200},
    "course plan for A": {"anonymous": 401, A: 200, B: 403, R: 200, S: 200, M: 200},
    "course create for A": {"anonymous": 401, A: 201, B: 403, R: 201, S: 201, M: 201},
    "course A get": {"anonymous": 401, A: 200, B: 404, R: 200, S: 200, M: 200},
    "important dates of A": {"anonymous": 401, A: 200, B: 404, R: 200, S: 200, M: 200},
    "important date create for A": {"anonymous": 401, A: 201, B: 404, R: 201, S: 201, M: 201},
    "consents of A": {"anonymous": 401, A: 200, B: 404, R: 200, S: 200, M: 200},
    "appointment A consent": {"anonymous": 401, A: 200, B: 404, R: 200, S: 200, M: 200},
    "waitlist": {"anonymous": 401, A: 200, B: 200, R: 200, S: 200, M: 200},
    "waitlist join for A": {"anonymous": 401, A: 201, B: 403, R: 201, S: 201, M: 201},
    "waitlist place of A leave": {"anonymous": 401, A: 200, B: 404, R: 200, S: 200, M: 200},
    "waitlist offer to A accept": {"anonymous": 401, A: 201, B: 404, R: 201, S: 201, M: 201},
    "consultations of A": {**CLINICIANS, S: 200, M: 200},
    "consultation create for A": {**CLINICIANS, S: 201, M: 201},
    "consultation A get": {**CLINICIANS, S: 200, M: 200},
    "consultation A history": {**CLINICIANS, S: 200, M: 200},
    # A draft without its medical history cannot be signed, nor amended (it is not signed).
    "consultation A sign": {**CLINICIANS, S: 422, M: 422},
    "consultation A amend": {**CLINICIANS, S: 409, M: 409},
    "record of A save": CLINICAL,
    "record of A get": CLINICAL,
    "lot treatments": CLINICAL,
    "erasure of A": {**MANAGER_ONLY, M: 200},
    "erasure request for A": {**MANAGER_ONLY, M: 201},
    "legal hold on A": {**MANAGER_ONLY, M: 201},
    "legal hold of B lift": {**MANAGER_ONLY, M: 200},
}


def test_the_matrix_covers_every_endpoint_and_role():
    from daisy.api.tests.test_health_and_spec import OPERATIONS

    covered = {
        (c.method.lower(), "/api/v1" + c.path(FakeWorld()).replace(str(FAKE), "{x}"))
        for c in CASES.values()
    }
    normalised = {(m, p.replace("{client_id}", "{x}").replace("{appointment_id}", "{x}")
                         .replace("{course_id}", "{x}").replace("{entry_id}", "{x}")
                         .replace("{offer_id}", "{x}").replace("{slug}", "microneedling")
                         .replace("{consultation_id}", "{x}").replace("{hold_id}", "{x}")
                         .replace("{lot}", LOT))
                  for m, p in OPERATIONS}  # fmt: skip
    assert covered == normalised
    assert all(set(row) == set(ROLES) for row in EXPECTED.values())
    assert set(EXPECTED) == set(CASES)


FAKE = "00000000-0000-0000-0000-00000000000f"


class FakeWorld:
    def __getattr__(self, name: str) -> Any:
        return self

    @property
    def pk(self) -> str:
        return FAKE


def snapshot() -> dict[str, Any]:
    """Everything a request could change, as plain values."""

    def rows(model: Any, order: str = "pk") -> list[dict[str, Any]]:
        return [model_to_dict(obj) for obj in model.objects.order_by(order)]

    return {
        "clients": rows(Client),
        "appointments": [
            {**model_to_dict(a), "updated_at": a.updated_at, "cancelled_at": a.cancelled_at}
            for a in Appointment.objects.order_by("pk")
        ],
        "allocations": rows(Allocation, "id"),
        "audit": AuditEntry.objects.count(),
        "courses": list(Plan.objects.order_by("pk").values_list("pk", "status")),
        "course_sessions": PlanSession.objects.count(),
        "important_dates": list(ImportantDate.objects.order_by("pk").values_list("pk", "start_on")),
        "tokens": list(ApiToken.objects.order_by("pk").values_list("pk", "revoked_at")),
        "waitlist": list(WaitlistEntry.objects.order_by("pk").values_list("pk", "status")),
        "offers": list(WaitlistOffer.objects.order_by("pk").values_list("pk", "status")),
        "consultations": list(Consultation.objects.order_by("pk").values()),
        "consultation_amendments": ConsultationAmendment.objects.count(),
        "screenings": ScreeningResponse.objects.count(),
        "charts": list(Chart.objects.order_by("pk").values_list("pk", "updated_at", "signed_at")),
        "chart_products": ChartProduct.objects.count(),
        "legal_holds": list(LegalHold.objects.order_by("pk").values()),
        "erasure_requests": list(ErasureRequest.objects.order_by("pk").values()),
    }


@pytest.fixture
def world(cast: Cast) -> World:
    def booked(client: Client, hour: int) -> Appointment:
        return appointment_book(
            client=client,
            treatment=cast.clinic.microneedling,
            starts_at=at(MONDAY, hour),
            booked_by=cast.clinic.reception,
            now=at(MONDAY - timedelta(days=7), 8),
        ).appointment

    return World(cast=cast, appt_a=booked(cast.client_a, 10), appt_b=booked(cast.client_b, 12))


@pytest.fixture
def matrix_world(world: World) -> World:
    """The world with a course of client A's too (issue 5)."""
    course_presets_install()
    world.course_a = course_book(
        client=world.cast.client_a,
        treatment=world.cast.clinic.microneedling,
        booked_by=world.cast.clinic.reception,
        now=at(MONDAY - timedelta(days=7), 8),
        session_times=[
            SessionTime(at(MONDAY + timedelta(days=112 + 28 * k), 10)) for k in range(2)
        ],
    ).plan
    # Client A waits for micro-needling; client B's 17:00 is cancelled and offered to A.
    then = at(MONDAY - timedelta(days=7), 8)
    clinic = world.cast.clinic
    world.entry_a = waitlist_join(
        client=world.cast.client_a, treatment=clinic.microneedling, by=clinic.reception, now=then
    )
    freed = appointment_book(
        client=world.cast.client_b,
        treatment=clinic.microneedling,
        starts_at=at(NEW_FOR_A, 17),
        booked_by=clinic.reception,
        now=then,
    ).appointment
    appointment_cancel(appointment=freed, by=clinic.reception, now=then)
    world.offer_a = WaitlistOffer.objects.get(entry=world.entry_a)
    # A's session may start: its health questions are answered (issue 14, the needling gate).
    rescreen_clear(world.appt_a)
    consent_signed(world.appt_a)
    world.consultation_a = consultation_start(
        client=world.cast.client_a, by=clinic.manager, now=then
    )
    # Issue 14: one of A's sessions charted and signed, another arrived and not yet charted.
    charted_on, arrived_on = MONDAY - timedelta(days=63), MONDAY - timedelta(days=35)
    world.charted_a = appointment_book(
        client=world.cast.client_a,
        treatment=clinic.microneedling,
        starts_at=at(charted_on, 9),
        booked_by=clinic.reception,
        now=at(charted_on - timedelta(days=7), 8),
    ).appointment
    world.arrived_a = appointment_book(
        client=world.cast.client_a,
        treatment=clinic.microneedling,
        starts_at=at(arrived_on, 15),
        booked_by=clinic.reception,
        now=at(arrived_on - timedelta(days=7), 8),
    ).appointment
    for appt in (world.charted_a, world.arrived_a):
        appointment_set_status(
            appointment=appt, status=Status.CHECKED_IN, by=clinic.reception, now=appt.starts_at
        )
    chart_save(
        appointment=world.charted_a,
        data=ChartIn(
            areas=[AreaIn("nose", Decimal("0.25"), 2, "erythema")],
            products=[ProductIn("cartridge", "Cartridge", LOT, date(2031, 1, 1))],
            device=clinic.devices[0],
            operator=clinic.specialists[0],
            cartridge_opened_at_chair=True,
        ),
        by=clinic.manager,
        now=world.charted_a.starts_at,
        sign=True,
    )
    world.legal_hold_b = legal_hold_place(
        client=world.cast.client_b, reason="A complaint", by=clinic.manager, now=then
    )
    return world


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(CASES))
def test_permission_matrix(matrix_world: World, name: str, role: str) -> None:
    world = matrix_world
    case = CASES[name]
    api = world.cast.as_(role)
    before = snapshot()
    path = case.path(world)
    headers = case.headers(role) if case.headers else {}
    if case.method == "GET":
        response = api.get(path, case.params(world) if case.params else None, headers=headers)
    else:
        body = case.body(world, role) if case.body else None
        response = api.send(case.method, path, body, headers=headers)
    expected = EXPECTED[name][role]
    assert response.status_code == expected, (name, role, response.content[:300])
    after = snapshot()
    if expected >= 400:
        error_of(response)
        assert after == before, f"denied {name} by {role} changed something"
    elif case.method == "GET" or name in NO_WRITES:
        # Staff reads of health records (the client, their course's grades, their important
        # dates) are audited; a client reading their own is not.
        audited = name in HEALTH_READS and role in {R, S, M}
        assert after["audit"] == before["audit"] + (1 if audited else 0)
        assert {k: v for k, v in after.items() if k != "audit"} == {
            k: v for k, v in before.items() if k != "audit"
        }
    else:
        assert after != before, f"{name} by {role} changed nothing"


@pytest.mark.parametrize("role", [A, B])
def test_clients_see_only_their_own_appointments_in_lists(world: World, role: str) -> None:
    own = world.appt_a if role == A else world.appt_b
    for params in (None, {"client": str(world.cast.client_a.pk)}):
        items = world.cast.as_(role).get("/appointments", params).json()["items"]
        assert {i["id"] for i in items} <= {str(own.pk)}
    assert [i["id"] for i in world.cast.as_(role).get("/appointments").json()["items"]] == [
        str(own.pk)
    ]


def test_a_client_login_without_a_client_record_sees_nothing(world: World) -> None:
    client_b = world.cast.client_b
    client_b.user = None
    client_b.save()
    api = world.cast.as_(B)
    assert api.get("/appointments").json()["items"] == []
    assert api.get(f"/clients/{client_b.pk}").status_code == 404
    body = {**_appointment(world, B), "client": str(client_b.pk)}
    response = api.post("/appointments", body, headers={"Idempotency-Key": "x"})
    assert response.status_code == 403
