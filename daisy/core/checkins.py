"""Red flags in a client's check-in answers after a session (DOMAIN.md 5.1).

`red_flags_evaluate` reads one check-in (what the client reported, and how long after the session
they reported it) and says which warning signs it shows, how serious the most serious one is, and
what the client should do now. Pure: no clock (the time since the session is a parameter), no
settings, standard library only (DESIGN.md 1.2). The wording of the advice lives at the edges
(templates, translated); this module names it by code.

Severity, highest first:

- `emergency`: numbing-cream (topical anaesthetic) toxicity. Call emergency services now
  (DOMAIN.md 5.1 row "Topical anaesthetic toxicity": emergency protocol).
- `urgent`: signs of infection, or cold-sore blisters (HSV reactivation). The clinic reviews the
  same day (DOMAIN.md 5.1 rows "Infection" and "HSV reactivation").
- `routine`: redness still there at day 7, red spots or bumps beyond 2 weeks, new dark patches.
  A clinician reviews before the next session (DOMAIN.md 5.1 rows 1, "Granulomatous reaction"
  and "PIH").

Anything that matches at all holds the client's next session until a clinician clears it
(DOMAIN.md 5.2 row "Each session": adverse-event review before the next treatment).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import IntEnum
from typing import Literal

Trend = Literal["none", "better", "same", "worse"]
TRENDS: tuple[Trend, ...] = ("none", "better", "same", "worse")

# Numbing-cream toxicity symptoms (DOMAIN.md 5.1 row "Topical anaesthetic toxicity").
TOXICITY_SYMPTOMS = (
    "light_headed",
    "numb_mouth",
    "tinnitus",
    "palpitations",
    "breathing",
    "seizure",
)

# DOMAIN.md 5.1 row 1: transient effects (redness included) resolve within 7 days; "clinician
# review if still present at day 7".
REDNESS_REVIEW_AFTER = timedelta(days=7)
# DOMAIN.md 5.1 row "Granulomatous reaction": papules/plaques persisting > 2 weeks.
PAPULES_REVIEW_AFTER = timedelta(days=14)


class Severity(IntEnum):
    ROUTINE = 1
    URGENT = 2
    EMERGENCY = 3

    @property
    def code(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Answers:
    """What the client reported. `redness`, `swelling` and `pain`: none / better (fading) /
    same / worse (spreading or increasing)."""

    redness: Trend = "none"
    swelling: Trend = "none"
    pain: Trend = "none"
    hot_or_weeping: bool = False  # warmth, pus or weeping skin
    spots: bool = False  # red spots, bumps (papules)
    blisters: bool = False  # blisters or cold sores, tingling, crusts
    dark_patches: bool = False
    fever: bool = False  # fever, chills, feeling unwell, swollen glands
    toxicity: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for name in ("redness", "swelling", "pain"):
            if getattr(self, name) not in TRENDS:
                raise ValueError(f"{name} must be one of {TRENDS}, not {getattr(self, name)!r}")
        unknown = set(self.toxicity) - set(TOXICITY_SYMPTOMS)
        if unknown:
            raise ValueError(f"unknown symptoms: {sorted(unknown)}")


@dataclass(frozen=True)
class Flag:
    code: str  # "toxicity", "infection", "hsv", "redness_persisting", "papules_persisting", "pih"
    severity: Severity
    source: str  # the DOMAIN.md row


@dataclass(frozen=True)
class Evaluation:
    flags: tuple[Flag, ...]

    @property
    def severity(self) -> Severity | None:
        return max((f.severity for f in self.flags), default=None)

    @property
    def is_red_flag(self) -> bool:
        return bool(self.flags)

    @property
    def advice(self) -> str:
        """What the client should do now: "emergency" (call emergency services now), "same_day"
        (call the clinic today), "review" (the clinic will contact you; your next session waits
        for a clinician), or "expected" (this is the expected course)."""
        severity = self.severity
        if severity is None:
            return "expected"
        return {
            Severity.EMERGENCY: "emergency",
            Severity.URGENT: "same_day",
            Severity.ROUTINE: "review",
        }[severity]

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.flags]


def red_flags_evaluate(answers: Answers, *, since_session: timedelta) -> Evaluation:
    """The warning signs in `answers`, reported `since_session` after the session started; most
    serious first."""
    if since_session < timedelta(0):
        raise ValueError("a check-in cannot come before the session")
    flags: list[Flag] = []
    if answers.toxicity:
        flags.append(
            Flag("toxicity", Severity.EMERGENCY, "DOMAIN.md 5.1 row Topical anaesthetic toxicity")
        )
    # Any one sign of infection: increasing or spreading redness, warmth, pus, increasing pain or
    # swelling, fever.
    worsening = "worse" in (answers.redness, answers.swelling, answers.pain)
    if worsening or answers.hot_or_weeping or answers.fever:
        flags.append(Flag("infection", Severity.URGENT, "DOMAIN.md 5.1 row Infection"))
    if answers.blisters:
        flags.append(Flag("hsv", Severity.URGENT, "DOMAIN.md 5.1 row HSV reactivation"))
    if answers.redness != "none" and since_session >= REDNESS_REVIEW_AFTER:
        flags.append(
            Flag("redness_persisting", Severity.ROUTINE, "DOMAIN.md 5.1 row 1 (erythema > 7 days)")
        )
    if answers.spots and since_session > PAPULES_REVIEW_AFTER:
        flags.append(
            Flag(
                "papules_persisting",
                Severity.ROUTINE,
                "DOMAIN.md 5.1 row Granulomatous reaction (papules > 2 weeks)",
            )
        )
    if answers.dark_patches:
        flags.append(
            Flag("pih", Severity.ROUTINE, "DOMAIN.md 5.1 row Post-inflammatory hyperpigmentation")
        )
    flags.sort(key=lambda f: -f.severity)
    return Evaluation(tuple(flags))
