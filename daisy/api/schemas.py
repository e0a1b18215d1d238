"""Request and response shapes, and the functions that present domain objects in them.

Times: every datetime is RFC 3339 with an offset. Appointment and slot times are given in the
location's own offset (its IANA zone is in `time_zone`); other timestamps (health) in UTC.
Input datetimes must carry an offset (`Z` or `+01:00`); naive times are refused."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import date, datetime
from datetime import date as date_type  # a field named `date` shadows the type
from functools import lru_cache
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from daisy.lib.names import person_name_clean
from daisy.scheduling.selectors import LocatedSlot

# The appointment statuses (daisy.scheduling.models.Status); a test keeps them in step.
AppointmentStatus = Literal[
    "booked", "checked_in", "in_treatment", "completed", "cancelled", "no_show"
]
ResourceKind = Literal["specialist", "room", "device"]

MIN_YEAR, MAX_YEAR = 1900, 2200


def _sane_date(value: date) -> date:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"Use a date between {MIN_YEAR} and {MAX_YEAR}.")
    return value


def _sane_datetime(value: datetime) -> datetime:
    # Checked before any arithmetic: near year 1 or 9999 an offset overflows the calendar.
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"Use a time between {MIN_YEAR} and {MAX_YEAR}.")
    return value


def _text_only(value: Any) -> Any:
    # Pydantic would read a number as a Unix timestamp; the spec says RFC 3339 text.
    if not isinstance(value, str | date):
        raise ValueError("Give a date or date-time as RFC 3339 text, e.g. 2030-01-07.")
    return value


def _whole_minute(value: datetime) -> datetime:
    # Appointments start on a minute; a stray second or microsecond is a client bug, and would
    # otherwise be booked as given.
    if value.second or value.microsecond:
        raise ValueError("Give a whole minute, without seconds.")
    return value


def _plain_text(value: str) -> str:
    if any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in value):
        raise ValueError("Remove the control characters.")
    return value


ApiDate = Annotated[
    date,
    BeforeValidator(_text_only),
    AfterValidator(_sane_date),
    Field(description="A calendar date, YYYY-MM-DD."),
]
StartTime = Annotated[
    AwareDatetime,
    BeforeValidator(_text_only),
    AfterValidator(_sane_datetime),
    AfterValidator(_whole_minute),
    Field(
        description="RFC 3339 date-time with an offset, on a whole minute, e.g. "
        "2030-01-07T10:00:00Z or 2030-07-01T10:00:00+01:00."
    ),
]
Slug = Annotated[str, StringConstraints(pattern=r"^[-a-zA-Z0-9_]{1,50}$")]
IdempotencyKey = Annotated[str, StringConstraints(pattern=r"^[!-~]{1,255}$")]


def _person_name(value: str) -> str:
    """NFC, spaces tidied; no hidden or direction-changing characters (daisy/lib/names.py)."""
    return person_name_clean(_plain_text(value))


Name = Annotated[str, StringConstraints(min_length=1, max_length=80), AfterValidator(_person_name)]
Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(_plain_text)]
Phone = Annotated[str, StringConstraints(max_length=40), AfterValidator(_plain_text)]
Reason = Annotated[str, StringConstraints(max_length=300), AfterValidator(_plain_text)]
Search = Annotated[str, StringConstraints(max_length=100), AfterValidator(_plain_text)]


class InputSchema(Schema):
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    """Response shapes: plain pydantic models (ninja's Schema wraps every attribute read,
    which costs more than the rest of an availability answer)."""


# --- errors ------------------------------------------------------------------------------------


class Ref(Out):
    id: uuid.UUID
    name: str


class SlotLocation(Out):
    id: uuid.UUID
    name: str
    time_zone: str = Field(description="IANA zone of the location, e.g. Europe/London.")


class PhaseResource(Out):
    id: uuid.UUID
    name: str
    kind: ResourceKind


class SlotPhase(Out):
    name: str
    start: datetime = Field(description="Location's offset.")
    end: datetime = Field(description="Location's offset.")
    is_buffer: bool = Field(description="Clean-down after the client leaves.")
    resources: list[PhaseResource] = Field(description="What this phase would occupy.")


class SlotOut(Out):
    start: datetime = Field(description="When the client arrives (location's offset).")
    end: datetime = Field(
        description="When the client leaves, clean-down excluded (location's offset)."
    )
    specialist: Ref | None = Field(description="The specialist the slot would use, if any.")
    location: SlotLocation
    phases: list[SlotPhase]


class AvailabilityOut(Out):
    slots: list[SlotOut]


class DayTime(Out):
    start: datetime = Field(description="When the client arrives (location's offset).")
    end: datetime = Field(
        description="When the client leaves, clean-down excluded (location's offset)."
    )
    specialist: uuid.UUID | None = Field(
        description="Id of the specialist the time would use (named in `specialists`), if any."
    )


class AvailabilityDay(Out):
    date: date_type = Field(description="The local date at the location.")
    location: uuid.UUID = Field(description="Id of the location (named in `locations`).")
    times: list[DayTime]


class AvailabilityDaysOut(Out):
    locations: list[SlotLocation] = Field(description="Every location named in `days`.")
    specialists: list[Ref] = Field(description="Every specialist named in `days`.")
    days: list[AvailabilityDay] = Field(
        description="By date, then location name; days without a free time are left out."
    )


class ErrorDetail(Out):
    code: str = Field(description="Stable machine-readable code, e.g. `slot_unavailable`.")
    message: str = Field(description="A sentence a receptionist or client can act on.")
    fields: dict[str, str] = Field(
        description="Per-field messages, keyed by body field, parameter or header name."
    )
    alternatives: list[SlotOut] | None = Field(
        None, description="`slot_unavailable` only: up to 3 nearest bookable slots."
    )
    request_id: str | None = Field(None, description="500 only: quote it when reporting.")


class ErrorOut(Out):
    error: ErrorDetail


# --- catalogue ---------------------------------------------------------------------------------


class PhaseSummary(Out):
    name: str
    duration_minutes: int
    is_buffer: bool


class TreatmentOut(Out):
    id: uuid.UUID
    slug: str
    name: str
    summary: str
    price: str = Field(description='Decimal amount as a string, e.g. "180.00".')
    currency: str = Field(description="ISO 4217 code.")
    duration_minutes: int = Field(description="Time with the client (clean-down excluded).")
    is_online_bookable: bool = Field(
        description="False: clients book by phone; only staff tokens can book it."
    )
    phases: list[PhaseSummary]


class PrescreenQuestionOut(Out):
    key: str = Field(description="The answer's name in `prescreen`.")
    text: str = Field(description="The question, as a client reads it.")
    asks_when: bool = Field(description="A yes also needs `<key>_on`, the last time.")


class PrescreenOut(Out):
    treatment: str = Field(description="Treatment slug.")
    questionnaire: str = Field(description="The questionnaire asked, e.g. `laser`.")
    version: int = Field(description="Goes up whenever the clinic changes its questions or rules.")
    questions: list[PrescreenQuestionOut] = Field(
        description="Asked before a client books it for themselves; empty when not needed."
    )


class OpeningHours(Out):
    weekday: int = Field(ge=0, le=6, description="0 = Monday.")
    opens: str = Field(pattern=r"^\d{2}:\d{2}$", description="Local time, HH:MM.")
    closes: str = Field(pattern=r"^\d{2}:\d{2}$", description="Local time, HH:MM.")


class LocationOut(Out):
    id: uuid.UUID
    slug: str
    name: str
    time_zone: str = Field(description="IANA zone, e.g. Europe/London.")
    address: str
    city: str
    postcode: str
    country: str
    phone: str
    email: str
    opening_hours: list[OpeningHours]


class SpecialistOut(Out):
    id: uuid.UUID
    name: str
    title: str
    bio: str
    locations: list[uuid.UUID] = Field(description="Ids of the locations they work at.")


# --- clients -----------------------------------------------------------------------------------


class ClientOut(Out):
    id: uuid.UUID
    first_name: str
    last_name: str
    email: str | None
    phone: str | None = Field(description="E.164, e.g. +447700900123.")
    date_of_birth: date | None


class ClientIn(InputSchema):
    first_name: Name
    last_name: Name
    email: Email | None = None
    phone: Phone | None = Field(
        None, description="Any common format; stored as E.164. Without +country, UK (GB)."
    )
    date_of_birth: ApiDate | None = Field(None, description="Not in the future; after 1900.")


class ClientPatch(InputSchema):
    """Only the fields sent change."""

    first_name: Name = None  # type: ignore[assignment]
    last_name: Name = None  # type: ignore[assignment]
    email: Email | None = Field(None, description="Null or empty clears it.")
    phone: Phone | None = Field(None, description="Null or empty clears it.")
    date_of_birth: ApiDate | None = Field(None, description="Null clears it.")


class Page(Out):
    count: int = Field(description="How many match in total.")
    limit: int
    offset: int


class ClientPage(Page):
    items: list[ClientOut]


# --- appointments ------------------------------------------------------------------------------


class PrescreenIn(BaseModel):
    """The online health pre-screen: a client booking a treatment that needs screening for
    themselves answers the questions of that treatment's questionnaire (true = yes; see
    `GET /api/v1/treatments/{slug}/prescreen` for which, and their wording). A question that asks
    when also takes `<question>_on`, the last time it happened, when answered yes. Answers to
    questions another treatment asks are ignored, so one complete set serves every treatment.

    An answer missing is a 422 `prescreen_required` naming it in `fields`. An answer that needs
    a clinician first is a 409 `prescreen_stop`: the clinic offers a consultation instead. An
    answer that calls for a wait (a recent tan, a peel, filler, ...) is a 409
    `prescreen_deferred` when the time is inside it, with `earliest_on`, the first possible day.
    Staff bookings need no answers. Questions the clinic adds are answered by their key the
    same way."""

    # Not an InputSchema: ninja's Schema drops unknown names, and a question the clinic adds
    # is answered by its own name (an unknown name is named back in a 422).
    model_config = ConfigDict(extra="allow")

    pregnant: bool | None = Field(None, description="Pregnant, or breastfeeding.")
    infection: bool | None = Field(
        None, description="An infection, a cold sore, an open wound or irritated skin in the area."
    )
    acne: bool | None = Field(None, description="Inflamed (red, swollen) acne in the area.")
    isotretinoin: bool | None = Field(None, description="Taking isotretinoin (Roaccutane) now.")
    isotretinoin_stopped: bool | None = Field(
        None,
        description="Stopped isotretinoin in the last 6 months (give `isotretinoin_stopped_on`).",
    )
    isotretinoin_stopped_on: ApiDate | None = Field(None, description="The last dose.")
    bleeding: bool | None = Field(None, description="A bleeding disorder, such as haemophilia.")
    anticoagulant: bool | None = Field(None, description="A prescribed blood thinner.")
    flare: bool | None = Field(
        None, description="Eczema, psoriasis, rosacea or dermatitis flaring in the area."
    )
    lesion: bool | None = Field(
        None, description="Skin cancer, or a mole or mark that is changing, in the area."
    )
    allergy: bool | None = Field(None, description="Allergic to metals such as stainless steel.")
    numbing_allergy: bool | None = Field(
        None, description="Allergic to numbing creams (the session goes ahead without)."
    )
    cold_sores: bool | None = Field(None, description="Gets cold sores on or near the area.")
    photosensitising: bool | None = Field(
        None, description="Takes a medicine or herb that makes skin sensitive to light."
    )
    epilepsy: bool | None = Field(None, description="Epilepsy that light can trigger.")
    tattoo: bool | None = Field(None, description="A tattoo or permanent make-up in the area.")
    sunburn: bool | None = Field(None, description="Sunburnt skin in the area now.")
    tan: bool | None = Field(None, description="Tanned by sun or sunbed in the last 4 weeks.")
    tan_on: ApiDate | None = Field(None, description="The last day of tanning.")
    self_tan: bool | None = Field(None, description="Self-tan on the area in the last 2 days.")
    self_tan_on: ApiDate | None = Field(None, description="The last day self-tan was used.")
    retinoids: bool | None = Field(
        None, description="A retinoid or vitamin A cream on the area in the last week."
    )
    retinoids_on: ApiDate | None = Field(None, description="The last use.")
    acids: bool | None = Field(
        None, description="Acids, benzoyl peroxide, scrubs or exfoliation in the last week."
    )
    acids_on: ApiDate | None = Field(None, description="The last use.")
    waxing: bool | None = Field(
        None, description="Waxing, threading or hair-removal cream in the last 2 weeks."
    )
    waxing_on: ApiDate | None = Field(None, description="The last time.")
    toxin: bool | None = Field(
        None, description="Anti-wrinkle injections in the area in the last 3 months."
    )
    toxin_on: ApiDate | None = Field(None, description="The date of the injections.")
    filler: bool | None = Field(
        None, description="Dermal filler or another injectable in the area in the last 12 months."
    )
    filler_on: ApiDate | None = Field(None, description="The date of the filler.")
    resurfacing: bool | None = Field(
        None,
        description="A deep peel, dermabrasion or ablative laser in the area in the last 3 months.",
    )
    resurfacing_on: ApiDate | None = Field(None, description="The date of the treatment.")
    light_treatment: bool | None = Field(
        None,
        description="Non-ablative laser, radiofrequency or IPL in the area in the last 3 weeks.",
    )
    light_treatment_on: ApiDate | None = Field(None, description="The date of the treatment.")
    surgery: bool | None = Field(None, description="Surgery in the area in the last 12 months.")
    surgery_on: ApiDate | None = Field(None, description="The date of the surgery.")

    def answers(self) -> dict[str, object]:
        """What was answered (null and absent alike mean no answer)."""
        return self.model_dump(exclude_none=True)


PrecareKey = Annotated[str, StringConstraints(min_length=1, max_length=20, pattern=r"^[0-9]+$")]


class AppointmentIn(InputSchema):
    client: uuid.UUID = Field(description="Client id. A client token may only give its own.")
    treatment: Slug = Field(description="Treatment slug, e.g. `microneedling`.")
    start: StartTime
    specialist: uuid.UUID | None = Field(None, description="Ask for this specialist.")
    location: uuid.UUID | None = Field(
        None, description="Required when more than one location offers the treatment."
    )
    confirm_important_dates: bool = Field(
        False,
        description="Book even though the recovery window covers one of the client's "
        "important dates (otherwise 409 `important_date_conflict`).",
    )
    prescreen: PrescreenIn | None = Field(
        None,
        description="Required when a client token books a treatment that needs screening "
        "(otherwise 422 `prescreen_required`).",
    )
    precare_confirmed: list[PrecareKey] = Field(
        default_factory=list,
        max_length=50,
        description="Keys of the treatment's preparation steps the client confirms they "
        "already follow, when the time is too soon for them (a client token gets 409 "
        "`precare_too_soon` listing the steps and their keys otherwise). Kept with the "
        "appointment.",
    )
    gap_reason: Reason | None = Field(
        None,
        description="A specialist's or the manager's reason to book a needling session less "
        "than 28 days before or after another needling session of the client, in a course or "
        "not (409 `interval_too_short` without it, naming the other session's day; 403 "
        "`interval_override_not_allowed` for other roles; a client cannot override). Kept "
        "and audited with the appointment.",
    )


class RescheduleIn(InputSchema):
    start: StartTime
    specialist: uuid.UUID | None = Field(None, description="Ask for this specialist.")
    confirm_important_dates: bool = Field(
        False, description="Move even though the recovery window covers an important date."
    )
    any_specialist: bool = Field(
        False,
        description="Without `specialist`, the move keeps the appointment's specialist (409 "
        "`slot_unavailable` with their nearest free times when they are busy); true lets any "
        "specialist who can do the treatment take it.",
    )
    gap_reason: Reason | None = Field(
        None,
        description="A specialist's or the manager's reason to move a needling session less "
        "than 28 days before or after another needling session of the client, in a course or "
        "not (409 `interval_too_short` without it; 403 `interval_override_not_allowed` for "
        "other roles; a client cannot override).",
    )


class CancelIn(InputSchema):
    reason: Reason | None = None


class AppointmentOut(Out):
    id: uuid.UUID
    status: AppointmentStatus
    start: datetime = Field(description="Location's offset.")
    end: datetime = Field(description="When the client leaves (location's offset).")
    client: uuid.UUID
    treatment: str = Field(description="Treatment slug.")
    specialist: uuid.UUID | None
    location: uuid.UUID
    time_zone: str = Field(description="IANA zone of the location.")
    created_at: datetime = Field(description="UTC.")
    cancelled_at: datetime | None = Field(description="UTC; null unless cancelled.")
    is_late_cancellation: bool = Field(description="Cancelled inside the treatment's window.")
    change_until: datetime = Field(
        description="Until this moment (location's offset) a client may move the appointment "
        "online and cancel it without it counting as late; after it, a move is 409 "
        "`late_change` and a cancellation is late."
    )


class AppointmentPage(Page):
    items: list[AppointmentOut]


# --- the front desk's diary (issue 13, item 8) ------------------------------------------------

DeskStatus = Literal["arrived", "in_treatment", "completed", "no_show"]


class StatusIn(InputSchema):
    status: DeskStatus = Field(description="What happened.")
    version: str | None = Field(
        None,
        max_length=64,
        description="The appointment's `version` as last seen (from the diary): if it has "
        "changed since, nothing is done (409 `changed_meanwhile`).",
    )


class DiaryColumnOut(Out):
    id: uuid.UUID
    kind: ResourceKind
    name: str


class DiaryPhaseOut(Out):
    name: str
    kind: Literal["specialist", "room", "clean_down"]
    start: datetime
    end: datetime
    uses_specialist: bool
    uses_room: bool
    uses_device: bool


class DiaryFlagOut(Out):
    code: str = Field(
        description="first_visit, course_session, clinical_hold, red_flag_alert, screening, note"
    )
    label: str
    is_warning: bool


class DiaryAppointmentOut(Out):
    id: uuid.UUID
    status: AppointmentStatus
    start: datetime = Field(description="Location's offset.")
    end: datetime = Field(description="When the client leaves.")
    busy_until: datetime = Field(description="When the room and device are free again.")
    client: uuid.UUID
    client_name: str
    treatment: str = Field(description="The treatment's name.")
    specialist: uuid.UUID | None
    room: uuid.UUID | None
    device: uuid.UUID | None
    version: str = Field(description="Send back with a status change to detect a stale view.")
    course_session: str | None = Field(description='e.g. "Session 2 of 4".')
    notes: str
    phases: list[DiaryPhaseOut]
    flags: list[DiaryFlagOut]


class DiaryOut(Out):
    location: uuid.UUID
    date: date
    time_zone: str
    opens_at: datetime
    closes_at: datetime
    is_closed: bool
    version: str = Field(description="Changes whenever the day's appointments change.")
    columns: list[DiaryColumnOut]
    appointments: list[DiaryAppointmentOut]


# --- health ------------------------------------------------------------------------------------


class WorkerOut(Out):
    last_beat_at: datetime | None = Field(description="UTC.")
    age_seconds: float | None
    healthy: bool = Field(description="A worker beat within the last 5 minutes.")
    oldest_due_at: datetime | None = Field(
        None, description="UTC send time of the oldest message still waiting to go, if any."
    )
    oldest_due_age_seconds: float | None = Field(
        None, description="How long that message has been waiting: how far behind delivery is."
    )


class HealthOut(Out):
    status: Literal["ok", "degraded", "error"] = Field(
        description="`degraded`: the web side works but no worker is beating, or Redis does "
        "not answer."
    )
    database: Literal["ok", "error"]
    cache: Literal["ok", "error"] = Field(
        description="Redis (REDIS_URL), where the rate limits count: `error` while it does not "
        "answer (rate-limited requests are then refused with 503). Always `ok` without Redis."
    )
    worker: WorkerOut
    version: str


# --- presenting domain objects -----------------------------------------------------------------


def rfc3339(value: datetime) -> str:
    """As Django's JSON encoder writes datetimes (UTC as `Z`), so every endpoint agrees."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


