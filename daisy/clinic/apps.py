from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "daisy.clinic"
    label = "clinic"
