"""A signed chart is kept, unchanged, for the retention period and then deleted (DOMAIN.md
6.7; issue 14 item 8). PostgreSQL's triggers (migration 0004) refused every deletion of a
signed chart, its zones and products and its amendments, so the retention sweep could never
delete them. They now let a deletion through only inside a transaction that set
`daisy.retention_erase` to 'on' (set_config(..., true): for that transaction alone), which
only daisy.records.charting.charts_erase_for_client does, called by the retention sweep once
the period is over and no legal hold is open. Every change of a signed chart is still refused,
and so is any other deletion. On SQLite the delete triggers are gone (0009); the models and
their querysets refuse deletions, and the same function goes around them."""

from django.db import migrations

ERASING = "current_setting('daisy.retention_erase', true) = 'on'"
LOCKED = "a signed chart cannot be changed: add an amendment"

REFUSE = """CREATE OR REPLACE FUNCTION records_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {allow}RAISE EXCEPTION USING MESSAGE = TG_ARGV[0];
END $$"""
ROWS = """CREATE OR REPLACE FUNCTION records_chart_rows_locked() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    cid uuid;
BEGIN
    {allow}IF TG_OP = 'INSERT' THEN cid := NEW.chart_id; ELSE cid := OLD.chart_id; END IF;
    IF EXISTS (SELECT 1 FROM records_chart WHERE id = cid AND signed_at IS NOT NULL) THEN
        IF TG_OP = 'INSERT' AND TG_ARGV[0] = 'amendable' THEN
            IF NEW.amendment_id IS NOT NULL THEN RETURN NEW; END IF;
        END IF;
        RAISE EXCEPTION USING MESSAGE = '{locked}';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$"""
ALLOW = f"IF TG_OP = 'DELETE' AND {ERASING} THEN RETURN OLD; END IF;\n    "


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REFUSE.format(allow=ALLOW))
        schema_editor.execute(ROWS.format(allow=ALLOW, locked=LOCKED))


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REFUSE.format(allow=""))
        schema_editor.execute(ROWS.format(allow="", locked=LOCKED))


class Migration(migrations.Migration):
    dependencies = [("records", "0011_question_is_rescreen")]

    operations = [migrations.RunPython(forwards, backwards)]
