"""The pure screening rules: answers in, DOMAIN.md 2.1 outcomes out (with hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from daisy.core.screening import (
    SEVERITY,
    Answer,
    Outcome,
    Question,
    Rule,
    Screening,
    age_on,
    answers_parse,
    rule_problems,
    screen,
)

TODAY = date(2030, 1, 7)
QUESTIONS = (
    Question("pregnant"),
    Question("tan", asks_when=True, look_back_days=28),
    Question("filler", asks_when=True, look_back_days=365),
    Question("tattoo"),
    Question("numbing"),
    Question("cold_sores"),
)
RULES = (
    Rule("pregnant", "pregnant", Outcome.HARD_STOP, row="8"),
    Rule("tan", "tan", Outcome.DEFERRED, wait_days=14, row="20"),
    Rule("filler", "filler", Outcome.DEFERRED, wait_days=28, row="25"),
    Rule("filler_review", "filler", Outcome.CLINICIAN_REVIEW, row="25"),
    Rule("tattoo", "tattoo", Outcome.ZONE_EXCLUDED, modification="not over it", row="15"),
    Rule("numbing", "numbing", Outcome.NO_NUMBING, row="29"),
    Rule("cold_sores", "cold_sores", Outcome.CAUTION, modification="antivirals", row="3"),
)
ALL_NO = {q.key: Answer(False) for q in QUESTIONS}


def _run(**changed: Answer) -> Screening:
    return screen(QUESTIONS, RULES, {**ALL_NO, **changed}, today=TODAY)


def test_all_no_is_clear_and_allows_any_day() -> None:
    result = _run()
    assert result.is_complete and result.outcome == Outcome.CLEAR
    assert result.findings == () and result.allows_on(TODAY)


def test_a_deferral_ends_its_wait_after_the_date_given() -> None:
    result = _run(tan=Answer(True, TODAY - timedelta(days=3)))
    assert result.outcome == Outcome.DEFERRED
    assert result.deferred_until == TODAY + timedelta(days=11)
    assert not result.allows_on(TODAY + timedelta(days=10))
    assert result.allows_on(TODAY + timedelta(days=11))


def test_a_wait_already_over_gives_no_finding() -> None:
    assert _run(tan=Answer(True, TODAY - timedelta(days=20))).outcome == Outcome.CLEAR


def test_a_date_before_the_look_back_counts_as_no() -> None:
    # Filler 2 years ago: neither the wait nor the review applies.
    assert _run(filler=Answer(True, TODAY - timedelta(days=800))).findings == ()


def test_one_answer_can_defer_and_ask_for_review() -> None:
    result = _run(filler=Answer(True, TODAY - timedelta(days=7)))
    assert {f.outcome for f in result.findings} == {Outcome.DEFERRED, Outcome.CLINICIAN_REVIEW}
    assert result.outcome == Outcome.CLINICIAN_REVIEW and result.stops


def test_a_yes_to_a_when_question_needs_its_date() -> None:
    result = _run(tan=Answer(True))
    assert not result.is_complete and result.undated == ("tan",)
    # Never a silent clear: a wait that cannot be dated is for a clinician.
    assert result.outcome == Outcome.CLINICIAN_REVIEW


def test_a_date_ahead_is_not_an_answer() -> None:
    assert _run(tan=Answer(True, TODAY + timedelta(days=1))).future == ("tan",)


def test_missing_and_unknown_answers_are_named() -> None:
    answers = dict(ALL_NO)
    del answers["tattoo"]
    result = screen(QUESTIONS, RULES, answers, today=TODAY, unknown=("mystery",))
    assert result.missing == ("tattoo",) and result.unknown == ("mystery",)
    assert not result.is_complete


def test_modifications_travel_with_the_finding() -> None:
    (finding,) = _run(tattoo=Answer(True)).findings
    assert (finding.outcome, finding.modification, finding.row) == (
        Outcome.ZONE_EXCLUDED,
        "not over it",
        "15",
    )
    assert _run(tattoo=Answer(True)).allows_on(TODAY)  # changes how, not whether
    assert _run(numbing=Answer(True)).outcome == Outcome.NO_NUMBING


def test_flat_answers_parse_with_dates_as_text() -> None:
    raw = {"pregnant": False, "tan": True, "tan_on": "2030-01-01", "nonsense": True}
    answers, unknown = answers_parse(raw, QUESTIONS)
    assert answers["tan"] == Answer(True, date(2030, 1, 1))
    assert answers["pregnant"] == Answer(False)
    assert unknown == ("nonsense",)
    # A no keeps no date, and a date that is not one is no date.
    answers, _ = answers_parse({"tan": False, "tan_on": "2030-01-01"}, QUESTIONS)
    assert answers["tan"] == Answer(False)
    answers, _ = answers_parse({"tan": True, "tan_on": "soon"}, QUESTIONS)
    assert answers["tan"] == Answer(True, None)


def test_rule_problems_explain_a_rule_that_cannot_apply() -> None:
    asked = {q.key: q for q in QUESTIONS}
    assert rule_problems(Rule("x", "pregnant", Outcome.DEFERRED, wait_days=3), asked) == [
        "a deferral needs a question that asks when"
    ]
    assert rule_problems(Rule("x", "tan", Outcome.DEFERRED), asked) == [
        "a deferral needs a wait of at least one day"
    ]
    assert rule_problems(Rule("x", "tan", Outcome.CAUTION, wait_days=3), asked) == [
        "only a deferral has a wait"
    ]
    assert rule_problems(Rule("x", "gone", Outcome.CAUTION), asked) == [
        "its question does not exist"
    ]
    assert rule_problems(RULES[1], asked) == []


# --- properties ---------------------------------------------------------------------------------

days_ago = st.integers(min_value=0, max_value=400)


@st.composite
def answer_sets(draw: st.DrawFn) -> dict[str, Answer]:
    answers = {}
    for q in QUESTIONS:
        yes = draw(st.booleans())
        on = TODAY - timedelta(days=draw(days_ago)) if yes and q.asks_when else None
        answers[q.key] = Answer(yes, on)
    return answers


@given(answer_sets())
def test_the_outcome_is_the_most_severe_finding(answers: dict[str, Answer]) -> None:
    result = screen(QUESTIONS, RULES, answers, today=TODAY)
    if not result.findings:
        assert result.outcome == Outcome.CLEAR
    else:
        assert all(SEVERITY[f.outcome] <= SEVERITY[result.outcome] for f in result.findings)
        assert result.outcome in {f.outcome for f in result.findings}


@given(answer_sets())
def test_every_deferral_ends_after_today_and_counts_from_its_date(
    answers: dict[str, Answer],
) -> None:
    result = screen(QUESTIONS, RULES, answers, today=TODAY)
    waits = {r.key: r.wait_days for r in RULES}
    for f in result.findings:
        if f.outcome == Outcome.DEFERRED:
            on = answers[f.question].on
            assert on is not None and f.until_on is not None
            assert f.until_on > TODAY
            assert f.until_on == on + timedelta(days=waits[f.rule] or 0)
        else:
            assert f.until_on is None


@given(answer_sets(), st.sampled_from([q.key for q in QUESTIONS]))
def test_saying_yes_never_makes_the_outcome_milder(answers: dict[str, Answer], key: str) -> None:
    before = screen(QUESTIONS, RULES, {**answers, key: Answer(False)}, today=TODAY)
    question = next(q for q in QUESTIONS if q.key == key)
    yes = Answer(True, TODAY if question.asks_when else None)
    after = screen(QUESTIONS, RULES, {**answers, key: yes}, today=TODAY)
    assert SEVERITY[after.outcome] >= SEVERITY[before.outcome]
    assert set(before.findings) <= set(after.findings)


@given(answer_sets(), st.integers(0, 400), st.integers(0, 400))
def test_once_a_day_is_allowed_every_later_day_is(
    answers: dict[str, Answer], a: int, b: int
) -> None:
    result = screen(QUESTIONS, RULES, answers, today=TODAY)
    early, late = sorted((TODAY + timedelta(days=a), TODAY + timedelta(days=b)))
    if result.allows_on(early):
        assert result.allows_on(late)
    if result.stops:
        assert not result.allows_on(late)


@given(answer_sets())
def test_all_answers_given_means_complete(answers: dict[str, Answer]) -> None:
    assert screen(QUESTIONS, RULES, answers, today=TODAY).is_complete


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)), st.integers(0, 120))
def test_age_on_a_birthday_is_whole_years(born: date, years: int) -> None:
    try:
        birthday = born.replace(year=born.year + years)
    except ValueError:  # 29 February in a year without one: the birthday is 1 March
        birthday = date(born.year + years, 3, 1)
    assert age_on(born, birthday) == years
    assert age_on(born, birthday - timedelta(days=1)) == years - 1
