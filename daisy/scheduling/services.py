"""Writes for scheduling: book, reschedule, cancel and move through the statuses.

Every write races with itself (DESIGN.md 4): one durable transaction locks the candidate
resources in id order, re-reads their busy time, runs the same `check_slot` that listing uses,
and inserts the appointment, its allocations and an audit entry. The database's own no-overlap
guarantee (PostgreSQL exclusion constraint, SQLite trigger) is the backstop: if it fires, the
request gets the same SlotUnavailable as a lost race."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from daisy.aftercare.services import (
    appointment_cancellation_schedule,
    appointment_messages_cancel,
    appointment_messages_schedule,
)
from daisy.audit.services import audit_record
from daisy.clients.models import BLOCKING_TIERS, Client, Tier
from daisy.clients.selectors import client_open_hold
from daisy.clinic.models import Location, Resource, Specialist
from daisy.core import slots
from daisy.courses.selectors import (
    important_date_clashes,
    important_dates_require_confirmation,
)
from daisy.lib.errors import (
    ClientContraindicated,
    IdempotencyConflict,
    InvalidTime,
    PermissionDenied,
    PolicyViolation,
    SlotUnavailable,
    ValidationFailed,
)
from daisy.lib.times import SANE_YEARS, is_sane_year
from daisy.scheduling import selectors
from daisy.scheduling.models import Allocation, Appointment, SlotHold, Status
from daisy.treatments.models import Treatment

ALTERNATIVES_SEARCH = timedelta(days=7)


def _is_staff(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_clinic_staff", False))


def _fingerprint(**parts: Any) -> str:
    raw = json.dumps({k: str(v) for k, v in sorted(parts.items())}, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()


def _scoped_key(actor: Any, key: str) -> str:
    owner = str(actor.pk) if getattr(actor, "pk", None) else "anonymous"
    return f"{owner}:{key}"


def _resolve_location(
    treatment: Treatment, location: Location | None, specialist: Specialist | None
) -> Location:
    if location is not None:
        if not location.is_active:
            raise ValidationFailed(
                _("That location is closed for bookings."), fields={"location": "inactive"}
            )
        return location
    options = list(selectors.locations_offering(treatment))
    if specialist is not None:
        theirs = set(specialist.locations.values_list("pk", flat=True))
        options = [loc for loc in options if loc.pk in theirs]
    if len(options) == 1:
        return options[0]
    if not options:
        raise ValidationFailed(
            _("No location offers %(treatment)s at the moment.") % {"treatment": treatment.name},
            fields={"location": "none"},
        )
    raise ValidationFailed(
        _("Choose a location for this booking."), fields={"location": "required"}
    )


def booking_request_check(
    *,
    treatment: Treatment,
    for_staff: bool,
    location: Location | None = None,
    specialist: Specialist | None = None,
    starts_at: datetime | None = None,
) -> Location:
    """What every booking, hold and course checks before taking any lock: a sane start, a
    treatment on offer (online only where it is bookable online), a location that offers it and
    where the chosen specialist works. Returns the location."""
    if starts_at is not None:
        _check_start(starts_at)
    if not treatment.is_active:
        raise ValidationFailed(
            _("%(treatment)s is not offered at the moment.") % {"treatment": treatment.name},
            fields={"treatment": "inactive"},
        )
    if not for_staff and not treatment.is_online_bookable:
        raise PermissionDenied(
            _("%(treatment)s is booked by the clinic: please call us.")
            % {"treatment": treatment.name}
        )
    loc = _resolve_location(treatment, location, specialist)
    if specialist is not None:
        specialist_check_works_at(specialist, loc)
    return loc


def specialist_check_works_at(specialist: Specialist, location: Location) -> None:
    if not specialist.locations.filter(pk=location.pk).exists():
        raise ValidationFailed(
            _("%(specialist)s does not work at %(location)s.")
            % {"specialist": specialist.name, "location": location.name},
            fields={"specialist": "wrong location"},
        )


def _check_contraindications(
    *,
    client: Client,
    treatment: Treatment,
    starts_at: datetime,
    tz: Any,
    booked_by: Any,
    override_reason: str,
) -> bool:
    """Return True when a clinician override is being used (and so must be recorded)."""
    if not treatment.requires_screening:
        return False
    local_day = starts_at.astimezone(tz).date()
    blocking = []
    for c in client.contraindications.filter(resolved_at__isnull=True, tier__in=BLOCKING_TIERS):
        if c.tier == Tier.DEFER and c.until_on is not None and c.until_on <= local_day:
            continue
        blocking.append(c)
    if not blocking:
        return False
    hard = [c for c in blocking if c.tier == Tier.HARD_STOP]
    if hard:
        # DOMAIN.md 2.1: a hard stop has no in-app override; the condition must resolve first.
        raise ClientContraindicated(
            _(
                "%(client)s cannot be booked for %(treatment)s: "
                "%(condition)s. Offer a consultation instead, and book once a clinician has "
                "recorded that it has resolved."
            )
            % {
                "client": client.full_name,
                "treatment": treatment.name,
                "condition": hard[0].condition,
            }
        )
    if not override_reason.strip():
        reason = blocking[0]
        raise ClientContraindicated(
            _(
                "%(client)s has an open screening finding (%(condition)s). "
                "A clinician must review it and record an override reason before booking."
            )
            % {"client": client.full_name, "condition": reason.condition},
            fields={"override_reason": "required"},
        )
    if not getattr(booked_by, "is_clinician", False):
        raise PermissionDenied(
            _("Only a specialist or the clinic manager can override a screening finding.")
        )
    return True


def _check_start(starts_at: datetime, *, new: bool = False) -> None:
    """An aware start within sane years, or a clear InvalidTime (never an overflow later)."""
    if starts_at.tzinfo is None:
        what = _("The new start time") if new else _("The start time")
        raise InvalidTime(
            _("%(what)s needs a time zone or UTC offset.") % {"what": what},
            fields={"start": "naive"},
        )
    if not is_sane_year(starts_at):
        raise InvalidTime(
            _("Choose a time between %(low)s and %(high)s.")
            % {"low": SANE_YEARS[0], "high": SANE_YEARS[1]},
            fields={"start": "out of range"},
        )


def _check_clinical_hold(client: Client) -> None:
    """A check-in red flag holds the client's next session until a clinician clears it
    (DOMAIN.md 5.1, 5.2 row "Each session"). Read inside the booking transaction, so a hold
    placed meanwhile is seen."""
    hold = client_open_hold(client.pk)
    if hold is not None:
        raise ClientContraindicated(
            _(
                "%(client)s's next session is on hold: %(reason)s. A specialist or the "
                "clinic manager must review the client and clear the hold (back-office, Alerts) "
                "before a session is booked, moved or started."
            )
            % {"client": client.full_name, "reason": hold.reason},
            code="clinical_hold",
        )


def _lock_resources(resource_ids: list[str]) -> None:
    # Sorted, so that two bookings that need the same specialist and room never deadlock.
    # SQLite needs nothing here: IMMEDIATE transactions already serialise writers.
    if connection.vendor == "postgresql" and resource_ids:
        list(
            Resource.objects.select_for_update()
            .filter(pk__in=sorted(resource_ids))
            .order_by("pk")
            .values_list("pk", flat=True)
        )


def _allocations_for(
    appointment: Appointment | None, slot: slots.Slot, *, hold: SlotHold | None = None
) -> list[Allocation]:
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
                resource_id=_resource_pk(rid),
                role=role,
                phases=phase.name,
                starts_at=phase.start,
                ends_at=phase.end,
            )
            open_runs[rid] = run
            rows.append(run)
    return rows


def _resource_pk(rid: str | None) -> uuid.UUID | None:
    # The core names resources by 32 hex digits; the returned rows must carry real UUIDs, or
    # `appointment.room_id == room.pk` is False and str() of the id loses its dashes.
    return uuid.UUID(rid) if rid else None


def _assign_resources(appointment: Appointment, slot: slots.Slot) -> None:
    appointment.specialist_id = _resource_pk(slot.resources.get(selectors.ROLE_SPECIALIST))
    appointment.room_id = _resource_pk(slot.resources.get(selectors.ROLE_ROOM))
    appointment.device_id = _resource_pk(slot.resources.get(selectors.ROLE_DEVICE))


def _check(
    ctx: selectors.BookingContext, starts_at: datetime, now: datetime, for_staff: bool
) -> slots.Slot:
    try:
        return slots.check_slot(
            template=ctx.template,
            start=starts_at,
            candidates=ctx.candidates,
            tz=ctx.tz,
            now=now,
            rules=selectors.treatment_rules(ctx.treatment, for_staff=for_staff),
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
    found.sort(key=lambda ls: (abs((ls.slot.start - starts_at).total_seconds()), ls.slot.start))
    return sorted(found[:limit], key=lambda ls: ls.slot.start)


def _lost_race() -> SlotUnavailable:
    return SlotUnavailable(_("That time was just taken by another booking."))


def _with_alternatives(
    exc: SlotUnavailable,
    treatment: Treatment,
    location: Location,
    starts_at: datetime,
    now: datetime,
    specialist: Specialist | None,
    for_staff: bool,
    held_by: str | None = None,
) -> SlotUnavailable:
    """Attach up to three nearest bookable times to a refusal, so every caller can offer them."""
    try:
        exc.alternatives = nearest_alternatives(
            treatment=treatment,
            location=location,
            starts_at=starts_at,
            now=now,
            specialist=specialist,
            for_staff=for_staff,
            held_by=held_by,
        )
    except Exception:  # noqa: BLE001 - alternatives are a courtesy; the refusal must still go out
        exc.alternatives = []
    return exc


# --- slot holds (issue 4) ---------------------------------------------------------------------
# A hold is made like a booking (lock, re-check, write) so two people can never hold the same
# time, and its time sits in the Allocation table so the database backstop covers it too.
# Holds write no audit entry and send nothing: they carry no personal data, and the booking
# that converts one is audited with the hold's id.


def _owner_slot_hold(held_by: str | None) -> SlotHold | None:
    return SlotHold.objects.filter(held_by=held_by).first() if held_by else None


def _slot_hold_resource_ids(hold: SlotHold | None) -> list[str]:
    if hold is None:
        return []
    return sorted(
        {selectors._rid(pk) for pk in hold.allocations.values_list("resource_id", flat=True)}
    )


def _honoured_slot_hold(
    hold: SlotHold | None,
    hold_id: Any,
    treatment: Treatment,
    location: Location,
    specialist: Specialist | None,
    starts_at: datetime,
    now: datetime,
) -> SlotHold | None:
    """The owner's hold if it is live and is for exactly this booking, else None."""
    if hold is None or not hold.is_live(now) or starts_at <= now:
        return None
    if hold_id is not None and str(hold.pk) != str(hold_id):
        return None  # a stale id: the owner has held another time since
    same = (
        hold.treatment_id == treatment.pk
        and hold.location_id == location.pk
        and hold.starts_at == starts_at
        and (specialist is None or hold.specialist_id == specialist.pk)
    )
    return hold if same else None


