"""The treatment chart at the desk (issue 14 item 5), for specialists and the manager, on a
tablet: /desk/appointments/<id>/chart/.

A new chart opens filled from the plan and the client's last session (daisy.records.charting
.chart_defaults), so a repeat session is mostly confirmed: the new cartridge's lot and expiry,
two ticks and Sign. Zones are chosen on the face map (an SVG whose zones are buttons; each one
ticks the zone's row of the form, which works on its own without JavaScript). Signed charts are
read-only; corrections are amendments, and a second clinician co-signs where the clinic asks.
Every opening is audited."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from daisy.backoffice.access import clinician_required
from daisy.booking.diary import diary_appointment
from daisy.lib.errors import DomainError
from daisy.lib.times import is_sane_year
from daisy.records.charting import (
    DEFAULT_PASSES,
    ENDPOINTS,
    PATTERNS,
    PRODUCT_KINDS,
    SKIN_TYPES,
    AreaIn,
    ChartIn,
    ProductIn,
    chart_amend,
    chart_choices,
    chart_cosign,
    chart_defaults,
    chart_for_appointment,
    chart_policy,
    chart_save,
    chart_state,
    chart_view_record,
    consent_summary,
    rescreen_summary,
)
from daisy.records.zones import START_MM, ZONES

DEPTH_STEP = Decimal("0.05")


def _zone_prefix(key: str) -> str:
    return f"z_{key}"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", **kwargs)


def _sane(value: date | None) -> date | None:
    if value is not None and not is_sane_year(value):
        raise forms.ValidationError(gettext_lazy("Give a real date."))
    return value


class ChartForm(forms.Form):
    """The chart as the tablet shows it: one row per zone of the face map, the device, one
    slot per kind of product, numbing, events, aftercare and the next session."""

    def __init__(self, *args: Any, choices: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices = choices
        f = self.fields
        f["operator"] = forms.ChoiceField(
            label=gettext_lazy("Performed by"),
            required=False,
            choices=[("", "-")] + [(str(s.pk), s.name) for s in choices.operators],
        )
        f["supervisor"] = forms.ChoiceField(
            label=gettext_lazy("Supervising clinician"),
            required=False,
            choices=[("", gettext_lazy("None"))]
            + [(str(u.pk), u.get_full_name() or u.username) for u in choices.supervisors],
        )
        f["device"] = forms.ChoiceField(
            label=gettext_lazy("Device"),
            required=False,
            choices=[("", "-")]
            + [
                (
                    str(d.pk),
                    f"{d.name} ({d.serial})"
                    + (f", {_('up to')} {d.max_depth_mm} mm" if d.max_depth_mm else ""),
                )
                for d in choices.devices
            ],
        )
        f["handpiece_serial"] = forms.CharField(
            label=gettext_lazy("Handpiece serial"), max_length=80, required=False
        )
        f["needle_count"] = forms.IntegerField(
            label=gettext_lazy("Needles in the cartridge"),
            min_value=1,
            max_value=100,
            required=False,
        )
        f["cartridge_opened_at_chair"] = forms.BooleanField(
            label=gettext_lazy("Sealed single-use cartridge opened at the chair"), required=False
        )
        f["sheath_used"] = forms.BooleanField(
            label=gettext_lazy("Barrier sheath on the handpiece"), required=False
        )
        f["skin_type"] = forms.TypedChoiceField(
            label=gettext_lazy("Skin type (Fitzpatrick)"),
            required=False,
            coerce=int,
            empty_value=None,
            choices=[("", gettext_lazy("Not recorded"))] + [(str(v), lb) for v, lb in SKIN_TYPES],
        )
        for key, _label in PRODUCT_KINDS:
            f[f"{key}_name"] = forms.CharField(
                label=gettext_lazy("Product"), max_length=120, required=False
            )
            f[f"{key}_lot"] = forms.CharField(
                label=gettext_lazy("Lot number"), max_length=80, required=False
            )
            f[f"{key}_expires_on"] = forms.DateField(
                label=gettext_lazy("Expiry date"), required=False, widget=DateInput()
            )
            f[f"{key}_amount"] = forms.CharField(
                label=gettext_lazy("Amount"), max_length=60, required=False
            )
        f["numbing_amount_g"] = forms.DecimalField(
            label=gettext_lazy("Numbing cream (g)"),
            min_value=0,
            max_value=999,
            decimal_places=1,
            required=False,
        )
        f["numbing_area"] = forms.CharField(
            label=gettext_lazy("Where it was applied"), max_length=200, required=False
        )
        f["numbing_on_at"] = forms.TimeField(
            label=gettext_lazy("On at"), required=False, widget=TimeInput()
        )
        f["numbing_off_at"] = forms.TimeField(
            label=gettext_lazy("Off at"), required=False, widget=TimeInput()
        )
        f["numbing_occluded"] = forms.BooleanField(
            label=gettext_lazy("Covered (occlusion)"), required=False
        )
        f["events"] = forms.CharField(
            label=gettext_lazy("During the procedure"),
            help_text=gettext_lazy("Bleeding, fainting, a reaction... Leave empty if none."),
            required=False,
            max_length=4000,
            widget=forms.Textarea({"rows": 2}),
        )
        f["pain_score"] = forms.IntegerField(
            label=gettext_lazy("Pain (0-10)"), min_value=0, max_value=10, required=False
        )
        f["aftercare_given"] = forms.BooleanField(
            label=gettext_lazy("Aftercare sheet given"), required=False
        )
        f["next_earliest_on"] = forms.DateField(
            label=gettext_lazy("Next session no sooner than"), required=False, widget=DateInput()
        )
        f["notes"] = forms.CharField(
            label=gettext_lazy("Notes"),
            required=False,
            max_length=4000,
            widget=forms.Textarea({"rows": 2}),
        )
        for zone in ZONES:
            p = _zone_prefix(zone.key)
            f[f"{p}_on"] = forms.BooleanField(label=zone.label, required=False)
            f[f"{p}_depth"] = forms.DecimalField(
                label=gettext_lazy("Depth (mm)"),
                min_value=Decimal("0.1"),
                max_value=Decimal("3.0"),
                decimal_places=2,
                required=False,
                widget=forms.NumberInput({"step": str(DEPTH_STEP), "inputmode": "decimal"}),
            )
            f[f"{p}_passes"] = forms.IntegerField(
                label=gettext_lazy("Passes"), min_value=1, max_value=12, required=False
            )
            f[f"{p}_pattern"] = forms.ChoiceField(
                label=gettext_lazy("Pattern"), choices=[("", "-"), *PATTERNS], required=False
            )
            f[f"{p}_endpoint"] = forms.ChoiceField(
                label=gettext_lazy("Endpoint"), choices=ENDPOINTS, required=False
            )

    def clean_next_earliest_on(self) -> date | None:
        return _sane(self.cleaned_data.get("next_earliest_on"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for zone in ZONES:
            p = _zone_prefix(zone.key)
            if data.get(f"{p}_on"):
                if data.get(f"{p}_depth") is None:
                    self.add_error(f"{p}_depth", _("Give the depth used."))
                if not data.get(f"{p}_passes"):
                    self.add_error(f"{p}_passes", _("Give the number of passes."))
                if not data.get(f"{p}_endpoint"):
                    self.add_error(f"{p}_endpoint", _("Choose the endpoint reached."))
        for key, _label in PRODUCT_KINDS:
            value = data.get(f"{key}_expires_on")
            if value is not None and not is_sane_year(value):
                self.add_error(f"{key}_expires_on", _("Give a real date."))
        return data

    def zone_rows(self) -> list[dict[str, Any]]:
        rows = []
        for zone in ZONES:
            p = _zone_prefix(zone.key)
            rows.append(
                {
                    "zone": zone,
                    "on": self[f"{p}_on"],
                    "depth": self[f"{p}_depth"],
                    "passes": self[f"{p}_passes"],
                    "pattern": self[f"{p}_pattern"],
                    "endpoint": self[f"{p}_endpoint"],
                    "checked": bool(self[f"{p}_on"].value()),
                }
            )
        return rows

    def product_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "kind": key,
                "label": label,
                "name": self[f"{key}_name"],
                "lot": self[f"{key}_lot"],
                "expires_on": self[f"{key}_expires_on"],
                "amount": self[f"{key}_amount"],
            }
            for key, label in PRODUCT_KINDS
        ]

    def to_chart(self) -> ChartIn:
        d = self.cleaned_data
        ch = self.choices
        areas = []
        for zone in ZONES:
            p = _zone_prefix(zone.key)
            if d.get(f"{p}_on"):
                areas.append(
                    AreaIn(
                        zone=zone.key,
                        depth_mm=d[f"{p}_depth"],
                        passes=d[f"{p}_passes"],
                        endpoint=d[f"{p}_endpoint"],
                        pattern=d.get(f"{p}_pattern") or "",
                    )
                )
        products = []
        for key, _label in PRODUCT_KINDS:
            name, lot = d.get(f"{key}_name") or "", d.get(f"{key}_lot") or ""
            if name.strip() or lot.strip():
                products.append(
                    ProductIn(
                        kind=key,
                        name=name,
                        lot=lot,
                        expires_on=d.get(f"{key}_expires_on"),
                        amount=d.get(f"{key}_amount") or "",
                    )
                )
        return ChartIn(
            areas=areas,
            products=products,
            device=next((x for x in ch.devices if str(x.pk) == d.get("device")), None),
            operator=next((x for x in ch.operators if str(x.pk) == d.get("operator")), None),
            supervisor=next((x for x in ch.supervisors if str(x.pk) == d.get("supervisor")), None),
            handpiece_serial=d.get("handpiece_serial") or "",
            needle_count=d.get("needle_count"),
            cartridge_opened_at_chair=bool(d.get("cartridge_opened_at_chair")),
            sheath_used=bool(d.get("sheath_used")),
            skin_type=d.get("skin_type"),
            numbing_amount_g=d.get("numbing_amount_g"),
            numbing_area=d.get("numbing_area") or "",
            numbing_on_at=d.get("numbing_on_at"),
            numbing_off_at=d.get("numbing_off_at"),
            numbing_occluded=bool(d.get("numbing_occluded")),
            events=d.get("events") or "",
            pain_score=d.get("pain_score"),
            aftercare_given=bool(d.get("aftercare_given")),
            next_earliest_on=d.get("next_earliest_on"),
            notes=d.get("notes") or "",
        )


def initial_from(data: ChartIn) -> dict[str, Any]:
    """A ChartIn as the form's initial values."""
    initial: dict[str, Any] = {
        "operator": str(data.operator.pk) if data.operator else "",
        "supervisor": str(data.supervisor.pk) if data.supervisor else "",
        "device": str(data.device.pk) if data.device else "",
        "handpiece_serial": data.handpiece_serial,
        "needle_count": data.needle_count,
        "cartridge_opened_at_chair": data.cartridge_opened_at_chair,
        "sheath_used": data.sheath_used,
        "skin_type": data.skin_type,
        "numbing_amount_g": data.numbing_amount_g,
        "numbing_area": data.numbing_area,
        "numbing_on_at": data.numbing_on_at,
        "numbing_off_at": data.numbing_off_at,
        "numbing_occluded": data.numbing_occluded,
        "events": data.events,
        "pain_score": data.pain_score,
        "aftercare_given": data.aftercare_given,
        "next_earliest_on": data.next_earliest_on,
        "notes": data.notes,
    }
    # A zone tapped on the map starts at its usual first depth (DOMAIN.md 3.2).
    for zone in ZONES:
        p = _zone_prefix(zone.key)
        initial.update(
            {
                f"{p}_depth": START_MM[zone.key],
                f"{p}_passes": DEFAULT_PASSES,
                f"{p}_pattern": "crosshatch",
                f"{p}_endpoint": "erythema",
            }
        )
    for area in data.areas:
        p = _zone_prefix(area.zone)
        initial.update(
            {
                f"{p}_on": True,
                f"{p}_depth": area.depth_mm,
                f"{p}_passes": area.passes,
                f"{p}_pattern": area.pattern,
                f"{p}_endpoint": area.endpoint,
            }
        )
    for product in data.products:
        k = product.kind
        if f"{k}_name" in initial:
            continue  # one slot per kind on the tablet; the API takes any number
        initial.update(
            {
                f"{k}_name": product.name,
                f"{k}_lot": product.lot,
                f"{k}_expires_on": product.expires_on,
                f"{k}_amount": product.amount,
            }
        )
    return initial


