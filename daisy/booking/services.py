"""Booking, composed: every path that gives a client a time, moves it, cancels it or starts it
(the site, the portal, the API, the desk, the demo seed) calls these, and nothing else.

Each service runs in one transaction, so what it composes commits together or not at all:
scheduling's write (lock, re-check, write: `daisy.scheduling.services`), the eligibility gate
under the same locks (`daisy.booking.eligibility`), the course re-plan (`daisy.courses`), and the
messages (`daisy.aftercare`), which the worker sends only after the commit (DESIGN.md 5). None is
durable, so a caller may compose them further (a guest's account and booking, say)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from daisy.aftercare.services import (
    appointment_cancellation_schedule,
    appointment_messages_cancel,
    appointment_messages_schedule,
    precare_confirmations_record,
)
from daisy.booking import waitlist
from daisy.booking.diary import STATUS_LABELS, appointment_version
from daisy.booking.eligibility import (
    Asking,
    age_check,
    clinical_hold_check,
    eligibility_check,
    findings_check,
    interval_check,
    interval_recheck,
    interval_replan_check,
    record_check,
    treatment_start_check,
)
from daisy.clients.models import Client
from daisy.clients.services import client_create
from daisy.clinic.models import Location, Specialist
from daisy.courses.selectors import course_later_sessions, plan_for_appointment
from daisy.courses.services import (
    MovedSession,
    ReplanFailed,
    course_followers,
    course_moved_tell,
    course_replan_failed_tell,
)
from daisy.lib.errors import DomainError, Stale, ValidationFailed
from daisy.records.services import (
    interval_override_record,
    needling_gate_check,
    screening_record,
)
from daisy.scheduling import services as scheduling
from daisy.scheduling.models import Appointment, SlotHold, Status
from daisy.scheduling.services import BookingResult, Reservation
from daisy.treatments.models import Treatment

__all__ = [
    "BookingResult",
    "appointment_book",
    "appointment_cancel",
    "appointment_note",
    "appointment_reschedule",
    "appointment_set_status",
    "desk_book",
    "slot_hold_create",
    "slot_hold_extend",
    "slot_hold_limit",
    "slot_hold_release",
]

slot_hold_release = scheduling.slot_hold_release
slot_hold_extend = scheduling.slot_hold_extend
slot_hold_limit = scheduling.slot_hold_limit


def _gate(asking: Asking) -> scheduling.Gate:
    def check(reservation: Reservation) -> scheduling.Clearance:
        # The last call is the one that books: only its short gaps are recorded.
        asking.gaps.clear()
        return eligibility_check(
            asking, starts_at=reservation.slot.start, tz=reservation.location.tz
        )

    return check


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
    prescreen: Mapping[str, object] | None = None,
    prescreen_via: str = "online",
    precare_confirmed: Sequence[str] = (),
    gap_reason: str = "",
) -> BookingResult:
    """Book one appointment through the eligibility gate and schedule its messages, or raise a
    DomainError and write (and send) nothing. `booked_by` is whoever acted: the client's own
    account, a staff member booking on their behalf, or None for a guest. `prescreen` is the
    online pre-screen's answers when the client books for themselves; they are stored with the
    appointment (`prescreen_via`: "online" or "api"), and what they lead to becomes findings on
    the client's record, in the same transaction. `precare_confirmed`: the keys of the pre-care
    steps they say they already follow, when the time is too soon for them (kept with the
    appointment)."""
    asking = Asking(
        client=client,
        treatment=treatment,
        by=booked_by,
        override_reason=override_reason,
        confirm_important_dates=confirm_important_dates,
        prescreen=prescreen,
        now=now,
        precare_confirmed=tuple(str(key) for key in precare_confirmed),
        gap_reason=gap_reason,
    )
    with transaction.atomic():
        result = scheduling.appointment_book(
            client=client,
            treatment=treatment,
            starts_at=starts_at,
            booked_by=booked_by,
            now=now,
            location=location,
            specialist=specialist,
            idempotency_key=idempotency_key,
            notes=notes,
            hold_id=hold_id,
            held_by=held_by,
            gate=_gate(asking),
        )
        if not result.replayed:
            appointment = result.appointment
            _gaps_record(appointment, asking.gaps, now)
            if asking.is_self_service:
                precare_confirmations_record(
                    appointment=appointment,
                    confirmed=asking.precare_confirmed,
                    by=booked_by,
                    now=now,
                )
            if asking.screened:
                screening_record(
                    client=client,
                    evaluated=asking.screened[-1],
                    by=booked_by,
                    via=prescreen_via,
                    now=now,
                    appointment=appointment,
                )
            appointment_messages_schedule(
                appointment=appointment, now=now, version=appointment.messages_version
            )
        return result


def _gaps_record(appointment: Appointment, gaps: Sequence[Any], now: datetime) -> None:
    """The short intervals a clinician allowed for this session (DOMAIN.md 1.2), each kept and
    audited with it."""
    for gap in gaps:
        interval_override_record(
            appointment=appointment,
            neighbour=gap.neighbour,
            gap_days=gap.gap_days,
            reason=gap.reason,
            by=gap.by,
            now=now,
        )


def slot_hold_create(
    *,
    treatment: Treatment,
    starts_at: datetime,
    now: datetime,
    held_by: str,
    location: Location | None = None,
    specialist: Specialist | None = None,
    by: Any = None,
    client: Client | None = None,
    ttl: timedelta | None = None,
    address: str | None = None,
    has_details: bool = False,
) -> SlotHold:
    """Hold a time during online booking. For a client we know (signed in), the rules that
    need no answers yet (hold, age, findings) run first, so nobody holds a time they could not
    book. `address` and `has_details`: see scheduling's slot_hold_create (the limits and the
    short first hold)."""
    if client is not None:
        day = (starts_at.astimezone(location.tz) if location is not None else starts_at).date()
        asking = Asking(client=client, treatment=treatment, by=by)
        record_check(asking, day)
        if asking.is_self_service:
            # The client is told now, naming their other session's day, not after the forms
            # (DOMAIN.md 1.2; staff give a clinician's reason when they book).
            tz = location.tz if location is not None else starts_at.tzinfo
            interval_check(asking, starts_at=starts_at, tz=tz)
    return scheduling.slot_hold_create(
        treatment=treatment,
        starts_at=starts_at,
        now=now,
        held_by=held_by,
        location=location,
        specialist=specialist,
        by=by,
        ttl=ttl,
        address=address,
        has_details=has_details,
    )


def _unchanged(seen: str | None) -> Any:
    """A check for the locked appointment: still as the desk saw it (`seen` is the version
    token the page showed), or nothing is done and the desk is told what it is now. None:
    no check (the portal, the API without a token)."""

    def check(appt: Appointment, *_args: Any) -> None:
        if seen is not None and appointment_version(appt) != seen:
            local = appt.starts_at.astimezone(appt.location.tz)
            raise Stale(
                _(
                    "Someone changed this appointment while you were looking at it: it is now "
                    "%(status)s, %(day)s at %(time)s. Nothing was done; look again and retry."
                )
                % {
                    "status": str(STATUS_LABELS.get(appt.status, appt.status)).lower(),
                    "day": local.strftime("%a %d %b"),
                    "time": local.strftime("%H:%M"),
                },
                extra={"appointment": str(appt.pk), "version": appointment_version(appt)},
            )

    return check


def _follow_course(
    appointment: Appointment, *, by: Any, now: datetime, previous_starts_at: datetime | None
) -> list[MovedSession]:
    """A course session moved or was cancelled: its later sessions follow inside their windows,
    through the same gate; if no re-plan fits, they stay and the staff are told why."""
    replan = course_followers(appointment=appointment, previous_starts_at=previous_starts_at)
    if replan is None:
        return []
    window_start, window_end = replan.window

    def gate(appt: Appointment, reservation: Reservation) -> scheduling.Clearance:
        asking = Asking(client=appt.client, treatment=appt.treatment, by=by, is_new_booking=False)
        # Re-planned sessions move as the course's own, confirmed with its dates (the planner
        # already kept recovery windows clear). The clinic re-plans, whoever moved the first
        # session: the age rule is the staff one (a missing date of birth does not stop it).
        day = reservation.slot.start.astimezone(reservation.location.tz).date()
        clinical_hold_check(asking.client)
        age_check(asking.client, asking.treatment, day, self_service=False)
        findings_check(asking, day)
        return scheduling.Clearance()

    try:
        with transaction.atomic():
            moved = scheduling.appointments_retime(
                appointments=replan.later,
                window_start=window_start,
                window_end=window_end,
                plan=lambda ctx: replan.slots_plan(ctx, now),
                by=by,
                now=now,
                gate=gate,
                audit_data={
                    "course": str(replan.plan.pk),
                    "replanned_after": str(replan.anchor.pk),
                },
            )
            # The 28-day rule (DOMAIN.md 1.2) on the final arrangement, not step by step: a
            # session moved first may pass one that moves after it.
            for item in moved:
                for gap in interval_replan_check(
                    item.appointment, plan=replan.plan, moved=[m.appointment for m in moved]
                ):
                    interval_override_record(
                        appointment=item.appointment,
                        neighbour=gap.neighbour,
                        gap_days=gap.gap_days,
                        reason=gap.reason,
                        by=gap.by,
                        now=now,
                    )
            for item in moved:
                appointment_messages_cancel(appointment=item.appointment, now=now)
                appointment_messages_schedule(
                    appointment=item.appointment,
                    now=now,
                    version=item.appointment.messages_version,
                    previous_starts_at=item.previous_starts_at,
                )
    except (ReplanFailed, DomainError) as failed:
        reason = failed.reason if isinstance(failed, ReplanFailed) else failed.message
        course_replan_failed_tell(
            plan=replan.plan, anchor=replan.anchor, reason=reason, by=by, now=now
        )
        return []
    sessions = [
        MovedSession(m.appointment, replan.number_of(m.appointment), m.previous_starts_at)
        for m in moved
    ]
    course_moved_tell(plan=replan.plan, moved=sessions, now=now)
    return sessions


def appointment_reschedule(
    *,
    appointment: Appointment,
    starts_at: datetime,
    by: Any,
    now: datetime,
    specialist: Specialist | None = None,
    confirm_important_dates: bool = False,
    override_reason: str = "",
    seen: str | None = None,
    gap_reason: str = "",
) -> Appointment:
    """Move a booked appointment through the eligibility gate; its messages are replaced and a
    course's later sessions follow, all in one transaction. A failed move changes nothing.
    `seen`: the version the desk showed (refused if it changed meanwhile)."""
    unchanged = _unchanged(seen)

    freed_specialist_id = appointment.specialist_id
    plan = plan_for_appointment(appointment.pk)

    def precheck(appt: Appointment) -> None:
        unchanged(appt)
        clinical_hold_check(appt.client)
        # A course's later sessions may follow the move (the re-plan below): the 28-day rule
        # counts them where they end up, after it (DOMAIN.md 1.2).
        asking.later.clear()
        asking.later.update(course_later_sessions(plan, appointment=appt))

    asking = Asking(
        client=appointment.client,
        treatment=appointment.treatment,
        by=by,
        override_reason=override_reason,
        confirm_important_dates=confirm_important_dates,
        is_new_booking=False,
        gap_reason=gap_reason,
        moving=appointment,
    )

    with transaction.atomic():

        def gate(reservation: Reservation) -> scheduling.Clearance:
            asking.gaps.clear()
            return eligibility_check(
                asking, starts_at=reservation.slot.start, tz=reservation.location.tz
            )

        moved = scheduling.appointment_reschedule(
            appointment=appointment,
            starts_at=starts_at,
            by=by,
            now=now,
            specialist=specialist,
            gate=gate,
            precheck=precheck,
        )
        appt = moved.appointment
        # The old time's reminders are cancelled before any could go out; the new ones carry
        # the new version (and the calendar event a higher SEQUENCE).
        appointment_messages_cancel(appointment=appt, now=now)
        appointment_messages_schedule(
            appointment=appt,
            now=now,
            version=appt.messages_version,
            previous_starts_at=moved.previous_starts_at,
        )
        followed = _follow_course(appt, by=by, now=now, previous_starts_at=moved.previous_starts_at)
        # The later sessions the re-plan left where they were, against the new time.
        interval_recheck(asking, appt, among=asking.later - {m.appointment.pk for m in followed})
        _gaps_record(appt, asking.gaps, now)
        waitlist.waitlist_offer_freed(
            appointment=appt,
            starts_at=moved.previous_starts_at,
            specialist_id=freed_specialist_id,
            now=now,
        )
        return appt


def appointment_cancel(
    *,
    appointment: Appointment,
    by: Any,
    now: datetime,
    reason: str = "",
    by_clinic: bool = False,
    notify_client: bool = True,
    seen: str | None = None,
) -> Appointment:
    """Cancel, tell the client (unless the desk chose not to: they cancelled in person, say),
    and let a course's later sessions close up. `by_clinic`: the clinic cancelled, so it is
    never a late cancellation. `seen`: as for appointment_reschedule."""
    with transaction.atomic():
        appt = scheduling.appointment_cancel(
            appointment=appointment,
            by=by,
            now=now,
            reason=reason,
            by_clinic=by_clinic,
            precheck=_unchanged(seen),
            audit_data={"client_told": notify_client, "by_clinic": by_clinic},
        )
        appointment_messages_cancel(appointment=appt, now=now)
        if notify_client:
            appointment_cancellation_schedule(
                appointment=appt, now=now, version=appt.messages_version
            )
        _follow_course(appt, by=by, now=now, previous_starts_at=None)
        waitlist.waitlist_offer_freed(
            appointment=appt, starts_at=appt.starts_at, specialist_id=appt.specialist_id, now=now
        )
        return appt


def appointment_set_status(
    *, appointment: Appointment, status: str, by: Any, now: datetime, seen: str | None = None
) -> Appointment:
    """Check in, start, complete or mark a no-show (staff only). A client is not checked in
    while on a clinical hold or while a finding refuses the session (DOMAIN.md 5.2, 2.1),
    unless a clinician's override is recorded on the appointment. Needling does not start
    ("in treatment", or "completed" without it) while the start-of-needling gate is shut
    (daisy/records/gate.py: this session's re-screen, open findings, the hold, ...)."""

    unchanged = _unchanged(seen)

    def precheck(appt: Appointment, target: Status) -> None:
        unchanged(appt)
        if target == Status.IN_TREATMENT or (
            target == Status.COMPLETED and appt.status != Status.IN_TREATMENT
        ):
            needling_gate_check(appointment=appt, now=now, by=by)
            return
        if appt.status == Status.BOOKED and target != Status.NO_SHOW:
            asking = Asking(
                client=appt.client,
                treatment=appt.treatment,
                by=appt.override_by,
                override_reason=appt.override_reason,
                is_new_booking=False,
            )
            treatment_start_check(asking, starts_at=appt.starts_at, tz=appt.location.tz)

    with transaction.atomic():
        appt = scheduling.appointment_set_status(
            appointment=appointment, status=status, by=by, now=now, precheck=precheck
        )
        if appt.status == Status.NO_SHOW:
            # No treatment took place: no aftercare advice or check-ins about it.
            appointment_messages_cancel(appointment=appt, now=now)
            # Marked before the time has run out (the client rang to say they cannot come):
            # the rest of it goes to the waitlist.
            waitlist.waitlist_offer_freed(
                appointment=appt,
                starts_at=appt.starts_at,
                specialist_id=appt.specialist_id,
                now=now,
            )
        return appt


def appointment_note(
    *, appointment: Appointment, notes: str, by: Any, now: datetime, seen: str | None = None
) -> Appointment:
    """The desk's note on an appointment (replaces the previous one; audited)."""
    return scheduling.appointment_note_set(
        appointment=appointment, notes=notes, by=by, now=now, precheck=_unchanged(seen)
    )


def desk_book(
    *,
    treatment: Treatment,
    starts_at: datetime,
    by: Any,
    now: datetime,
    location: Location,
    client: Client | None = None,
    new_client: Mapping[str, Any] | None = None,
    confirm_duplicate: bool = False,
    specialist: Specialist | None = None,
    notes: str = "",
    override_reason: str = "",
    confirm_important_dates: bool = False,
    idempotency_key: str | None = None,
    gap_reason: str = "",
) -> BookingResult:
    """The desk books a caller or a walk-in: an existing client, or a new record made in the
    same transaction (refused with the possible duplicates unless the desk confirmed it is
    someone else), then the booking through the same gate as every other. Staff rules apply:
    no minimum notice, so a walk-in can be booked for now. Nothing is kept if either fails."""
    if (client is None) == (new_client is None):
        raise ValidationFailed(
            _("Choose the client, or enter a new client's details."), fields={"client": "missing"}
        )
    with transaction.atomic():
        if client is None:
            details = dict(new_client or {})
            client = client_create(
                first_name=details.get("first_name", ""),
                last_name=details.get("last_name", ""),
                email=details.get("email", ""),
                phone=details.get("phone", ""),
                date_of_birth=details.get("date_of_birth"),
                by=by,
                now=now,
                confirm_duplicate=confirm_duplicate,
            )
        return appointment_book(
            client=client,
            treatment=treatment,
            starts_at=starts_at,
            booked_by=by,
            now=now,
            location=location,
            specialist=specialist,
            notes=notes,
            override_reason=override_reason,
            confirm_important_dates=confirm_important_dates,
            idempotency_key=idempotency_key,
            gap_reason=gap_reason,
        )