def _only(
    by_role: dict[str, list[selectors.ResourceInfo]], resource_ids: set[str]
) -> dict[str, list[selectors.ResourceInfo]]:
    return {role: [i for i in infos if i.id in resource_ids] for role, infos in by_role.items()}


def _release_expired_slot_holds(
    by_role: dict[str, list[selectors.ResourceInfo]], starts_at: datetime, now: datetime
) -> None:
    """Let go of expired holds on the locked resources around this start, so the database's
    no-overlap backstop (which knows no clock) does not refuse time that nobody holds any
    more. Only rows of resources this transaction has locked are touched (no deadlocks)."""
    ids = [info.id for infos in by_role.values() for info in infos]
    if ids:
        Allocation.objects.filter(
            resource_id__in=ids,
            is_active=True,
            hold_expires_at__lte=now,
            starts_at__gt=starts_at - selectors.MAX_ALLOCATION,
            starts_at__lt=starts_at + selectors.MAX_ALLOCATION,
        ).update(is_active=False)


def _check_held_by(held_by: str) -> str:
    key = (held_by or "").strip()
    if not key or len(key) > 128:
        raise ValidationFailed(
            _("The hold needs an owner key of 1 to 128 characters."), fields={"held_by": "invalid"}
        )
    return key


def slot_hold_create(
    *,
    treatment: Treatment,
    starts_at: datetime,
    now: datetime,
    held_by: str,
    location: Location | None = None,
    specialist: Specialist | None = None,
    ttl: timedelta | None = None,
    by: Any = None,
) -> SlotHold:
    """Hold a bookable time for `ttl` (default settings.DAISY_SLOT_HOLD_MINUTES) while its
    owner fills in the booking form, or raise SlotUnavailable with the nearest alternatives.

    `held_by` is an opaque owner key (a hash of the session key, say; never personal data).
    One hold per owner: a new one releases the owner's previous hold in the same transaction.
    `by` is the signed-in user if any (staff get staff booking rules)."""
    key = _check_held_by(held_by)
    if ttl is None:
        ttl = timedelta(minutes=settings.DAISY_SLOT_HOLD_MINUTES)
    if not timedelta(0) < ttl <= timedelta(hours=1):
        raise ValidationFailed(
            _("A hold lasts between a second and an hour."), fields={"ttl": "out of range"}
        )
    for_staff = _is_staff(by)
    loc = booking_request_check(
        treatment=treatment,
        for_staff=for_staff,
        location=location,
        specialist=specialist,
        starts_at=starts_at,
    )
    # One retry: the owner's own second request racing the first meets the unique owner key;
    # the retry then replaces the hold that won (the newest choice is the one that counts).
    for attempt in (1, 2):
        try:
            return _slot_hold_write(
                treatment=treatment,
                location=loc,
                specialist=specialist,
                starts_at=starts_at,
                now=now,
                held_by=key,
                ttl=ttl,
                for_staff=for_staff,
            )
        except IntegrityError as exc:
            if attempt == 1 and SlotHold.objects.filter(held_by=key).exists():
                continue
            raise _with_alternatives(
                _lost_race(), treatment, loc, starts_at, now, specialist, for_staff, key
            ) from exc
        except SlotUnavailable as exc:
            raise _with_alternatives(
                exc, treatment, loc, starts_at, now, specialist, for_staff, key
            ) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _slot_hold_write(
    *,
    treatment: Treatment,
    location: Location,
    specialist: Specialist | None,
    starts_at: datetime,
    now: datetime,
    held_by: str,
    ttl: timedelta,
    for_staff: bool,
) -> SlotHold:
    with transaction.atomic(durable=True):
        by_role = selectors.eligible_resources(
            treatment,
            location,
            specialist_id=specialist.pk if specialist else None,
            stamps=selectors.diary_stamps(),
        )
        previous = _owner_slot_hold(held_by)
        _lock_resources(
            [info.id for infos in by_role.values() for info in infos]
            + _slot_hold_resource_ids(previous)
        )
        if previous is not None:
            previous.delete()
        _release_expired_slot_holds(by_role, starts_at, now)
        ctx = selectors.booking_context(
            treatment=treatment,
            location=location,
            window_start=starts_at,
            window_end=starts_at + timedelta(minutes=1),
            specialist_id=specialist.pk if specialist else None,
            by_role=by_role,
            now=now,
        )
        slot = _check(ctx, starts_at, now, for_staff)
        hold = SlotHold(
            held_by=held_by,
            treatment=treatment,
            location=location,
            specialist_id=_resource_pk(slot.resources.get(selectors.ROLE_SPECIALIST)),
            starts_at=slot.start,
            ends_at=slot.end,
            created_at=now,
            expires_at=now + ttl,
        )
        hold.save(force_insert=True)
        Allocation.objects.bulk_create(_allocations_for(None, slot, hold=hold))
        return hold


