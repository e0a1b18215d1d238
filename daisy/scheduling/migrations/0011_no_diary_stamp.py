"""The diary stamp goes with the availability answer cache it served (issue 15): its triggers on
allocations first (SQLite will not drop a column that a trigger names), then the column. The
post_migrate hook (daisy/scheduling/versioning.py) puts back the set-up stamp's triggers."""

from typing import Any

from django.db import migrations


def drop_version_triggers(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE 'daisy_version_%'"
            )
            for (name,) in cursor.fetchall():
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname, tgrelid::regclass::text FROM pg_trigger "
                "WHERE NOT tgisinternal AND tgname LIKE 'daisy_version_%'"
            )
            for name, table in cursor.fetchall():
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            cursor.execute("DROP FUNCTION IF EXISTS daisy_bump_diary()")


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0010_appointment_in_treatment"),
    ]

    operations = [
        migrations.RunPython(drop_version_triggers, migrations.RunPython.noop),
        migrations.RemoveField(model_name="diaryversion", name="diary"),
    ]
