from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "daisy.demo"
    label = "demo"
