"""No allocation lasts more than a day, so the no-overlap check and the availability query can
bound `starts_at` from below and walk the (resource, starts_at) index as a short range instead
of every earlier allocation of the resource (which grew with history)."""

from django.db import migrations

_OVERLAP = """
    SELECT RAISE(ABORT, 'allocation_no_overlap: resource already allocated at that time')
    WHERE EXISTS (
        SELECT 1 FROM scheduling_allocation a
        WHERE a.is_active AND a.resource_id = NEW.resource_id
          AND a.starts_at < NEW.ends_at AND a.ends_at > NEW.starts_at
          AND a.starts_at > datetime(NEW.starts_at, '-1 day') {extra}
    );
"""
_TOO_LONG = """
    SELECT RAISE(ABORT, 'allocation_at_most_one_day: an allocation lasts at most one day')
    WHERE julianday(NEW.ends_at) - julianday(NEW.starts_at) > 1;
"""

SQLITE_FORWARD = [
    "DROP TRIGGER allocation_no_overlap_insert",
    "DROP TRIGGER allocation_no_overlap_update",
    "CREATE TRIGGER allocation_at_most_one_day_insert BEFORE INSERT ON scheduling_allocation "
    "BEGIN" + _TOO_LONG + "END",
    "CREATE TRIGGER allocation_at_most_one_day_update BEFORE UPDATE ON scheduling_allocation "
    "BEGIN" + _TOO_LONG + "END",
    "CREATE TRIGGER allocation_no_overlap_insert BEFORE INSERT ON scheduling_allocation "
    "WHEN NEW.is_active BEGIN" + _OVERLAP.format(extra="") + "END",
    "CREATE TRIGGER allocation_no_overlap_update BEFORE UPDATE ON scheduling_allocation "
    "WHEN NEW.is_active BEGIN" + _OVERLAP.format(extra="AND a.id <> NEW.id") + "END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER allocation_at_most_one_day_insert",
    "DROP TRIGGER allocation_at_most_one_day_update",
]
PG_FORWARD = [
    "ALTER TABLE scheduling_allocation ADD CONSTRAINT allocation_at_most_one_day "
    "CHECK (ends_at - starts_at <= interval '1 day')",
]
PG_BACKWARD = ["ALTER TABLE scheduling_allocation DROP CONSTRAINT allocation_at_most_one_day"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0003_no_overlap_backstop")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        )
    ]
