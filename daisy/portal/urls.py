from django.urls import path

from daisy.portal import consent, erasure, photos, views, waitlist

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("appointments/<uuid:pk>/", views.appointment_detail, name="appointment-detail"),
    path(
        "appointments/<uuid:pk>/reschedule/",
        views.appointment_reschedule_view,
        name="appointment-reschedule",
    ),
    path(
        "appointments/<uuid:pk>/cancel/", views.appointment_cancel_view, name="appointment-cancel"
    ),
    path(
        "appointments/<uuid:pk>/calendar.ics",
        views.appointment_calendar,
        name="appointment-calendar",
    ),
    path("profile/", views.profile, name="profile"),
    path("preferences/", views.preferences, name="preferences"),
    path("aftercare/", views.aftercare, name="aftercare"),
    path("courses/", views.course_list, name="courses"),
    path("courses/<uuid:pk>/", views.course_detail, name="course-detail"),
    path("waitlist/", waitlist.waitlist, name="waitlist"),
    path("waitlist/<uuid:pk>/leave/", waitlist.waitlist_remove, name="waitlist-remove"),
    # Consent (issue 14 item 4).
    path("consents/", consent.consent_list, name="consents"),
    path("consents/sign/", consent.consent_sign_view, name="consent-sign"),
    path(
        "appointments/<uuid:pk>/consent/",
        consent.consent_sign_view,
        name="consent-sign-appointment",
    ),
    path("consents/<uuid:pk>/pdf/", consent.consent_pdf_view, name="consent-pdf"),
    path("consents/<uuid:pk>/withdraw/", consent.consent_withdraw_view, name="consent-withdraw"),
    # Clinical photos (issue 14, item 7), where the clinic shows them.
    path("photos/", photos.photo_list, name="photos"),
    path("photos/<uuid:pk>/", photos.photo_file, name="photo-file"),
    path("photos/<uuid:pk>/thumb/", photos.photo_thumb, name="photo-thumb"),
    path("my-data/", views.data_page, name="data"),
    path("my-data/download/", views.data_download, name="data-download"),
    path("my-data/erase/", erasure.data_erase, name="data-erase"),
]
