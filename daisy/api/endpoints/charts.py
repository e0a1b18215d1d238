"""The treatment chart and lot recall (issue 14 items 5, 6, 10), for specialists and the
manager. The JSON field names `areas` (`zone`, `depth_mm`, `passes`, `endpoint`), `device` and
`products` (`kind`, `name`, `lot`, `expires_on`) are a contract: keep them."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Path, Router
from pydantic import AfterValidator, Field, StringConstraints, field_validator

from daisy.api.auth import MANAGER, SPECIALIST, TokenAuth, actor_of
from daisy.api.docs import errors
from daisy.api.errors import ApiError
from daisy.api.schemas import ApiDate, InputSchema, Out
from daisy.api.throttles import WRITE
from daisy.lib.errors import NotFound
from daisy.records.charting import (
    AreaIn,
    ChartIn,
    ProductIn,
    chart_choices,
    chart_for_appointment,
    chart_save,
    chart_state,
    chart_view_record,
)
from daisy.records.recall import lot_recall_record_view, lot_treatments, lots_by_number
from daisy.records.zones import ZONE_KEYS
from daisy.scheduling.selectors import appointment_get

router = Router(tags=["charts"], auth=TokenAuth(roles={SPECIALIST, MANAGER}))


def _plain(value: str) -> str:
    if any(ord(ch) < 32 or 0xD800 <= ord(ch) <= 0xDFFF for ch in value if ch not in "\n\t"):
        raise ValueError("Remove the control characters.")
    return value


Text = Annotated[str, StringConstraints(max_length=4000), AfterValidator(_plain)]
ShortText = Annotated[str, StringConstraints(max_length=200), AfterValidator(_plain)]
LotNumber = Annotated[
    str, StringConstraints(min_length=1, max_length=80, pattern=r"^[!-~]( ?[!-~])*$")
]
ProductName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=120, strip_whitespace=True),
    AfterValidator(_plain),
]
ClockTime = Annotated[
    str,
    StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$"),
    Field(description="Local wall-clock time, HH:MM."),
]
Zone = Literal[ZONE_KEYS]  # type: ignore[valid-type]
EndpointName = Literal["erythema", "pinpoint_bleeding"]
PatternName = Literal["crosshatch", "horizontal", "vertical", "diagonal", "circular"]
Kind = Literal["cartridge", "numbing", "glide", "post_care"]


class AreaRecordIn(InputSchema):
    zone: Zone = Field(description="A zone of the face map.")
    depth_mm: float = Field(
        ge=0.1, le=3.0, description="Needle depth in mm, at most two decimals (e.g. 1.25)."
    )
    passes: int = Field(ge=1, le=12)
    endpoint: EndpointName = Field(description="Even redness or pinpoint bleeding.")
    pattern: PatternName | None = None

    @field_validator("depth_mm")
    @classmethod
    def _two_places(cls, value: float) -> float:
        if round(value, 2) != value:
            raise ValueError("Give the depth with at most two decimals, e.g. 1.25.")
        return value


class ProductRecordIn(InputSchema):
    kind: Kind = Field(description="cartridge, numbing, glide (glide or serum) or post_care.")
    name: ProductName
    lot: LotNumber = Field(description="The lot number printed on the pack.")
    expires_on: ApiDate | None = Field(
        None, description="Required the first time a lot is named; must match afterwards."
    )
    amount: ShortText | None = Field(None, description='e.g. "5 g".')


class RecordIn(InputSchema):
    areas: list[AreaRecordIn] = Field(default_factory=list, max_length=len(ZONE_KEYS))
    device: uuid.UUID | None = Field(None, description="The device used (one of the clinic's).")
    products: list[ProductRecordIn] = Field(default_factory=list, max_length=20)
    operator: uuid.UUID | None = Field(
        None, description="Specialist who performed it; default: the appointment's."
    )
    supervisor: uuid.UUID | None = Field(None, description="Supervising specialist, if any.")
    handpiece_serial: (
        Annotated[str, StringConstraints(max_length=80), AfterValidator(_plain)] | None
    ) = None
    needle_count: int | None = Field(None, ge=1, le=100)
    cartridge_opened_at_chair: bool = False
    sheath_used: bool = False
    skin_type: int | None = Field(None, ge=1, le=6, description="Fitzpatrick I-VI as 1-6.")
    numbing_amount_g: float | None = Field(None, ge=0, le=999)
    numbing_area: ShortText | None = None
    numbing_on_at: ClockTime | None = None
    numbing_off_at: ClockTime | None = None
    numbing_occluded: bool = False
    events: Text | None = None
    pain_score: int | None = Field(None, ge=0, le=10)
    aftercare_given: bool = False
    next_earliest_on: ApiDate | None = None
    notes: Text | None = None
    sign: bool = Field(
        False, description="Sign the chart: it can then only be amended, never overwritten."
    )


class AreaOut(Out):
    zone: str
    depth_mm: float
    passes: int
    endpoint: str
    pattern: str | None


class ProductOut(Out):
    kind: str
    name: str
    lot: str
    expires_on: date
    amount: str
    added_by_amendment: bool


class AmendmentOut(Out):
    at: datetime
    by: str
    reason: str
    text: str


class RecordOut(Out):
    id: uuid.UUID
    appointment: uuid.UUID
    client: uuid.UUID
    state: str = Field(description="draft, awaiting_cosign or signed.")
    performed_on: date
    operator: uuid.UUID | None
    device: uuid.UUID | None
    handpiece_serial: str
    cartridge_opened_at_chair: bool
    skin_type: int | None
    areas: list[AreaOut]
    products: list[ProductOut]
    numbing_amount_g: float | None
    numbing_area: str
    numbing_on_at: str | None
    numbing_off_at: str | None
    events: str
    aftercare_given: bool
    next_earliest_on: date | None
    rescreen: str = Field(description="The health check on the day, as recorded.")
    consent: str = Field(description="The treatment consent, as recorded.")
    signed_at: datetime | None
    cosigned_at: datetime | None
    amendments: list[AmendmentOut]
    warnings: list[str] = Field(
        default_factory=list, description="Allowed but unusual, e.g. deeper than usual."
    )


class TreatedOut(Out):
    client: uuid.UUID
    client_name: str
    appointment: uuid.UUID
    date: date
    zones: list[str]
    product: str
    lot: str


class LotOut(Out):
    id: uuid.UUID
    product: str
    kind: str
    expires_on: date


class LotTreatmentsOut(Out):
    lot: str
    lots: list[LotOut] = Field(description="Every lot with this number (makers may share one).")
    clients: int = Field(description="Distinct clients treated.")
    treatments: list[TreatedOut] = Field(description="One per session, oldest first.")


def _hhmm(value: Any) -> str | None:
    return value.strftime("%H:%M") if value else None


def _out(chart: Any, warnings: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "id": chart.pk,
        "appointment": chart.appointment_id,
        "client": chart.client_id,
        "state": chart_state(chart),
        "performed_on": chart.performed_on,
        "operator": chart.operator_id,
        "device": chart.device_id,
        "handpiece_serial": chart.handpiece_serial,
        "cartridge_opened_at_chair": chart.cartridge_opened_at_chair,
        "skin_type": chart.skin_type,
        "areas": [
            {
                "zone": a.zone,
                "depth_mm": float(a.depth_mm),
                "passes": a.passes,
                "endpoint": a.endpoint,
                "pattern": a.pattern or None,
            }
            for a in chart.areas.all()
        ],
        "products": [
            {
                "kind": p.lot.product.kind,
                "name": p.lot.product.name,
                "lot": p.lot.number,
                "expires_on": p.lot.expires_on,
                "amount": p.amount,
                "added_by_amendment": p.amendment_id is not None,
            }
            for p in chart.products.all()
        ],
        "numbing_amount_g": float(chart.numbing_amount_g)
        if chart.numbing_amount_g is not None
        else None,
        "numbing_area": chart.numbing_area,
        "numbing_on_at": _hhmm(chart.numbing_on_at),
        "numbing_off_at": _hhmm(chart.numbing_off_at),
        "events": chart.events,
        "aftercare_given": chart.aftercare_given,
        "next_earliest_on": chart.next_earliest_on,
        "rescreen": chart.rescreen_summary,
        "consent": chart.consent_version,
        "signed_at": chart.signed_at,
        "cosigned_at": chart.cosigned_at,
        "amendments": [
            {
                "at": m.at,
                "by": m.by.get_full_name() or m.by.username,
                "reason": m.reason,
                "text": m.text,
            }
            for m in chart.amendments.all()
        ],
        "warnings": list(warnings),
    }


def _appointment(appointment_id: uuid.UUID) -> Any:
    return appointment_get(appointment_id)


def _pick(items: list[Any], wanted: uuid.UUID | None, field: str, what: str) -> Any:
    if wanted is None:
        return None
    found = next((x for x in items if x.pk == wanted), None)
    if found is None:
        raise ApiError(422, "validation_error", what, fields={field: what})
    return found


def _chart_in(payload: RecordIn, appt: Any) -> ChartIn:
    choices = chart_choices(appt.location)
    operator_id = payload.operator or appt.specialist_id
    operator = next((s for s in choices.operators if s.pk == operator_id), None)
    if payload.operator is not None and operator is None:
        message = _("That specialist does not work at this clinic.")
        raise ApiError(422, "validation_error", message, fields={"operator": message})
    supervisor = _pick(
        choices.operators,
        payload.supervisor,
        "supervisor",
        _("That specialist does not work at this clinic."),
    )
    return ChartIn(
        areas=[
            AreaIn(
                zone=a.zone,
                depth_mm=Decimal(str(a.depth_mm)).quantize(Decimal("0.01")),
                passes=a.passes,
                endpoint=a.endpoint,
                pattern=a.pattern or "",
            )
            for a in payload.areas
        ],
        products=[
            ProductIn(
                kind=p.kind, name=p.name, lot=p.lot, expires_on=p.expires_on, amount=p.amount or ""
            )
            for p in payload.products
        ],
        device=_pick(
            choices.devices, payload.device, "device", _("That device is not one of this clinic's.")
        ),
        operator=operator,
        supervisor=supervisor.user if supervisor is not None else None,
        handpiece_serial=payload.handpiece_serial or "",
        needle_count=payload.needle_count,
        cartridge_opened_at_chair=payload.cartridge_opened_at_chair,
        sheath_used=payload.sheath_used,
        skin_type=payload.skin_type,
        numbing_amount_g=Decimal(str(round(payload.numbing_amount_g, 1)))
        if payload.numbing_amount_g is not None
        else None,
        numbing_area=payload.numbing_area or "",
        numbing_on_at=time.fromisoformat(payload.numbing_on_at) if payload.numbing_on_at else None,
        numbing_off_at=time.fromisoformat(payload.numbing_off_at)
        if payload.numbing_off_at
        else None,
        numbing_occluded=payload.numbing_occluded,
        events=payload.events or "",
        pain_score=payload.pain_score,
        aftercare_given=payload.aftercare_given,
        next_earliest_on=payload.next_earliest_on,
        notes=payload.notes or "",
    )


@router.post(
    "/appointments/{appointment_id}/record",
    response={200: RecordOut, **errors(400, 401, 403, 404, 409, 413, 422, 429)},
    throttle=WRITE,
    operation_id="record_save",
    summary="Chart a session (the treatment record)",
    description=(
        "Writes the session's treatment chart: zones with depth, passes and endpoint, the "
        "device, and the products with their lots. Saved as a draft (replacing an earlier "
        "draft) or, with `sign: true`, signed: a signed chart is never overwritten (409 "
        "`chart_signed`). Refused: a depth above the device's labelled maximum or the "
        "clinic's cap for the client's skin type (422 `depth_refused`, `fields` names the "
        "area), an expired lot (422 `lot_expired`), a single-use lot already charted for "
        "another client (409 `lot_reused`), a session the client has not arrived for (422 "
        "`not_chartable`). Signing also needs a zone, the device, the operator, a cartridge "
        "lot and `cartridge_opened_at_chair`. Specialist and manager tokens only."
    ),
)
def record_save_view(request: HttpRequest, appointment_id: uuid.UUID, payload: RecordIn) -> Any:
    actor = actor_of(request)
    appt = _appointment(appointment_id)
    saved = chart_save(
        appointment=appt,
        data=_chart_in(payload, appt),
        by=actor.user,
        now=timezone.now(),
        sign=payload.sign,
    )
    chart = chart_for_appointment(appt)
    return _out(chart, saved.warnings)


@router.get(
    "/appointments/{appointment_id}/record",
    response={200: RecordOut, **errors(401, 403, 404, 422)},
    operation_id="record_get",
    summary="A session's treatment chart",
    description="With its amendments. 404 when the session has no chart yet. Audited.",
)
def record_get_view(request: HttpRequest, appointment_id: uuid.UUID) -> Any:
    actor = actor_of(request)
    appt = _appointment(appointment_id)
    chart = chart_for_appointment(appt)
    if chart is None:
        raise NotFound(_("This session has no chart yet."))
    chart_view_record(chart=chart, by=actor.user, now=timezone.now(), via="api")
    return _out(chart)


@router.get(
    "/lots/{lot}/treatments",
    response={200: LotTreatmentsOut, **errors(401, 403, 404, 422)},
    operation_id="lot_treatments",
    summary="Everyone treated with a lot (recall)",
    description=(
        "Every session charted with this lot number (whatever the product): client, "
        "appointment, date and zones, oldest first. 404 when no lot has this number. "
        "Audited. Specialist and manager tokens only."
    ),
)
def lot_treatments_view(
    request: HttpRequest,
    lot: Annotated[str, Path(max_length=80, description="The lot number as printed.")],
) -> Any:
    actor = actor_of(request)
    # A lot number is printed text: anything else (control characters, which some databases
    # refuse outright) names no lot.
    printable = lot.isprintable() and not any(0xD800 <= ord(ch) <= 0xDFFF for ch in lot)
    lots = lots_by_number(lot) if printable and lot.strip() else []
    if not lots:
        raise NotFound(_("No lot has that number."))
    rows = lot_treatments(lots)
    now = timezone.now()
    for found in lots:
        lot_recall_record_view(
            lot=found,
            by=actor.user,
            now=now,
            via="api",
            count=sum(1 for r in rows if r.lot_id == found.pk),
        )
    return {
        "lot": lot.strip(),
        "lots": [
            {
                "id": x.pk,
                "product": x.product.name,
                "kind": x.product.kind,
                "expires_on": x.expires_on,
            }
            for x in lots
        ],
        "clients": len({r.client_id for r in rows}),
        "treatments": [
            {
                "client": r.client_id,
                "client_name": r.client_name,
                "appointment": r.appointment_id,
                "date": r.performed_on,
                "zones": list(r.zones),
                "product": r.product,
                "lot": r.lot_number,
            }
            for r in rows
        ],
    }
