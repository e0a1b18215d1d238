"""A signed chart is never overwritten (issue 14 item 5): database triggers refuse, on SQLite and
PostgreSQL alike, any change to a signed chart's clinical fields or its zones and products, any
change or deletion of an amendment, and deleting a signed chart. The models refuse the same
first (daisy.records.models.chart); these are the backstop for querysets, bulk writes and raw
SQL. A signed chart's co-signature and, for a merge of two records of one person, its client
may still be written. Also the one row of charting rules, with its shipped defaults."""

from django.db import migrations

LOCKED_COLUMNS = [
    "id", "appointment_id", "performed_on", "operator_id", "supervisor_id", "device_id",
    "handpiece_serial", "needle_count", "cartridge_opened_at_chair", "sheath_used", "skin_type",
    "numbing_amount_g", "numbing_area", "numbing_on_at", "numbing_off_at", "numbing_occluded",
    "events", "pain_score", "aftercare_given", "next_earliest_on", "rescreen_summary",
    "consent_version", "notes", "created_at", "created_by_id", "updated_at", "signed_at",
    "signed_by_id",
]
SIGNED = "(SELECT signed_at FROM records_chart WHERE id = {ref}.chart_id) IS NOT NULL"
LOCKED = "a signed chart cannot be changed: add an amendment"
AMENDED = "chart amendments cannot be changed or deleted"

SQLITE = [
    f"""CREATE TRIGGER records_amendment_no_update BEFORE UPDATE ON records_chartamendment
        BEGIN SELECT RAISE(ABORT, '{AMENDED}'); END""",
    f"""CREATE TRIGGER records_amendment_no_delete BEFORE DELETE ON records_chartamendment
        BEGIN SELECT RAISE(ABORT, '{AMENDED}'); END""",
    f"""CREATE TRIGGER records_chart_signed_no_update
        BEFORE UPDATE OF {", ".join(LOCKED_COLUMNS)} ON records_chart
        WHEN OLD.signed_at IS NOT NULL BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END""",
    f"""CREATE TRIGGER records_chart_signed_no_delete BEFORE DELETE ON records_chart
        WHEN OLD.signed_at IS NOT NULL BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END""",
    f"""CREATE TRIGGER records_chartarea_signed_no_insert BEFORE INSERT ON records_chartarea
        WHEN {SIGNED.format(ref="NEW")} BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END""",
    f"""CREATE TRIGGER records_chartarea_signed_no_update BEFORE UPDATE ON records_chartarea
        WHEN {SIGNED.format(ref="OLD")} BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END""",
    f"""CREATE TRIGGER records_chartarea_signed_no_delete BEFORE DELETE ON records_chartarea
        WHEN {SIGNED.format(ref="OLD")} BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END""",
    f"""CREATE TRIGGER records_chartproduct_signed_no_insert BEFORE INSERT ON records_chartproduct
        WHEN NEW.amendment_id IS NULL AND {SIGNED.format(ref="NEW")}
        BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END""",
    f"""CREATE TRIGGER records_chartproduct_signed_no_update BEFORE UPDATE ON records_chartproduct
        WHEN {SIGNED.format(ref="OLD")} BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END""",
    f"""CREATE TRIGGER records_chartproduct_signed_no_delete BEFORE DELETE ON records_chartproduct
        WHEN {SIGNED.format(ref="OLD")} BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END""",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "records_amendment_no_update", "records_amendment_no_delete",
        "records_chart_signed_no_update", "records_chart_signed_no_delete",
        "records_chartarea_signed_no_insert", "records_chartarea_signed_no_update",
        "records_chartarea_signed_no_delete", "records_chartproduct_signed_no_insert",
        "records_chartproduct_signed_no_update", "records_chartproduct_signed_no_delete",
    )
]

PG_ROWS_FUNCTION = """
CREATE FUNCTION records_chart_rows_locked() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cid uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN cid := NEW.chart_id; ELSE cid := OLD.chart_id; END IF;
    IF EXISTS (SELECT 1 FROM records_chart WHERE id = cid AND signed_at IS NOT NULL) THEN
        IF TG_OP = 'INSERT' AND TG_ARGV[0] = 'amendable' THEN
            IF NEW.amendment_id IS NOT NULL THEN RETURN NEW; END IF;
        END IF;
        RAISE EXCEPTION USING MESSAGE = '{locked}';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$"""
PG = [
    """CREATE FUNCTION records_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION USING MESSAGE = TG_ARGV[0]; END $$""",
    PG_ROWS_FUNCTION.replace("{locked}", LOCKED),
    f"""CREATE TRIGGER records_amendment_locked BEFORE UPDATE OR DELETE ON records_chartamendment
        FOR EACH ROW EXECUTE FUNCTION records_refuse('{AMENDED}')""",
    f"""CREATE TRIGGER records_chart_signed_no_update
        BEFORE UPDATE OF {", ".join(LOCKED_COLUMNS)} ON records_chart
        FOR EACH ROW WHEN (OLD.signed_at IS NOT NULL) EXECUTE FUNCTION records_refuse('{LOCKED}')""",
    f"""CREATE TRIGGER records_chart_signed_no_delete BEFORE DELETE ON records_chart
        FOR EACH ROW WHEN (OLD.signed_at IS NOT NULL) EXECUTE FUNCTION records_refuse('{LOCKED}')""",
    """CREATE TRIGGER records_chartarea_locked BEFORE INSERT OR UPDATE OR DELETE
        ON records_chartarea FOR EACH ROW EXECUTE FUNCTION records_chart_rows_locked('fixed')""",
    """CREATE TRIGGER records_chartproduct_locked BEFORE INSERT OR UPDATE OR DELETE
        ON records_chartproduct FOR EACH ROW
        EXECUTE FUNCTION records_chart_rows_locked('amendable')""",
]
PG_DROP = [
    "DROP TRIGGER IF EXISTS records_chartproduct_locked ON records_chartproduct",
    "DROP TRIGGER IF EXISTS records_chartarea_locked ON records_chartarea",
    "DROP TRIGGER IF EXISTS records_chart_signed_no_delete ON records_chart",
    "DROP TRIGGER IF EXISTS records_chart_signed_no_update ON records_chart",
    "DROP TRIGGER IF EXISTS records_amendment_locked ON records_chartamendment",
    "DROP FUNCTION IF EXISTS records_chart_rows_locked()",
    "DROP FUNCTION IF EXISTS records_refuse()",
]


def install(apps, schema_editor):
    statements = SQLITE if schema_editor.connection.vendor == "sqlite" else PG
    if schema_editor.connection.vendor not in ("sqlite", "postgresql"):
        return
    for sql in statements:
        schema_editor.execute(sql)
    apps.get_model("records", "ChartPolicy").objects.get_or_create(pk=1)


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        statements = SQLITE_DROP
    elif vendor == "postgresql":
        statements = PG_DROP
    else:
        return
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("records", "0003_chart_and_lots")]

    operations = [migrations.RunPython(install, uninstall)]
