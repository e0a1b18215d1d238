"""Forms of the clinical record shared by the desk's tablet and the client portal, and the
re-screen form (issue 14, item 3) asked from the reminder's link and on the desk's tablet."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from daisy.records.consent_services import MAX_SIGNATURE_BYTES, Signing
from daisy.records.models import ConsentKind, SignatureMethod

DATA_URL_PREFIX = "data:image/png;base64,"
AGREE_LABELS = {
    ConsentKind.TREATMENT: _("I have read this consent, I understand it, and I agree to it."),
    ConsentKind.PHOTOS_RECORD: _("Yes, the clinic may take photos for my clinical record."),
    ConsentKind.PHOTOS_MARKETING: _(
        "Yes, the clinic may use my photos for marketing and teaching."
    ),
}


class ConsentSignForm(forms.Form):
    """One signature for the documents shown: the treatment consent must be agreed to (when
    the clinic asks one); each photo consent is optional. The version of each document shown
    is posted back, so a text changed meanwhile is never signed unseen."""

    signed_name = forms.CharField(
        label=_("Your full name"),
        max_length=200,
        strip=True,
        error_messages={"required": _("Type your full name.")},
        widget=forms.TextInput(attrs={"autocomplete": "name", "autocapitalize": "words"}),
    )
    method = forms.ChoiceField(
        label=_("How you sign"),
        choices=[
            (SignatureMethod.DRAWN, _("Draw my signature")),
            (SignatureMethod.TYPED, _("Type my full name as my signature")),
        ],
        initial=SignatureMethod.TYPED,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how you sign.")},
    )
    signature = forms.CharField(required=False, widget=forms.HiddenInput, max_length=500_000)

    def __init__(self, *args: Any, templates: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.templates = templates
        for template in templates:
            required = template.kind == ConsentKind.TREATMENT
            self.fields[f"agree_{template.kind}"] = forms.BooleanField(
                label=AGREE_LABELS[ConsentKind(template.kind)],
                required=required,
                error_messages={"required": _("Tick the box to agree, or ask your specialist.")},
            )
            self.fields[f"version_{template.kind}"] = forms.IntegerField(
                widget=forms.HiddenInput, initial=template.version, min_value=1
            )

    def documents(self) -> list[dict[str, Any]]:
        """Each template with its agree box, for the template to lay out."""
        return [
            {
                "template": t,
                "agree": self[f"agree_{t.kind}"],
                "version": self[f"version_{t.kind}"],
                "paragraphs": paragraphs(t.body),
                "is_required": t.kind == ConsentKind.TREATMENT,
            }
            for t in self.templates
        ]

    def clean_signature(self) -> bytes:
        raw = (self.cleaned_data.get("signature") or "").strip()
        if not raw:
            return b""
        if not raw.startswith(DATA_URL_PREFIX):
            raise forms.ValidationError(_("The signature could not be read. Please sign again."))
        try:
            data = base64.b64decode(raw[len(DATA_URL_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            raise forms.ValidationError(
                _("The signature could not be read. Please sign again.")
            ) from None
        if len(data) > MAX_SIGNATURE_BYTES:
            raise forms.ValidationError(_("The signature could not be read. Please sign again."))
        return data

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("method") == SignatureMethod.DRAWN and not data.get("signature"):
            if "signature" not in self.errors:
                self.add_error(
                    "signature",
                    _("Draw your signature in the box, or choose to type your name instead."),
                )
        if self.templates and not any(data.get(f"agree_{t.kind}") for t in self.templates):
            if not self.errors:
                raise forms.ValidationError(_("Tick at least one box to sign."))
        return data

    def signing(self) -> list[Signing]:
        """What was agreed to, with the version shown (call after is_valid)."""
        return [
            Signing(t, int(self.cleaned_data[f"version_{t.kind}"]))
            for t in self.templates
            if self.cleaned_data.get(f"agree_{t.kind}")
        ]


def paragraphs(body: str) -> list[dict[str, Any]]:
    """A template's plain text as blocks: headings (a short line alone, no full stop),
    paragraphs, and lists (lines starting "- ")."""
    blocks: list[dict[str, Any]] = []
    for line in body.splitlines():
        line = line.rstrip()
        if not line:
            continue
        if line.startswith("- "):
            if blocks and blocks[-1]["kind"] == "list":
                blocks[-1]["items"].append(line[2:])
            else:
                blocks.append({"kind": "list", "items": [line[2:]]})
        elif len(line) < 60 and not line.endswith("."):
            blocks.append({"kind": "heading", "text": line})
        else:
            blocks.append({"kind": "paragraph", "text": line})
    return blocks


class RescreenForm(forms.Form):
    """One required answer per question, nothing preselected: a client whose answers have not
    changed taps the first choice of each ("No, still not"), which says what they told us last
    time, so every answer is confirmed and none is copied silently. A "when" question keeps the
    last date given, to confirm or correct."""

    def __init__(
        self,
        *args: Any,
        questions: Sequence[Any],
        today: date,
        last: Mapping[str, Mapping[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        self.today = today
        self.last = dict(last or {})
        for q in self.questions:
            before = self.last.get(q.key)
            help_text = ""
            if before is None:
                choices = [("no", _("No")), ("yes", _("Yes"))]
            elif before.get("yes"):
                choices = [("yes", _("Yes, still")), ("no", _("No, not any more"))]
                on = _parse(before.get("on"))
                help_text = (
                    _("Last time you said yes (%(day)s).") % {"day": date_format(on, "j F Y")}
                    if on
                    else _("Last time you said yes.")
                )
            else:
                choices = [("no", _("No, still not")), ("yes", _("Yes, this has changed"))]
                help_text = _("Last time you said no.")
            self.fields[q.key] = forms.ChoiceField(
                label=q.text,
                choices=choices,
                widget=forms.RadioSelect,
                help_text=help_text,
                error_messages={"required": _("Please choose one answer.")},
            )
            if q.asks_when:
                initial = _parse(before.get("on")) if before and before.get("yes") else None
                self.fields[f"{q.key}_on"] = forms.DateField(
                    label=_("If yes, when was the last time?"),
                    required=False,
                    initial=initial,
                    # ISO, as a date input needs (not the locale's 01/12/2029).
                    widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                    help_text=_("A close guess is fine."),
                    error_messages={"invalid": _("Enter a date, for example 2030-01-31.")},
                )

    @property
    def items(self) -> list[tuple[Any, Any]]:
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
        """question -> yes (and `<question>_on` -> ISO date) for rescreen_record."""
        answers: dict[str, Any] = {}
        for q in self.questions:
            yes = self.cleaned_data.get(q.key) == "yes"
            answers[q.key] = yes
            on = self.cleaned_data.get(f"{q.key}_on")
            if q.asks_when and yes and on is not None:
                answers[f"{q.key}_on"] = on.isoformat()
        return answers

    def add_service_errors(self, fields: Mapping[str, str]) -> None:
        for name, message in fields.items():
            if name in self.fields:
                self.add_error(name, message)


def _parse(raw: Any) -> date | None:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None
