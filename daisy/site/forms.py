"""Forms of the booking flow. Each validates what a person typed and says plainly what to fix;
the clients app's own normalisers decide what a valid phone, email and date of birth are, so the
booking form and the back-office agree."""

from __future__ import annotations

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

ANYONE = "anyone"
YES_NO = [("no", _("No")), ("yes", _("Yes"))]

# DOMAIN.md 2.2: the hard stops (tier HARD_STOP) asked as plain questions before booking a
# treatment that needs screening. A "yes" means we do not treat at this visit; each answer's
# explanation is what the client reads. (key, question, why, DOMAIN.md 2.2 row)
HARD_STOPS: list[tuple[str, Any, Any, str]] = [
    (
        "pregnant",
        _("Are you pregnant, or breastfeeding?"),
        _(
            "There is no safety information for this treatment during pregnancy or "
            "breastfeeding, so we wait until afterwards."
        ),
        "8",
    ),
    (
        "infection",
        _("Do you have an infection, a cold sore, an open wound or irritated skin in the area?"),
        _("Treating through an infection or broken skin risks spreading it; it must heal first."),
        "1, 2",
    ),
    (
        "acne",
        _("Do you have inflamed (red, swollen) acne in the area?"),
        _("Inflamed spots need to settle before the area can be treated."),
        "4",
    ),
    (
        "isotretinoin",
        _("Are you taking isotretinoin (Roaccutane), or did you stop less than 6 months ago?"),
        _(
            "Skin heals differently on isotretinoin and for months after it, so the device "
            "maker advises against treatment."
        ),
        "5, 6",
    ),
    (
        "bleeding",
        _("Do you have a bleeding disorder, such as haemophilia?"),
        _("A bleeding disorder makes needling unsafe."),
        "9",
    ),
    (
        "flare",
        _("Is eczema, psoriasis, rosacea or dermatitis flaring in the area?"),
        _("A flare must settle first: treating it can make it worse."),
        "12",
    ),
    (
        "lesion",
        _("Do you have skin cancer, or a mole or mark that is changing, in the area?"),
        _("A changing mark needs a doctor's diagnosis before any treatment over it."),
        "13",
    ),
    (
        "allergy",
        _("Are you allergic to metals such as stainless steel, or to numbing creams?"),
        _("The needles are steel and we use a numbing cream, so we need to plan another way."),
        "29",
    ),
]


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
        label=_("First name"),
        max_length=NAME_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
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
    """One required yes/no question per hard stop; nothing is preselected, so every question
    is really answered."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, question, _why, _row in HARD_STOPS:
            self.fields[key] = forms.ChoiceField(
                label=question,
                choices=YES_NO,
                widget=forms.RadioSelect,
                error_messages={"required": _("Please answer yes or no.")},
            )

    def answers(self) -> dict[str, bool]:
        """question -> answered yes, for the booking service's own pre-screen check."""
        return {key: self.cleaned_data.get(key) == "yes" for key, *_rest in HARD_STOPS}

    def hard_stops(self) -> list[tuple[Any, Any]]:
        """(question, why) for every question answered yes."""
        return [
            (question, why)
            for key, question, why, _row in HARD_STOPS
            if self.cleaned_data.get(key) == "yes"
        ]
