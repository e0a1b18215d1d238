"""SQLite's test flush (and any whole-database reset) deletes every row one by one, which the
delete triggers of migration 0004 refused for signed charts. On SQLite the delete triggers go:
deleting a signed chart, its rows or an amendment is refused by the models and their querysets
(daisy.records.models.chart), and every change is still refused by the database. PostgreSQL
keeps its delete triggers: its flush is a TRUNCATE, which row triggers do not see."""

from django.db import migrations

SIGNED = "(SELECT signed_at FROM records_chart WHERE id = OLD.chart_id) IS NOT NULL"
LOCKED = "a signed chart cannot be changed: add an amendment"
AMENDED = "chart amendments cannot be changed or deleted"
TRIGGERS = {
    "records_amendment_no_delete": f"""CREATE TRIGGER records_amendment_no_delete
        BEFORE DELETE ON records_chartamendment BEGIN SELECT RAISE(ABORT, '{AMENDED}'); END""",
    "records_chart_signed_no_delete": f"""CREATE TRIGGER records_chart_signed_no_delete
        BEFORE DELETE ON records_chart WHEN OLD.signed_at IS NOT NULL
        BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END""",
    "records_chartarea_signed_no_delete": f"""CREATE TRIGGER records_chartarea_signed_no_delete
        BEFORE DELETE ON records_chartarea WHEN {SIGNED}
        BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END""",
    "records_chartproduct_signed_no_delete": f"""CREATE TRIGGER
        records_chartproduct_signed_no_delete BEFORE DELETE ON records_chartproduct WHEN {SIGNED}
        BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END""",
}


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for name in TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


def restore(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in TRIGGERS.values():
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("records", "0008_needling_gate")]

    operations = [migrations.RunPython(drop, restore)]
