from django.apps import AppConfig


class AftercareConfig(AppConfig):
    name = "daisy.aftercare"
    label = "aftercare"
    verbose_name = "Aftercare"
    # Run by every `daisy worker`: (dotted path of a function taking `now`, every N seconds).
    periodic_jobs = (
        ("daisy.aftercare.followups.course_followups_run", 900),
        ("daisy.aftercare.followups.checkin_reviews_run", 900),
    )
