from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "daisy.portal"
    label = "portal"
    verbose_name = "Client portal"
