from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "daisy.site"
    label = "site"
    verbose_name = "Public site"
