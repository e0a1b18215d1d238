"""The clinical record's models, one module per part: screening (the questionnaires, rules and
stored answers), the treatment chart, and the consumables' lots. Each part's module is imported
here, so `daisy.records.models` names them all."""

from daisy.records.models.chart import (
    Chart,
    ChartAmendment,
    ChartArea,
    ChartLocked,
    ChartPolicy,
    ChartProduct,
    Endpoint,
    Pattern,
    SkinType,
)
from daisy.records.models.lots import SINGLE_USE_KINDS, Lot, Product, ProductKind
from daisy.records.models.screening import (
    Outcome,
    Question,
    Questionnaire,
    Rule,
    ScreeningResponse,
    Via,
)

__all__ = [
    "SINGLE_USE_KINDS",
    "Chart",
    "ChartAmendment",
    "ChartArea",
    "ChartLocked",
    "ChartPolicy",
    "ChartProduct",
    "Endpoint",
    "Lot",
    "Outcome",
    "Pattern",
    "Product",
    "ProductKind",
    "Question",
    "Questionnaire",
    "Rule",
    "ScreeningResponse",
    "SkinType",
    "Via",
]
