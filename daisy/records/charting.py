"""The treatment chart, written and read (issue 14 item 5; DOMAIN.md 3.3, 6.2).

Writes: `chart_save` (a draft, or signed in the same step), `chart_cosign`, `chart_amend`.
Reads: `chart_for_appointment`, `chart_defaults` (what a new chart starts from: the plan's
areas and the client's last session, so a repeat session is mostly confirmed, not typed),
`chart_state`, `chart_view_record` (every opening of a chart is audited).

Refusals, each with a message for the specialist and the field it is about:
* a depth above the device's labelled maximum or the clinic's cap for the client's skin type
  (DOMAIN.md 3.1, 3.2; the pure rules are daisy.core.charting);
* an expired lot, or a single-use lot already charted for another client (DOMAIN.md 6.2);
* any change to a signed chart (an amendment is appended instead)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from daisy.accounts.models import Role, User
from daisy.audit.services import audit_record, person_name
from daisy.clients.models import Client
from daisy.clinic.models import Device, Specialist
from daisy.core import charting as core
from daisy.courses.models import PlanSession
from daisy.lib.errors import DomainError, PermissionDenied, ValidationFailed
from daisy.records.consent_selectors import consent_status
from daisy.records.models import (
    SINGLE_USE_KINDS,
    Chart,
    ChartAmendment,
    ChartArea,
    ChartPolicy,
    ChartProduct,
    Endpoint,
    Lot,
    Pattern,
    Product,
    ProductKind,
    ScreeningResponse,
    SkinType,
)
from daisy.records.selectors import skin_type_for
from daisy.records.zones import START_MM, USUAL_MAX_MM, ZONE_KEYS, zone_label, zones_for_area
from daisy.scheduling.models import Appointment, Status

# The choices a chart's fields offer, for the desk and the API (which do not read models).
ENDPOINTS: list[tuple[str, Any]] = list(Endpoint.choices)
PATTERNS: list[tuple[str, Any]] = list(Pattern.choices)
PRODUCT_KINDS: list[tuple[str, Any]] = list(ProductKind.choices)
SKIN_TYPES: list[tuple[int, Any]] = list(SkinType.choices)

# DOMAIN.md 1.2: the next session no sooner than the course's shortest gap; 28 days otherwise.
DEFAULT_NEXT_DAYS = 28
DEFAULT_PASSES = 3
# A chart is written at or after the visit (DOMAIN.md 3.3), never for a visit not begun.
CHARTABLE = frozenset({Status.CHECKED_IN, Status.IN_TREATMENT, Status.COMPLETED})


class ChartSigned(DomainError):
    code = "chart_signed"
    http_status = 409


class LotRefused(DomainError):
    code = "lot_refused"
    http_status = 409


class DepthRefused(DomainError):
    code = "depth_refused"
    http_status = 422


@dataclass(frozen=True)
class AreaIn:
    zone: str
    depth_mm: Decimal
    passes: int
    endpoint: str
    pattern: str = ""


@dataclass(frozen=True)
class ProductIn:
    kind: str
    name: str
    lot: str
    expires_on: date | None = None
    amount: str = ""


@dataclass
class ChartIn:
    """A chart as entered. Everything but the areas and products may be left out of a draft;
    signing needs the minimum data set (DOMAIN.md 3.3, 6.2)."""

    areas: list[AreaIn] = field(default_factory=list)
    products: list[ProductIn] = field(default_factory=list)
    device: Device | None = None
    operator: Specialist | None = None
    supervisor: Any = None
    handpiece_serial: str = ""
    needle_count: int | None = None
    cartridge_opened_at_chair: bool = False
    sheath_used: bool = False
    skin_type: int | None = None
    numbing_amount_g: Decimal | None = None
    numbing_area: str = ""
    numbing_on_at: time | None = None
    numbing_off_at: time | None = None
    numbing_occluded: bool = False
    events: str = ""
    pain_score: int | None = None
    aftercare_given: bool = False
    next_earliest_on: date | None = None
    notes: str = ""


@dataclass(frozen=True)
class Saved:
    chart: Chart
    warnings: tuple[str, ...]


# --- reads ---------------------------------------------------------------------------------------


def chart_policy() -> ChartPolicy:
    """The clinic's charting rules (the shipped defaults if the row was removed)."""
    return ChartPolicy.objects.filter(pk=1).first() or ChartPolicy(pk=1)


