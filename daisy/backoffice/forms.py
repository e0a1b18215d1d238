"""Forms of the front desk: they shape what staff type; the rules live in the services."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from daisy.booking.diary import DESK_STATUSES
from daisy.lib.times import is_sane_year, parse_offered_start


class VersionForm(forms.Form):
    """Every action carries the version of the appointment the desk was looking at."""

    version = forms.CharField(max_length=64, widget=forms.HiddenInput)
    # Several of these forms share one appointment panel: each gives its fields their own ids
    # (two "id_version" inputs on one page are invalid HTML and confuse labels).
    id_prefix = "id"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class StatusForm(VersionForm):
    status = forms.ChoiceField(choices=[(k, k) for k in DESK_STATUSES])


class CancelForm(VersionForm):
    id_prefix = "cancel"
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        help_text=_("Kept with the appointment, e.g. “Client unwell”."),
    )
    by_clinic = forms.TypedChoiceField(
        label=_("Who cancelled"),
        choices=[("0", _("The client")), ("1", _("The clinic"))],
        coerce=lambda v: v == "1",
        initial="0",
        widget=forms.RadioSelect,
        help_text=_("A cancellation by the clinic never counts as a late cancellation."),
    )
    notify_client = forms.BooleanField(
        label=_("Send the client a cancellation message"), required=False, initial=True
    )


class NoteForm(VersionForm):
    id_prefix = "note"
    notes = forms.CharField(
        label=_("Note"),
        max_length=2000,
        required=False,
        widget=forms.Textarea({"rows": 3}),
        help_text=_("Seen by the clinic's staff only."),
    )


def parse_choice(raw: str) -> tuple[datetime, str] | None:
    """A free time offered by the desk: "<aware ISO instant>|<specialist id or nothing>"."""
    start_raw, _sep, specialist = (raw or "").partition("|")
    start = parse_offered_start(start_raw)
    if start is None:
        return None
    return start, specialist.strip()


class ChoiceForm(forms.Form):
    """One of the free times the desk offered (and, for a session less than 28 days from the
    client's previous one, a clinician's reason: DOMAIN.md 1.2)."""

    choice = forms.CharField(max_length=120)
    gap_reason = forms.CharField(required=False, max_length=2000)

    def clean_choice(self) -> tuple[datetime, str]:
        value = parse_choice(self.cleaned_data["choice"])
        if value is None:
            raise forms.ValidationError(_("Choose one of the times offered."))
        return value


class MoveForm(ChoiceForm, VersionForm):
    pass


class MoveSearchForm(forms.Form):
    """Where to look for a new time: a day and, optionally, a specialist."""

    on = forms.DateField(label=_("Day"), widget=forms.DateInput({"type": "date"}))
    specialist = forms.CharField(label=_("Specialist"), required=False, max_length=40)

    def clean_on(self) -> date:
        value = self.cleaned_data["on"]
        if not is_sane_year(datetime.combine(value, datetime.min.time())):
            raise forms.ValidationError(_("Choose a day in the next few years."))
        return value


def initial_version(appointment: Any) -> dict[str, str]:
    return {"version": appointment.version}


class NewClientForm(forms.Form):
    """A caller or walk-in the clinic does not know yet."""

    # Its fields share one form with "Find" and "Show free times" for a known client, inside a
    # closed <details>: the browser's own "required" check would silently block those buttons.
    # The server validates the names whenever a new client is given.
    use_required_attribute = False

    first_name = forms.CharField(label=_("First name"), max_length=80)
    last_name = forms.CharField(label=_("Last name"), max_length=80)
    phone = forms.CharField(
        label=_("Phone"), max_length=40, required=False, widget=forms.TextInput({"type": "tel"})
    )
    email = forms.EmailField(label=_("Email"), required=False)
    date_of_birth = forms.DateField(
        label=_("Date of birth"), required=False, widget=forms.DateInput({"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("phone") and not data.get("email"):
            raise forms.ValidationError(
                _("Give a phone number or an email address, so the client can be reached.")
            )
        return data


class BookForm(ChoiceForm):
    client = forms.UUIDField(required=False)
    treatment = forms.CharField(max_length=80)
    confirm_duplicate = forms.BooleanField(
        label=_("I have checked: this is someone else"), required=False
    )
    notes = forms.CharField(required=False, max_length=2000)
