"""The clinical record's models, one module per part: screening (the questionnaires, rules and
stored answers). Each part's module is imported here, so `daisy.records.models` names them all."""

from daisy.records.models.screening import (
    Outcome,
    Question,
    Questionnaire,
    Rule,
    ScreeningResponse,
    Via,
)

__all__ = ["Outcome", "Question", "Questionnaire", "Rule", "ScreeningResponse", "Via"]
