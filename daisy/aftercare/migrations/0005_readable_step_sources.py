"""Protocol step sources as a staff member reads them in the admin: the clinical source in
words, not an internal document reference (issue 12: "no page a staff member reads contains
DOMAIN.md"). Steps the clinic edited keep their words; only the preset citations change."""

from django.db import migrations

SOURCES = {
    "DOMAIN.md 4.1 row −4 weeks → −2 weeks": "Pre-care, 4 to 2 weeks before: no tan in the last 2 weeks (device instructions); avoid sun for 4 weeks (clinic practice)",
    "DOMAIN.md 4.1 row −2 weeks → −1 week": "Pre-care, 2 to 1 weeks before: no hair removal in the area (clinic convention)",
    "DOMAIN.md 4.1 row −7 → −5 days": "Pre-care, 7 to 5 days before: retinoids, self-medicated aspirin/NSAIDs, fish oil, vitamin E (clinic practice)",
    "DOMAIN.md 4.1 row −3 → −1 days": "Pre-care, 3 to 1 days before: acids and exfoliants (clinic practice)",
    "DOMAIN.md 4.1 row −48 h": "Pre-care, 48 hours before: no self-tan (clinic practice)",
    "DOMAIN.md 4.1 row −24 h": "Pre-care, 24 hours before: no sun (SkinPen pre-care sheets)",
    "DOMAIN.md 4.1 row Day 0": "Pre-care, day of treatment: clean skin, arrive early for numbing (clinic practice)",
    "DOMAIN.md 4.2 row Day 0": "Aftercare, day 0: SkinPen consent form and clinic aftercare sheets",
    "DOMAIN.md 4.2 row Days 0–3": "Aftercare, days 0-3: SkinPen aftercare (72 hours); redness fades within 72 hours (study, PMC8008152)",
    "DOMAIN.md 4.2 row Day 1": "Aftercare, day 1: clinic aftercare sheets",
    "DOMAIN.md 4.2 row Days 1–6": "Aftercare, days 1-6: clinic aftercare sheets; granuloma risk from unapproved products (Soltani-Arabshahi 2014)",
    "DOMAIN.md 4.2 row Days 0–14": "Aftercare, days 0-14: daily SPF 30+ (clinic aftercare sheets)",
    "DOMAIN.md 4.2 row Day 14 (convention)": "Aftercare, day 14: toxin or filler 2-4 weeks after (convention; no controlled evidence)",
    "DOMAIN.md 4.2 row Day 7+": "Aftercare, day 7 on: transient effects settle within 7 days (Chu 2021 review)",
    "DOMAIN.md 4.2 row Days 0–14 (its chemical-peel care source)": "Aftercare, days 0-14: daily SPF 30+ (chemical-peel aftercare sheets)",
}
UNCONFIRMED_OLD = (
    "clinic practice, not in DOMAIN.md: confirm with the medical director (DOMAIN.md 7)"
)
UNCONFIRMED_NEW = (
    "Common clinic practice, not yet in the clinic's clinical rules: to be confirmed by the "
    "medical director"
)
PEEL = {
    "DOMAIN.md 4.1 row −7 → −5 days (micro-needling); ": "As for micro-needling pre-care, 7 to 5 days before. ",
    "DOMAIN.md 4.1 row −3 → −1 days (micro-needling); ": "As for micro-needling pre-care, 3 to 1 days before. ",
}


def readable(source: str) -> str:
    if source in SOURCES:
        return SOURCES[source]
    text = source.replace(UNCONFIRMED_OLD, UNCONFIRMED_NEW)
    for old, new in PEEL.items():
        text = text.replace(old, new)
    # Anything else the clinic typed with the internal name: name the clinic's rules instead.
    return text.replace("DOMAIN.md", "clinical rules")


def forwards(apps, schema_editor):
    Step = apps.get_model("aftercare", "ProtocolStep")
    for step in Step.objects.filter(source__contains="DOMAIN.md"):
        step.source = readable(step.source)[:300]
        step.save(update_fields=["source"])


class Migration(migrations.Migration):
    dependencies = [("aftercare", "0004_help_texts")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
