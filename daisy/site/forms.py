"""Forms of the booking flow. Each validates what a person typed and says plainly what to fix;
the clients app's own normalisers decide what a valid phone, email and date of birth are, so the
booking form and the back-office agree."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from daisy.clients.services import (
    NAME_MAX,
    date_of_birth_check,
    email_normalise,
    phone_normalise,
)
from daisy.lib.errors import ValidationFailed
from daisy.lib.names import validate_person_name

ANYONE = "anyone"
YES_NO = [("no", _("No")), ("yes", _("Yes"))]


class TreatmentForm(forms.Form):
    treatment = forms.ChoiceField(
        label=_("Which treatment would you like?"), widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, treatments: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["treatment"].choices = [
            (
                i.slug,
                f"{i.treatment.name} · {i.minutes} min · "
                + (str(_("Free")) if i.is_free else f"£{i.treatment.price}"),
            )
            for i in treatments
        ]


class AreasForm(forms.Form):
    areas = forms.MultipleChoiceField(
        label=_("Which areas would you like treated?"),
        help_text=_("Choose one or more. Your specialist will confirm the plan with you."),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one area.")},
    )

    def __init__(self, *args: Any, areas: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["areas"].choices = [(a, a) for a in areas]


class PlaceForm(forms.Form):
    location = forms.ChoiceField(label=_("Clinic"), widget=forms.RadioSelect)
    specialist = forms.ChoiceField(
        label=_("Specialist"),
        help_text=_("“Anyone” shows the most times."),
        required=False,
        # The list on the page belongs to the clinic selected when it loaded; a specialist
        # who does not work at a newly chosen clinic is refused with this.
        error_messages={
            "invalid_choice": _(
                "That specialist does not work at the clinic you chose. Choose again from the list."
            )
        },
    )

    def __init__(
        self,
        *args: Any,
        locations: list[tuple[str, str]],
        specialists: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].choices = locations
        self.fields["specialist"].choices = [(ANYONE, _("Anyone available")), *specialists]

    def clean_specialist(self) -> str:
        return self.cleaned_data.get("specialist") or ANYONE


class DetailsForm(forms.Form):
    first_name = forms.CharField(
        validators=[validate_person_name],
        label=_("First name"),
        max_length=NAME_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        validators=[validate_person_name],
        label=_("Last name"),
        max_length=NAME_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    email = forms.CharField(
        label=_("Email"),
        help_text=_("We send your confirmation and a link to set up your account here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        help_text=_("For reminders and if we need to reach you about your appointment."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        help_text=_("Day/month/year, for example 17/05/1990. Some treatments have age limits."),
        input_formats=["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"],
        # A text box, not a date picker: a birth date is quicker to type than to scroll to, and
        # typing works the same in every browser, locale and assistive technology.
        widget=forms.DateInput(
            attrs={"autocomplete": "bday", "inputmode": "numeric", "spellcheck": "false"},
            format="%d/%m/%Y",
        ),
        error_messages={"invalid": _("Enter a date, for example 17/05/1990.")},
    )

    def __init__(self, *args: Any, today: date, region: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.region = region  # the location's country: how a number without +country is read

    def _normalised(self, name: str, fn: Any) -> Any:
        try:
            return fn(self.cleaned_data[name])
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.fields.get(name, exc.message)) from None

    def clean_email(self) -> str:
        value = self._normalised("email", email_normalise)
        if not value:
            raise forms.ValidationError(_("Enter your email address."))
        return value

    def clean_phone(self) -> str:
        value = self._normalised("phone", lambda v: phone_normalise(v, region=self.region))
        if not value:
            raise forms.ValidationError(_("Enter a phone number."))
        return value

    def clean_date_of_birth(self) -> date:
        return self._normalised("date_of_birth", lambda v: date_of_birth_check(v, today=self.today))


class PrescreenForm(forms.Form):
    """The treatment's online questions (the clinic's screening table): one required yes/no
    each, nothing preselected, so every question is really answered; a question that asks when
    also takes the date it last happened, needed with a yes."""

    def __init__(self, *args: Any, questions: Sequence[Any], today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        self.today = today
        for q in self.questions:
            self.fields[q.key] = forms.ChoiceField(
                label=q.text,
                choices=YES_NO,
                widget=forms.RadioSelect,
                error_messages={"required": _("Please answer yes or no.")},
            )
            if q.asks_when:
                self.fields[f"{q.key}_on"] = forms.DateField(
                    label=_("If yes, when was the last time?"),
                    required=False,
                    widget=forms.DateInput(attrs={"type": "date"}),
                    help_text=_("A close guess is fine."),
                    error_messages={"invalid": _("Enter a date, for example 2030-01-31.")},
                )

    @property
    def items(self) -> list[tuple[Any, Any]]:
        """(the yes/no field, its date field or None), in the order asked."""
        return [(self[q.key], self[f"{q.key}_on"] if q.asks_when else None) for q in self.questions]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for q in self.questions:
            if not q.asks_when or data.get(q.key) != "yes":
                continue
            on = data.get(f"{q.key}_on")
            if on is None and f"{q.key}_on" not in self.errors:
                self.add_error(f"{q.key}_on", _("Please give the date (a close guess is fine)."))
            elif on is not None and on > self.today:
                self.add_error(
                    f"{q.key}_on", _("Give the last time it happened, not a date ahead.")
                )
        return data

    def answers(self) -> dict[str, Any]:
        """question -> answered yes (and `<question>_on` -> the date, as text), for the booking
        service, which evaluates them again."""
        answers: dict[str, Any] = {}
        for q in self.questions:
            yes = self.cleaned_data.get(q.key) == "yes"
            answers[q.key] = yes
            on = self.cleaned_data.get(f"{q.key}_on")
            if q.asks_when and yes and on is not None:
                answers[f"{q.key}_on"] = on.isoformat()
        return answers
