"""Reserve: the one implementation of "lock, re-check, write allocations" (DESIGN.md 4).

Every writer of appointment or hold time (a booking, a hold, a move, every session of a course,
a course re-plan) locks the candidate resources in id order, lets go of expired holds on them,
re-reads their busy time under the locks, and runs the same `check_slot` that listing uses.
The database's no-overlap guarantee (PostgreSQL exclusion constraint, SQLite trigger) is the
backstop; callers turn its IntegrityError into the same SlotUnavailable as a lost race.

Staff book over holds of visitors who are not signed in (DESIGN.md 4, "Holds are bounded"): when
only such holds stand in the way, they are deleted here, under the same locks and in the same
transaction as the write that takes their time. The visitor learns it at their next step."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from daisy.clinic.models import Location, Resource, Specialist
from daisy.core import slots
from daisy.lib.errors import InvalidTime, SlotUnavailable
from daisy.scheduling import selectors
from daisy.scheduling.models import Allocation, Appointment, SlotHold
from daisy.treatments.models import Treatment

ALTERNATIVES_SEARCH = timedelta(days=7)

ByRole = dict[str, list[selectors.ResourceInfo]]


@dataclass(frozen=True)
class Reservation:
    """A slot that passed `check_slot` while its resources are locked: write it before the
    transaction ends."""

    treatment: Treatment
    location: Location
    slot: slots.Slot
    context: selectors.BookingContext
    # Holds of visitors who are not signed in that this (staff) reservation released.
    released_holds: tuple[str, ...] = field(default=())


def resources_lock(resource_ids: Iterable[str]) -> None:
    # Sorted, so that two bookings that need the same specialist and room never deadlock.
    # SQLite needs nothing here: IMMEDIATE transactions already serialise writers.
    ids = sorted(set(resource_ids))
    if connection.vendor == "postgresql" and ids:
        list(
            Resource.objects.select_for_update()
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )


def resource_ids(by_role: ByRole) -> list[str]:
    return [info.id for infos in by_role.values() for info in infos]


def eligible(
    treatment: Treatment, location: Location, specialist: Specialist | None = None
) -> ByRole:
    return selectors.eligible_resources(
        treatment,
        location,
        specialist_id=specialist.pk if specialist else None,
        stamps=selectors.diary_stamps(),
    )


def only_resources(by_role: ByRole, keep: set[str]) -> ByRole:
    return {role: [i for i in infos if i.id in keep] for role, infos in by_role.items()}


def expired_holds_release(by_role: ByRole, starts_at: datetime, now: datetime) -> None:
    """Let go of expired holds on the locked resources around this start, so the database's
    no-overlap backstop (which knows no clock) does not refuse time that nobody holds any
    more. Only rows of resources this transaction has locked are touched (no deadlocks)."""
    ids = resource_ids(by_role)
    if ids:
        Allocation.objects.filter(
            resource_id__in=ids,
            is_active=True,
            hold_expires_at__lte=now,
            starts_at__gt=starts_at - selectors.MAX_ALLOCATION,
            starts_at__lt=starts_at + selectors.MAX_ALLOCATION,
        ).update(is_active=False)


def slot_check(
    ctx: selectors.BookingContext,
    starts_at: datetime,
    now: datetime,
    rules: slots.Rules,
) -> slots.Slot:
    try:
        return slots.check_slot(
            template=ctx.template,
            start=starts_at,
            candidates=ctx.candidates,
            tz=ctx.tz,
            now=now,
            rules=rules,
        )
    except slots.SlotProblem as problem:
        if problem.code == "naive_datetime":
            raise InvalidTime(problem.message, fields={"start": "naive"}) from problem
        if problem.code in {"in_past", "min_notice", "max_advance"}:
            raise InvalidTime(
                problem.message, code=problem.code, fields={"start": problem.code}
            ) from problem
        raise SlotUnavailable(
            problem.message, code="slot_unavailable", extra={"reason": problem.code}
        ) from problem


def slot_reserve(
    *,
    treatment: Treatment,
    location: Location,
    starts_at: datetime,
    now: datetime,
    for_staff: bool,
    by_role: ByRole | None = None,
    specialist: Specialist | None = None,
    also_lock: Iterable[str] = (),
    exclude_appointment_id: Any = None,
    rules: slots.Rules | None = None,
    rules_now: datetime | None = None,
    over_anonymous_holds: bool | None = None,
    locked: bool = False,
) -> Reservation:
    """Lock the eligible resources (or `by_role`), release expired holds on them, re-read busy
    time and check `starts_at`. Call inside a transaction and write the reservation in it.

    `over_anonymous_holds` (by default: for staff): when the time is free but for holds of
    visitors who are not signed in, those holds are released and the time reserved. Resources
    free of any hold are preferred, so nobody's hold goes when it need not. `locked`: the caller
    already holds the locks of every resource in `by_role` (one statement less)."""
    if by_role is None:
        by_role = eligible(treatment, location, specialist)
    if over_anonymous_holds is None:
        over_anonymous_holds = for_staff
    if not locked:
        resources_lock([*resource_ids(by_role), *also_lock])
    expired_holds_release(by_role, starts_at, now)
    if rules is None:
        rules = selectors.treatment_rules(treatment, for_staff=for_staff)

    def check(over: bool) -> tuple[slots.Slot, selectors.BookingContext]:
        ctx = selectors.booking_context(
            treatment=treatment,
            location=location,
            window_start=starts_at,
            window_end=starts_at + timedelta(minutes=1),
            specialist_id=specialist.pk if specialist else None,
            exclude_appointment_id=exclude_appointment_id,
            by_role=by_role,
            now=now,
            over_anonymous_holds=over,
        )
        return slot_check(ctx, starts_at, rules_now or now, rules), ctx

    try:
        slot, ctx = check(False)
    except SlotUnavailable:
        if not over_anonymous_holds:
            raise
        slot, ctx = check(True)
        released = anonymous_holds_release(slot, now)
        return Reservation(treatment, location, slot, ctx, released_holds=released)
    return Reservation(treatment, location, slot, ctx)


def anonymous_holds_release(slot: slots.Slot, now: datetime) -> tuple[str, ...]:
    """Delete the live holds of visitors who are not signed in whose time overlaps `slot` on its
    own resources (all locked by the caller), so the slot can be written. Returns their ids.

    Their rows on other resources go too; every other writer of a hold's rows locks all of the
    hold's resources first, one of which this transaction holds, so none can be half-way."""
    spans: dict[str, list[tuple[datetime, datetime]]] = {}
    for phase in slot.phases:
        for rid in phase.resources.values():
            spans.setdefault(rid, []).append((phase.start, phase.end))
    if not spans:
        return ()
    first = min(start for runs in spans.values() for start, _ in runs)
    last = max(end for runs in spans.values() for _, end in runs)
    rows = Allocation.objects.filter(
        resource_id__in=[resource_pk(rid) for rid in spans],
        is_active=True,
        hold__is_anonymous=True,
        hold_expires_at__gt=now,
        starts_at__lt=last,
        ends_at__gt=first,
        starts_at__gt=first - selectors.MAX_ALLOCATION,
    ).values_list("hold_id", "resource_id", "starts_at", "ends_at")
    doomed = sorted(
        {
            str(hold_id)
            for hold_id, resource, begins, ends in rows
            if any(s < ends and begins < e for s, e in spans[selectors.resource_key(resource)])
        }
    )
    if doomed:
        SlotHold.objects.filter(pk__in=doomed).delete()
    return tuple(doomed)


