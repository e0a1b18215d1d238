"""People's names as typed, made safe to show (issue 16): one Unicode form (NFC), spaces
tidied, and no character that is invisible or turns text around (bidi overrides and isolates,
zero-width spaces and joiners, soft hyphens, byte-order marks, fillers). Such characters let a
name look like another one on the desk, or reorder what follows it on a page or in a message;
nobody needs them to write their own name here."""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Unicode categories that are never part of a name as written: format (Cf: bidi controls,
# zero-width characters, soft hyphen, BOM), control, private use, surrogate, unassigned.
_REFUSED_CATEGORIES = frozenset({"Cf", "Cc", "Co", "Cs", "Cn"})
# Letters and marks that draw nothing (fillers, the grapheme joiner, the blank Braille cell).
_INVISIBLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0")
_SPACES = re.compile(r"\s+")


def hidden_character_message() -> str:
    return _(
        "Names cannot contain hidden characters, or characters that change the direction of "
        "text. Type the name again (not pasted from a formatted document)."
    )


def person_name_clean(value: str) -> str:
    """The name in NFC with single spaces, trimmed; ValueError(message) if it has a hidden or
    direction-changing character."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFC", value)).strip()
    for ch in text:
        if ch in _INVISIBLE or unicodedata.category(ch) in _REFUSED_CATEGORIES:
            raise ValueError(hidden_character_message())
    return text


def validate_person_name(value: str) -> None:
    """A form validator: the same rule, as a message on the field."""
    try:
        person_name_clean(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="hidden_characters") from None
