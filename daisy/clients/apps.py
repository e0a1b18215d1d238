from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "daisy.clients"
    label = "clients"