def _from_chart(chart: Any) -> ChartIn:
    return ChartIn(
        areas=[
            AreaIn(a.zone, a.depth_mm, a.passes, a.endpoint, a.pattern) for a in chart.areas.all()
        ],
        products=[
            ProductIn(
                p.lot.product.kind, p.lot.product.name, p.lot.number, p.lot.expires_on, p.amount
            )
            for p in chart.products.all()
            if p.amendment_id is None
        ],
        device=chart.device,
        operator=chart.operator,
        supervisor=chart.supervisor,
        handpiece_serial=chart.handpiece_serial,
        needle_count=chart.needle_count,
        cartridge_opened_at_chair=chart.cartridge_opened_at_chair,
        sheath_used=chart.sheath_used,
        skin_type=chart.skin_type,
        numbing_amount_g=chart.numbing_amount_g,
        numbing_area=chart.numbing_area,
        numbing_on_at=chart.numbing_on_at,
        numbing_off_at=chart.numbing_off_at,
        numbing_occluded=chart.numbing_occluded,
        events=chart.events,
        pain_score=chart.pain_score,
        aftercare_given=chart.aftercare_given,
        next_earliest_on=chart.next_earliest_on,
        notes=chart.notes,
    )


class AmendForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why the chart is amended"),
        max_length=1000,
        widget=forms.Textarea({"rows": 2}),
        error_messages={"required": gettext_lazy("Say why the chart is amended.")},
    )
    text = forms.CharField(
        label=gettext_lazy("What is corrected or added"),
        max_length=4000,
        required=False,
        widget=forms.Textarea({"rows": 3}),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("A product that was missed (optional)"),
        choices=[("", gettext_lazy("None")), *PRODUCT_KINDS],
        required=False,
    )
    name = forms.CharField(label=gettext_lazy("Product"), max_length=120, required=False)
    lot = forms.CharField(label=gettext_lazy("Lot number"), max_length=80, required=False)
    expires_on = forms.DateField(
        label=gettext_lazy("Expiry date"), required=False, widget=DateInput()
    )

    def clean_expires_on(self) -> date | None:
        return _sane(self.cleaned_data.get("expires_on"))

    def products(self) -> list[ProductIn]:
        d = self.cleaned_data
        if not d.get("kind"):
            return []
        return [ProductIn(d["kind"], d.get("name") or "", d.get("lot") or "", d.get("expires_on"))]


