from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "daisy.scheduling"
    label = "scheduling"