def slot_hold_release(*, hold_id: Any, held_by: str, now: datetime) -> bool:
    """Give a held time back (the owner went back or left). True if a live hold was released;
    releasing one that expired or is gone is not an error."""
    hold = selectors.slot_hold_get(hold_id=hold_id, held_by=_check_held_by(held_by))
    if hold is None:
        return False
    with transaction.atomic(durable=True):
        # Lock like every other writer of these resources' rows (sorted, one statement).
        _lock_resources(_slot_hold_resource_ids(hold))
        live = SlotHold.objects.filter(pk=hold.pk, expires_at__gt=now).exists()
        SlotHold.objects.filter(pk=hold.pk).delete()
        return live


def slot_holds_purge(*, now: datetime, limit: int = 500) -> int:
    """Delete expired holds (they already block nobody); returns how many went. Run by every
    `daisy worker` (SchedulingConfig.periodic_jobs), not in a client's request."""
    expired = list(
        SlotHold.objects.filter(expires_at__lte=now)
        .order_by("expires_at")
        .values_list("pk", flat=True)[:limit]
    )
    if not expired:
        return 0
    with transaction.atomic(durable=True):
        resources = Allocation.objects.filter(hold_id__in=expired).values_list(
            "resource_id", flat=True
        )
        _lock_resources(sorted({selectors._rid(pk) for pk in resources}))
        _total, by_model = SlotHold.objects.filter(pk__in=expired, expires_at__lte=now).delete()
    return by_model.get(SlotHold._meta.label, 0)


