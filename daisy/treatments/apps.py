from django.apps import AppConfig


class TreatmentsConfig(AppConfig):
    name = "daisy.treatments"
    label = "treatments"
