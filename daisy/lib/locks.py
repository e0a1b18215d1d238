"""Locks for writes that have no row to lock yet (DESIGN.md 1.4: lock, re-check, write)."""

from __future__ import annotations

from django.db import connection


def natural_key_lock(*keys: str) -> None:
    """Serialise, until the end of the current transaction, every writer that names one of
    these keys: two requests making a row for the same natural key (a client's email, say) run
    one after the other, so the second one's re-check sees the first one's row. PostgreSQL takes
    a transaction-scoped advisory lock per key (in sorted order, so two writers never wait on
    each other crosswise); SQLite's IMMEDIATE transactions already serialise all writers."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in sorted({k for k in keys if k}):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])