@dataclass(frozen=True)
class BookingResult:
    appointment: Appointment
    replayed: bool


def appointment_book(
    *,
    client: Client,
    treatment: Treatment,
    starts_at: datetime,
    booked_by: Any,
    now: datetime,
    location: Location | None = None,
    specialist: Specialist | None = None,
    idempotency_key: str | None = None,
    notes: str = "",
    override_reason: str = "",
    confirm_important_dates: bool = False,
    hold_id: Any = None,
    held_by: str | None = None,
) -> BookingResult:
    """Book one appointment, or raise a DomainError and write nothing.

    With an idempotency key, a repeat of the same request returns the first appointment
    (replayed=True) and a repeat with another body raises IdempotencyConflict (422).

    With `held_by` (and optionally `hold_id`), the owner's live hold for this treatment, place
    and time becomes the booking, on the hold's own resources, in this transaction. An expired
    or other hold of theirs is released and the time booked as usual, if it is still free."""
    if hold_id is not None and not held_by:
        raise ValidationFailed(
            _("A held time can only be booked by whoever held it."), fields={"hold": "owner"}
        )
    if held_by is not None:
        held_by = _check_held_by(held_by)
    for_staff = _is_staff(booked_by)
    loc = booking_request_check(
        treatment=treatment,
        for_staff=for_staff,
        location=location,
        specialist=specialist,
        starts_at=starts_at,
    )
    fingerprint = _fingerprint(
        client=client.pk,
        treatment=treatment.slug,
        start=starts_at.timestamp(),
        specialist=specialist.pk if specialist else "",
        location=loc.pk,
    )
    scoped = _scoped_key(booked_by, idempotency_key) if idempotency_key else None

    try:
        with transaction.atomic(durable=True):
            by_role = selectors.eligible_resources(
                treatment,
                loc,
                specialist_id=specialist.pk if specialist else None,
                stamps=selectors.diary_stamps(),
            )
            own_hold = _owner_slot_hold(held_by)
            own_hold_resources = _slot_hold_resource_ids(own_hold)
            _lock_resources(
                [info.id for infos in by_role.values() for info in infos] + own_hold_resources
            )
            if scoped is not None:
                replay = _replay(scoped, fingerprint)
                if replay is not None:
                    return BookingResult(replay, True)
            honoured = _honoured_slot_hold(
                own_hold, hold_id, treatment, loc, specialist, starts_at, now
            )
            if honoured is not None:
                # The hold's own resources, and the rules as they stood when it was made: the
                # client was promised this time, and filling in the form must not lose it.
                by_role = _only(by_role, set(own_hold_resources))
                rules_now = min(now, honoured.created_at)
                honoured_id = str(honoured.pk)  # delete() below clears the instance's pk
            else:
                rules_now, honoured_id = now, ""
            if own_hold is not None:
                # Converted or abandoned: one hold per owner, and a booking ends the flow.
                own_hold.delete()
            _release_expired_slot_holds(by_role, starts_at, now)
            # Re-read busy time now that we hold the locks: whatever committed before is seen.
            ctx = selectors.booking_context(
                treatment=treatment,
                location=loc,
                window_start=starts_at,
                window_end=starts_at + timedelta(minutes=1),
                specialist_id=specialist.pk if specialist else None,
                by_role=by_role,
                now=now,
            )
            slot = _check(ctx, starts_at, rules_now, for_staff)
            # Issue 5: a recovery window over one of the client's important dates needs
            # the caller's explicit confirmation, recorded in the audit entry.
            clashes = important_date_clashes(
                client=client, treatment=treatment, starts_at=slot.start, tz=ctx.tz
            )
            important_dates_require_confirmation(clashes=clashes, confirmed=confirm_important_dates)
            appointment = appointment_write(
                client=client,
                treatment=treatment,
                location=loc,
                slot=slot,
                booked_by=booked_by,
                now=now,
                notes=notes,
                override_reason=override_reason,
                idempotency_key=scoped,
                request_fingerprint=fingerprint if scoped else "",
                audit_data={
                    **({"important_dates_confirmed": [c.text for c in clashes]} if clashes else {}),
                    **({"hold": honoured_id} if honoured is not None else {}),
                },
            )
            return BookingResult(appointment, False)
    except IntegrityError as exc:
        # Either the same idempotency key committed meanwhile, or the database's no-overlap
        # guarantee fired because another booking won the race.
        if scoped is not None:
            replay = _replay(scoped, fingerprint)
            if replay is not None:
                return BookingResult(replay, True)
        raise _with_alternatives(
            _lost_race(), treatment, loc, starts_at, now, specialist, for_staff, held_by
        ) from exc
    except SlotUnavailable as exc:
        raise _with_alternatives(
            exc, treatment, loc, starts_at, now, specialist, for_staff, held_by
        ) from None


