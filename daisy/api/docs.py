"""OpenAPI helpers: which error responses an operation documents."""

from __future__ import annotations

from typing import Any

from daisy.api.schemas import ErrorOut


def errors(*codes: int) -> dict[int, Any]:
    """Error responses for `response=`; 500 is always documented: it can always happen."""
    return {code: ErrorOut for code in (*codes, 500)}


PUBLIC = {"security": [{}]}  # anonymous allowed: an empty requirement, beside the bearer token
