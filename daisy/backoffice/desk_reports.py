"""The owner's reports at /desk/reports/ (issue 16, item 5): for the clinic manager only.

One page shows every report for a range of days and a location, each as a chart (SVG drawn
here, daisy/backoffice/charts.py) beside a table of the same numbers; each report downloads as
CSV (/desk/reports/<report>.csv) with the same filters. The figures come from
daisy.booking.reports; this module only turns them into tables, charts and files."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from daisy.backoffice.access import manager_required
from daisy.backoffice.charts import Series, bar_chart
from daisy.booking import reports
from daisy.clinic.selectors import active_locations, clinic_zone

DEFAULT_DAYS = 30
# Two years at most: a year against the year before is the longest comparison an owner makes.
MAX_DAYS = 731


class ReportFilterForm(forms.Form):
    start = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"}))
    location = forms.ChoiceField(label=gettext_lazy("Location"), required=False)
    rebook_days = forms.IntegerField(
        label=gettext_lazy("Rebooked within (days)"),
        min_value=1,
        max_value=365,
        initial=reports.DEFAULT_REBOOK_DAYS,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("Every location"))]
        choices += [(str(loc.pk), loc.name) for loc in active_locations()]
        self.fields["location"].choices = choices
        self.locations = {str(loc.pk): loc for loc in active_locations()}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("The last day must be on or after the first."))
            elif (end - start).days + 1 > MAX_DAYS:
                self.add_error(
                    "end", _("Choose at most %(days)s days at a time.") % {"days": MAX_DAYS}
                )
        return data

    def period(self) -> reports.Period:
        data = self.cleaned_data
        location = self.locations.get(data.get("location") or "")
        return reports.Period(
            first_day=data["start"],
            last_day=data["end"],
            location_id=location.pk if location else None,
            rebook_days=data["rebook_days"],
        )


def _defaults() -> dict[str, Any]:
    today = timezone.now().astimezone(clinic_zone()).date()
    return {
        "start": (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
        "end": today.isoformat(),
        "location": "",
        "rebook_days": reports.DEFAULT_REBOOK_DAYS,
    }


def _form(request: HttpRequest) -> ReportFilterForm:
    data = request.GET if request.GET else _defaults()
    if request.GET:
        data = {**_defaults(), **request.GET.dict()}
    return ReportFilterForm(data)


# --- tables --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[Any]]  # str labels, int counts, Decimal amounts, float shares, None
    numeric: list[bool] = field(default_factory=list)

    @property
    def head(self) -> list[tuple[str, bool]]:
        return list(zip(self.columns, self.numeric, strict=True))

    @property
    def body(self) -> list[list[tuple[str, bool]]]:
        """Each row's cells as text, with whether the column holds numbers."""
        return [[(cell(v), n) for v, n in zip(row, self.numeric, strict=True)] for row in self.rows]