def appointment_write(
    *,
    client: Client,
    treatment: Treatment,
    location: Location,
    slot: slots.Slot,
    booked_by: Any,
    now: datetime,
    notes: str = "",
    override_reason: str = "",
    idempotency_key: str | None = None,
    request_fingerprint: str = "",
    audit_data: dict[str, Any] | None = None,
) -> Appointment:
    """The client-side checks and the write of one appointment on a slot that `check_slot` has
    just passed: screening (DOMAIN.md 2.1, with a recorded clinician override) and the clinical
    hold (5.2), then the appointment, its allocations, its messages and its audit entry.

    For booking services only: call it inside their durable transaction while holding the
    locks of the slot's resources (single bookings, every session of a course)."""
    overridden = _check_contraindications(
        client=client,
        treatment=treatment,
        starts_at=slot.start,
        tz=location.tz,
        booked_by=booked_by,
        override_reason=override_reason,
    )
    _check_clinical_hold(client)
    appointment = Appointment(
        client=client,
        treatment=treatment,
        location=location,
        starts_at=slot.start,
        ends_at=slot.end,
        busy_until=slot.busy_until,
        status=Status.BOOKED,
        price=treatment.price,
        notes=notes,
        booked_by=booked_by if getattr(booked_by, "pk", None) else None,
        created_at=now,
        updated_at=now,
        override_by=booked_by if overridden else None,
        override_reason=override_reason.strip() if overridden else "",
        idempotency_key=idempotency_key,
        request_fingerprint=request_fingerprint,
    )
    _assign_resources(appointment, slot)
    appointment.save(force_insert=True)
    Allocation.objects.bulk_create(_allocations_for(appointment, slot))
    # In this transaction: a booking that rolls back leaves no message (DESIGN.md 5).
    appointment_messages_schedule(
        appointment=appointment, now=now, version=appointment.messages_version
    )
    audit_record(
        actor=booked_by,
        action="appointment.book",
        obj=appointment,
        at=now,
        data={
            "client": str(client.pk),
            "treatment": treatment.slug,
            "start": slot.start.isoformat(),
            "resources": dict(slot.resources),
            **({"override_reason": appointment.override_reason} if overridden else {}),
            **(audit_data or {}),
        },
    )
    return appointment


