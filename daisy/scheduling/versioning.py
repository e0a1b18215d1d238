"""Database triggers that keep DiaryVersion's set-up stamp current, so the set-up caches keyed
on it (daisy/scheduling/selectors.py) are never stale. Allocated time (bookings, holds) bumps
nothing: availability reads it afresh on every call.

A trigger fires inside the writing transaction, so the counter and the change commit together
(or not at all) whatever wrote them, and a reader that sees the new counter sees the change.
They are (re)installed after every `migrate` (and test-database flush) by a post_migrate hook:
on SQLite a later migration that rebuilds one of these tables drops its triggers, and the hook
puts them back before anything serves a request. A test checks they are all present."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import connections

VERSION_TABLE = "scheduling_diaryversion"

# (app label, model): the clinic's set-up. Their many-to-many tables are included.
CONFIG_MODELS = (
    ("clinic", "Location"),
    ("clinic", "Skill"),
    ("clinic", "Resource"),
    ("clinic", "Specialist"),
    ("clinic", "Room"),
    ("clinic", "Device"),
    ("clinic", "WeeklyHours"),
    ("clinic", "DateOverride"),
    ("clinic", "TimeOff"),
    ("clinic", "Closure"),
    ("treatments", "Treatment"),
    ("treatments", "Phase"),
)

_EVENTS = ("INSERT", "UPDATE", "DELETE")


def _tables(models: tuple[tuple[str, str], ...]) -> list[str]:
    out: list[str] = []
    for label, name in models:
        model = apps.get_model(label, name)
        out.append(model._meta.db_table)
        for field in model._meta.local_many_to_many:
            out.append(field.remote_field.through._meta.db_table)
    return out


def watched_tables() -> dict[str, str]:
    """Table -> the stamp it bumps."""
    return {table: "config" for table in _tables(CONFIG_MODELS)}


def _set_clause(kind: str, vendor: str) -> str:
    # A fresh random stamp, not a counter: a transaction that bumps and then rolls back puts
    # the old value back, and a counter would hand the rolled-back value to the next writer,
    # so a cache filled inside the rolled-back transaction would look current again.
    fresh = "random()" if vendor == "sqlite" else "floor(random() * 9007199254740991)::bigint"
    return f"{kind} = {fresh}"


def trigger_name(table: str, event: str = "") -> str:
    return f"daisy_version_{table}" + (f"_{event.lower()}" if event else "")


def install(using: str = "default") -> None:
    """Create the version row if missing and (re)create every trigger. Idempotent."""
    connection = connections[using]
    vendor = connection.vendor
    with connection.cursor() as cursor:
        existing = connection.introspection.table_names(cursor)
        if VERSION_TABLE not in existing:
            return  # not migrated this far yet
        cursor.execute(f"SELECT count(*) FROM {VERSION_TABLE} WHERE id = 1")
        if cursor.fetchone()[0] == 0:
            cursor.execute(f"INSERT INTO {VERSION_TABLE} (id, config) VALUES (1, 0)")
        for table, kind in watched_tables().items():
            if table not in existing:
                continue
            update = f"UPDATE {VERSION_TABLE} SET {_set_clause(kind, vendor)} WHERE id = 1"
            if vendor == "sqlite":
                for event in _EVENTS:
                    name = trigger_name(table, event)
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
                    cursor.execute(
                        f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {update}; END"
                    )
            elif vendor == "postgresql":
                function = f"daisy_bump_{kind}"
                cursor.execute(
                    f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger "
                    f"LANGUAGE plpgsql AS $$ BEGIN {update}; RETURN NULL; END $$"
                )
                name = trigger_name(table)
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                # Per statement: a bulk insert of a thousand rows is one bump, not a thousand.
                cursor.execute(
                    f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                    f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
                )


def installed(using: str = "default") -> set[str]:
    """Names of the version triggers present in the database (for the test and checks)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE 'daisy_version_%'"
            )
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
                "AND tgname LIKE 'daisy_version_%'"
            )
        return {row[0] for row in cursor.fetchall()}


def expected(using: str = "default") -> set[str]:
    vendor = connections[using].vendor
    names = set()
    for table in watched_tables():
        if vendor == "sqlite":
            names.update(trigger_name(table, event) for event in _EVENTS)
        else:
            names.add(trigger_name(table))
    return names


def on_post_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    # Sent once per app after the whole migration run; once is enough.
    if getattr(sender, "label", None) == "scheduling":
        install(using)
