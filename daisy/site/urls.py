from django.urls import path

from daisy.site import checkin, feeds, views

app_name = "site"
urlpatterns = [
    path("", views.home, name="home"),
    path("check-in/<str:token>", checkin.checkin, name="checkin"),
    path("calendar/<str:token>.ics", feeds.calendar_feed, name="calendar-feed"),
]