# --- views ----------------------------------------------------------------------------------------


def _load(appointment_id: Any) -> tuple[Any, Any]:
    try:
        return diary_appointment(appointment_id)
    except (ObjectDoesNotExist, ValueError):
        raise Http404 from None


def _context(view: Any, appt: Any, chart: Any, **extra: Any) -> dict[str, Any]:
    policy = chart_policy()
    state = chart_state(chart, policy)
    return {
        "a": view,
        "appt": appt,
        "chart": chart,
        "state": state,
        "policy": policy,
        "zones": ZONES,
        "desk_section": "diary",
        "amend_form": AmendForm(),
        "rescreen": rescreen_summary(appt),
        "consent": consent_summary(appt),
        **extra,
    }


def _apply_errors(form: ChartForm, exc: DomainError) -> None:
    """A service's per-field refusals onto the form's fields, where there is one."""
    zones = [z.key for z in ZONES]
    for key, message in exc.fields.items():
        parts = key.split(".")
        target = None
        if parts[0] == "areas" and len(parts) == 3:
            areas = form.to_chart().areas
            index = int(parts[1]) if parts[1].isdigit() else -1
            if 0 <= index < len(areas) and areas[index].zone in zones:
                name = {"depth_mm": "depth", "zone": "on"}.get(parts[2], parts[2])
                target = f"{_zone_prefix(areas[index].zone)}_{name}"
        elif parts[0] == "products" and len(parts) == 3:
            kinds = [p.kind for p in form.to_chart().products]
            index = int(parts[1]) if parts[1].isdigit() else -1
            if 0 <= index < len(kinds):
                target = f"{kinds[index]}_{parts[2]}"
        elif parts[0] in form.fields:
            target = parts[0]
        if target in form.fields:
            form.add_error(target, message)
        else:
            form.add_error(None, message)


