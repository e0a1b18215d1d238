"""The check-in form a client fills in from the link in a check-in message (DOMAIN.md 5.2): the
red-flag questions of DOMAIN.md 5.1 in plain words, answered in about a minute. Every question
feeds a rule of daisy/core/checkins.py RED_FLAGS."""

from __future__ import annotations

import unicodedata

from django import forms
from django.utils.translation import gettext_lazy as _

from daisy.aftercare.models import Trend
from daisy.core.checkins import TOXICITY_SYMPTOMS

NOTES_MAX = 2000

TOXICITY_LABELS = {
    "light_headed": _("Dizzy or light-headed"),
    "numb_mouth": _("Numbness or tingling around the mouth"),
    "tinnitus": _("Ringing in the ears"),
    "palpitations": _("A racing or irregular heartbeat"),
    "breathing": _("Difficulty breathing"),
    "seizure": _("A fit or seizure"),
}
YES_NO = [(False, _("No")), (True, _("Yes"))]


def _yes_no(label: str, help_text: str = "") -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        help_text=help_text,
        choices=YES_NO,
        coerce=lambda v: v in (True, "True", "true", "1"),
        widget=forms.RadioSelect,
    )


class CheckInForm(forms.Form):
    redness = forms.ChoiceField(
        label=_("Is the treated skin red?"),
        choices=Trend.choices,
        widget=forms.RadioSelect,
    )
    swelling = forms.ChoiceField(
        label=_("Is it swollen?"), choices=Trend.choices, widget=forms.RadioSelect
    )
    pain = forms.ChoiceField(
        label=_("Is it painful or tender?"), choices=Trend.choices, widget=forms.RadioSelect
    )
    hot_or_weeping = _yes_no(
        _("Does the skin feel hot, or is it weeping or oozing pus?"),
    )
    spots = _yes_no(_("Do you have red spots or bumps on the treated skin?"))
    blisters = _yes_no(
        _("Do you have blisters or cold sores?"),
        _("Small grouped blisters, crusts or tingling, often around the lips."),
    )
    dark_patches = _yes_no(_("Have any dark patches appeared on the treated skin?"))
    fever = _yes_no(
        _("Do you have a fever or feel unwell?"), _("Chills, a high temperature, swollen glands.")
    )
    # DOMAIN.md 5.1 rows "Contact / irritant dermatitis, urticaria", "Acne flare / milia" and
    # "Tram-track scarring".
    rash = _yes_no(
        _("Do you have an itchy rash or hives on or around the treated skin?"),
        _("Itchy, raised, bumpy or scaly patches."),
    )
    breakouts = _yes_no(
        _("Do you have breakouts or tiny white bumps on the treated skin?"),
        _("Pimples or whiteheads, or small hard white bumps."),
    )
    track_marks = _yes_no(
        _("Can you see lines or tracks on the treated skin, like fine scratches?"),
    )
    toxicity = forms.MultipleChoiceField(
        label=_("Since your appointment, have you had any of these?"),
        help_text=_("Tick any that apply; leave all unticked if none."),
        choices=[(code, TOXICITY_LABELS[code]) for code in TOXICITY_SYMPTOMS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    notes = forms.CharField(
        label=_("Anything else you would like us to know?"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=NOTES_MAX,
        required=False,
    )

    def clean_notes(self) -> str:
        notes: str = self.cleaned_data.get("notes", "")
        # Control characters cannot be stored (PostgreSQL refuses NUL) or shown.
        if any(unicodedata.category(ch) in {"Cc", "Cs"} and ch not in "\n\r\t" for ch in notes):
            raise forms.ValidationError(_("Remove the control characters."))
        return notes.strip()