def chart_for_appointment(appointment: Any) -> Chart | None:
    return (
        Chart.objects.select_related(
            "operator", "supervisor", "device", "signed_by", "cosigned_by", "client"
        )
        .prefetch_related("areas", "products__lot__product", "amendments__by")
        .filter(appointment_id=getattr(appointment, "pk", appointment))
        .first()
    )


def client_skin_type(client: Any, *, before: date | None = None) -> int | None:
    """The client's Fitzpatrick type: their consultation's (amendments applied), else as last
    recorded on a chart."""
    from_consultation = skin_type_for(client)
    if from_consultation is not None:
        return from_consultation.skin_type
    charts = Chart.objects.filter(client=client, skin_type__isnull=False)
    if before is not None:
        charts = charts.filter(performed_on__lte=before)
    return (
        charts.order_by("-performed_on", "-created_at").values_list("skin_type", flat=True).first()
    )


def last_chart(client: Any, *, before: Any) -> Chart | None:
    """The client's most recent signed chart of an earlier session."""
    return (
        Chart.objects.filter(
            client=client, signed_at__isnull=False, appointment__starts_at__lt=before.starts_at
        )
        .exclude(appointment=before)
        .select_related("device", "operator")
        .prefetch_related("areas", "products__lot__product")
        .order_by("-appointment__starts_at")
        .first()
    )


def _plan_of(appointment: Any) -> Any:
    session = (
        PlanSession.objects.select_related("plan")
        .prefetch_related("plan__areas")
        .filter(appointment=appointment)
        .first()
    )
    return session.plan if session else None


def _local_day(appointment: Any) -> date:
    return appointment.starts_at.astimezone(appointment.location.tz).date()


def chart_defaults(appointment: Any) -> ChartIn:
    """What a new chart for `appointment` starts with: the last session's device, settings,
    zones, depths and products (their lots again, except single-use ones, which are new each
    time), the plan's areas not treated last time, the device and specialist of the booking,
    and the next session no sooner than the course's shortest gap."""
    last = last_chart(appointment.client, before=appointment)
    plan = _plan_of(appointment)
    planned: list[str] = []
    for area in plan.areas.all() if plan else ():
        planned.extend(z for z in zones_for_area(area.area) if z not in planned)
    last_areas = [
        core.AreaDefault(a.zone, a.depth_mm, a.passes, a.pattern, a.endpoint)
        for a in (last.areas.all() if last else ())
    ]
    areas = core.area_defaults(
        planned_zones=planned,
        last_areas=last_areas,
        usual_start=START_MM,
        default_passes=DEFAULT_PASSES,
    )
    products = []
    if last is not None:
        for use in last.products.all():
            if use.amendment_id is not None:
                continue
            product = use.lot.product
            single = product.is_single_use
            products.append(
                ProductIn(
                    kind=product.kind,
                    name=product.name,
                    lot="" if single else use.lot.number,
                    expires_on=None if single else use.lot.expires_on,
                    amount=use.amount,
                )
            )
    device = None
    if appointment.device_id:
        device = Device.objects.filter(pk=appointment.device_id).first()
    if device is None and last is not None:
        device = last.device
    operator = None
    if appointment.specialist_id:
        operator = Specialist.objects.filter(pk=appointment.specialist_id).first()
    gap = plan.min_interval_days if plan else DEFAULT_NEXT_DAYS
    numbing_on, numbing_off = _numbing_times(appointment)
    return ChartIn(
        areas=[
            AreaIn(
                zone=a.zone,
                depth_mm=a.depth_mm
                if a.depth_mm is not None
                else START_MM.get(a.zone, Decimal("0.5")),
                passes=a.passes or DEFAULT_PASSES,
                endpoint=a.endpoint or Endpoint.ERYTHEMA,
                pattern=a.pattern or Pattern.CROSSHATCH,
            )
            for a in areas
        ],
        products=products,
        device=device,
        operator=operator,
        handpiece_serial=device.serial if device else "",
        needle_count=last.needle_count if last else None,
        sheath_used=last.sheath_used if last else False,
        skin_type=client_skin_type(appointment.client, before=_local_day(appointment)),
        numbing_amount_g=last.numbing_amount_g if last else None,
        numbing_area=last.numbing_area if last else "",
        numbing_occluded=last.numbing_occluded if last else False,
        numbing_on_at=numbing_on,
        numbing_off_at=numbing_off,
        aftercare_given=False,
        next_earliest_on=_local_day(appointment) + timedelta(days=gap),
    )


