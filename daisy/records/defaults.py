"""The screening table Daisy ships with: questionnaires per kind of treatment, their questions,
and the rules that turn a "yes" into an outcome. Plain data (no Django): the data migration
installs it, the clinic edits it in the admin afterwards, and the tests walk it row by row.

Rows are those of the contraindication table in the clinical research notes (DOMAIN.md 2.2);
laser and LED rules come from laser and light-therapy practice (docs/clinical-rules.md, 1.2).
Wording a client reads (`text`, `why`) is plain; `condition` is what staff read on a finding.
"""

from __future__ import annotations

from typing import Any

MN, LASER, LED, GENERAL = "microneedling", "laser", "led", "general"
ALL = (MN, LASER, LED, GENERAL)

# (slug, name, the device kind a treatment uses; "" for treatments that use none of them)
QUESTIONNAIRES: list[tuple[str, str, str]] = [
    (MN, "Micro-needling", "microneedling_pen"),
    (LASER, "Laser", "hair_removal_laser"),
    (LED, "LED light", "led_panel"),
    (GENERAL, "Other skin treatments", ""),
]


def _q(
    key: str,
    text: str,
    why: str,
    where: tuple[str, ...],
    *,
    when: bool = False,
    look_back: int | None = None,
    online: bool = True,
    rescreen: bool = True,
) -> dict[str, Any]:
    return {
        "key": key,
        "text": text,
        "why": why,
        "asks_when": when,
        "look_back_days": look_back,
        "is_online": online,
        "is_rescreen": rescreen,
        "questionnaires": where,
    }


# Each question is asked at one or more moments (DOMAIN.md 2.2, "Screening UX"):
# - the consultation asks every question of the questionnaire;
# - the online pre-screen, before a client books for themselves, asks those marked `online`;
# - the re-screen before every session (the reminder's link, the clinic's tablet) asks those
#   marked `rescreen`: everything that can change between sessions and that a client can answer
#   (DOMAIN.md 2.2: "re-screen on the day of every session", 5.2 "each session"). Left to the
#   consultation: a scar tendency a clinician judges (row 7), the skin type (row 31), what the
#   plan includes (row 32) and the clinician's view of expectations (row 34).


