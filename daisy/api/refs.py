"""Resolving ids and slugs named in a query or body. An unknown one there is a 422 naming the
field; 404 is kept for the resource in the URL path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from daisy.clients.selectors import client_get
from daisy.clinic.selectors import specialist_get
from daisy.lib.errors import NotFound, ValidationFailed
from daisy.scheduling.selectors import location_get
from daisy.treatments.selectors import treatment_get

T = TypeVar("T")


def _ref(field: str, fetch: Callable[[], T]) -> T:
    try:
        return fetch()
    except NotFound as exc:
        raise ValidationFailed(exc.message, fields={field: exc.message}) from None


def treatment_ref(slug: str, field: str = "treatment") -> Any:
    return _ref(field, lambda: treatment_get(slug=slug))


def location_ref(location_id: Any, field: str = "location") -> Any:
    return _ref(field, lambda: location_get(location_id))


def specialist_ref(specialist_id: Any, field: str = "specialist") -> Any:
    return _ref(field, lambda: specialist_get(specialist_id))


def client_ref(client_id: Any, field: str = "client") -> Any:
    return _ref(field, lambda: client_get(client_id))