def _replay(scoped_key: str, fingerprint: str) -> Appointment | None:
    existing = Appointment.objects.filter(idempotency_key=scoped_key).first()
    if existing is None:
        return None
    if existing.request_fingerprint != fingerprint:
        raise IdempotencyConflict(
            _(
                "This Idempotency-Key was already used for a different booking. "
                "Use a new key for a new request."
            )
        )
    return existing


def _deactivate_allocations(appointment: Appointment) -> None:
    Allocation.objects.filter(appointment=appointment, is_active=True).update(is_active=False)


def _lock_appointment(appointment: Appointment) -> Appointment:
    return (
        Appointment.objects.select_for_update()
        .select_related("treatment", "location", "client")
        .get(pk=appointment.pk)
    )


def _course_session_changed(**kwargs: Any) -> None:
    # Imported here: daisy.courses.services imports this module to book whole courses.
    from daisy.courses.services import course_session_changed

    course_session_changed(**kwargs)


def appointment_reschedule(
    *,
    appointment: Appointment,
    starts_at: datetime,
    by: Any,
    now: datetime,
    specialist: Specialist | None = None,
    confirm_important_dates: bool = False,
) -> Appointment:
    """Move a booked appointment. The old time is released and the new one taken in the same
    transaction, so a failed move leaves the appointment exactly where it was."""
    _check_start(starts_at, new=True)
    for_staff = _is_staff(by)
    try:
        with transaction.atomic(durable=True):
            appt = _lock_appointment(appointment)
            _check_clinical_hold(appt.client)
            if appt.status != Status.BOOKED:
                raise PolicyViolation(
                    _("Only booked appointments can be moved; this one is %(status)s.")
                    % {"status": appt.get_status_display().lower()}
                )
            late = now > appt.starts_at - appt.treatment.cancellation_window
            if late and not for_staff:
                hours = appt.treatment.cancellation_window_hours
                raise PolicyViolation(
                    _(
                        "Appointments can be moved online up to %(hours)s hours before they "
                        "start. Please call the clinic and we will do our best to help."
                    )
                    % {"hours": hours},
                    code="late_change",
                )
            by_role = selectors.eligible_resources(
                appt.treatment,
                appt.location,
                specialist_id=specialist.pk if specialist else None,
                stamps=selectors.diary_stamps(),
            )
            _lock_resources([info.id for infos in by_role.values() for info in infos])
            _release_expired_slot_holds(by_role, starts_at, now)
            ctx = selectors.booking_context(
                treatment=appt.treatment,
                location=appt.location,
                window_start=starts_at,
                window_end=starts_at + timedelta(minutes=1),
                specialist_id=specialist.pk if specialist else None,
                exclude_appointment_id=appt.pk,
                by_role=by_role,
                now=now,
            )
            slot = _check(ctx, starts_at, now, for_staff)
            clashes = important_date_clashes(
                client=appt.client, treatment=appt.treatment, starts_at=slot.start, tz=ctx.tz
            )
            important_dates_require_confirmation(clashes=clashes, confirmed=confirm_important_dates)
            old_start = appt.starts_at
            _deactivate_allocations(appt)
            appt.starts_at, appt.ends_at, appt.busy_until = slot.start, slot.end, slot.busy_until
            _assign_resources(appt, slot)
            appt.updated_at = now
            appt.messages_version += 1
            appt.save()
            Allocation.objects.bulk_create(_allocations_for(appt, slot))
            # The old time's reminders are cancelled before any could go out; the new ones
            # carry the new version (and the calendar event a higher SEQUENCE).
            appointment_messages_cancel(appointment=appt, now=now)
            appointment_messages_schedule(
                appointment=appt,
                now=now,
                version=appt.messages_version,
                previous_starts_at=old_start,
            )
            audit_record(
                actor=by,
                action="appointment.reschedule",
                obj=appt,
                at=now,
                data={
                    "from": old_start.isoformat(),
                    "to": slot.start.isoformat(),
                    "late": late,
                    "resources": dict(slot.resources),
                    **({"important_dates_confirmed": [c.text for c in clashes]} if clashes else {}),
                },
            )
            # A course session: the later sessions follow it inside their windows.
            _course_session_changed(appointment=appt, by=by, now=now, previous_starts_at=old_start)
            return appt
    except IntegrityError as exc:
        raise _with_alternatives(
            _lost_race(),
            appointment.treatment,
            appointment.location,
            starts_at,
            now,
            specialist,
            for_staff,
        ) from exc
    except SlotUnavailable as exc:
        raise _with_alternatives(
            exc,
            appointment.treatment,
            appointment.location,
            starts_at,
            now,
            specialist,
            for_staff,
        ) from None


