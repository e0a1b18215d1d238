"""Course default sources as staff read them in the admin: the indication and its evidence in
words, not an internal document row (issue 12: "no page a staff member reads contains
DOMAIN.md"). Sources the clinic rewrote keep their words."""

import re

from django.db import migrations

ROW = re.compile(r"^DOMAIN\.md 1\.2 row (.+)$")


def forwards(apps, schema_editor):
    CourseDefault = apps.get_model("courses", "CourseDefault")
    for row in CourseDefault.objects.filter(source__contains="DOMAIN.md"):
        match = ROW.match(row.source)
        if match:
            row.source = f"Typical course for {match.group(1).lower()} (published studies)"
        else:
            row.source = row.source.replace("DOMAIN.md", "clinical rules")
        row.save(update_fields=["source"])


class Migration(migrations.Migration):
    dependencies = [("courses", "0002_defaults")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
