from django.urls import path  # noqa: F401 - sign-in, registration and recovery pages

app_name = "accounts"
urlpatterns: list = []
