from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "daisy.accounts"
    label = "accounts"
    verbose_name = "Accounts"
