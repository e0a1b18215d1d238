"""The starting course defaults (DOMAIN.md 1.2) and kinds of important date (DOMAIN.md 4.2);
migration 0002 installs its own frozen copy, `course_presets_install` these."""

# (concern, standard sessions, min, max, interval days, source as staff read it; each is the
# DOMAIN.md 1.2 row of the indication it names)
COURSES = [
    # 3-5 every 4 weeks (range 1-6); FDA-cleared protocol 3 x 30 days.
    ("acne_scars", 3, 1, 6, 28, "Typical course for atrophic acne scars (published studies)"),
    # ~3 monthly (1-6).
    (
        "surgical_scars",
        3,
        1,
        6,
        28,
        "Typical course for surgical / traumatic scars (published studies)",
    ),
    # 1-5 monthly; 3 x 4-weekly in the pilot.
    ("stretch_marks", 3, 1, 5, 28, "Typical course for striae distensae (published studies)"),
    # 4 x 30 days; maintenance usually needed.
    ("sun_damage", 4, 4, 6, 28, "Typical course for photoaging / sun damage (published studies)"),
    # 4 monthly (upper lip: 2).
    ("fine_lines", 4, 2, 4, 28, "Typical course for fine lines / wrinkles (published studies)"),
    # As for rejuvenation: 3-4 monthly.
    ("texture", 3, 3, 4, 28, "Typical course for texture / pores (published studies)"),
    # 1-4 sessions; modest effect.
    ("laxity", 3, 1, 4, 28, "Typical course for laxity / thin skin (published studies)"),
]

# (slug, name, recovery hours or None for the treatment's own window, order, pre-care hours or
# None)
KINDS = [
    ("job_interview", "Job interview", None, 10, None),
    ("wedding", "Wedding", None, 20, None),
    ("photo_shoot", "Photo shoot", None, 30, None),
    ("party", "Party or celebration", None, 40, None),
    # DOMAIN.md 4.2 days 0-14: SPF 30+ daily and limited sun for two weeks after a session;
    # DOMAIN.md 4.1: no tanning or sunburn for at least two weeks before one.
    ("beach_holiday", "Beach holiday", 14 * 24, 50, 14 * 24),
    ("sun_holiday", "Sunny holiday", 14 * 24, 60, 14 * 24),
    ("ski_holiday", "Ski holiday", 14 * 24, 70, 14 * 24),
    ("other", "Other", None, 100, None),
]