@lru_cache(maxsize=4096)
def _uuid_text(hex_id: str) -> str:
    return str(uuid.UUID(hex_id))


class _Shared:
    """What slots of one answer have in common, formatted once: instants (phase boundaries
    repeat from slot to slot) and each phase's list of resources."""

    def __init__(self) -> None:
        self.times: dict[tuple[datetime, Any], str] = {}
        self.resources: dict[tuple[Any, ...], list[dict[str, str]]] = {}

    def when(self, instant: datetime, tz: Any) -> str:
        key = (instant, tz)
        text = self.times.get(key)
        if text is None:
            text = self.times[key] = rfc3339(instant.astimezone(tz))
        return text

    def using(self, resources: Any, infos: dict[str, Any]) -> list[dict[str, str]]:
        key = (id(infos), *sorted(resources.items()))
        found = self.resources.get(key)
        if found is None:
            found = self.resources[key] = [
                {"id": _uuid_text(rid), "name": infos[rid].name, "kind": infos[rid].role}
                for _role, rid in key[1:]
            ]
        return found


def slot_out(located: LocatedSlot, _shared: _Shared | None = None) -> dict[str, Any]:
    """A slot as JSON-ready values (strings), in the SlotOut shape. Availability answers
    hundreds of these, so they are built directly rather than validated one by one."""
    shared = _shared or _Shared()
    ctx, slot = located.context, located.slot
    tz, infos, when = ctx.tz, ctx.resources, shared.when
    spec = located.resource("specialist")
    return {
        "start": when(slot.start, tz),
        "end": when(slot.end, tz),
        "specialist": {"id": _uuid_text(spec.id), "name": spec.name} if spec else None,
        "location": {
            "id": str(ctx.location.pk),
            "name": ctx.location.name,
            "time_zone": ctx.location.time_zone,
        },
        "phases": [
            {
                "name": phase.name,
                "start": when(phase.start, tz),
                "end": when(phase.end, tz),
                "is_buffer": phase.is_buffer,
                "resources": shared.using(phase.resources, infos),
            }
            for phase in slot.phases
        ],
    }


