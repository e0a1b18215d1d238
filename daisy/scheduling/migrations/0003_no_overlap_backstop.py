"""The database's own guarantee that active allocations of one resource never overlap.

PostgreSQL: an exclusion constraint (btree_gist for `=` on the resource id inside GiST; '[)'
bounds so back-to-back allocations may touch). SQLite has no exclusion constraints, but its
writers are serialised, so a BEFORE trigger that aborts on an overlapping active row is
race-free. Kept out of Meta.constraints because the definition is vendor-specific."""

from django.db import migrations

PG_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """ALTER TABLE scheduling_allocation ADD CONSTRAINT allocation_no_overlap
       EXCLUDE USING gist (resource_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
       WHERE (is_active)""",
]
PG_BACKWARD = ["ALTER TABLE scheduling_allocation DROP CONSTRAINT allocation_no_overlap"]

_SQLITE_OVERLAP = """
    SELECT RAISE(ABORT, 'allocation_no_overlap: resource already allocated at that time')
    WHERE EXISTS (
        SELECT 1 FROM scheduling_allocation a
        WHERE a.is_active AND a.resource_id = NEW.resource_id
          AND a.starts_at < NEW.ends_at AND a.ends_at > NEW.starts_at {extra}
    );
"""
SQLITE_FORWARD = [
    "CREATE TRIGGER allocation_no_overlap_insert BEFORE INSERT ON scheduling_allocation "
    "WHEN NEW.is_active BEGIN" + _SQLITE_OVERLAP.format(extra="") + "END",
    "CREATE TRIGGER allocation_no_overlap_update BEFORE UPDATE ON scheduling_allocation "
    "WHEN NEW.is_active BEGIN" + _SQLITE_OVERLAP.format(extra="AND a.id <> NEW.id") + "END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER allocation_no_overlap_insert",
    "DROP TRIGGER allocation_no_overlap_update",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0002_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        )
    ]