def _numbing_times(appointment: Any) -> tuple[time | None, time | None]:
    """The booked numbing phase's local start and end (DOMAIN.md 3.4: the cream is on while
    the specialist is free), as the chart's first guess at when it went on and came off."""
    offset = timedelta()
    tz = appointment.location.tz
    for phase in appointment.treatment.phases.all().order_by("order"):
        if not phase.needs_specialist and not phase.device_kind and not phase.is_buffer:
            start = appointment.starts_at + offset
            end = start + phase.duration
            return start.astimezone(tz).time(), end.astimezone(tz).time()
        offset += phase.duration
    return None, None


@dataclass(frozen=True)
class Choices:
    devices: list[Device]
    operators: list[Specialist]
    supervisors: list[Any]


def chart_choices(location: Any) -> Choices:
    """What a chart at `location` may name: its devices, its specialists, and the clinicians
    who may supervise (specialists and the manager)."""
    return Choices(
        devices=list(Device.objects.filter(location=location, is_active=True).order_by("name")),
        operators=list(
            Specialist.objects.filter(locations=location, is_active=True).order_by("name")
        ),
        supervisors=list(
            User.objects.filter(is_active=True, role__in=[Role.SPECIALIST, Role.MANAGER]).order_by(
                "first_name", "last_name", "username"
            )
        ),
    )


def chart_state(chart: Chart | None, policy: ChartPolicy | None = None) -> str:
    """ "none", "draft", "awaiting_cosign" or "signed" (signed and co-signed where required)."""
    if chart is None:
        return "none"
    if chart.signed_at is None:
        return "draft"
    policy = policy or chart_policy()
    if policy.cosign_required and chart.cosigned_at is None:
        return "awaiting_cosign"
    return "signed"


def chart_states_for(appointment_ids: Sequence[Any]) -> dict[Any, str]:
    """appointment id -> chart state, for a diary's appointments in one query."""
    if not appointment_ids:
        return {}
    policy = chart_policy()
    out = {}
    for appt_id, signed, cosigned in Chart.objects.filter(
        appointment_id__in=list(appointment_ids)
    ).values_list("appointment_id", "signed_at", "cosigned_at"):
        if signed is None:
            out[appt_id] = "draft"
        elif policy.cosign_required and cosigned is None:
            out[appt_id] = "awaiting_cosign"
        else:
            out[appt_id] = "signed"
    return out


def rescreen_summary(appointment: Any) -> str:
    """What the health check on the day said, in words, for the chart: the latest answers given
    for this appointment, and the start-of-needling gate (daisy.records.gate): clear, not
    clear and why, or started on a clinician's override (who, when, why)."""
    from daisy.records.gate import needling_gate  # the gate reads the chart's neighbours

    response = (
        ScreeningResponse.objects.filter(appointment=appointment).order_by("-answered_at").first()
    )
    tz = appointment.location.tz
    parts = []
    if response is not None:
        parts.append(
            _("%(outcome)s (answers of %(when)s).")
            % {
                "outcome": response.get_outcome_display(),
                "when": response.answered_at.astimezone(tz).strftime("%d %b %Y %H:%M"),
            }
        )
    gate = needling_gate(appointment)
    if gate.applies:
        if gate.is_overridden and gate.override is not None:
            override = gate.override
            parts.append(
                _("Started on a clinician's override by %(who)s, %(when)s: %(why)s")
                % {
                    "who": override.by.get_full_name() or override.by.username,
                    "when": override.at.astimezone(tz).strftime("%d %b %Y %H:%M"),
                    "why": override.reason,
                }
            )
        elif gate.is_open:
            parts.append(_("Clear to start."))
        else:
            parts.append(_("Not clear to start: %(why)s") % {"why": gate.message()})
    return " ".join(str(p) for p in parts)


