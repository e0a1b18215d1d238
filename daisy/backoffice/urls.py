from django.contrib.auth import views as auth_views
from django.urls import path, register_converter

from daisy.backoffice import (
    desk_chart,
    desk_clients,
    desk_consent,
    desk_consultation,
    desk_erasure,
    desk_lots,
    desk_photos,
    desk_records,
    desk_reports,
    desk_waitlist,
    desk_worklist,
    views,
)


class IsoDate:
    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: object) -> str:
        return str(value)


register_converter(IsoDate, "isodate")

app_name = "desk"
urlpatterns = [
    path("", views.diary, name="diary"),
    path("<isodate:on>/", views.diary, name="diary-day"),
    path("<isodate:on>/grid/", views.diary_grid, name="diary-grid"),
    path("week/<isodate:on>/", views.diary_week_view, name="diary-week"),
    path("book/", views.book, name="book"),
    path("appointments/<uuid:appointment_id>/", views.appointment_detail, name="appointment"),
    path(
        "appointments/<uuid:appointment_id>/status/",
        views.appointment_status,
        name="appointment-status",
    ),
    path(
        "appointments/<uuid:appointment_id>/cancel/",
        views.appointment_cancel,
        name="appointment-cancel",
    ),
    path(
        "appointments/<uuid:appointment_id>/note/",
        views.appointment_note,
        name="appointment-note",
    ),
    path(
        "appointments/<uuid:appointment_id>/move/",
        views.appointment_move,
        name="appointment-move",
    ),
    path(
        "appointments/<uuid:appointment_id>/rebook/",
        views.appointment_rebook,
        name="appointment-rebook",
    ),
    # The treatment chart and lot recall (issue 14, items 5 and 6): clinicians only.
    path("appointments/<uuid:appointment_id>/chart/", desk_chart.chart_page, name="chart"),
    path(
        "appointments/<uuid:appointment_id>/chart/cosign/",
        desk_chart.chart_cosign_view,
        name="chart-cosign",
    ),
    path(
        "appointments/<uuid:appointment_id>/chart/amend/",
        desk_chart.chart_amend_view,
        name="chart-amend",
    ),
    path("lots/", desk_lots.lots, name="lots"),
    path("lots/<uuid:lot_id>/", desk_lots.lot_detail, name="lot"),
    path("lots/<uuid:lot_id>/treatments.csv", desk_lots.lot_csv, name="lot-csv"),
    path("lots/<uuid:lot_id>/recall/", desk_lots.lot_recall, name="lot-recall"),
    # Consent (issue 14 item 4): the client signs on the tablet; clinicians read, download,
    # and record a withdrawal.
    path(
        "appointments/<uuid:appointment_id>/consent/",
        desk_consent.consent_tablet,
        name="consent-sign",
    ),
    path("consents/<uuid:consent_id>/", desk_consent.consent_detail, name="consent"),
    path("consents/<uuid:consent_id>/pdf/", desk_consent.consent_pdf_view, name="consent-pdf"),
    path(
        "consents/<uuid:consent_id>/withdraw/",
        desk_consent.consent_withdraw_view,
        name="consent-withdraw",
    ),
    # Before needling (issue 14): the health questions on the tablet, a clinician's override.
    path(
        "appointments/<uuid:appointment_id>/health-questions/",
        desk_records.appointment_rescreen,
        name="appointment-rescreen",
    ),
    path(
        "appointments/<uuid:appointment_id>/override/",
        desk_records.appointment_override,
        name="appointment-override",
    ),
    path(
        "sign-in/",
        auth_views.LoginView.as_view(
            template_name="backoffice/sign_in.html",
            redirect_authenticated_user=False,
            next_page="desk:diary",
        ),
        name="sign-in",
    ),
    path("sign-out/", auth_views.LogoutView.as_view(next_page="desk:sign-in"), name="sign-out"),
    # Clients, the affected-bookings worklist and the waitlist (issue 13, items 3-5).
    path("clients/", desk_clients.client_list, name="clients"),
    path("clients/<uuid:client_id>/", desk_clients.client_file, name="client"),
    path("clients/<uuid:client_id>/audit/", desk_clients.client_audit, name="client-audit"),
    # Erasure requests and legal holds (issue 14, item 8): the manager only.
    path("clients/<uuid:client_id>/erasure/", desk_erasure.client_erasure, name="client-erasure"),
    path(
        "clients/<uuid:client_id>/legal-holds/",
        desk_erasure.client_legal_hold_place,
        name="client-legal-hold-place",
    ),
    path(
        "clients/<uuid:client_id>/legal-holds/<int:legal_hold_id>/lift/",
        desk_erasure.client_legal_hold_lift,
        name="client-legal-hold-lift",
    ),
    path(
        "clients/<uuid:client_id>/messages/<uuid:message_id>/resend/",
        desk_clients.message_resend,
        name="client-message-resend",
    ),
    path(
        "clients/<uuid:client_id>/holds/<int:hold_id>/clear/",
        desk_clients.hold_clear,
        name="client-hold-clear",
    ),
    # The consultation (issue 14, item 2): clinicians only.
    path(
        "clients/<uuid:client_id>/consultation/",
        desk_consultation.consultation_list,
        name="consultations",
    ),
    path(
        "clients/<uuid:client_id>/consultation/new/",
        desk_consultation.consultation_new,
        name="consultation-new",
    ),
    path(
        "clients/<uuid:client_id>/consultation/<uuid:consultation_id>/",
        desk_consultation.consultation_page,
        name="consultation",
    ),
    path(
        "clients/<uuid:client_id>/consultation/<uuid:consultation_id>/details/",
        desk_consultation.consultation_details,
        name="consultation-details",
    ),
    path(
        "clients/<uuid:client_id>/consultation/<uuid:consultation_id>/history/",
        desk_consultation.consultation_history,
        name="consultation-history",
    ),
    path(
        "clients/<uuid:client_id>/consultation/<uuid:consultation_id>/sign/",
        desk_consultation.consultation_sign_view,
        name="consultation-sign",
    ),
    path(
        "clients/<uuid:client_id>/consultation/<uuid:consultation_id>/amend/",
        desk_consultation.consultation_amend_view,
        name="consultation-amend",
    ),
    # Clinical photos (issue 14, item 7): clinicians only.
    path(
        "appointments/<uuid:appointment_id>/photos/",
        desk_photos.appointment_photos,
        name="appointment-photos",
    ),
    path("clients/<uuid:client_id>/photos/", desk_photos.client_photos, name="client-photos"),
    path("photos/<uuid:photo_id>/", desk_photos.photo_file, name="photo-file"),
    path("photos/<uuid:photo_id>/thumb/", desk_photos.photo_thumb, name="photo-thumb"),
    path(
        "clients/<uuid:client_id>/findings/add/",
        desk_records.finding_add_view,
        name="client-finding-add",
    ),
    path(
        "clients/<uuid:client_id>/findings/<int:finding_id>/resolve/",
        desk_records.finding_resolve_view,
        name="client-finding-resolve",
    ),
    path("worklist/", desk_worklist.worklist, name="worklist"),
    path(
        "worklist/<uuid:appointment_id>/cancel/",
        desk_worklist.worklist_cancel,
        name="worklist-cancel",
    ),
    path("waitlist/", desk_waitlist.waitlist, name="waitlist"),
    path("waitlist/add/", desk_waitlist.waitlist_add, name="waitlist-add"),
    path("waitlist/<uuid:entry_id>/remove/", desk_waitlist.waitlist_remove, name="waitlist-remove"),
    path(
        "waitlist/offers/<uuid:offer_id>/accept/",
        desk_waitlist.offer_accept,
        name="waitlist-offer-accept",
    ),
    # The owner's reports (issue 16, item 5): the manager only.
    path("reports/", desk_reports.report_page, name="reports"),
    path("reports/<slug:report>.csv", desk_reports.report_csv, name="report-csv"),
]
