"""Forms of the whole-course booking flow (daisy/site/course_booking/views.py). Each says
plainly what to fix; the domain services check again when the course is booked."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from daisy.site.forms import ANYONE

# DOMAIN.md section 0 row 1 and 1.2: up to 6 sessions is a standard course; more is an extended
# or maintenance course that a specialist must confirm, so it is never booked online.
ONLINE_MAX_SESSIONS = 6
UNSURE = "unsure"
RECOMMENDED = "recommended"
# How far ahead a client may ask the first session to start (the planner then looks a whole
# course further on).
EARLIEST_START_MAX_DAYS = 365
# Local windows that hold the whole visit (the planner's `preferred_times`).
TIMES_OF_DAY = [
    ("morning", gettext_lazy("Mornings (8:00 to 12:00)"), time(8), time(12)),
    ("afternoon", gettext_lazy("Afternoons (12:00 to 17:00)"), time(12), time(17)),
    ("evening", gettext_lazy("Evenings (17:00 to 21:00)"), time(17), time(21)),
]
WEEKDAYS = [
    (0, gettext_lazy("Monday")),
    (1, gettext_lazy("Tuesday")),
    (2, gettext_lazy("Wednesday")),
    (3, gettext_lazy("Thursday")),
    (4, gettext_lazy("Friday")),
    (5, gettext_lazy("Saturday")),
    (6, gettext_lazy("Sunday")),
]

_DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"]


def _date_field(label: Any, *, required: bool = True, help_text: Any = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        input_formats=_DATE_FORMATS,
        widget=_DATE_WIDGET,
        error_messages={
            "invalid": _("Enter a date, for example 17/05/2030."),
            "required": _("Enter a date."),
        },
    )


class CourseForm(forms.Form):
    areas = forms.MultipleChoiceField(
        label=_("Which areas would you like treated?"),
        help_text=_("Choose one or more. Your specialist will confirm the plan with you."),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one area.")},
    )
    concern = forms.ChoiceField(
        label=_("What would you most like to improve?"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what you would like to improve, or “Not sure”.")},
    )
    sessions = forms.ChoiceField(
        label=_("How many sessions?"),
        help_text=_(
            "Up to 6 sessions can be booked here. A longer (extended) course needs a "
            "specialist’s confirmation: ask us for an extended course."
        ),
        error_messages={
            "invalid_choice": _(
                "Up to 6 sessions can be booked online. For more, ask us for an extended "
                "course: a specialist confirms it with you first."
            )
        },
    )
    earliest_start = _date_field(
        _("Earliest date for your first session"),
        help_text=_("Your first session will be within a week of this date."),
    )

    def __init__(
        self, *args: Any, areas: list[str], concerns: list[tuple[str, str]], today: date, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self.today = today
        if areas:
            self.fields["areas"].choices = [(a, a) for a in areas]
        else:
            del self.fields["areas"]
        self.fields["concern"].choices = [*concerns, (UNSURE, _("Not sure yet"))]
        self.fields["sessions"].choices = [
            (RECOMMENDED, _("As recommended for what I chose")),
            *[(str(n), str(n)) for n in range(1, ONLINE_MAX_SESSIONS + 1)],
        ]

    def clean_earliest_start(self) -> date:
        value: date = self.cleaned_data["earliest_start"]
        if value < self.today:
            raise forms.ValidationError(_("That date has passed. Choose today or later."))
        if value > self.today + timedelta(days=EARLIEST_START_MAX_DAYS):
            raise forms.ValidationError(_("Choose a date within the next year."))
        return value


class WhenForm(forms.Form):
    location = forms.ChoiceField(label=_("Clinic"), widget=forms.RadioSelect)
    specialist = forms.ChoiceField(
        label=_("Specialist"),
        help_text=_("We keep the same specialist for every session where we can."),
        required=False,
    )
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Which days suit you?"),
        help_text=_("Leave all unticked if any day is fine."),
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    times = forms.MultipleChoiceField(
        label=_("Which times of day suit you?"),
        help_text=_("Leave all unticked if any time is fine."),
        choices=[(key, label) for key, label, _a, _b in TIMES_OF_DAY],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self,
        *args: Any,
        locations: list[tuple[str, str]],
        specialists: list[tuple[str, str]],
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.fields["location"].choices = locations
        self.fields["specialist"].choices = [(ANYONE, _("Anyone available")), *specialists]

    def clean_specialist(self) -> str:
        return self.cleaned_data.get("specialist") or ANYONE


FURTHEST_AHEAD = timedelta(days=5 * 366)


class ImportantDateForm(forms.Form):
    kind = forms.ChoiceField(label=_("What is it?"))
    label = forms.CharField(
        label=_("Name it (optional)"),
        help_text=_("For example “Sam’s wedding”."),
        max_length=120,
        required=False,
    )
    start_on = _date_field(_("Date, or first day"))
    end_on = _date_field(
        _("Last day (optional)"),
        required=False,
        help_text=_("For something that lasts several days, such as a holiday."),
    )

    def __init__(self, *args: Any, kinds: list[tuple[str, str]], today: date, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.today = today
        self.fields["kind"].choices = [("", _("Choose…")), *kinds]
        self.fields["kind"].error_messages["required"] = _("Choose what the date is for.")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start_on"), data.get("end_on")
        if start is None:
            return data
        end = end or start
        if end < start:
            self.add_error("end_on", _("The last day must be on or after the first day."))
        elif (end - start).days > 366:
            self.add_error("end_on", _("An important date spans at most a year."))
        elif end < self.today:
            self.add_error("start_on", _("That date has passed."))
        elif end > self.today + FURTHEST_AHEAD:
            # A course spans at most about a year and a half; a far date only breaks calendars.
            self.add_error("start_on", _("Choose a date within the next five years."))
        data["end_on"] = end
        return data
