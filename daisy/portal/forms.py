"""Forms of the client portal: they shape input; the rules live in the domain services."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from daisy.lib.names import validate_person_name
from daisy.lib.times import parse_offered_start


class ProfileForm(forms.Form):
    first_name = forms.CharField(
        validators=[validate_person_name],
        label=_("First name"), max_length=80, widget=forms.TextInput({"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        validators=[validate_person_name],
        label=_("Last name"), max_length=80, widget=forms.TextInput({"autocomplete": "family-name"})
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=40,
        required=False,
        help_text=_("For text reminders, e.g. 07911 123456."),
        widget=forms.TextInput({"autocomplete": "tel", "inputmode": "tel"}),
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        required=False,
        widget=forms.DateInput({"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )


class StartForm(forms.Form):
    """One chosen start time, as the aware ISO 8601 instant the time picker offers."""

    start = forms.CharField(max_length=40)

    def clean_start(self) -> datetime:
        value = parse_offered_start(self.cleaned_data["start"])
        if value is None:
            raise forms.ValidationError(_("Choose one of the times offered."))
        return value


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        max_length=300,
        required=False,
        help_text=_("It helps us, but you do not have to say."),
    )


class PreferencesForm(forms.Form):
    # The values of clients.ContactChannel; the service refuses anything else.
    contact_channel = forms.ChoiceField(
        label=_("How should we send appointment confirmations, reminders and aftercare?"),
        choices=[
            ("email", _("Email")),
            ("sms", _("Text message (SMS)")),
            ("both", _("Email and text message")),
        ],
        widget=forms.RadioSelect,
        help_text=_("These are messages about your own appointments and care."),
    )
    marketing_consent = forms.BooleanField(
        label=_("Yes, send me news and offers from the clinic"),
        required=False,
        help_text=_(
            "Separate from the messages above, and entirely up to you: you can change your mind "
            "at any time here."
        ),
    )
