from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "daisy.notifications"
    label = "notifications"