# In the order they are asked. The first eight keys are the online pre-screen's since it began
# (the API's field names): kept, with `isotretinoin` and `allergy` now asking only the part that
# is a hard stop (the rest has a question of its own). Every question a client may read is in
# their words; the four only a specialist asks are in a clinician's.
QUESTIONS: list[dict[str, Any]] = [
    _q(
        "pregnant",
        "Are you pregnant, or breastfeeding?",
        "There is no safety information for this treatment during pregnancy or breastfeeding, "
        "so we wait until afterwards.",
        ALL,
    ),
    _q(
        "infection",
        "Do you have an infection, a cold sore, an open wound or irritated skin in the area?",
        "Treating through an infection or broken skin risks spreading it; it must heal first.",
        ALL,
    ),
    _q(
        "acne",
        "Do you have inflamed (red, swollen) acne in the area?",
        "Inflamed spots need to settle before the area can be treated.",
        (MN, GENERAL),
    ),
    _q(
        "isotretinoin",
        "Are you taking isotretinoin (Roaccutane) now?",
        "Skin heals differently while you take isotretinoin, so the device maker advises "
        "against treatment.",
        (MN, LASER, GENERAL),
    ),
    _q(
        "isotretinoin_stopped",
        "Did you stop taking isotretinoin (Roaccutane) in the last 6 months?",
        "Skin heals differently for months after isotretinoin, so treatment waits until 6 "
        "months after the last dose.",
        (MN, LASER, GENERAL),
        when=True,
        look_back=180,
    ),
    _q(
        "bleeding",
        "Do you have a bleeding disorder, such as haemophilia?",
        "A bleeding disorder makes needling unsafe.",
        (MN, GENERAL),
    ),
    _q(
        "anticoagulant",
        "Do you take a prescribed blood thinner (such as warfarin, apixaban, clopidogrel or "
        "prescribed aspirin)?",
        "A clinician needs to plan around a blood thinner with you. Please keep taking it: "
        "only the doctor who prescribed it can change it.",
        (MN,),
    ),
    _q(
        "flare",
        "Is eczema, psoriasis, rosacea or dermatitis flaring in the area?",
        "A flare must settle first: treating it can make it worse.",
        (MN, GENERAL),
    ),
    _q(
        "lesion",
        "Do you have skin cancer, or a mole or mark that is changing, in the area?",
        "A changing mark needs a doctor's diagnosis before any treatment over it.",
        ALL,
    ),
    _q(
        "allergy",
        "Are you allergic to metals such as stainless steel?",
        "The needles are stainless steel, so we need to plan another way.",
        (MN,),
    ),
    _q(
        "numbing_allergy",
        "Are you allergic to numbing creams (such as lidocaine)?",
        "We will treat you without numbing cream.",
        (MN,),
    ),
    _q(
        "cold_sores",
        "Do you get cold sores on or near the area?",
        "Needling can bring on a cold sore, so your specialist may suggest antiviral tablets "
        "from your doctor or pharmacist, started before the session.",
        (MN,),
    ),
    _q(
        "photosensitising",
        "Do you take a medicine or herbal remedy that makes your skin sensitive to light (such "
        "as doxycycline or St John's wort)?",
        "Some medicines make skin burn easily under light, so a clinician checks yours first.",
        (LASER, LED),
    ),
    _q(
        "epilepsy",
        "Do you have epilepsy that flashing or bright light can trigger?",
        "Bright light can trigger some kinds of epilepsy, so a clinician checks first.",
        (LED,),
    ),
    _q(
        "tattoo",
        "Do you have a tattoo or permanent make-up in the area?",
        "We will not treat over the tattoo or permanent make-up, only around it.",
        (MN, LASER, LED),
    ),
    _q(
        "sunburn",
        "Is the skin in the area sunburnt now?",
        "Sunburnt skin must heal before treatment.",
        (MN, LASER, GENERAL),
    ),
    _q(
        "tan",
        "In the last 4 weeks, has the area been tanned by the sun or a sunbed?",
        "Tanned skin reacts more to treatment, so the session waits a few weeks after the last "
        "tan.",
        ALL,
        when=True,
        look_back=28,
    ),
    _q(
        "self_tan",
        "In the last 2 days, have you used self-tan on the area?",
        "Self-tan must wear off first.",
        (MN, LASER),
        when=True,
        look_back=2,
    ),
    _q(
        "retinoids",
        "In the last week, have you used a retinoid or vitamin A cream on the area (such as "
        "tretinoin, adapalene or retinol)?",
        "Retinoid creams make the skin more sensitive, so the session waits a few days after "
        "the last use.",
        (MN,),
        when=True,
        look_back=7,
    ),
    _q(
        "acids",
        "In the last week, have you used acids (AHA or BHA), benzoyl peroxide, scrubs or an "
        "exfoliating device on the area?",
        "Exfoliated skin needs a few days to recover before treatment.",
        (MN,),
        when=True,
        look_back=7,
    ),
    _q(
        "waxing",
        "In the last 2 weeks, has the area been waxed, threaded or treated with hair-removal "
        "cream?",
        "Skin needs about a week to settle after hair removal.",
        (MN,),
        when=True,
        look_back=14,
    ),
    _q(
        "toxin",
        "In the last 3 months, have you had anti-wrinkle injections (botulinum toxin) in the area?",
        "The session waits two weeks after anti-wrinkle injections in the area.",
        (MN,),
        when=True,
        look_back=90,
    ),
    _q(
        "filler",
        "In the last 12 months, have you had dermal filler or another injectable in the area?",
        "The session waits four weeks after filler, and a clinician checks the area first.",
        (MN,),
        when=True,
        look_back=365,
    ),
    _q(
        "resurfacing",
        "In the last 3 months, have you had a deep chemical peel, dermabrasion or an ablative "
        "laser treatment in the area?",
        "Skin needs 3 months to recover from a deep peel, dermabrasion or ablative laser.",
        (MN,),
        when=True,
        look_back=90,
    ),
    _q(
        "light_treatment",
        "In the last 3 weeks, have you had a non-ablative laser, radiofrequency or IPL "
        "treatment in the area?",
        "Skin needs 3 weeks to recover from laser, radiofrequency or IPL treatment.",
        (MN,),
        when=True,
        look_back=21,
    ),
    _q(
        "surgery",
        "In the last 12 months, have you had surgery in the area (such as a facelift or eyelid "
        "surgery)?",
        "The area needs 12 months after surgery before this treatment.",
        (MN,),
        when=True,
        look_back=365,
    ),
    # Not online: asked at the consultation, and (all but four) again before every session.
    _q(
        "keloid",
        "Do scars tend to grow raised or beyond the wound (keloid or hypertrophic scars)?",
        "A clinician decides whether and how to treat, perhaps after a test patch.",
        (MN,),
        online=False,
        rescreen=False,  # a tendency the clinician judges (the session's own review sees scars)
    ),
    _q(
        "nsaids",
        "Are you taking aspirin, ibuprofen, fish oil or vitamin E that a doctor did not "
        "prescribe for you?",
        "They can make you bruise more easily. If you do not need them for a medical reason, "
        "stop them 5 to 7 days before the session.",
        (MN,),
        online=False,
    ),
    _q(
        "koebner",
        "Do you have psoriasis, lichen planus or vitiligo, even if it is quiet at the moment?",
        "Needling can set off these conditions in the treated skin, so a clinician decides "
        "with you.",
        (MN,),
        online=False,
    ),
    _q(
        "raised_lesions",
        "Do you have raised moles, warts, birthmarks or rough, scaly patches from sun damage in "
        "the area?",
        "We do not needle over them; the rest of the area can still be treated.",
        (MN,),
        online=False,
    ),
    _q(
        "radiotherapy",
        "Have you had radiotherapy to the area, or are you having (or have you recently had) "
        "chemotherapy?",
        "A clinician decides with you, with the advice of your cancer doctor.",
        (MN,),
        online=False,
    ),
    _q(
        "immunosuppression",
        "Do you take medicines that weaken the immune system (such as after a transplant, or "
        "high-dose steroid tablets), or have a condition that weakens it?",
        "Skin may heal more slowly and infection is more likely, so a clinician checks with "
        "you first.",
        (MN,),
        online=False,
    ),
    _q(
        "diabetes",
        "Do you have diabetes, or another hormone condition, that is not well controlled at "
        "the moment?",
        "Skin may heal more slowly and infection is more likely, so a clinician checks with "
        "you first.",
        (MN,),
        online=False,
    ),
    _q(
        "autoimmune",
        "Do you have an autoimmune or connective-tissue disease, such as lupus or scleroderma?",
        "A clinician checks with you before treatment.",
        (MN,),
        online=False,
    ),
    _q(
        "trauma",
        "In the last 6 months, have you had a serious injury to your face?",
        "A clinician checks the area with you before treatment.",
        (MN,),
        when=True,
        look_back=180,
        online=False,
    ),
    _q(
        "dark_skin",
        "Skin type IV to VI (Fitzpatrick)?",
        "Darker skin is more prone to dark marks after treatment: conservative depth and strict "
        "sun protection.",
        (MN,),
        online=False,
        rescreen=False,  # the consultation's skin type answers it (it does not change)
    ),
    _q(
        "orbital_rim",
        "Does the plan include the eyelids (inside the orbital rim)?",
        "The device is not used inside the orbital rim.",
        (MN,),
        online=False,
        rescreen=False,  # the plan's zones, not something the client answers
    ),
    _q(
        "granuloma",
        "Have you ever had a lasting lumpy rash, or an allergic reaction, after micro-needling "
        "or a skin product?",
        "The product involved is never used on you again, and a clinician checks with you "
        "before more treatment.",
        (MN,),
        online=False,
    ),
    _q(
        "expectations",
        "Concerns about expectations, vulnerability, or whether the request is freely made?",
        "A clinician talks it through before any treatment.",
        (MN,),
        online=False,
        rescreen=False,  # the clinician's own judgement (GMC), not a question for the client
    ),
]


