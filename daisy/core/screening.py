"""Screening rules that every booking path applies, as plain functions (DESIGN.md 1.2).

- The online pre-screen: the DOMAIN.md 2.2 hard stops asked as yes/no questions before a client
  books a treatment that needs screening for themselves. A "yes" means no treatment at this
  visit; the clinic offers a consultation instead (DOMAIN.md 2.1, tier "hard stop").
- Age on the day of a session, for treatments with an age limit (DOMAIN.md 1.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

# DOMAIN.md 2.2 rows: pregnancy or breastfeeding (8); infection, cold sore or open wound in
# the area (1, 2); inflamed acne (4); isotretinoin now or within 6 months (5, 6); a bleeding
# disorder (9); a flare of eczema, psoriasis, rosacea or dermatitis in the area (12); skin
# cancer or a changing mole in the area (13); allergy to metals or numbing creams (29).
PRESCREEN_QUESTIONS: tuple[str, ...] = (
    "pregnant",
    "infection",
    "acne",
    "isotretinoin",
    "bleeding",
    "flare",
    "lesion",
    "allergy",
)


@dataclass(frozen=True)
class PrescreenResult:
    missing: tuple[str, ...]  # questions not answered
    unknown: tuple[str, ...]  # answers to questions that do not exist
    stops: tuple[str, ...]  # questions answered "yes"

    @property
    def is_complete(self) -> bool:
        return not self.missing and not self.unknown

    @property
    def is_clear(self) -> bool:
        return self.is_complete and not self.stops


def prescreen_evaluate(answers: Mapping[str, bool]) -> PrescreenResult:
    """Every question needs a yes or no; any yes is a stop."""
    return PrescreenResult(
        missing=tuple(q for q in PRESCREEN_QUESTIONS if q not in answers),
        unknown=tuple(sorted(k for k in answers if k not in PRESCREEN_QUESTIONS)),
        stops=tuple(q for q in PRESCREEN_QUESTIONS if answers.get(q) is True),
    )


def age_on(born_on: date, day: date) -> int:
    """Whole years on `day`; someone born on 29 February turns a year older on 1 March in
    years without one."""
    years = day.year - born_on.year
    if (day.month, day.day) < (born_on.month, born_on.day):
        years -= 1
    return years
