"""Access follows the role (docs/roles.md): a superuser made before roles counted becomes the
manager, and every login's is_staff / is_superuser is set from its role, as User.save now does."""

from django.db import migrations

import daisy.accounts.models

STAFF = ["reception", "specialist", "manager"]


def forwards(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    User.objects.filter(is_superuser=True, role="client").update(role="manager")
    User.objects.filter(role__in=STAFF).update(is_staff=True)
    User.objects.exclude(role__in=STAFF).update(is_staff=False)
    User.objects.filter(role="manager").update(is_superuser=True)
    User.objects.exclude(role="manager").update(is_superuser=False)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_client_sign_in")]

    operations = [
        migrations.AlterModelManagers(
            name="user",
            managers=[("objects", daisy.accounts.models.DaisyUserManager())],
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
