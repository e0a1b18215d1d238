from django.urls import path  # noqa: F401 - the portal's pages are added here

app_name = "portal"
urlpatterns: list = []
