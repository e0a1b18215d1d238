"""Daisy never double-books (DESIGN.md 4, 8): real threads and processes race for one slot on
whichever database DATABASE_URL names (SQLite: IMMEDIATE transactions; PostgreSQL: row locks),
and the database's own backstop (exclusion constraint / trigger) refuses overlaps on its own.

Every race asserts what a clinic would notice: one booking per contested resource time, no
overlapping active allocations in the table, and a clear SlotUnavailable for everyone else
(never a "database is locked" or a raw IntegrityError)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from daisy.accounts.models import User
from daisy.booking.services import BookingResult, appointment_book
from daisy.clients.models import Client
from daisy.clinic.models import Location, Specialist
from daisy.lib.errors import SlotUnavailable
from daisy.scheduling import selectors
from daisy.scheduling.models import Allocation, Appointment
from daisy.scheduling.tests import race_worker
from daisy.treatments.models import Treatment
from tests.support.testing import (
    MONDAY,
    Clinic,
    at,
    booking_now,
    current_database_url,
    make_clinic,
)

race = pytest.mark.django_db(transaction=True)

OVERLAP_SQL = """
    SELECT a.id, b.id, a.resource_id
    FROM scheduling_allocation a
    JOIN scheduling_allocation b ON b.resource_id = a.resource_id AND a.id < b.id
    WHERE a.is_active AND b.is_active
      AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