def appointment_cancel(
    *, appointment: Appointment, by: Any, now: datetime, reason: str = ""
) -> Appointment:
    """Cancel and release the time. Inside the treatment's cancellation window the cancellation
    is still made but marked late, so the clinic's late-cancellation policy can apply."""
    with transaction.atomic(durable=True):
        appt = _lock_appointment(appointment)
        if appt.status != Status.BOOKED:
            raise PolicyViolation(
                _("Only booked appointments can be cancelled; this one is %(status)s.")
                % {"status": appt.get_status_display().lower()}
            )
        if appt.starts_at <= now and not _is_staff(by):
            raise PolicyViolation(
                _("This appointment has already started; please call the clinic.")
            )
        appt.is_late_cancellation = now > appt.starts_at - appt.treatment.cancellation_window
        appt.status = Status.CANCELLED
        appt.cancelled_at = now
        appt.cancel_reason = reason.strip()[:300]
        appt.updated_at = now
        appt.messages_version += 1
        appt.save()
        _deactivate_allocations(appt)
        appointment_messages_cancel(appointment=appt, now=now)
        appointment_cancellation_schedule(appointment=appt, now=now, version=appt.messages_version)
        audit_record(
            actor=by,
            action="appointment.cancel",
            obj=appt,
            at=now,
            data={"late": appt.is_late_cancellation, "reason": appt.cancel_reason},
        )
        # A course session: the later sessions close up inside their windows.
        _course_session_changed(appointment=appt, by=by, now=now)
        return appt