def resource_pk(rid: str | None) -> uuid.UUID | None:
    # The core names resources by 32 hex digits; the returned rows must carry real UUIDs, or
    # `appointment.room_id == room.pk` is False and str() of the id loses its dashes.
    return uuid.UUID(rid) if rid else None


def allocations_write(
    slot: slots.Slot, *, appointment: Appointment | None = None, hold: SlotHold | None = None
) -> None:
    """One row per resource per contiguous run of phases (fewer rows, same guarantee), owned
    by the appointment or, for a hold, by the hold and carrying its expiry."""
    rows: list[Allocation] = []
    open_runs: dict[str, Allocation] = {}
    for phase in slot.phases:
        for role, rid in phase.resources.items():
            run = open_runs.get(rid)
            if run is not None and run.ends_at == phase.start:
                run.ends_at = phase.end
                run.phases = f"{run.phases}, {phase.name}"
                continue
            run = Allocation(
                appointment=appointment,
                hold=hold,
                hold_expires_at=hold.expires_at if hold is not None else None,
                resource_id=resource_pk(rid),
                role=role,
                phases=phase.name,
                starts_at=phase.start,
                ends_at=phase.end,
            )
            open_runs[rid] = run
            rows.append(run)
    Allocation.objects.bulk_create(rows)


