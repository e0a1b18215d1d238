"""Give every specialist a profile address (from their name) and bring an existing demo clinic's
three specialists up to their full profiles, so `make demo` on an old database shows them too."""

import uuid

from django.db import migrations
from django.utils.text import slugify

# The demo's old one-line biography; a profile still carrying it was never edited by staff.
OLD_DEMO_BIO = " has specialised in collagen-induction treatments and skin health."


def forwards(apps, schema_editor):
    from daisy.clinic.demo_profiles import PROFILES

    Specialist = apps.get_model("clinic", "Specialist")
    taken = set(Specialist.objects.exclude(slug="").values_list("slug", flat=True))
    for username, profile in PROFILES.items():
        demo_id = uuid.uuid5(uuid.NAMESPACE_URL, f"https://daisy.example/demo/{username}")
        s = Specialist.objects.filter(pk=demo_id, bio__endswith=OLD_DEMO_BIO).first()
        if s is None or profile["slug"] in taken:
            continue
        for field, value in profile.items():
            setattr(s, field, value)
        s.save()
        taken.add(s.slug)
    for s in Specialist.objects.filter(slug="").order_by("name"):
        base = slugify(s.name)[:70] or "specialist"
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        s.slug = slug
        s.save(update_fields=["slug"])
        taken.add(slug)


class Migration(migrations.Migration):
    dependencies = [("clinic", "0004_specialist_profile")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