def _r(
    key: str,
    question: str,
    outcome: str,
    row: str,
    condition: str,
    source: str,
    where: tuple[str, ...],
    *,
    wait: int | None = None,
    modification: str = "",
) -> dict[str, Any]:
    return {
        "key": key,
        "question": question,
        "outcome": outcome,
        "row": row,
        "condition": condition,
        "source": source,
        "questionnaires": where,
        "wait_days": wait,
        "modification": modification,
    }


SKINPEN = "SkinPen contraindications [REG]"
INMODE = "InMode instructions for use [REG]"
LASER_PRACTICE = "Laser hair removal clinic contraindication lists [PRACTICE]"
LIGHT_PRACTICE = "Light-therapy contraindication lists [PRACTICE]"

RULES: list[dict[str, Any]] = [
    # --- micro-needling: the contraindication table, row by row ---
    _r("infection", "infection", "hard_stop", "1, 2",
       "Infection, cold sore, open wound or irritated skin in the area",
       f"{SKINPEN}; CMAC HSV-1 guideline [GUIDE]", (MN, GENERAL)),
    _r("cold_sores", "cold_sores", "caution", "3", "Recurrent cold sores in or near the area",
       "CMAC HSV-1 guideline [GUIDE]", (MN,),
       modification="Antiviral cover from a prescriber, usually started 1-2 days before and "
       "continued for several days after; record what was done."),
    _r("acne", "acne", "hard_stop", "4", "Inflamed acne in the area",
       "SkinPen trial exclusions [STUDY]", (MN, GENERAL)),
    _r("isotretinoin", "isotretinoin", "hard_stop", "5", "Taking oral isotretinoin",
       SKINPEN, (MN, LASER, GENERAL)),
    _r("isotretinoin_stopped", "isotretinoin_stopped", "deferred", "6",
       "Isotretinoin stopped less than 6 months ago",
       f"Package insert [GUIDE]; {INMODE}", (MN, LASER, GENERAL), wait=180),
    _r("keloid", "keloid", "clinician_review", "7", "Keloid or hypertrophic scar tendency",
       "StatPearls [REVIEW]; contraindication lists [PRACTICE]", (MN,),
       modification="Consider a test patch."),
    _r("pregnant", "pregnant", "hard_stop", "8", "Pregnant or breastfeeding",
       f"{SKINPEN}; Trivedi et al. 2017 [REVIEW]", (MN, GENERAL)),
    _r("bleeding", "bleeding", "hard_stop", "9", "Bleeding disorder", SKINPEN, (MN, GENERAL)),
    _r("anticoagulant", "anticoagulant", "clinician_review", "10",
       "Prescribed anticoagulant or antiplatelet",
       "Clinic practice [PRACTICE]; Daisy default: never advise stopping a prescribed drug",
       (MN,), modification="Never advise stopping it; any pause comes from the prescriber."),
    _r("nsaids", "nsaids", "caution", "11", "Self-medicated NSAIDs, aspirin, fish oil or vitamin E",
       f"Clinic protocols [PRACTICE]; {INMODE}", (MN,),
       modification="Advise a pause of 5-7 days before, if not medically needed."),
    _r("flare", "flare", "hard_stop", "12", "Eczema, psoriasis, rosacea or dermatitis flaring in "
       "the area", INMODE, (MN, GENERAL)),
    _r("koebner", "koebner", "clinician_review", "12",
       "Koebner-prone condition (psoriasis, lichen planus, vitiligo), quiet now", INMODE, (MN,)),
    _r("lesion", "lesion", "hard_stop", "13", "Skin cancer or a changing lesion in the area",
       SKINPEN, ALL),
    _r("raised_lesions", "raised_lesions", "zone_excluded", "14",
       "Raised moles, warts, birthmarks or actinic keratoses in the area",
       "Contraindication lists [PRACTICE]", (MN,),
       modification="Do not needle over them; the rest of the area may be treated."),
    _r("tattoo", "tattoo", "zone_excluded", "15", "Tattoo or permanent make-up in the area",
       INMODE, (MN,), modification="Do not needle over the tattoo or permanent make-up."),
    _r("radiotherapy", "radiotherapy", "clinician_review", "16",
       "Radiotherapy to the area or chemotherapy", "Contraindication lists [PRACTICE]", (MN,),
       modification="At least 3 months after radiotherapy to the area; chemotherapy: after it "
       "ends, with the oncologist's advice."),
    _r("immunosuppression", "immunosuppression", "clinician_review", "17", "Immunosuppression",
       INMODE, (MN,)),
    _r("diabetes", "diabetes", "clinician_review", "18",
       "Poorly controlled diabetes or endocrine disease", INMODE, (MN,)),
    _r("autoimmune", "autoimmune", "clinician_review", "19",
       "Autoimmune or collagen-vascular disease", "Contraindication lists [PRACTICE]", (MN,)),
    _r("sunburn", "sunburn", "hard_stop", "20", "Sunburn in the area",
       INMODE, (MN, GENERAL)),
    _r("tan", "tan", "deferred", "20", "Tanned in the sun or a sunbed", INMODE,
       (MN, GENERAL), wait=14),
    _r("self_tan", "self_tan", "deferred", "20", "Self-tan on the area",
       "SkinPen pre-care [PRACTICE]", (MN,), wait=2),
    _r("retinoids", "retinoids", "deferred", "21", "Topical retinoid or vitamin A",
       "Clinic pre-care sheets [PRACTICE]", (MN,), wait=5),
    _r("acids", "acids", "deferred", "22", "Acids, benzoyl peroxide, scrubs or exfoliation",
       "Clinic pre-care sheets [PRACTICE]", (MN,), wait=3),
    _r("waxing", "waxing", "deferred", "23", "Waxing, threading or depilatory in the area",
       "Clinic pre-care sheets [PRACTICE]", (MN,), wait=7),
    _r("toxin", "toxin", "deferred", "24", "Botulinum toxin in the area",
       "Clinic conventions [PRACTICE]", (MN,), wait=14),
    _r("filler", "filler", "deferred", "25", "Dermal filler or injectable in the area",
       "Clinic conventions [PRACTICE]", (MN,), wait=28),
    _r("filler_review", "filler", "clinician_review", "25",
       "Dermal filler or injectable in the area: clinician review",
       "Clinic conventions [PRACTICE]", (MN,),
       modification="Check the filler site before needling over it."),
    _r("resurfacing", "resurfacing", "deferred", "26",
       "Deep peel, dermabrasion or ablative laser in the area", INMODE, (MN,), wait=90),
    _r("light_treatment", "light_treatment", "deferred", "26",
       "Non-ablative laser, radiofrequency or IPL in the area",
       "Clinic conventions [PRACTICE]", (MN,), wait=21),
    _r("surgery", "surgery", "deferred", "27", "Facial surgery in the area", INMODE, (MN,),
       wait=365, modification="To treat a surgical scar itself, a clinician may start from 6-7 "
       "weeks after surgery (override with a reason)."),
    _r("trauma", "trauma", "clinician_review", "28", "Significant facial trauma in the last 6 "
       "months", "SkinPen trial exclusions [STUDY]", (MN,)),
    _r("allergy", "allergy", "hard_stop", "29", "Allergy to stainless steel or metals",
       f"{SKINPEN}; Chu et al. 2021 [STUDY]", (MN,),
       modification="Choose another device; needling with this pen is ruled out."),
    _r("numbing_allergy", "numbing_allergy", "no_numbing", "29",
       "Allergy to topical anaesthetic", SKINPEN, (MN,),
       modification="Treat without numbing cream (or with another agent the prescriber "
       "chooses)."),
    _r("dark_skin", "dark_skin", "caution", "31", "Fitzpatrick skin type IV-VI",
       "Chu et al. 2021 [STUDY]; Dogra 2014 [STUDY]", (MN,),
       modification="Conservative depth; strict sun protection before and after; dark-mark "
       "(PIH) wording in the consent."),
    _r("orbital_rim", "orbital_rim", "zone_excluded", "32", "Within the orbital rim",
       "SkinPen precautions [REG]", (MN,), modification="Do not needle inside the orbital rim."),
    _r("granuloma", "granuloma", "clinician_review", "33",
       "Previous granulomatous or hypersensitivity reaction",
       "Soltani-Arabshahi et al. 2014 [STUDY]", (MN,),
       modification="Never use the product that caused it again."),
    _r("expectations", "expectations", "clinician_review", "34",
       "Unrealistic expectations, vulnerability or a request not freely made",
       "GMC cosmetic interventions guidance [GUIDE]", (MN,)),
    # --- laser ---
    _r("laser_pregnant", "pregnant", "hard_stop", "L1", "Pregnant or breastfeeding",
       LASER_PRACTICE, (LASER,)),
    _r("laser_infection", "infection", "hard_stop", "L2",
       "Infection, cold sore, open wound or irritated skin in the area", LASER_PRACTICE,
       (LASER, LED)),
    _r("laser_sunburn", "sunburn", "hard_stop", "L3", "Sunburn in the area", LASER_PRACTICE,
       (LASER,)),
    _r("laser_tan", "tan", "deferred", "L4", "Tanned in the sun or a sunbed",
       LASER_PRACTICE, (LASER,), wait=28),
    _r("laser_self_tan", "self_tan", "deferred", "L4", "Self-tan on the area", LASER_PRACTICE,
       (LASER,), wait=7),
    _r("laser_photosensitising", "photosensitising", "clinician_review", "L5",
       "Photosensitising medicine or herb", LASER_PRACTICE, (LASER,)),
    _r("laser_tattoo", "tattoo", "zone_excluded", "L6", "Tattoo or permanent make-up in the area",
       LASER_PRACTICE, (LASER,),
       modification="Do not fire over the tattoo; leave a margin of about 2 cm around it."),
    # --- LED light ---
    _r("led_pregnant", "pregnant", "clinician_review", "E1", "Pregnant or breastfeeding",
       LIGHT_PRACTICE, (LED,)),
    _r("led_photosensitising", "photosensitising", "clinician_review", "E2",
       "Photosensitising medicine or herb", LIGHT_PRACTICE, (LED,)),
    _r("led_epilepsy", "epilepsy", "clinician_review", "E3", "Light-sensitive epilepsy",
       LIGHT_PRACTICE, (LED,)),
    _r("led_tan", "tan", "caution", "E4", "Recent tan in the area", LIGHT_PRACTICE, (LED,),
       modification="Start at a lower dose and check the skin during the session."),
    _r("led_tattoo", "tattoo", "zone_excluded", "E5", "Tattoo or permanent make-up in the area",
       LIGHT_PRACTICE, (LED,), modification="Cover the tattoo during the session."),
]  # fmt: skip