def slots_by_day(found: list[LocatedSlot]) -> dict[str, Any]:
    """The compact, day-by-day form of an availability answer (AvailabilityDaysOut): each
    slot as its start, end and specialist id; locations and specialists named once."""
    shared = _Shared()
    when = shared.when
    locations: dict[Any, dict[str, str]] = {}
    specialists: dict[str, dict[str, str]] = {}
    days: dict[tuple[Any, Any], dict[str, Any]] = {}
    for located in found:
        ctx, slot = located.context, located.slot
        tz, loc = ctx.tz, ctx.location
        if loc.pk not in locations:
            locations[loc.pk] = {"id": str(loc.pk), "name": loc.name, "time_zone": loc.time_zone}
        spec = located.resource("specialist")
        spec_id = None
        if spec is not None:
            spec_id = _uuid_text(spec.id)
            if spec_id not in specialists:
                specialists[spec_id] = {"id": spec_id, "name": spec.name}
        key = (slot.start.astimezone(tz).date(), loc.pk)
        day = days.get(key)
        if day is None:
            day = days[key] = {"date": key[0].isoformat(), "location": str(loc.pk), "times": []}
        day["times"].append(
            {"start": when(slot.start, tz), "end": when(slot.end, tz), "specialist": spec_id}
        )
    names = {pk: info["name"] for pk, info in locations.items()}
    return {
        "locations": list(locations.values()),
        "specialists": sorted(specialists.values(), key=lambda s: (s["name"], s["id"])),
        "days": [days[k] for k in sorted(days, key=lambda k: (k[0], names[k[1]]))],
    }


def slots_out(found: list[LocatedSlot]) -> list[dict[str, Any]]:
    shared = _Shared()
    return [slot_out(located, shared) for located in found]


def client_out(client: Any) -> dict[str, Any]:
    return {
        "id": client.pk,
        "first_name": client.first_name,
        "last_name": client.last_name,
        "email": client.email or None,
        "phone": client.phone or None,
        "date_of_birth": client.date_of_birth,
    }


def appointment_out(appt: Any) -> dict[str, Any]:
    tz = appt.location.tz
    return {
        "id": appt.pk,
        "status": appt.status,
        "start": appt.starts_at.astimezone(tz),
        "end": appt.ends_at.astimezone(tz),
        "client": appt.client_id,
        "treatment": appt.treatment.slug,
        "specialist": appt.specialist_id,
        "location": appt.location_id,
        "time_zone": appt.location.time_zone,
        "created_at": appt.created_at,
        "cancelled_at": appt.cancelled_at,
        "is_late_cancellation": appt.is_late_cancellation,
        "change_until": (appt.starts_at - appt.treatment.cancellation_window).astimezone(tz),
    }
