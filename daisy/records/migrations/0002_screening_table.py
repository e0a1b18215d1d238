"""Installs the screening table Daisy ships with (daisy.records.defaults): the questionnaires
for micro-needling, laser, LED light and other skin treatments, their questions and rules.
The clinic edits them in the admin afterwards."""

from django.db import migrations

from daisy.records import defaults


def install(apps, schema_editor):
    defaults.install(
        apps.get_model("records", "Questionnaire"),
        apps.get_model("records", "Question"),
        apps.get_model("records", "Rule"),
    )


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