def install(questionnaire_model: Any, question_model: Any, rule_model: Any) -> None:
    """Put the shipped table in place: what is missing is added, what the clinic changed is
    left as it is. Given the model classes, so the data migration can pass its historical
    ones (daisy.records.services.screening_table_install passes the real ones)."""
    if (
        questionnaire_model.objects.filter(slug__in=[q[0] for q in QUESTIONNAIRES]).count()
        == len(QUESTIONNAIRES)
        and question_model.objects.filter(key__in=[q["key"] for q in QUESTIONS]).count()
        == len(QUESTIONS)
        and rule_model.objects.filter(key__in=[r["key"] for r in RULES]).count() == len(RULES)
    ):
        return  # all in place: nothing below would add anything (three reads instead of ~95)
    questionnaires = {}
    for slug, name, device_kind in QUESTIONNAIRES:
        questionnaires[slug], _ = questionnaire_model.objects.get_or_create(
            slug=slug, defaults={"name": name, "device_kind": device_kind}
        )
    # The data migration of 0002 passes a Question from before `is_rescreen` (migration 0011).
    fields = {f.name for f in question_model._meta.get_fields()}
    questions = {}
    for order, item in enumerate(QUESTIONS, start=1):
        question, created = question_model.objects.get_or_create(
            key=item["key"],
            defaults={
                "text": item["text"],
                "why": item["why"],
                "asks_when": item["asks_when"],
                "look_back_days": item["look_back_days"],
                "is_online": item["is_online"],
                **({"is_rescreen": item["is_rescreen"]} if "is_rescreen" in fields else {}),
                "order": order * 10,
            },
        )
        questions[item["key"]] = question
        if created:
            for slug in item["questionnaires"]:
                questionnaires[slug].questions.add(question)
    for item in RULES:
        rule, created = rule_model.objects.get_or_create(
            key=item["key"],
            defaults={
                "question": questions[item["question"]],
                "outcome": item["outcome"],
                "wait_days": item["wait_days"],
                "condition": item["condition"],
                "modification": item["modification"],
                "row": item["row"],
                "source": item["source"],
            },
        )
        if created:
            rule.questionnaires.set([questionnaires[slug] for slug in item["questionnaires"]])
