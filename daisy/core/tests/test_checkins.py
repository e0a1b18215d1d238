"""Red flags in check-in answers (DOMAIN.md 5.1): each warning sign, its severity and what the
client is told to do, at the thresholds the table gives."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daisy.core.checkins import (
    TOXICITY_SYMPTOMS,
    TRENDS,
    Answers,
    Severity,
    red_flags_evaluate,
)

D = timedelta(days=1)
H = timedelta(hours=1)
CALM = Answers()


@pytest.mark.parametrize(
    ("answers", "since", "codes", "severity", "advice"),
    [
        # Expected course: redness, swelling and tenderness that are fading or unchanged early.
        (CALM, D, [], None, "expected"),
        (Answers(redness="same", swelling="better", pain="same"), D, [], None, "expected"),
        (Answers(redness="better"), 3 * D, [], None, "expected"),
        (Answers(spots=True), 5 * D, [], None, "expected"),
        # Numbing-cream toxicity: emergency, whatever else (DOMAIN.md 5.1 last clinical row).
        (
            Answers(toxicity=frozenset({"numb_mouth"})),
            H,
            ["toxicity"],
            Severity.EMERGENCY,
            "emergency",
        ),
        (
            Answers(toxicity=frozenset({"breathing"}), fever=True),
            H,
            ["toxicity", "infection"],
            Severity.EMERGENCY,
            "emergency",
        ),
        # Infection: any one sign (increasing redness, warmth, pus, pain, swelling, fever).
        (Answers(redness="worse"), D, ["infection"], Severity.URGENT, "same_day"),
        (Answers(swelling="worse"), 2 * D, ["infection"], Severity.URGENT, "same_day"),
        (Answers(pain="worse"), 2 * D, ["infection"], Severity.URGENT, "same_day"),
        (Answers(hot_or_weeping=True), D, ["infection"], Severity.URGENT, "same_day"),
        (Answers(fever=True), D, ["infection"], Severity.URGENT, "same_day"),
        # Cold-sore blisters: same-day prescriber contact.
        (Answers(blisters=True), 2 * D, ["hsv"], Severity.URGENT, "same_day"),
        # Redness beyond 7 days: review (the day-7 check-in is exactly 7 days).
        (Answers(redness="same"), 7 * D - H, [], None, "expected"),
        (Answers(redness="same"), 7 * D, ["redness_persisting"], Severity.ROUTINE, "review"),
        (Answers(redness="better"), 8 * D, ["redness_persisting"], Severity.ROUTINE, "review"),
        # Papules beyond 2 weeks: review (granulomatous reaction).
        (Answers(spots=True), 14 * D, [], None, "expected"),
        (Answers(spots=True), 14 * D + H, ["papules_persisting"], Severity.ROUTINE, "review"),
        # New dark patches: review (PIH).
        (Answers(dark_patches=True), 7 * D, ["pih"], Severity.ROUTINE, "review"),
        # Most serious first.
        (
            Answers(redness="worse", dark_patches=True, blisters=True),
            8 * D,
            ["infection", "hsv", "redness_persisting", "pih"],
            Severity.URGENT,
            "same_day",
        ),
    ],
)
def test_red_flag_table(
    answers: Answers,
    since: timedelta,
    codes: list[str],
    severity: Severity | None,
    advice: str,
) -> None:
    result = red_flags_evaluate(answers, since_session=since)
    assert result.codes == codes
    assert result.severity == severity
    assert result.advice == advice
    assert result.is_red_flag == bool(codes)
    assert all(f.source.startswith("DOMAIN.md 5.1") for f in result.flags)


answers_strategy = st.builds(
    Answers,
    redness=st.sampled_from(TRENDS),
    swelling=st.sampled_from(TRENDS),
    pain=st.sampled_from(TRENDS),
    hot_or_weeping=st.booleans(),
    spots=st.booleans(),
    blisters=st.booleans(),
    dark_patches=st.booleans(),
    fever=st.booleans(),
    toxicity=st.frozensets(st.sampled_from(TOXICITY_SYMPTOMS)),
)
since_strategy = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60))


@given(answers_strategy, since_strategy)
def test_any_toxicity_symptom_is_an_emergency(answers: Answers, since: timedelta) -> None:
    result = red_flags_evaluate(answers, since_session=since)
    assert (result.severity == Severity.EMERGENCY) == bool(answers.toxicity)


@given(answers_strategy, since_strategy)
def test_flags_are_most_serious_first_and_severity_is_the_highest(
    answers: Answers, since: timedelta
) -> None:
    result = red_flags_evaluate(answers, since_session=since)
    severities = [f.severity for f in result.flags]
    assert severities == sorted(severities, reverse=True)
    assert result.severity == (severities[0] if severities else None)
    assert len(set(result.codes)) == len(result.codes)


@given(answers_strategy, since_strategy, since_strategy)
def test_time_only_adds_flags(answers: Answers, a: timedelta, b: timedelta) -> None:
    """A later check-in with the same answers never shows fewer warning signs: the thresholds
    are "beyond N days"."""
    early, late = sorted((a, b))
    assert set(red_flags_evaluate(answers, since_session=early).codes) <= set(
        red_flags_evaluate(answers, since_session=late).codes
    )


@given(answers_strategy, since_strategy)
def test_a_calmer_answer_never_raises_severity(answers: Answers, since: timedelta) -> None:
    calmer = Answers(redness="none", swelling=answers.swelling, pain=answers.pain)
    assert (red_flags_evaluate(calmer, since_session=since).severity or 0) <= (
        red_flags_evaluate(
            Answers(redness=answers.redness, swelling=answers.swelling, pain=answers.pain),
            since_session=since,
        ).severity
        or 0
    )


def test_rejects_unknown_answers_and_negative_time() -> None:
    with pytest.raises(ValueError, match="redness"):
        Answers(redness="purple")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown symptoms"):
        Answers(toxicity=frozenset({"hiccups"}))
    with pytest.raises(ValueError, match="before the session"):
        red_flags_evaluate(CALM, since_session=-H)
