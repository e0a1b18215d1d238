"""Appointment writes: book, move, cancel, set status, and move several at once (a course
re-plan). Scheduling is the only writer of appointments and their allocations.

These services compose: each runs in `transaction.atomic()` (a savepoint inside the caller's
transaction), sends nothing, and knows nothing of courses, aftercare or screening. What must
happen around a write (the eligibility gate, messages, a course re-plan) is composed above, in
`daisy.booking`, in the same transaction. The gate is a callable the caller passes in: it runs
under the resource locks, after the slot passed `check_slot` and before anything is written."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from daisy.audit.services import audit_record
from daisy.clients.models import Client
from daisy.clinic.models import Location, Specialist
from daisy.core import slots
from daisy.lib.errors import (
    IdempotencyConflict,
    PermissionDenied,
    PolicyViolation,
    SlotUnavailable,
    ValidationFailed,
)
from daisy.scheduling import selectors
from daisy.scheduling.models import Appointment, Status
from daisy.scheduling.services.checks import (
    booking_request_check,
    idempotency_scope,
    is_staff,
    request_fingerprint,
    start_check,
)
from daisy.scheduling.services.holds import (
    held_by_check,
    slot_hold_honoured,
    slot_hold_of,
    slot_hold_resource_ids,
)
from daisy.scheduling.services.reserve import (
    Reservation,
    allocations_release,
    allocations_write,
    eligible,
    expired_holds_release,
    lost_race,
    only_resources,
    resources_assign,
    resources_lock,
    resources_of,
    slot_reserve,
    with_alternatives,
)
from daisy.treatments.models import Treatment


@dataclass(frozen=True)
class Clearance:
    """What the caller's eligibility gate decided for a reserved time: an override a clinician
    recorded (kept on the appointment and in its audit entry) and what else to audit."""

    override_reason: str = ""
    audit: Mapping[str, Any] = field(default_factory=dict)


# Called under the locks with the reserved time; raises a DomainError to refuse it.
Gate = Callable[[Reservation], Clearance]


def _clear(gate: Gate | None, reservation: Reservation) -> Clearance:
    return gate(reservation) if gate is not None else Clearance()


@dataclass(frozen=True)
class BookingResult:
    appointment: Appointment
    replayed: bool


def appointment_create(
    *,
    reservation: Reservation,
    client: Client,
    booked_by: Any,
    now: datetime,
    clearance: Clearance | None = None,
    notes: str = "",
    idempotency_key: str | None = None,
    fingerprint: str = "",
    audit_data: Mapping[str, Any] | None = None,
) -> Appointment:
    """Write one appointment on a reservation: the row, its allocations, its audit entry."""
    clearance = clearance or Clearance()
    slot, treatment = reservation.slot, reservation.treatment
    overridden = bool(clearance.override_reason)
    appointment = Appointment(
        client=client,
        treatment=treatment,
        location=reservation.location,
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
        override_reason=clearance.override_reason if overridden else "",
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint if idempotency_key else "",
    )
    resources_assign(appointment, slot)
    appointment.save(force_insert=True)
    allocations_write(slot, appointment=appointment)
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
            **({"override_reason": clearance.override_reason} if overridden else {}),
            # Online visitors' holds this booking took the time of (staff book over them).
            **(
                {"released_holds": list(reservation.released_holds)}
                if reservation.released_holds
                else {}
            ),
            **dict(clearance.audit),
            **dict(audit_data or {}),
        },
    )
    return appointment


def appointment_replay(scoped_key: str, fingerprint: str) -> Appointment | None:
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
    hold_id: Any = None,
    held_by: str | None = None,
    gate: Gate | None = None,
    audit_data: Mapping[str, Any] | None = None,
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
        held_by = held_by_check(held_by)
    for_staff = is_staff(booked_by)
    loc = booking_request_check(
        treatment=treatment,
        for_staff=for_staff,
        location=location,
        specialist=specialist,
        starts_at=starts_at,
    )
    fingerprint = request_fingerprint(
        client=client.pk,
        treatment=treatment.slug,
        start=starts_at.timestamp(),
        specialist=specialist.pk if specialist else "",
        location=loc.pk,
    )
    scoped = idempotency_scope(booked_by, idempotency_key) if idempotency_key else None
    try:
        with transaction.atomic():
            by_role = eligible(treatment, loc, specialist)
            own_hold = slot_hold_of(held_by)
            own_hold_resources = slot_hold_resource_ids(own_hold)
            resources_lock(
                [info.id for infos in by_role.values() for info in infos] + own_hold_resources
            )
            if scoped is not None:
                replay = appointment_replay(scoped, fingerprint)
                if replay is not None:
                    return BookingResult(replay, True)
            honoured = slot_hold_honoured(
                own_hold, hold_id, treatment, loc, specialist, starts_at, now
            )
            if honoured is not None:
                # The hold's own resources, and the rules as they stood when it was made: the
                # client was promised this time, and filling in the form must not lose it.
                by_role = only_resources(by_role, set(own_hold_resources))
                rules_now = min(now, honoured.created_at)
                honoured_id = str(honoured.pk)  # delete() below clears the instance's pk
            else:
                rules_now, honoured_id = now, ""
            if own_hold is not None:
                # Converted or abandoned: one hold per owner, and a booking ends the flow.
                own_hold.delete()
            reservation = slot_reserve(
                treatment=treatment,
                location=loc,
                starts_at=starts_at,
                now=now,
                for_staff=for_staff,
                by_role=by_role,
                specialist=specialist,
                rules_now=rules_now,
                locked=True,  # every eligible resource and the owner's hold's, above
            )
            appointment = appointment_create(
                reservation=reservation,
                client=client,
                booked_by=booked_by,
                now=now,
                clearance=_clear(gate, reservation),
                notes=notes,
                idempotency_key=scoped,
                fingerprint=fingerprint,
                audit_data={
                    **dict(audit_data or {}),
                    **({"hold": honoured_id} if honoured_id else {}),
                },
            )
            return BookingResult(appointment, False)
    except IntegrityError as exc:
        # Either the same idempotency key committed meanwhile, or the database's no-overlap
        # guarantee fired because another booking won the race.
        if scoped is not None:
            replay = appointment_replay(scoped, fingerprint)
            if replay is not None:
                return BookingResult(replay, True)
        raise with_alternatives(
            lost_race(), treatment, loc, starts_at, now, specialist, for_staff, held_by
        ) from exc
    except SlotUnavailable as exc:
        raise with_alternatives(
            exc, treatment, loc, starts_at, now, specialist, for_staff, held_by
        ) from None


def appointment_lock(appointment: Appointment) -> Appointment:
    return (
        Appointment.objects.select_for_update()
        .select_related("treatment", "location", "client")
        .get(pk=appointment.pk)
    )


def _retime(appt: Appointment, slot: slots.Slot, now: datetime) -> None:
    """Put a locked appointment (whose allocations are released) on a new slot."""
    appt.starts_at, appt.ends_at, appt.busy_until = slot.start, slot.end, slot.busy_until
    resources_assign(appt, slot)
    appt.updated_at = now
    appt.messages_version += 1
    appt.save()
    allocations_write(slot, appointment=appt)


@dataclass(frozen=True)
class Moved:
    appointment: Appointment
    previous_starts_at: datetime
    late: bool = False


def appointment_reschedule(
    *,
    appointment: Appointment,
    starts_at: datetime,
    by: Any,
    now: datetime,
    specialist: Specialist | None = None,
    gate: Gate | None = None,
    precheck: Callable[[Appointment], None] | None = None,
) -> Moved:
    """Move a booked appointment. The old time is released and the new one taken in the same
    transaction, so a failed move leaves the appointment exactly where it was. `precheck` runs
    on the locked appointment before anything else (a clinical hold refuses every move)."""
    start_check(starts_at, new=True)
    for_staff = is_staff(by)
    try:
        with transaction.atomic():
            appt = appointment_lock(appointment)
            if precheck is not None:
                precheck(appt)
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
            reservation = slot_reserve(
                treatment=appt.treatment,
                location=appt.location,
                starts_at=starts_at,
                now=now,
                for_staff=for_staff,
                specialist=specialist,
                exclude_appointment_id=appt.pk,
            )
            clearance = _clear(gate, reservation)
            slot = reservation.slot
            old_start = appt.starts_at
            if clearance.override_reason:
                appt.override_by = by if getattr(by, "pk", None) else None
                appt.override_reason = clearance.override_reason
            allocations_release([appt])
            _retime(appt, slot, now)
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
                    **(
                        {"override_reason": clearance.override_reason}
                        if clearance.override_reason
                        else {}
                    ),
                    **dict(clearance.audit),
                },
            )
            return Moved(appt, old_start, late)
    except IntegrityError as exc:
        raise with_alternatives(
            lost_race(),
            appointment.treatment,
            appointment.location,
            starts_at,
            now,
            specialist,
            for_staff,
        ) from exc
    except SlotUnavailable as exc:
        raise with_alternatives(
            exc,
            appointment.treatment,
            appointment.location,
            starts_at,
            now,
            specialist,
            for_staff,
        ) from None


# Plans the new times of several appointments from the locked context (a course re-plan).
Replanner = Callable[[selectors.BookingContext], Sequence[slots.Slot]]


def appointments_retime(
    *,
    appointments: Sequence[Appointment],
    window_start: datetime,
    window_end: datetime,
    plan: Replanner,
    by: Any,
    now: datetime,
    gate: Callable[[Appointment, Reservation], Clearance] | None = None,
    audit_data: Mapping[str, Any] | None = None,
) -> list[Moved]:
    """Move several booked appointments of one treatment and location at once: lock every
    eligible resource, free their own time, let `plan` choose new slots from the free time, and
    take them. Appointments whose slot is unchanged keep their time untouched. Raises whatever
    `plan` or `gate` raise, and the savepoint leaves every appointment where it was."""
    if not appointments:
        return []
    first = appointments[0]
    treatment, loc = first.treatment, first.location
    with transaction.atomic():
        by_role = eligible(treatment, loc)
        resources_lock([info.id for infos in by_role.values() for info in infos])
        # Their own time is free for them: released here, taken again below.
        allocations_release(appointments)
        ctx = selectors.booking_context(
            treatment=treatment,
            location=loc,
            window_start=window_start,
            window_end=window_end,
            by_role=by_role,
            now=now,
        )
        planned = plan(ctx)
        moved: list[Moved] = []
        for appt, slot in zip(appointments, planned, strict=True):
            reservation = Reservation(treatment, loc, slot, ctx)
            clearance = gate(appt, reservation) if gate is not None else Clearance()
            old = appt.starts_at
            # Expired holds on these (locked) resources go first: the backstop knows no clock.
            expired_holds_release(by_role, slot.start, now)
            if slot.start == old and dict(slot.resources) == resources_of(appt):
                allocations_write(slot, appointment=appt)
                continue
            _retime(appt, slot, now)
            audit_record(
                actor=by,
                action="appointment.reschedule",
                obj=appt,
                at=now,
                data={
                    "from": old.isoformat(),
                    "to": slot.start.isoformat(),
                    "resources": dict(slot.resources),
                    **dict(clearance.audit),
                    **dict(audit_data or {}),
                },
            )
            moved.append(Moved(appt, old))
        return moved


def appointment_cancel(
    *,
    appointment: Appointment,
    by: Any,
    now: datetime,
    reason: str = "",
    by_clinic: bool = False,
    audit_data: Mapping[str, Any] | None = None,
    precheck: Callable[[Appointment], None] | None = None,
) -> Appointment:
    """Cancel and release the time. Inside the treatment's cancellation window the cancellation
    is still made but marked late, so the clinic's late-cancellation policy can apply; a
    cancellation the clinic makes (`by_clinic`, e.g. a stopped course) is never late.
    `precheck` runs on the locked appointment first (the desk's "is this still what I saw")."""
    with transaction.atomic():
        appt = appointment_lock(appointment)
        if precheck is not None:
            precheck(appt)
        if appt.status != Status.BOOKED:
            raise PolicyViolation(
                _("Only booked appointments can be cancelled; this one is %(status)s.")
                % {"status": appt.get_status_display().lower()}
            )
        if appt.starts_at <= now and not is_staff(by):
            raise PolicyViolation(
                _("This appointment has already started; please call the clinic.")
            )
        appt.is_late_cancellation = not by_clinic and (
            now > appt.starts_at - appt.treatment.cancellation_window
        )
        appt.status = Status.CANCELLED
        appt.cancelled_at = now
        appt.cancel_reason = reason.strip()[:300]
        appt.updated_at = now
        appt.messages_version += 1
        appt.save()
        allocations_release([appt])
        audit_record(
            actor=by,
            action="appointment.cancel",
            obj=appt,
            at=now,
            data={
                "late": appt.is_late_cancellation,
                "reason": appt.cancel_reason,
                **dict(audit_data or {}),
            },
        )
        return appt


_TRANSITIONS = {
    Status.CHECKED_IN: {Status.BOOKED},
    Status.IN_TREATMENT: {Status.BOOKED, Status.CHECKED_IN},
    Status.COMPLETED: {Status.BOOKED, Status.CHECKED_IN, Status.IN_TREATMENT},
    Status.NO_SHOW: {Status.BOOKED},
}


def appointment_set_status(
    *,
    appointment: Appointment,
    status: str,
    by: Any,
    now: datetime,
    precheck: Callable[[Appointment, Status], None] | None = None,
) -> Appointment:
    """Check in, complete or mark a no-show (staff only). `precheck` runs on the locked
    appointment before a treatment starts (the clinical hold, screening)."""
    if not is_staff(by):
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
    with transaction.atomic():
        appt = appointment_lock(appointment)
        if appt.status not in _TRANSITIONS[target]:
            raise PolicyViolation(
                _("A %(status)s appointment cannot become %(target)s.")
                % {"status": appt.get_status_display().lower(), "target": target.label.lower()}
            )
        if precheck is not None:
            precheck(appt, target)
        local_day = appt.starts_at.astimezone(appt.location.tz).date()
        if (
            target in (Status.CHECKED_IN, Status.IN_TREATMENT)
            and now.astimezone(appt.location.tz).date() != local_day
        ):
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
            allocations_release([appt])
        audit_record(
            actor=by, action=f"appointment.{target.value}", obj=appt, at=now, data={"from": old}
        )
        return appt


NOTE_MAX_LENGTH = 2000


def appointment_note_set(
    *,
    appointment: Appointment,
    notes: str,
    by: Any,
    now: datetime,
    precheck: Callable[[Appointment], None] | None = None,
) -> Appointment:
    """Replace the appointment's note (staff only; audited with the old and new words)."""
    if not is_staff(by):
        raise PermissionDenied(_("Only clinic staff can write a note on an appointment."))
    text = notes.strip()
    if len(text) > NOTE_MAX_LENGTH:
        raise ValidationFailed(
            _("Keep the note under %(n)s characters.") % {"n": NOTE_MAX_LENGTH},
            fields={"notes": "too long"},
        )
    with transaction.atomic():
        appt = appointment_lock(appointment)
        if precheck is not None:
            precheck(appt)
        old = appt.notes
        appt.notes = text
        appt.updated_at = now
        appt.save(update_fields=["notes", "updated_at"])
        audit_record(
            actor=by, action="appointment.note", obj=appt, at=now, data={"from": old, "to": text}
        )
        return appt


def appointments_reassign_client(*, source: Client, target: Client) -> int:
    """Move every appointment of `source` to `target` (a client merge); returns how many."""
    return Appointment.objects.filter(client=source).update(client=target)
