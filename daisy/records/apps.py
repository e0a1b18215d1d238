from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "daisy.records"
    label = "records"
    verbose_name = "Clinical records"