"""


def overlapping_allocations() -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(OVERLAP_SQL)
        return list(cursor.fetchall())


# --- threads -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """One booking request: what a browser or the front desk would send."""

    client_id: Any
    starts_at: datetime
    specialist_id: Any = None
    idempotency_key: str | None = None


@dataclass
class Outcome:
    attempt: Attempt
    result: BookingResult | None = None
    error: BaseException | None = None


def race_threads(clinic: Clinic, attempts: Sequence[Attempt]) -> list[Outcome]:
    """Run every attempt in its own thread, released together by one barrier.

    Each thread loads its own rows and opens its own connection before the barrier (as a
    request would), so the race starts at the booking itself, and closes the connection after."""
    barrier = threading.Barrier(len(attempts))
    outcomes = [Outcome(a) for a in attempts]
    now = booking_now()

    def run(outcome: Outcome) -> None:
        try:
            attempt = outcome.attempt
            kwargs: dict[str, Any] = {
                "client": Client.objects.get(pk=attempt.client_id),
                "treatment": Treatment.objects.prefetch_related("phases").get(
                    pk=clinic.microneedling.pk
                ),
                "location": Location.objects.get(pk=clinic.location.pk),
                "booked_by": User.objects.get(pk=clinic.reception.pk),
                "starts_at": attempt.starts_at,
                "now": now,
                "idempotency_key": attempt.idempotency_key,
            }
            if attempt.specialist_id is not None:
                kwargs["specialist"] = Specialist.objects.get(pk=attempt.specialist_id)
            connection.ensure_connection()
            barrier.wait(timeout=60)
            outcome.result = appointment_book(**kwargs)
        except BaseException as exc:  # noqa: BLE001 - recorded and asserted on by the test
            outcome.error = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(o,), daemon=True) for o in outcomes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a booking thread hung"
    return outcomes


def split(outcomes: Sequence[Outcome]) -> tuple[list[Outcome], list[Outcome]]:
    """Winners and losers; anything but a SlotUnavailable refusal fails the test."""
    unexpected = [
        o for o in outcomes if o.error is not None and not isinstance(o.error, SlotUnavailable)
    ]
    assert not unexpected, [f"{type(o.error).__name__}: {o.error}" for o in unexpected]
    winners = [o for o in outcomes if o.result is not None]
    losers = [o for o in outcomes if o.error is not None]
    assert len(winners) + len(losers) == len(outcomes)
    for o in losers:
        assert isinstance(o.error, SlotUnavailable)
        assert o.error.code == "slot_unavailable"
        assert o.error.message  # what the receptionist reads
    return winners, losers


# --- the treatment's resource windows, from its phases (not hard-coded minutes) --------------


def role_windows(
    treatment: Treatment, start: datetime
) -> dict[str, list[tuple[datetime, datetime]]]:
    """Contiguous stretches each role is held for, as the booking service allocates them."""
    out: dict[str, list[tuple[datetime, datetime]]] = {}
    t = start
    for phase in treatment.phases.all():
        end = t + phase.duration
        roles = []
        if phase.needs_specialist:
            roles.append(selectors.ROLE_SPECIALIST)
        if phase.room_kind:
            roles.append(selectors.ROLE_ROOM)
        if phase.device_kind:
            roles.append(selectors.ROLE_DEVICE)
        for role in roles:
            runs = out.setdefault(role, [])
            if runs and runs[-1][1] == t:
                runs[-1] = (runs[-1][0], end)
            else:
                runs.append((t, end))
        t = end
    return out


def collide(a: list[tuple[datetime, datetime]], b: list[tuple[datetime, datetime]]) -> bool:
    return any(s1 < e2 and s2 < e1 for s1, e1 in a for s2, e2 in b)


# --- 1. one slot, 32 threads --------------------------------------------------------------------


@race
def test_thirty_two_threads_for_one_slot_book_it_exactly_once():
    clinic = make_clinic(specialists=1, rooms=1, pens=1, clients=32)
    start = at(MONDAY, 10)
    outcomes = race_threads(clinic, [Attempt(c.pk, start) for c in clinic.clients])

    winners, losers = split(outcomes)
    assert len(winners) == 1
    assert len(losers) == 31
    assert overlapping_allocations() == []
    appt = Appointment.objects.get()
    assert appt.pk == winners[0].result.appointment.pk
    assert appt.client_id == winners[0].attempt.client_id
    assert appt.starts_at == start
    # The winner holds the specialist, the room and the pen; nothing else was written.
    assert set(Allocation.objects.values_list("appointment_id", flat=True)) == {appt.pk}
    held = {a.resource_id for a in Allocation.objects.all()}
    assert held == {clinic.specialists[0].pk, clinic.rooms[0].pk, clinic.devices[0].pk}
    # What the winner was told matches what was stored.
    told = winners[0].result.appointment
    assert (told.specialist_id, told.room_id, told.device_id) == (
        appt.specialist_id,
        appt.room_id,
        appt.device_id,
    )


# --- 2. overlapping starts that share only the room --------------------------------------------


@race
def test_overlapping_starts_sharing_only_the_room_never_overlap_in_it():
    starts = [at(MONDAY, 9) + timedelta(minutes=15 * i) for i in range(24)]  # 09:00 .. 14:45
    clinic = make_clinic(specialists=2, rooms=1, pens=2, clients=len(starts))
    attempts = [
        Attempt(c.pk, s, specialist_id=clinic.specialists[i % 2].pk)
        for i, (c, s) in enumerate(zip(clinic.clients, starts, strict=True))
    ]
    treatment = clinic.microneedling
    # The design under test: every window a booking holds lies inside its room window, so with
    # one room the room is the only resource two of these requests can fight over.
    for s in starts:
        w = role_windows(treatment, s)
        (room,) = w[selectors.ROLE_ROOM]
        assert all(room[0] <= a and b <= room[1] for r in w.values() for a, b in r)

    winners, losers = split(race_threads(clinic, attempts))

    assert winners and overlapping_allocations() == []
    room_of = {o.attempt: role_windows(treatment, o.attempt.starts_at)["room"] for o in winners}
    kept = sorted(room_of.values())
    for earlier, later in zip(kept, kept[1:], strict=False):
        assert not collide(earlier, later), "two winners share the room"
    for o in losers:
        mine = role_windows(treatment, o.attempt.starts_at)["room"]
        assert any(collide(mine, theirs) for theirs in kept), (
            f"{o.attempt.starts_at:%H:%M} was refused although the room was free"
        )
    assert Appointment.objects.count() == len(winners)
    for o in winners:
        appt = Appointment.objects.get(pk=o.result.appointment.pk)
        assert appt.room_id == clinic.rooms[0].pk
        assert appt.specialist_id == o.attempt.specialist_id


# --- 3. starts that share only the pen -----------------------------------------------------


@race
def test_bookings_sharing_only_the_pen_never_overlap_on_it():
    # Clusters two hours apart (so two rooms always suffice); within a cluster, starts at +0,
    # +20 and +30 min whose needling / clean-down windows on the single pen collide pairwise,
    # with specialists chosen so that no specialist window collides.
    clinic = make_clinic(specialists=2, rooms=2, pens=1, clients=15)
    s1, s2 = (s.pk for s in clinic.specialists)
    treatment = clinic.microneedling
    plan = [(0, s1), (20, s1), (30, s2)]
    attempts, cluster_of = [], {}
    clients = iter(clinic.clients)
    for k, hour in enumerate((9, 11, 13, 15, 17)):
        for offset, specialist_id in plan:
            a = Attempt(next(clients).pk, at(MONDAY, hour, offset), specialist_id=specialist_id)
            attempts.append(a)
            cluster_of[a] = k
    # Check the arrangement really isolates the pen before relying on it.
    for a in attempts:
        for b in attempts:
            if a == b:
                continue
            wa, wb = role_windows(treatment, a.starts_at), role_windows(treatment, b.starts_at)
            same_cluster = cluster_of[a] == cluster_of[b]
            assert collide(wa["device"], wb["device"]) == same_cluster
            if a.specialist_id == b.specialist_id:
                assert not collide(wa["specialist"], wb["specialist"])
            if not same_cluster:
                assert not collide(wa["room"], wb["room"])

    winners, losers = split(race_threads(clinic, attempts))

    assert sorted(cluster_of[o.attempt] for o in winners) == [0, 1, 2, 3, 4]
    assert len(losers) == 10
    assert overlapping_allocations() == []
    pen = clinic.devices[0].pk
    pen_rows = sum(len(role_windows(treatment, o.attempt.starts_at)["device"]) for o in winners)
    assert Allocation.objects.filter(resource_id=pen, is_active=True).count() == pen_rows
    assert Appointment.objects.count() == 5


# --- 4. processes, not threads -------------------------------------------------------------------


@race
def test_six_processes_for_one_slot_book_it_exactly_once(tmp_path: Path):
    clinic = make_clinic(specialists=1, rooms=1, pens=1, clients=6)
    start = at(MONDAY, 10)
    go = tmp_path / "go"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "daisy.settings"}
    env["DATABASE_URL"] = current_database_url()
    procs = []
    for client in clinic.clients:
        job = {
            "client": str(client.pk),
            "treatment": str(clinic.microneedling.pk),
            "location": str(clinic.location.pk),
            "booked_by": str(clinic.reception.pk),
            "starts_at": start.isoformat(),
            "now": booking_now().isoformat(),
            "go": str(go),
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", race_worker.__name__, json.dumps(job)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    try:
        for p in procs:
            assert p.stdout is not None
            line = p.stdout.readline()
            assert json.loads(line or "{}").get("ready"), p.stderr.read() if p.stderr else ""
        go.touch()
        results = []
        for p in procs:
            out, err = p.communicate(timeout=90)
            last = out.strip().splitlines()[-1] if out.strip() else "{}"
            results.append((p.returncode, json.loads(last), err))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()

    codes = sorted(code for code, _, _ in results)
    problems = [
        (code, payload, err[-2000:])
        for code, payload, err in results
        if code not in (race_worker.EXIT_BOOKED, race_worker.EXIT_SLOT_UNAVAILABLE)
    ]
    assert not problems, problems
    assert codes == [race_worker.EXIT_BOOKED] + [race_worker.EXIT_SLOT_UNAVAILABLE] * 5
    for code, payload, _ in results:
        expected = "booked" if code == race_worker.EXIT_BOOKED else "slot_unavailable"
        assert payload["outcome"] == expected
    assert overlapping_allocations() == []
    (booked,) = [p for c, p, _ in results if c == race_worker.EXIT_BOOKED]
    assert str(Appointment.objects.get().pk) == booked["appointment"]


# --- 5. the same idempotency key, sixteen times at once ------------------------------------------


@race
def test_same_idempotency_key_in_sixteen_threads_books_once_and_replays():
    clinic = make_clinic(specialists=1, rooms=1, pens=1, clients=1)
    start = at(MONDAY, 10)
    attempt = Attempt(clinic.clients[0].pk, start, idempotency_key="retry-storm-1")

    outcomes = race_threads(clinic, [attempt] * 16)

    errors = [f"{type(o.error).__name__}: {o.error}" for o in outcomes if o.error is not None]
    assert not errors, errors
    appt = Appointment.objects.get()
    assert {o.result.appointment.pk for o in outcomes} == {appt.pk}
    assert sorted(o.result.replayed for o in outcomes) == [False] + [True] * 15
    assert overlapping_allocations() == []


# --- 6. the database's backstop on its own ------------------------------------------------------


def raw_insert_allocation(
    appointment: Appointment,
    resource_id: Any,
    start: datetime,
    end: datetime,
    *,
    is_active: bool = True,
) -> None:
    """INSERT straight into the table, bypassing every line of Python that checks for overlap."""
    values = {
        "appointment": appointment.pk,
        "resource": resource_id,
        "role": "room",
        "phases": "Raw SQL",
        "starts_at": start,
        "ends_at": end,
        "is_active": is_active,
    }
    fields = [Allocation._meta.get_field(name) for name in values]
    params = [
        f.get_db_prep_value(v, connection) for f, v in zip(fields, values.values(), strict=True)
    ]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO scheduling_allocation ({columns}) VALUES ({placeholders})", params
        )


@pytest.fixture
def booked_at_ten():
    clinic = make_clinic(specialists=1, rooms=1, pens=1, clients=2)
    result = appointment_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=at(MONDAY, 10),
        booked_by=clinic.reception,
        now=booking_now(),
    )
    return clinic, result.appointment


@pytest.mark.django_db
def test_backstop_refuses_overlapping_raw_insert_and_bulk_create(booked_at_ten):
    clinic, appt = booked_at_ten
    room = clinic.rooms[0].pk
    (held,) = Allocation.objects.filter(resource_id=room)  # the room, 10:00 until clean-down ends
    before = Allocation.objects.count()

    with pytest.raises(IntegrityError), transaction.atomic():
        raw_insert_allocation(appt, room, at(MONDAY, 10, 30), at(MONDAY, 10, 45))
    with pytest.raises(IntegrityError), transaction.atomic():
        raw_insert_allocation(appt, room, held.starts_at - timedelta(minutes=5), held.ends_at)
    with pytest.raises(IntegrityError), transaction.atomic():
        Allocation.objects.bulk_create(
            [
                Allocation(
                    appointment=appt,
                    resource_id=room,
                    role="room",
                    phases="bulk",
                    starts_at=held.ends_at - timedelta(minutes=1),
                    ends_at=held.ends_at + timedelta(hours=1),
                )
            ]
        )
    assert Allocation.objects.count() == before
    assert overlapping_allocations() == []


@pytest.mark.django_db
def test_backstop_accepts_touching_and_inactive_rows_but_not_reactivation(booked_at_ten):
    clinic, appt = booked_at_ten
    room = clinic.rooms[0].pk
    # [)-bounds: back-to-back is not an overlap.
    raw_insert_allocation(appt, room, at(MONDAY, 13), at(MONDAY, 14))
    raw_insert_allocation(appt, room, at(MONDAY, 14), at(MONDAY, 15))
    (held,) = Allocation.objects.filter(resource_id=room, starts_at=at(MONDAY, 10))
    raw_insert_allocation(appt, room, held.ends_at, at(MONDAY, 12))
    # A released (inactive) row may lie under an active one: cancellations keep their history.
    raw_insert_allocation(appt, room, at(MONDAY, 13, 30), at(MONDAY, 14, 30), is_active=False)
    assert overlapping_allocations() == []

    # Saving it active again (an admin edit) would double-book: refused.
    ghost = Allocation.objects.get(resource_id=room, is_active=False)
    ghost.is_active = True
    with pytest.raises(IntegrityError), transaction.atomic():
        ghost.save()
    # Moving an active row onto another is refused too.
    last = Allocation.objects.get(resource_id=room, starts_at=at(MONDAY, 14))
    with pytest.raises(IntegrityError), transaction.atomic():
        Allocation.objects.filter(pk=last.pk).update(starts_at=at(MONDAY, 13, 45))
    assert overlapping_allocations() == []


@pytest.mark.django_db
def test_backstop_is_installed_on_this_database():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT contype FROM pg_constraint WHERE conname = 'allocation_no_overlap' "
                "AND conrelid = 'scheduling_allocation'::regclass"
            )
            assert cursor.fetchall() == [("x",)]  # an EXCLUDE constraint
        else:
            assert connection.vendor == "sqlite"
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'scheduling_allocation' ORDER BY name"
            )
            names = [r[0] for r in cursor.fetchall()]
            assert "allocation_no_overlap_insert" in names
            assert "allocation_no_overlap_update" in names


@pytest.mark.django_db
def test_when_only_the_backstop_catches_a_clash_the_booker_gets_slot_unavailable(
    booked_at_ten, monkeypatch
):
    # Blind the service's own check, as a bug or a stale read would: the database still refuses,
    # and the request ends in the same clear refusal as a lost race, with nothing written.
    clinic, appt = booked_at_ten
    monkeypatch.setattr(selectors, "busy_rows", lambda *args, **kwargs: {})
    with pytest.raises(SlotUnavailable) as refused:
        appointment_book(
            client=clinic.clients[1],
            treatment=clinic.microneedling,
            starts_at=at(MONDAY, 10, 15),
            booked_by=clinic.reception,
            now=booking_now(),
        )
    assert refused.value.code == "slot_unavailable"
    assert isinstance(refused.value.__cause__, IntegrityError)
    assert list(Appointment.objects.values_list("pk", flat=True)) == [appt.pk]
    assert overlapping_allocations() == []
