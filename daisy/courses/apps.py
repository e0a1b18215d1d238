from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "daisy.courses"
    label = "courses"
    verbose_name = "Treatment plans and courses"
