from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "daisy.booking"
    label = "booking"
    verbose_name = "Booking"
