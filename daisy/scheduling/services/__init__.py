"""Scheduling's public write API (DESIGN.md 3, layer 4): the only writer of appointments,
allocations and holds. Callers above (the booking orchestration in `daisy.booking`, the demo
seed) use these names only; each module's own helpers stay inside scheduling.

- checks: what every write checks before it locks (`booking_request_check`, ...);
- reserve: lock, re-check, write allocations (`slot_reserve`, ...): the one implementation;
- holds: a time held during online booking;
- appointments: book, move, cancel, set status, move several at once."""

from daisy.scheduling.services.appointments import (
    BookingResult,
    Clearance,
    Gate,
    Moved,
    Replanner,
    appointment_book,
    appointment_cancel,
    appointment_create,
    appointment_lock,
    appointment_note_set,
    appointment_replay,
    appointment_reschedule,
    appointment_set_status,
    appointments_reassign_client,
    appointments_retime,
)
from daisy.scheduling.services.checks import (
    booking_request_check,
    idempotency_scope,
    is_staff,
    request_fingerprint,
    specialist_check_works_at,
    start_check,
    treatment_on_offer_check,
)
from daisy.scheduling.services.holds import (
    DAY_SHARE_REACHED,
    slot_hold_create,
    slot_hold_extend,
    slot_hold_limit,
    slot_hold_release,
    slot_holds_purge,
)
from daisy.scheduling.services.reserve import (
    Reservation,
    eligible,
    nearest_alternatives,
    resources_lock,
    slot_reserve,
    with_alternatives,
)

__all__ = [
    "treatment_on_offer_check",
    "DAY_SHARE_REACHED",
    "BookingResult",
    "Clearance",
    "Gate",
    "Moved",
    "Replanner",
    "Reservation",
    "appointment_book",
    "appointment_cancel",
    "appointment_create",
    "appointment_lock",
    "appointment_note_set",
    "appointment_replay",
    "appointment_reschedule",
    "appointment_set_status",
    "appointments_reassign_client",
    "appointments_retime",
    "booking_request_check",
    "eligible",
    "idempotency_scope",
    "is_staff",
    "nearest_alternatives",
    "request_fingerprint",
    "resources_lock",
    "slot_hold_create",
    "slot_hold_extend",
    "slot_hold_limit",
    "slot_hold_release",
    "slot_holds_purge",
    "slot_reserve",
    "specialist_check_works_at",
    "start_check",
    "with_alternatives",
]
