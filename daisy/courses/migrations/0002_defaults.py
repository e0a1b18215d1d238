"""The clinic's starting defaults: a course per concern (DOMAIN.md 1.2) and the kinds of
important date (DOMAIN.md 4.2). Both are edited in the admin afterwards."""

from django.db import migrations

# (concern, standard sessions, min, max, interval days, source)
COURSES = [
    # 3-5 every 4 weeks (range 1-6); FDA-cleared protocol 3 x 30 days.
    ("acne_scars", 3, 1, 6, 28, "DOMAIN.md 1.2 row Atrophic acne scars"),
    # ~3 monthly (1-6).
    ("surgical_scars", 3, 1, 6, 28, "DOMAIN.md 1.2 row Surgical / traumatic scars"),
    # 1-5 monthly; 3 x 4-weekly in the pilot.
    ("stretch_marks", 3, 1, 5, 28, "DOMAIN.md 1.2 row Striae distensae"),
    # 4 x 30 days; maintenance usually needed.
    ("sun_damage", 4, 4, 6, 28, "DOMAIN.md 1.2 row Photoaging / sun damage"),
    # 4 monthly (upper lip: 2).
    ("fine_lines", 4, 2, 4, 28, "DOMAIN.md 1.2 row Fine lines / wrinkles"),
    # As for rejuvenation: 3-4 monthly.
    ("texture", 3, 3, 4, 28, "DOMAIN.md 1.2 row Texture / pores"),
    # 1-4 sessions; modest effect.
    ("laxity", 3, 1, 4, 28, "DOMAIN.md 1.2 row Laxity / thin skin"),
]

# (slug, name, recovery hours or None for the treatment's own window, order)
KINDS = [
    ("job_interview", "Job interview", None, 10),
    ("wedding", "Wedding", None, 20),
    ("photo_shoot", "Photo shoot", None, 30),
    ("party", "Party or celebration", None, 40),
    # DOMAIN.md 4.2 days 0-14: SPF 30+ daily and limited sun for two weeks.
    ("beach_holiday", "Beach holiday", 14 * 24, 50),
    ("sun_holiday", "Sunny holiday", 14 * 24, 60),
    ("ski_holiday", "Ski holiday", 14 * 24, 70),
    ("other", "Other", None, 100),
]


def install(apps, schema_editor):
    CourseDefault = apps.get_model("courses", "CourseDefault")
    ImportantDateKind = apps.get_model("courses", "ImportantDateKind")
    for concern, sessions, low, high, interval, source in COURSES:
        CourseDefault.objects.get_or_create(
            concern=concern,
            defaults={
                "sessions": sessions,
                "min_sessions": low,
                "max_sessions": high,
                "interval_days": interval,
                "source": source,
            },
        )
    for slug, name, hours, order in KINDS:
        ImportantDateKind.objects.get_or_create(
            slug=slug,
            defaults={"name": name, "recovery_hours": hours, "display_order": order},
        )


class Migration(migrations.Migration):
    dependencies = [("courses", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
