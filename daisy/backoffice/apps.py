from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "daisy.backoffice"
    label = "backoffice"
    verbose_name = "Front desk"
