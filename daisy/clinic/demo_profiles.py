"""The demo clinic's three specialists as a client meets them on the site: who they are, what
they trained in, which register they are on and what they are known for. Plain data, shared by
the demo seed (daisy/demo/seed.py) and the migration that brings an existing demo up to date
(migrations/0005). The people are invented; the qualifications and registers are real kinds, and
no registration number is given, so no real person's entry is borrowed."""

from __future__ import annotations

NMC_REGISTER = "https://www.nmc.org.uk/registration/search-the-register/"
JCCP_REGISTER = "https://www.jccp.org.uk/"

# Keyed by the demo's username for each specialist.
PROFILES: dict[str, dict[str, str]] = {
    "specialist1": {
        "slug": "sofia-marin",
        "title": "Lead skin specialist and registered nurse",
        "qualifications": (
            "BSc (Hons) Adult Nursing\n"
            "Postgraduate Certificate in Aesthetic Medicine (Level 7)\n"
            "Independent nurse prescriber (V300)"
        ),
        "registration_body": "Nursing and Midwifery Council (NMC)",
        "register_url": NMC_REGISTER,
        "specialities": (
            "Acne scarring\n"
            "Surgical and injury scars\n"
            "Courses that combine treatments for sun-damaged skin"
        ),
        "languages": "English, Spanish, Romanian",
        "bio": (
            "Sofia trained as a nurse and spent seven years in an NHS dermatology clinic, where "
            "she saw how much a scar can shape the way someone feels about their face. She "
            "moved into aesthetic practice in 2016 and has led the clinic's micro-needling work "
            "since it opened.\n\n"
            "She sees most first consultations about acne scars. She looks closely at which "
            "kinds of scar you have, tells you honestly which are likely to soften and which "
            "are not, and writes down a plan you can take home and think over.\n\n"
            "As lead specialist she writes and reviews the clinic's rules for health checks, "
            "hygiene and aftercare, and she is the person the team asks when a client's skin "
            "needs a second opinion."
        ),
    },
    "specialist2": {
        "slug": "hannah-cole",
        "title": "Skin specialist",
        "qualifications": (
            "Diploma in Aesthetic Practice (Level 5)\n"
            "Certificate in Advanced Skin Treatments: skin needling and peels (Level 4)\n"
            "Certificate in Infection Prevention and Control"
        ),
        "registration_body": "Joint Council for Cosmetic Practitioners (JCCP)",
        "register_url": JCCP_REGISTER,
        "specialities": (
            "Stretch marks\n"
            "Uneven texture and enlarged pores\n"
            "Chemical peels and LED light between needling sessions"
        ),
        "languages": "English",
        "bio": (
            "Hannah has worked in skin care for nine years. She began as a beauty therapist in "
            "Bristol, went on to train in advanced skin treatments, and joined Daisy in 2021.\n\n"
            "Most of the people she sees come about stretch marks, often after a pregnancy or a "
            "growth spurt in their teens. She is straightforward about what a course can do: "
            "newer red or purple marks change the most, and she would rather promise less and "
            "show you more.\n\n"
            "Clients describe her sessions as calm and unhurried. She explains each step as she "
            "goes, checks that you are comfortable, and sends you home with your aftercare "
            "written down."
        ),
    },
    "specialist3": {
        "slug": "ravi-mehta",
        "title": "Laser and skin specialist",
        "qualifications": (
            "BSc (Hons) Biomedical Science\n"
            "Certificate in Laser and Light Treatments (Level 4)\n"
            "Certificate in Skin Needling (Level 4)\n"
            "Laser Protection Supervisor training"
        ),
        "registration_body": "Joint Council for Cosmetic Practitioners (JCCP)",
        "register_url": JCCP_REGISTER,
        "specialities": (
            "Laser hair removal on every skin tone\n"
            "Micro-needling for darker skin tones\n"
            "Sun damage and uneven pigmentation"
        ),
        "languages": "English, Hindi, Gujarati",
        "bio": (
            "Ravi came to skin care from a hospital laboratory, where he worked for five years "
            "after his degree in biomedical science. He trained in laser and light treatments "
            "in 2018 and is the clinic's Laser Protection Supervisor, responsible for the safe "
            "use of its laser and LED equipment.\n\n"
            "He has a particular interest in darker skin tones, which need careful settings and "
            "preparation to avoid patches of darker or lighter skin afterwards. At a first visit "
            "he takes time to test and note down how your skin responds before planning a "
            "course.\n\n"
            "Away from the clinic he teaches laser safety to newly qualified practitioners."
        ),
    },
}
