from django.apps import AppConfig


class AftercareConfig(AppConfig):
    name = "daisy.aftercare"
    label = "aftercare"
    verbose_name = "Aftercare"
