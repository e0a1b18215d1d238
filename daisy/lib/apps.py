from django.apps import AppConfig


class LibConfig(AppConfig):
    name = "daisy.lib"
    label = "daisy_lib"
