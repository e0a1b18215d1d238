"""Forms of the clinical record shared by the desk's tablet and the client portal."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django import forms
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