@clinician_required
def chart_page(request: HttpRequest, appointment_id: Any) -> HttpResponse:
    view, appt = _load(appointment_id)
    now = timezone.now()
    chart = chart_for_appointment(appt)
    choices = chart_choices(appt.location)
    if chart is not None and chart.is_signed:
        if request.method == "POST":
            messages.error(request, _("This chart is signed; add an amendment instead."))
            return redirect("desk:chart", appointment_id=appt.pk)
        chart_view_record(chart=chart, by=request.user, now=now, via="desk")
        return render(request, "backoffice/chart.html", _context(view, appt, chart))
    if request.method == "POST":
        form = ChartForm(request.POST, choices=choices)
        sign = request.POST.get("action") == "sign"
        if form.is_valid():
            try:
                saved = chart_save(
                    appointment=appt, data=form.to_chart(), by=request.user, now=now, sign=sign
                )
            except DomainError as exc:
                _apply_errors(form, exc)
                context = _context(view, appt, chart, form=form, error=exc.message)
                return render(request, "backoffice/chart.html", context, status=exc.http_status)
            for warning in saved.warnings:
                messages.warning(request, warning)
            messages.success(request, _("Chart signed.") if sign else _("Draft saved."))
            return redirect("desk:chart", appointment_id=appt.pk)
        context = _context(view, appt, chart, form=form, error=_("Check the fields marked."))
        return render(request, "backoffice/chart.html", context, status=422)
    if chart is not None:
        chart_view_record(chart=chart, by=request.user, now=now, via="desk")
        start = _from_chart(chart)
    else:
        start = chart_defaults(appt)
    form = ChartForm(initial=initial_from(start), choices=choices)
    return render(request, "backoffice/chart.html", _context(view, appt, chart, form=form))


