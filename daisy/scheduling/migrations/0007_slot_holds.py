"""Slot holds (issue 4): a hold's resource time lives in the Allocation table, so the
no-overlap backstop covers it.

Making Allocation.appointment nullable rebuilds the table on SQLite, and a rebuild drops the
table's triggers, so the last operation re-creates the backstop triggers of migrations 0003/0004
exactly as they were (PostgreSQL's exclusion constraint and CHECK survive an ALTER COLUMN)."""

import django.db.models.deletion
import uuid
from django.db import migrations, models

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
_TRIGGERS = [
    "allocation_at_most_one_day_insert",
    "allocation_at_most_one_day_update",
    "allocation_no_overlap_insert",
    "allocation_no_overlap_update",
]
SQLITE_TRIGGERS = [f"DROP TRIGGER IF EXISTS {name}" for name in _TRIGGERS] + [
    "CREATE TRIGGER allocation_at_most_one_day_insert BEFORE INSERT ON scheduling_allocation "
    "BEGIN" + _TOO_LONG + "END",
    "CREATE TRIGGER allocation_at_most_one_day_update BEFORE UPDATE ON scheduling_allocation "
    "BEGIN" + _TOO_LONG + "END",
    "CREATE TRIGGER allocation_no_overlap_insert BEFORE INSERT ON scheduling_allocation "
    "WHEN NEW.is_active BEGIN" + _OVERLAP.format(extra="") + "END",
    "CREATE TRIGGER allocation_no_overlap_update BEFORE UPDATE ON scheduling_allocation "
    "WHEN NEW.is_active BEGIN" + _OVERLAP.format(extra="AND a.id <> NEW.id") + "END",
]


def _sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_TRIGGERS:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0002_closure_unique_all_locations"),
        ("scheduling", "0006_appointment_messages_version"),
        ("treatments", "0001_initial"),
    ]

    operations = [
        # Runs last when migrating backwards, after the reverse table rebuilds.
        migrations.RunPython(migrations.RunPython.noop, _sqlite_triggers),
        migrations.CreateModel(
            name="SlotHold",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("held_by", models.CharField(max_length=128, unique=True)),
                ("starts_at", models.DateTimeField()),
                ("ends_at", models.DateTimeField()),
                ("created_at", models.DateTimeField()),
                ("expires_at", models.DateTimeField(db_index=True)),
            ],
        ),
        migrations.RemoveIndex(
            model_name="allocation",
            name="alloc_resource_window",
        ),
        migrations.AddField(
            model_name="allocation",
            name="hold_expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="allocation",
            name="appointment",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="allocations",
                to="scheduling.appointment",
            ),
        ),
        migrations.AddField(
            model_name="slothold",
            name="location",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="clinic.location"
            ),
        ),
        migrations.AddField(
            model_name="slothold",
            name="specialist",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="clinic.specialist",
            ),
        ),
        migrations.AddField(
            model_name="slothold",
            name="treatment",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="treatments.treatment",
            ),
        ),
        migrations.AddField(
            model_name="allocation",
            name="hold",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="allocations",
                to="scheduling.slothold",
            ),
        ),
        migrations.AddIndex(
            model_name="allocation",
            index=models.Index(
                condition=models.Q(("is_active", True)),
                fields=["resource", "starts_at", "ends_at", "hold_expires_at"],
                name="alloc_resource_window_v2",
            ),
        ),
        migrations.AddConstraint(
            model_name="allocation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("appointment__isnull", False),
                        ("hold__isnull", True),
                        ("hold_expires_at__isnull", True),
                    ),
                    models.Q(
                        ("appointment__isnull", True),
                        ("hold__isnull", False),
                        ("hold_expires_at__isnull", False),
                    ),
                    _connector="OR",
                ),
                name="allocation_one_owner",
            ),
        ),
        migrations.AddConstraint(
            model_name="slothold",
            constraint=models.CheckConstraint(
                condition=models.Q(("expires_at__gt", models.F("created_at"))),
                name="slot_hold_expires_after_made",
            ),
        ),
        migrations.RunPython(_sqlite_triggers, migrations.RunPython.noop),
    ]