_TRANSITIONS = {
    Status.CHECKED_IN: {Status.BOOKED},
    Status.COMPLETED: {Status.BOOKED, Status.CHECKED_IN},
    Status.NO_SHOW: {Status.BOOKED},
}


def appointment_set_status(
    *, appointment: Appointment, status: str, by: Any, now: datetime
) -> Appointment:
    """Check in, complete or mark a no-show (staff only)."""
    if not _is_staff(by):
        raise PermissionDenied(_("Only clinic staff can change an appointment's status."))
    try:
        target = Status(status)
    except ValueError:
        raise ValidationFailed(
            _("“%(status)s” is not a status.") % {"status": status}, fields={"status": "unknown"}
        ) from None
    if target not in _TRANSITIONS:
        raise ValidationFailed(
            _("Use cancel or reschedule for that change."), fields={"status": "not allowed"}
        )
    with transaction.atomic(durable=True):
        appt = _lock_appointment(appointment)
        if appt.status not in _TRANSITIONS[target]:
            raise PolicyViolation(
                _("A %(status)s appointment cannot become %(target)s.")
                % {"status": appt.get_status_display().lower(), "target": target.label.lower()}
            )
        if appt.status == Status.BOOKED and target != Status.NO_SHOW:
            # A session already in the diary when a warning sign came in is held too: it is not
            # treated until a clinician has seen the client and cleared the hold (DOMAIN.md 5.2).
            _check_clinical_hold(appt.client)
        local_day = appt.starts_at.astimezone(appt.location.tz).date()
        if target == Status.CHECKED_IN and now.astimezone(appt.location.tz).date() != local_day:
            raise PolicyViolation(
                _("Clients can only be checked in on the day of their appointment.")
            )
        if target == Status.NO_SHOW and now < appt.starts_at:
            raise PolicyViolation(
                _("A client can only be marked as a no-show after the start time.")
            )
        old = appt.status
        appt.status = target
        appt.updated_at = now
        appt.save()
        if target == Status.NO_SHOW:
            _deactivate_allocations(appt)
            # No treatment took place: no aftercare advice or check-ins about it.
            appointment_messages_cancel(appointment=appt, now=now)
        audit_record(
            actor=by, action=f"appointment.{target.value}", obj=appt, at=now, data={"from": old}
        )
        return appt
