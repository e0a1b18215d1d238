from django.urls import path

from daisy.site import booking, checkin, course_booking, feeds, rescreen, views, waitlist

app_name = "site"
urlpatterns = [
    path("", views.home, name="home"),
    path("treatments/", views.treatment_list, name="treatments"),
    path("treatments/<slug:slug>/", views.treatment_detail, name="treatment"),
    path("specialists/", views.specialists, name="specialists"),
    path("specialists/<slug:slug>/", views.specialist_detail, name="specialist"),
    path("locations/", views.locations, name="locations"),
    path("prices/", views.prices, name="prices"),
    path("faq/", views.faq, name="faq"),
    path("contact/", views.contact, name="contact"),
    path("privacy/", views.privacy, name="privacy"),
    path("terms/", views.terms, name="terms"),
    path("media/public/<path:path>", views.photo_file, name="photo"),
    path("book/", booking.book, name="book"),
    path("book/areas/", booking.areas, name="book-areas"),
    path("book/clinic/", booking.place, name="book-place"),
    path("book/time/", booking.times, name="book-time"),
    path("book/details/", booking.details, name="book-details"),
    path("book/hold/", booking.hold_more, name="book-hold"),
    path("book/again/", booking.again, name="book-again"),
    path("book/health-check/", booking.check, name="book-check"),
    path("book/consultation/", booking.consultation, name="book-consultation"),
    path("book/review/", booking.review, name="book-review"),
    path("book/done/", booking.done, name="book-done"),
    # Booking a whole course (issue 5): daisy/site/course_booking.py
    path("book/course/", course_booking.start, name="book-course"),
    path("book/course/when/", course_booking.when, name="book-course-when"),
    path("book/course/important-dates/", course_booking.important_dates, name="book-course-dates"),
    path("book/course/plan/", course_booking.plan, name="book-course-plan"),
    path("book/course/details/", course_booking.details, name="book-course-details"),
    path("book/course/health-check/", course_booking.check, name="book-course-check"),
    path("book/course/review/", course_booking.review, name="book-course-review"),
    path("book/course/done/", course_booking.done, name="book-course-done"),
    path("check-in/<str:token>", checkin.checkin, name="checkin"),
    path("before-your-visit/<str:token>", rescreen.rescreen, name="rescreen"),
    path("waitlist/offers/<str:token>/", waitlist.offer, name="waitlist-offer"),
    path("calendar/file/<str:token>.ics", feeds.calendar_file, name="calendar-file"),
    path("calendar/<str:token>.ics", feeds.calendar_feed, name="calendar-feed"),
]