def consent_summary(appointment: Any) -> str:
    """The treatment consent as the chart keeps it: the state and its reason, e.g. "Consent
    signed: Signed on 7 Jan 2030, 09:40 (version 2)." (daisy.records.consent_selectors)."""
    status = consent_status(appointment)
    return f"{status.label}: {status.reason}"


def chart_view_record(*, chart: Chart, by: Any, now: datetime, via: str) -> None:
    """Every opening of a chart is in the audit trail (issue 14 item 8)."""
    audit_record(
        actor=by,
        action="chart.view",
        obj=chart,
        at=now,
        data={"via": via, "appointment": str(chart.appointment_id)},
        client=chart.client_id,
    )


# --- writes --------------------------------------------------------------------------------------


def _require_clinician(by: Any) -> None:
    if not getattr(by, "is_clinician", False):
        raise PermissionDenied(_("Only a specialist or the clinic's manager may write a chart."))


def _depth_message(problem: core.DepthProblem) -> str:
    where = zone_label(problem.zone)
    if problem.kind == "device":
        return _(
            "%(zone)s: %(depth)s mm is deeper than this device's labelled maximum of "
            "%(limit)s mm. Choose %(limit)s mm or less."
        ) % {"zone": where, "depth": problem.depth_mm, "limit": problem.limit_mm}
    if problem.kind == "skin_type":
        return _(
            "%(zone)s: %(depth)s mm is deeper than the clinic allows for this client's skin type "
            "(at most %(limit)s mm). Choose %(limit)s mm or less."
        ) % {"zone": where, "depth": problem.depth_mm, "limit": problem.limit_mm}
    return _("%(zone)s: a depth must be between %(low)s and %(high)s mm.") % {
        "zone": where,
        "low": core.MIN_DEPTH_MM,
        "high": core.MAX_DEPTH_MM,
    }


def _check_areas(data: ChartIn) -> tuple[dict[str, str], list[str]]:
    fields: dict[str, str] = {}
    seen: set[str] = set()
    for i, area in enumerate(data.areas):
        if area.zone not in ZONE_KEYS:
            fields[f"areas.{i}.zone"] = _("Choose a zone on the face map.")
        elif area.zone in seen:
            fields[f"areas.{i}.zone"] = _("%(zone)s is listed twice.") % {
                "zone": zone_label(area.zone)
            }
        seen.add(area.zone)
        if not 1 <= area.passes <= core.MAX_PASSES:
            fields[f"areas.{i}.passes"] = _("Passes: 1 to %(n)s.") % {"n": core.MAX_PASSES}
        if area.endpoint not in Endpoint.values:
            fields[f"areas.{i}.endpoint"] = _("Choose even redness or pinpoint bleeding.")
        if area.pattern and area.pattern not in Pattern.values:
            fields[f"areas.{i}.pattern"] = _("Choose a pattern from the list.")
    if data.skin_type is not None and not 1 <= data.skin_type <= 6:
        fields["skin_type"] = _("Skin type is I to VI.")
    if data.pain_score is not None and not 0 <= data.pain_score <= 10:
        fields["pain_score"] = _("Pain score is 0 to 10.")
    policy = chart_policy()
    depths = {a.zone: a.depth_mm for a in data.areas if a.zone in ZONE_KEYS}
    index = {a.zone: i for i, a in enumerate(data.areas)}
    problems = core.depth_problems(
        depths,
        device_max_mm=data.device.max_depth_mm if data.device else None,
        skin_type_cap_mm=core.skin_type_cap(data.skin_type, policy.caps()),
    )
    for problem in problems:
        fields[f"areas.{index[problem.zone]}.depth_mm"] = _depth_message(problem)
    warnings = [
        _("%(zone)s: %(depth)s mm is deeper than usual for this zone (up to %(usual)s mm).")
        % {"zone": zone_label(w.zone), "depth": w.depth_mm, "usual": w.usual_max_mm}
        for w in core.depth_warnings(depths, USUAL_MAX_MM)
    ]
    return fields, warnings