@clinician_required
def chart_cosign_view(request: HttpRequest, appointment_id: Any) -> HttpResponse:
    view, appt = _load(appointment_id)
    if request.method != "POST":
        return redirect("desk:chart", appointment_id=appt.pk)
    chart = chart_for_appointment(appt)
    if chart is None:
        raise Http404
    try:
        chart_cosign(chart=chart, by=request.user, now=timezone.now())
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Chart co-signed."))
    return redirect("desk:chart", appointment_id=appt.pk)


@clinician_required
def chart_amend_view(request: HttpRequest, appointment_id: Any) -> HttpResponse:
    view, appt = _load(appointment_id)
    if request.method != "POST":
        return redirect("desk:chart", appointment_id=appt.pk)
    chart = chart_for_appointment(appt)
    if chart is None:
        raise Http404
    form = AmendForm(request.POST)
    if form.is_valid():
        try:
            chart_amend(
                chart=chart,
                by=request.user,
                now=timezone.now(),
                reason=form.cleaned_data["reason"],
                text=form.cleaned_data["text"],
                products=form.products(),
            )
        except DomainError as exc:
            for key, message in exc.fields.items():
                name = key.split(".")[-1]
                form.add_error(name if name in form.fields else None, message)
            if not exc.fields:
                form.add_error(None, exc.message)
        else:
            messages.success(request, _("Amendment added."))
            return redirect("desk:chart", appointment_id=appt.pk)
    context = _context(view, appt, chart, amend_form=form, error=_("Check the amendment."))
    return render(request, "backoffice/chart.html", context, status=422)
