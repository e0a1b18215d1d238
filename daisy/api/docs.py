"""OpenAPI helpers: which error responses an operation documents."""

from __future__ import annotations

from typing import Any

from daisy.api.schemas import ErrorOut


def errors(*codes: int) -> dict[int, Any]:
    """Error responses for `response=`; 500 is always documented: it can always happen. A
    rate-limited operation (429) also answers 503 while its limits cannot be counted."""
    extra = (503,) if 429 in codes and 503 not in codes else ()
    return {code: ErrorOut for code in (*codes, *extra, 500)}


PUBLIC = {"security": [{}]}  # anonymous allowed: an empty requirement, beside the bearer token