def _product(kind: str, name: str) -> Product:
    found = (
        Product.objects.annotate(lname=Lower("name"))
        .filter(kind=kind, lname=name.strip().lower())
        .first()
    )
    if found is not None:
        return found
    return Product.objects.create(
        kind=kind, name=name.strip(), is_single_use=kind in SINGLE_USE_KINDS
    )


def _lots(
    products: Sequence[ProductIn], *, client: Client, on: date, by: Any, now: datetime, prefix: str
) -> list[tuple[Lot, str]]:
    """Each product's lot, found or received at the chair; refused when expired or, single-use,
    already used on another client. Locks the lots (a race for one cartridge is serialised)."""
    fields: dict[str, str] = {}
    kinds: dict[str, str] = {}  # "expired" / "reused" -> the first field refused for it
    out: list[tuple[Lot, str]] = []
    for i, item in enumerate(products):
        where = f"{prefix}.{i}"
        if item.kind not in ProductKind.values:
            fields[f"{where}.kind"] = _("Choose cartridge, numbing cream, glide or post-care.")
            continue
        if not item.name.strip():
            fields[f"{where}.name"] = _("Give the product's name.")
            continue
        number = item.lot.strip()
        if not number:
            fields[f"{where}.lot"] = _("Give the lot number printed on the pack.")
            continue
        product = _product(item.kind, item.name)
        lot = Lot.objects.select_for_update().filter(product=product, number=number).first()
        if lot is None:
            if item.expires_on is None:
                fields[f"{where}.expires_on"] = _(
                    "Give the expiry date printed on the pack of lot %(lot)s."
                ) % {"lot": number}
                continue
            lot = Lot.objects.create(
                product=product,
                number=number,
                expires_on=item.expires_on,
                received_on=on,
                received_by=by if getattr(by, "pk", None) else None,
                received_at_chair=True,
            )
            audit_record(
                actor=by,
                action="lot.receive",
                obj=lot,
                at=now,
                data={"product": product.name, "lot": number, "at_chair": True},
                name=str(lot),
            )
        elif item.expires_on is not None and item.expires_on != lot.expires_on:
            fields[f"{where}.expires_on"] = _(
                "Lot %(lot)s of %(product)s was received with the expiry date %(date)s; check "
                "the pack."
            ) % {"lot": number, "product": product.name, "date": lot.expires_on.isoformat()}
            continue
        others = 0
        if product.is_single_use:
            others = ChartProduct.objects.filter(lot=lot).exclude(chart__client=client).count()
        for problem in core.lot_problems(
            [core.LotUse(number, lot.expires_on, product.is_single_use, others)], on=on
        ):
            kinds.setdefault(problem.kind, f"{where}.lot")
            if problem.kind == "expired":
                fields[f"{where}.lot"] = _(
                    "Lot %(lot)s of %(product)s expired on %(date)s: do not use it. Open an "
                    "in-date pack."
                ) % {"lot": number, "product": product.name, "date": lot.expires_on.isoformat()}
            elif problem.kind == "reused":
                fields[f"{where}.lot"] = _(
                    "Lot %(lot)s of %(product)s is single-use and is already charted for another "
                    "client: it must not be used again. Open a new sealed one."
                ) % {"lot": number, "product": product.name}
        if f"{where}.lot" not in fields:
            out.append((lot, item.amount.strip()[:60]))
    if fields:
        first = next(iter(fields.values()))
        if "reused" in kinds:
            raise LotRefused(fields[kinds["reused"]], code="lot_reused", fields=fields)
        if "expired" in kinds:
            raise ValidationFailed(fields[kinds["expired"]], code="lot_expired", fields=fields)
        raise ValidationFailed(first, fields=fields)
    lots = [lot.pk for lot, _amount in out]
    if len(set(lots)) != len(lots):
        raise ValidationFailed(_("A lot is listed twice."), fields={prefix: _("Listed twice.")})
    return out