def cell(value: Any) -> str:
    """A value as both the table and the CSV show it: shares as percentages."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value * 100:.1f}%"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def _pct(value: float | None) -> str:
    return cell(value)


def _count(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


@dataclass(frozen=True)
class Part:
    heading: str
    chart: SafeString
    table: Table


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    intro: str
    parts: list[Part]
    summary: str = ""


def _table(columns: Sequence[str], rows: list[list[Any]]) -> Table:
    numeric = [i > 0 for i in range(len(columns))]
    return Table(list(columns), rows, numeric)


def _utilisation(period: reports.Period) -> Section:
    rows = reports.utilisation(period)
    labels = [f"{r.name} ({reports.KIND_LABELS[r.kind].lower()})" for r in rows]
    chart = bar_chart(
        chart_id="chart-utilisation",
        title=_("Utilisation by specialist, room and device"),
        description=_(
            "Booked time as a share of open time, one bar each; the table beside it "
            "has the same figures."
        ),
        labels=labels,
        series=[Series(_("Utilisation"), [r.share for r in rows])],
        show=_pct,
        top=1.0,
    )
    table = _table(
        [
            _("Specialist, room or device"),
            _("Kind"),
            _("Booked (minutes)"),
            _("Open (minutes)"),
            _("Utilisation"),
        ],
        [
            [r.name, str(reports.KIND_LABELS[r.kind]), r.booked_minutes, r.open_minutes, r.share]
            for r in rows
        ],
    )
    table.numeric[1] = False
    return Section(
        "utilisation",
        _("Utilisation"),
        _(
            "Minutes booked by sessions that start in the period (booked, arrived, in treatment "
            "or completed; clean-down included) over the minutes open: working hours within the "
            "location's opening hours, less closures, changed days and time off. Cancelled and "
            "no-show appointments gave their time back, so they are not counted as booked."
        ),
        [Part("", chart, table)],
    )


def _attendance(period: reports.Period) -> Section:
    found = reports.attendance(period)
    rows = [*found.rows, found.total]
    names = [r.specialist or _("No specialist") for r in found.rows] + [_("All specialists")]
    chart = bar_chart(
        chart_id="chart-attendance",
        title=_("No-show and late-cancellation rates by specialist"),
        description=_(
            "Two bars for each specialist and for everyone: the no-show rate and the "
            "late-cancellation rate."
        ),
        labels=names,
        series=[
            Series(_("No-show rate"), [r.no_show_rate for r in rows]),
            Series(_("Late-cancellation rate"), [r.late_cancel_rate for r in rows]),
        ],
        show=_pct,
    )
    table = _table(
        [
            _("Specialist"),
            _("Appointments"),
            _("Cancelled"),
            _("Cancelled late"),
            _("No-shows"),
            _("No-show rate"),
            _("Late-cancellation rate"),
        ],
        [
            [
                name,
                r.appointments,
                r.cancelled,
                r.late_cancelled,
                r.no_shows,
                r.no_show_rate,
                r.late_cancel_rate,
            ]
            for name, r in zip(names, rows, strict=True)
        ],
    )
    return Section(
        "attendance",
        _("No-shows and late cancellations"),
        _(
            "Appointments that start in the period. No-show rate: no-shows out of the "
            "appointments still on (all but the cancelled ones). Late-cancellation rate: "
            "cancellations made inside the treatment's cancellation window (48 hours unless the "
            "clinic changed it for that treatment), out of every appointment. Cancellations the "
            "clinic made itself are never late."
        ),
        [Part("", chart, table)],
    )


def _revenue(period: reports.Period) -> Section:
    found = reports.revenue(period)
    parts = []
    for key, heading, column, rows in (
        ("treatment", _("By treatment"), _("Treatment"), found.by_treatment),
        ("specialist", _("By specialist"), _("Specialist"), found.by_specialist),
        ("location", _("By location"), _("Location"), found.by_location),
    ):
        names = [r.name or _("No specialist") for r in rows]
        labels = [f"{n} ({r.currency})" for n, r in zip(names, rows, strict=True)]
        chart = bar_chart(
            chart_id=f"chart-revenue-{key}",
            title=_("Revenue from completed sessions, %(by)s") % {"by": heading.lower()},
            description=_(
                "One bar each: the booked price of the completed sessions, in the currency named."
            ),
            labels=labels,
            series=[Series(_("Revenue"), [float(r.amount) for r in rows])],
            show=lambda v: "–" if v is None else f"{v:.2f}",
        )
        table = _table(
            [column, _("Currency"), _("Completed sessions"), _("Revenue")],
            [[n, r.currency, r.sessions, r.amount] for n, r in zip(names, rows, strict=True)],
        )
        table.numeric[1] = False
        parts.append(Part(heading, chart, table))
    totals = "; ".join(
        _("%(amount)s %(currency)s from %(n)s completed sessions")
        % {"amount": f"{t.amount:,.2f}", "currency": t.currency, "n": t.sessions}
        for t in found.totals
    )
    return Section(
        "revenue",
        _("Revenue"),
        _(
            "Completed sessions that start in the period, at the price stored on each booking "
            "when it was made (the treatment's price then, or the price staff agreed), so a "
            "later price change does not alter it. Daisy does not record payments: this is the "
            "value of the sessions given, not the money taken."
        ),
        parts,
        summary=totals or _("No completed sessions in this period."),
    )


def _courses(period: reports.Period) -> Section:
    found = reports.courses(period)
    steps = found.steps
    labels = [_("Session %(n)s") % {"n": s.number} for s in steps]
    chart = bar_chart(
        chart_id="chart-courses",
        title=_("Courses reaching each session"),
        description=_(
            "For each session number, two bars: the courses planned to reach it and "
            "the courses that completed it."
        ),
        labels=labels,
        series=[
            Series(_("Planned"), [s.planned for s in steps]),
            Series(_("Completed"), [s.completed for s in steps]),
        ],
        show=_count,
    )
    table = _table(
        [
            _("Session"),
            _("Courses planned to reach it"),
            _("Completed"),
            _("Completion"),
            _("Stopped before it"),
        ],
        [
            [label, s.planned, s.completed, s.completion, s.stopped_before]
            for label, s in zip(labels, steps, strict=True)
        ],
    )
    summary = _(
        "%(n)s courses began in this period: %(finished)s finished every session "
        "(%(rate)s), %(stopped)s stopped early."
    ) % {
        "n": found.courses,
        "finished": found.finished,
        "rate": cell(found.completion_rate),
        "stopped": found.stopped,
    }
    return Section(
        "courses",
        _("Course completion and drop-off"),
        _(
            "Courses whose first session falls in the period, at the course's location. A "
            "session counts when it was completed. A course stopped early when it was stopped, "
            "or when it is not finished and has no session left booked. 'Stopped before it': "
            "courses that ended having completed every session up to the one before."
        ),
        [Part("", chart, table)],
        summary=summary,
    )


def _rebooking(period: reports.Period) -> Section:
    found = reports.rebooking(period)
    rows = [*found.rows, found.total]
    names = [r.specialist or _("No specialist") for r in found.rows] + [_("All specialists")]
    chart = bar_chart(
        chart_id="chart-rebooking",
        title=_("Rebooking rate by specialist"),
        description=_(
            "One bar for each specialist and one for everyone: the share of clients "
            "with a later visit booked in time."
        ),
        labels=names,
        series=[Series(_("Rebooking rate"), [r.rate for r in rows])],
        show=_pct,
        top=1.0,
    )
    table = _table(
        [
            _("Specialist"),
            _("Clients with a completed session"),
            _("Rebooked within %(days)s days") % {"days": found.days},
            _("Rebooking rate"),
        ],
        [[name, r.clients, r.rebooked, r.rate] for name, r in zip(names, rows, strict=True)],
    )
    return Section(
        "rebooking",
        _("Rebooking"),
        _(
            "Clients with a session completed in the period who had another visit booked by "
            "%(days)s days after it (a later appointment, not cancelled; a course's next session "
            "booked in advance counts). A client seen by two specialists counts once in the "
            "total."
        )
        % {"days": found.days},
        [Part("", chart, table)],
    )


def _delivery(period: reports.Period) -> Section:
    rows, zone = reports.delivery(period)
    labels = [r.channel_label for r in rows]
    chart = bar_chart(
        chart_id="chart-delivery",
        title=_("Messages sent, failed and with an unknown outcome, by channel"),
        description=_(
            "Three bars for each channel: messages sent, failed, and handed over "
            "with no result recorded."
        ),
        labels=labels,
        series=[
            Series(_("Sent"), [r.sent for r in rows]),
            Series(_("Failed"), [r.failed for r in rows]),
            Series(_("Outcome unknown"), [r.unknown for r in rows]),
        ],
        show=_count,
    )
    table = _table(
        [
            _("Channel"),
            _("Messages"),
            _("Sent"),
            _("Failed"),
            _("Outcome unknown"),
            _("Waiting"),
            _("Cancelled"),
            _("Sent again after an unknown outcome"),
            _("Failure rate"),
        ],
        [
            [
                r.channel_label,
                r.messages,
                r.sent,
                r.failed,
                r.unknown,
                r.waiting,
                r.cancelled,
                r.resent,
                r.failure_rate,
            ]
            for r in rows
        ],
    )
    return Section(
        "delivery",
        _("Message delivery"),
        _(
            "Emails and text messages due to be sent in the period, by how they ended. "
            "Messages are the whole clinic's whatever location is chosen (a message knows its "
            "recipient, not a location); its days are in %(zone)s. Failure rate: failed out of "
            "those sent, failed or with an unknown outcome."
        )
        % {"zone": zone.key},
        [Part("", chart, table)],
    )


SECTIONS: dict[str, tuple[str, Callable[[reports.Period], Section]]] = {
    "utilisation": (gettext_lazy("Utilisation"), _utilisation),
    "attendance": (gettext_lazy("No-shows and late cancellations"), _attendance),
    "revenue": (gettext_lazy("Revenue"), _revenue),
    "courses": (gettext_lazy("Course completion and drop-off"), _courses),
    "rebooking": (gettext_lazy("Rebooking"), _rebooking),
    "delivery": (gettext_lazy("Message delivery"), _delivery),
}


_manager_only = manager_required(gettext_lazy("The reports are for the clinic manager."))


@_manager_only
@require_GET
def report_page(request: HttpRequest) -> HttpResponse:
    """Every report, for the chosen days and location."""
    form = _form(request)
    sections: list[Section] = []
    zone_note = ""
    query = ""
    if form.is_valid():
        period = form.period()
        sections = [build(period) for _title, build in SECTIONS.values()]
        chosen = form.locations.get(form.cleaned_data.get("location") or "")
        if chosen:
            zone_note = _("Days are local days at the location (%(zone)s).") % {
                "zone": chosen.time_zone
            }
        else:
            zones = sorted({loc.time_zone for loc in form.locations.values()})
            zone_note = _(
                "Days are local days at each location, in its own time zone (%(zones)s)."
            ) % {"zones": ", ".join(zones)}
        query = urlencode(
            {
                "start": form.cleaned_data["start"].isoformat(),
                "end": form.cleaned_data["end"].isoformat(),
                "location": form.cleaned_data.get("location") or "",
                "rebook_days": form.cleaned_data["rebook_days"],
            }
        )
    return render(
        request,
        "backoffice/reports.html",
        {
            "form": form,
            "sections": sections,
            "zone_note": zone_note,
            "query": query,
            "desk_section": "reports",
        },
        status=200 if form.is_valid() else 400,
    )


@_manager_only
@require_GET
def report_csv(request: HttpRequest, report: str) -> HttpResponse:
    """One report as CSV, with the page's filters (the same numbers as its tables)."""
    if report not in SECTIONS:
        raise Http404(_("There is no such report."))
    form = _form(request)
    if not form.is_valid():
        problems = "; ".join(str(e) for errors in form.errors.values() for e in errors)
        return HttpResponse(problems, status=400, content_type="text/plain; charset=utf-8")
    period = form.period()
    section = SECTIONS[report][1](period)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"daisy-{report}-{period.first_day:%Y-%m-%d}-to-{period.last_day:%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    several = len(section.parts) > 1
    for n, part in enumerate(section.parts):
        if n == 0 and several:
            writer.writerow([_("Grouped"), _("Name"), *part.table.columns[1:]])
        elif n == 0:
            writer.writerow(part.table.columns)
        for row in part.table.rows:
            cells = ["" if v is None else cell(v) for v in row]
            writer.writerow(([part.heading] if several else []) + cells)
    return response
