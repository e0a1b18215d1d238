"""The clinical record's models, one module per part: screening (the questionnaires, rules and
stored answers), the treatment chart, the consumables' lots, consent (templates, their
versions, signed consents), the consultation, and retention (erasure requests, legal holds).
Each part's module is imported here, so `daisy.records.models` names them all."""

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
from daisy.records.models.consent import (
    Consent,
    ConsentKind,
    ConsentTemplate,
    ConsentTemplateVersion,
    SignatureMethod,
    SignedVia,
)
from daisy.records.models.consultation import (
    DARK_SKIN_FROM,
    SKIN_TYPE_WORDS,
    AmendedField,
    Consultation,
    ConsultationAmendment,
)
from daisy.records.models.gate import IntervalOverride, NeedlingOverride
from daisy.records.models.lots import SINGLE_USE_KINDS, Lot, Product, ProductKind
from daisy.records.models.photos import Photo, PhotoSource
from daisy.records.models.retention import ErasureRequest, ErasureStatus, LegalHold
from daisy.records.models.screening import (
    Outcome,
    Question,
    Questionnaire,
    Rule,
    ScreeningResponse,
    Via,
)

__all__ = [
    "DARK_SKIN_FROM",
    "SKIN_TYPE_WORDS",
    "AmendedField",
    "Consultation",
    "ConsultationAmendment",
    "ErasureRequest",
    "ErasureStatus",
    "LegalHold",
    "SINGLE_USE_KINDS",
    "Chart",
    "ChartAmendment",
    "ChartArea",
    "ChartLocked",
    "ChartPolicy",
    "ChartProduct",
    "Consent",
    "ConsentKind",
    "ConsentTemplate",
    "ConsentTemplateVersion",
    "Endpoint",
    "Lot",
    "Outcome",
    "Pattern",
    "Product",
    "ProductKind",
    "Photo",
    "PhotoSource",
    "IntervalOverride",
    "NeedlingOverride",
    "Question",
    "Questionnaire",
    "Rule",
    "ScreeningResponse",
    "SignatureMethod",
    "SignedVia",
    "SkinType",
    "Via",
]
