from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "daisy.audit"
    label = "audit"