def _sign_problems(data: ChartIn) -> dict[str, str]:
    """What signing needs beyond a draft (DOMAIN.md 3.3 minimum data set; 6.2: the cartridge
    lot and expiry are mandatory, and the single-use cartridge opened at the chair)."""
    fields = {}
    if not data.areas:
        fields["areas"] = _("Chart at least one zone before signing.")
    if data.device is None:
        fields["device"] = _("Choose the device used.")
    if data.operator is None:
        fields["operator"] = _("Choose who performed the treatment.")
    if not any(p.kind == ProductKind.CARTRIDGE for p in data.products):
        fields["products"] = _("Record the cartridge's lot and expiry before signing.")
    if not data.cartridge_opened_at_chair:
        fields["cartridge_opened_at_chair"] = _(
            "Confirm the sealed single-use cartridge was opened at the chair."
        )
    return fields


def chart_save(
    *, appointment: Appointment, data: ChartIn, by: Any, now: datetime, sign: bool = False
) -> Saved:
    """Write the chart of `appointment` as a draft (replacing an earlier draft), or sign it.
    Refused once signed (ChartSigned): amend instead. Audited."""
    _require_clinician(by)
    with transaction.atomic():
        appt = (
            Appointment.objects.select_for_update()
            .select_related("client", "location")
            .get(pk=appointment.pk)
        )
        if appt.status not in CHARTABLE:
            raise ValidationFailed(
                _("A chart is written once the client has arrived; mark them as arrived first."),
                code="not_chartable",
            )
        existing = Chart.objects.filter(appointment=appt).first()
        if existing is not None and existing.signed_at is not None:
            raise ChartSigned(_("This chart is signed; add an amendment instead."))
        fields, warnings = _check_areas(data)
        if data.device is not None and data.device.location_id != appt.location_id:
            fields["device"] = _("Choose a device of this clinic.")
        if sign:
            fields.update(_sign_problems(data))
        depth = {k: v for k, v in fields.items() if k.endswith(".depth_mm")}
        if depth:
            raise DepthRefused(next(iter(depth.values())), fields=fields)
        if fields:
            raise ValidationFailed(next(iter(fields.values())), fields=fields)
        on = _local_day(appt)
        lots = _lots(data.products, client=appt.client, on=on, by=by, now=now, prefix="products")
        values = {
            "client": appt.client,
            "performed_on": on,
            "operator": data.operator,
            "supervisor": data.supervisor,
            "device": data.device,
            "handpiece_serial": data.handpiece_serial.strip()[:80],
            "needle_count": data.needle_count,
            "cartridge_opened_at_chair": data.cartridge_opened_at_chair,
            "sheath_used": data.sheath_used,
            "skin_type": data.skin_type,
            "numbing_amount_g": data.numbing_amount_g,
            "numbing_area": data.numbing_area.strip()[:200],
            "numbing_on_at": data.numbing_on_at,
            "numbing_off_at": data.numbing_off_at,
            "numbing_occluded": data.numbing_occluded,
            "events": data.events.strip(),
            "pain_score": data.pain_score,
            "aftercare_given": data.aftercare_given,
            "next_earliest_on": data.next_earliest_on,
            "notes": data.notes.strip(),
            "rescreen_summary": rescreen_summary(appt)[:400],
            "consent_version": consent_summary(appt)[:200],
            "updated_at": now,
        }
        if existing is None:
            chart = Chart.objects.create(appointment=appt, created_at=now, created_by=by, **values)
        else:
            chart = existing
            for name, value in values.items():
                setattr(chart, name, value)
            chart.save()
            ChartArea.objects.filter(chart=chart).delete()
            ChartProduct.objects.filter(chart=chart).delete()
        ChartArea.objects.bulk_create(
            ChartArea(
                chart=chart,
                zone=a.zone,
                depth_mm=a.depth_mm,
                passes=a.passes,
                pattern=a.pattern,
                endpoint=a.endpoint,
            )
            for a in data.areas
        )
        ChartProduct.objects.bulk_create(
            ChartProduct(chart=chart, lot=lot, amount=amount) for lot, amount in lots
        )
        if sign:
            # The only write of the signature: a queryset update, then the row is locked.
            Chart.objects.filter(pk=chart.pk).update(signed_at=now, signed_by=by)
            chart.signed_at, chart.signed_by = now, by
        audit_record(
            actor=by,
            action="chart.sign" if sign else "chart.save",
            obj=chart,
            at=now,
            data={
                "appointment": str(appt.pk),
                "zones": {a.zone: str(a.depth_mm) for a in data.areas},
                "lots": [lot.number for lot, _amount in lots],
                "device": str(data.device.pk) if data.device else None,
                "warnings": warnings,
            },
            client=appt.client_id,
        )
    return Saved(chart=chart, warnings=tuple(warnings))


