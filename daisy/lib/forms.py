"""Showing a service's refusal on the form that asked for it (DESIGN.md 6: views turn a
DomainError into a message on the form)."""

from __future__ import annotations

from typing import Any

from daisy.lib.errors import DomainError


def form_add_domain_error(form: Any, exc: DomainError) -> None:
    """Per-field messages go on the form's own fields; when none of them belongs to the form
    (or there are none), the error's message goes at the top of the form."""
    placed = False
    for field, message in exc.fields.items():
        if field in form.fields:
            form.add_error(field, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)
