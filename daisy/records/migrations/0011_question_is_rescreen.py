"""The re-screen before every session asks more than the online pre-screen (issue 14; DOMAIN.md
2.2, "re-screen on the day of every session"): each question says whether it is asked again
before every session. Every shipped question is, except four only a specialist can answer
(scar tendency, skin type, the plan's eyelids, expectations). The in-person questions a client
now reads are reworded in the client's words, where the clinic has not changed them; the
questionnaires that ask them become a new version."""

from django.db import migrations, models
from django.db.models import F

CONSULTATION_ONLY = ("keloid", "dark_skin", "orbital_rim", "expectations")

# key: (shipped text, shipped why) -> (new text, new why)
REWORDED = {
    "nsaids": (
        (
            "Taking aspirin, ibuprofen, fish oil or vitamin E without a prescription?",
            "Pausing them for 5 to 7 days before helps avoid bruising, if they are not needed "
            "medically.",
        ),
        (
            "Are you taking aspirin, ibuprofen, fish oil or vitamin E that a doctor did not "
            "prescribe for you?",
            "They can make you bruise more easily. If you do not need them for a medical "
            "reason, stop them 5 to 7 days before the session.",
        ),
    ),
    "koebner": (
        (
            "Psoriasis, lichen planus or vitiligo, even if quiet now?",
            "Needling can set off these conditions in treated skin, so a clinician decides.",
        ),
        (
            "Do you have psoriasis, lichen planus or vitiligo, even if it is quiet at the moment?",
            "Needling can set off these conditions in the treated skin, so a clinician decides "
            "with you.",
        ),
    ),
    "raised_lesions": (
        (
            "Raised moles, warts, birthmarks or actinic keratoses in the area?",
            "These are not needled over.",
        ),
        (
            "Do you have raised moles, warts, birthmarks or rough, scaly patches from sun "
            "damage in the area?",
            "We do not needle over them; the rest of the area can still be treated.",
        ),
    ),
    "radiotherapy": (
        (
            "Radiotherapy to the area, or chemotherapy now or recently?",
            "A clinician decides with the oncologist's advice.",
        ),
        (
            "Have you had radiotherapy to the area, or are you having (or have you recently "
            "had) chemotherapy?",
            "A clinician decides with you, with the advice of your cancer doctor.",
        ),
    ),
    "immunosuppression": (
        (
            "Immunosuppressing medicines, high-dose steroids or an immune deficiency?",
            "Healing and infection risk need a clinician's review.",
        ),
        (
            "Do you take medicines that weaken the immune system (such as after a transplant, "
            "or high-dose steroid tablets), or have a condition that weakens it?",
            "Skin may heal more slowly and infection is more likely, so a clinician checks "
            "with you first.",
        ),
    ),
    "diabetes": (
        (
            "Diabetes or another endocrine condition that is not well controlled?",
            "Healing and infection risk need a clinician's review.",
        ),
        (
            "Do you have diabetes, or another hormone condition, that is not well controlled "
            "at the moment?",
            "Skin may heal more slowly and infection is more likely, so a clinician checks "
            "with you first.",
        ),
    ),
    "autoimmune": (
        (
            "An autoimmune or connective-tissue disease (such as lupus or scleroderma)?",
            "A clinician reviews before treatment.",
        ),
        (
            "Do you have an autoimmune or connective-tissue disease, such as lupus or scleroderma?",
            "A clinician checks with you before treatment.",
        ),
    ),
    "trauma": (
        (
            "Significant injury to the face in the last 6 months?",
            "A clinician reviews before treatment.",
        ),
        (
            "In the last 6 months, have you had a serious injury to your face?",
            "A clinician checks the area with you before treatment.",
        ),
    ),
    "granuloma": (
        (
            "A granulomatous or allergic reaction after micro-needling or a skin product before?",
            "The product involved is not used again, and a clinician reviews any further "
            "treatment.",
        ),
        (
            "Have you ever had a lasting lumpy rash, or an allergic reaction, after "
            "micro-needling or a skin product?",
            "The product involved is never used on you again, and a clinician checks with you "
            "before more treatment.",
        ),
    ),
}


def forwards(apps, schema_editor):
    Question = apps.get_model("records", "Question")
    Questionnaire = apps.get_model("records", "Questionnaire")
    Question.objects.filter(key__in=CONSULTATION_ONLY).update(is_rescreen=False)
    changed = []
    for key, ((old_text, old_why), (text, why)) in REWORDED.items():
        question = Question.objects.filter(key=key).first()
        if question is None:
            continue
        fields = []
        if question.text == old_text:
            question.text = text
            fields.append("text")
        if question.why == old_why:
            question.why = why
            fields.append("why")
        if fields:
            question.save(update_fields=fields)
            changed.append(question.pk)
    if changed:
        # Stored answers keep saying which wording they were given under.
        Questionnaire.objects.filter(questions__pk__in=changed).distinct().update(
            version=F("version") + 1
        )


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0010_help_texts_in_plain_words"),
    ]

    operations = [
        migrations.AddField(
            model_name="question",
            name="is_rescreen",
            field=models.BooleanField(
                default=True,
                help_text="Asked again before every session (from the reminder's link or on "
                "the clinic's tablet): for what can change between sessions and the client can "
                "answer. The consultation asks every question.",
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
