from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "daisy.api"
    label = "api"