def allocations_release(appointments: Iterable[Appointment]) -> None:
    Allocation.objects.filter(appointment__in=list(appointments), is_active=True).update(
        is_active=False
    )


def resources_assign(appointment: Appointment, slot: slots.Slot) -> None:
    appointment.specialist_id = resource_pk(slot.resources.get(selectors.ROLE_SPECIALIST))
    appointment.room_id = resource_pk(slot.resources.get(selectors.ROLE_ROOM))
    appointment.device_id = resource_pk(slot.resources.get(selectors.ROLE_DEVICE))


def resources_of(appointment: Appointment) -> dict[str, str]:
    out = {}
    for role, value in (
        (selectors.ROLE_SPECIALIST, appointment.specialist_id),
        (selectors.ROLE_ROOM, appointment.room_id),
        (selectors.ROLE_DEVICE, appointment.device_id),
    ):
        if value is not None:
            out[role] = selectors.resource_key(value)
    return out


def nearest_alternatives(
    *,
    treatment: Treatment,
    location: Location,
    starts_at: datetime,
    now: datetime,
    specialist: Specialist | None = None,
    for_staff: bool = False,
    limit: int = 3,
    held_by: str | None = None,
    keep: Callable[[selectors.LocatedSlot], bool] | None = None,
) -> list[selectors.LocatedSlot]:
    found = selectors.availability_list(
        treatment=treatment,
        location=location,
        window_start=max(starts_at - ALTERNATIVES_SEARCH, now),
        window_end=max(starts_at, now) + ALTERNATIVES_SEARCH,
        now=now,
        specialist_id=specialist.pk if specialist else None,
        for_staff=for_staff,
        held_by=held_by,
    )
    if keep is not None:
        found = [ls for ls in found if keep(ls)]
    found.sort(key=lambda ls: (abs((ls.slot.start - starts_at).total_seconds()), ls.slot.start))
    return sorted(found[:limit], key=lambda ls: ls.slot.start)


def lost_race() -> SlotUnavailable:
    return SlotUnavailable(_("That time was just taken by another booking."))


def with_alternatives(
    exc: SlotUnavailable,
    treatment: Treatment,
    location: Location,
    starts_at: datetime,
    now: datetime,
    specialist: Specialist | None,
    for_staff: bool,
    held_by: str | None = None,
    keep: Callable[[selectors.LocatedSlot], bool] | None = None,
) -> SlotUnavailable:
    """Attach up to three nearest bookable times (that `keep` accepts) to a refusal, so every
    caller can offer them."""
    try:
        exc.alternatives = nearest_alternatives(
            treatment=treatment,
            location=location,
            starts_at=starts_at,
            now=now,
            specialist=specialist,
            for_staff=for_staff,
            held_by=held_by,
            keep=keep,
        )
    except Exception:  # noqa: BLE001 - alternatives are a courtesy; the refusal must still go out
        exc.alternatives = []
    return exc