def chart_cosign(*, chart: Chart, by: Any, now: datetime) -> Chart:
    """A second clinician's signature on a signed chart (where the clinic asks for one)."""
    _require_clinician(by)
    with transaction.atomic():
        current = Chart.objects.select_for_update().get(pk=chart.pk)
        if current.signed_at is None:
            raise ValidationFailed(_("The chart has to be signed before it is co-signed."))
        if current.cosigned_at is not None:
            raise ChartSigned(_("This chart is already co-signed."))
        if current.signed_by_id == by.pk:
            raise PermissionDenied(
                _("A co-signature is another clinician's: ask a colleague to co-sign.")
            )
        Chart.objects.filter(pk=chart.pk).update(cosigned_at=now, cosigned_by=by)
        current.cosigned_at, current.cosigned_by = now, by
        audit_record(
            actor=by,
            action="chart.cosign",
            obj=current,
            at=now,
            data={"appointment": str(current.appointment_id)},
            client=current.client_id,
        )
    return current


def chart_amend(
    *,
    chart: Chart,
    by: Any,
    now: datetime,
    reason: str,
    text: str,
    products: Sequence[ProductIn] = (),
) -> ChartAmendment:
    """Append a correction to a signed chart: what, why, who and when. A lot that was missed
    is added with it, so a recall finds the client."""
    _require_clinician(by)
    reason, text = reason.strip(), text.strip()
    fields = {}
    if not reason:
        fields["reason"] = _("Say why the chart is amended.")
    if not text and not products:
        fields["text"] = _("Say what is corrected or added.")
    if fields:
        raise ValidationFailed(next(iter(fields.values())), fields=fields)
    with transaction.atomic():
        current = Chart.objects.select_for_update().select_related("client").get(pk=chart.pk)
        if current.signed_at is None:
            raise ValidationFailed(
                _("A draft chart is corrected directly; amendments are for signed charts.")
            )
        lots = _lots(
            products,
            client=current.client,
            on=current.performed_on,
            by=by,
            now=now,
            prefix="products",
        )
        already = set(ChartProduct.objects.filter(chart=current).values_list("lot_id", flat=True))
        amendment = ChartAmendment.objects.create(
            chart=current, at=now, by=by, reason=reason, text=text
        )
        ChartProduct.objects.bulk_create(
            ChartProduct(chart=current, lot=lot, amount=amount, amendment=amendment)
            for lot, amount in lots
            if lot.pk not in already
        )
        audit_record(
            actor=by,
            action="chart.amend",
            obj=current,
            at=now,
            data={
                "amendment": amendment.pk,
                "reason": reason,
                "lots": [lot.number for lot, _amount in lots],
            },
            client=current.client_id,
        )
    return amendment


def charts_reassign_client(*, source: Client, target: Client) -> int:
    """A merge of two records of one person: the charts move to the record kept (the one
    column of a signed chart the database lets change)."""
    return Chart.objects.filter(client=source).update(client=target)


def charts_export_for_client(client: Any) -> list[dict[str, Any]]:
    """The client's treatment charts for their data download (UK GDPR Art. 15; DOMAIN.md
    3.3, 6.6), oldest first: what was done zone by zone, the device, the products and lots
    used, and each amendment with who, when and why. Drafts are included, marked as such."""

    def iso(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    charts = (
        Chart.objects.filter(client=client)
        .select_related("operator", "device", "signed_by", "cosigned_by", "supervisor")
        .prefetch_related("areas", "products__lot__product", "amendments__by")
        .order_by("performed_on", "created_at")
    )
    return [
        {
            "id": str(c.pk),
            "appointment": str(c.appointment_id),
            "performed_on": c.performed_on.isoformat(),
            "state": "signed" if c.is_signed else "draft",
            "operator": c.operator.name if c.operator else None,
            "supervisor": person_name(c.supervisor) or None,
            "device": str(c.device) if c.device else None,
            "handpiece_serial": c.handpiece_serial,
            "needle_count": c.needle_count,
            "cartridge_opened_at_chair": c.cartridge_opened_at_chair,
            "sheath_used": c.sheath_used,
            "skin_type": c.skin_type,
            "numbing": {
                "amount_g": str(c.numbing_amount_g) if c.numbing_amount_g is not None else None,
                "area": c.numbing_area,
                "on_at": iso(c.numbing_on_at),
                "off_at": iso(c.numbing_off_at),
                "occluded": c.numbing_occluded,
            },
            "areas": [
                {
                    "zone": a.zone,
                    "zone_label": str(zone_label(a.zone)),
                    "depth_mm": str(a.depth_mm),
                    "passes": a.passes,
                    "pattern": a.pattern,
                    "endpoint": a.endpoint,
                }
                for a in c.areas.all()
            ],
            "products": [
                {
                    "kind": p.lot.product.kind,
                    "product": p.lot.product.name,
                    "lot": p.lot.number,
                    "expires_on": p.lot.expires_on.isoformat(),
                    "amount": p.amount,
                    "added_by_amendment": p.amendment_id is not None,
                }
                for p in c.products.all()
            ],
            "during_the_procedure": c.events,
            "pain_score": c.pain_score,
            "aftercare_given": c.aftercare_given,
            "next_session_not_before": iso(c.next_earliest_on),
            "health_check_before_needling": c.rescreen_summary,
            "consent_version": c.consent_version,
            "notes": c.notes,
            "signed_at": iso(c.signed_at),
            "signed_by": person_name(c.signed_by) or None,
            "cosigned_at": iso(c.cosigned_at),
            "cosigned_by": person_name(c.cosigned_by) or None,
            "amendments": [
                {"at": iso(m.at), "by": person_name(m.by), "reason": m.reason, "text": m.text}
                for m in c.amendments.all()
            ],
        }
        for c in charts
    ]


def charts_erase_for_client(*, client: Client) -> int:
    """Delete the client's charts, signed or not, with their zones, products and amendments.
    For daisy.records.retention alone, once the retention period from the last treatment is
    over and no legal hold is open (DOMAIN.md 6.7): everywhere else a signed chart is never
    deleted. The models' and querysets' refusals are gone around on purpose (the base
    QuerySet.delete), and on PostgreSQL the triggers let deletions through for this one
    transaction only (migration 0012). Returns how many charts went."""
    postgres = connection.vendor == "postgresql"
    with transaction.atomic():
        # Undone with the savepoint if anything below fails; switched off again after.
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('daisy.retention_erase', 'on', true)")
        charts = Chart.objects.filter(client=client)
        # Products before amendments (a product may name the amendment that added it).
        models.QuerySet.delete(ChartProduct.objects.filter(chart__in=charts))
        models.QuerySet.delete(ChartAmendment.objects.filter(chart__in=charts))
        models.QuerySet.delete(ChartArea.objects.filter(chart__in=charts))
        erased = models.QuerySet.delete(charts)[1].get(Chart._meta.label, 0)
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('daisy.retention_erase', 'off', true)")
    return int(erased)
