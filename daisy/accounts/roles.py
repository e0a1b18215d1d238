"""What each role may do: the one place access is decided (docs/roles.md).

A login's `role` is the only thing staff set. `User.save` derives Django's `is_staff` and
`is_superuser` from it, and `RoleBackend` grants the permissions below from it; groups and
per-user permission boxes are not used, so two logins with one role always have the same access.
The manager is a superuser: everything in the admin, and every desk action.
"""

from __future__ import annotations

from daisy.accounts.models import Role

# Appointment writes go through the booking services whatever the role.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.RECEPTION: [
        "clients.view_client",
        "clients.add_client",
        "clients.change_client",
        "scheduling.view_appointment",
        "scheduling.view_allocation",
        "clinic.view_location",
        "clinic.view_specialist",
        "clinic.view_room",
        "clinic.view_device",
        "clinic.view_weeklyhours",
        "clinic.view_dateoverride",
        "clinic.view_timeoff",
        "clinic.add_timeoff",
        "clinic.change_timeoff",
        "clinic.view_closure",
        "treatments.view_treatment",
        "treatments.view_phase",
        # Red-flag alerts: reception sees them to call the client; clinicians clear them.
        "aftercare.view_alert",
        # Courses (issue 5): plans are created, adjusted and accepted at the front desk too.
        "courses.view_plan",
        "courses.add_plan",
        "courses.change_plan",
        "courses.view_planarea",
        "courses.view_plansession",
        "courses.view_importantdate",
        "courses.add_importantdate",
        "courses.delete_importantdate",
        "courses.view_coursedefault",
        "courses.view_importantdatekind",
    ],
    Role.SPECIALIST: [
        "clients.view_client",
        "aftercare.view_alert",
        "aftercare.change_alert",
        "aftercare.view_checkin",
        "clients.view_contraindication",
        "clients.add_contraindication",
        "clients.change_contraindication",
        "scheduling.view_appointment",
        "scheduling.view_allocation",
        "clinic.view_location",
        "clinic.view_specialist",
        "clinic.view_room",
        "clinic.view_device",
        "clinic.view_weeklyhours",
        "clinic.view_timeoff",
        "clinic.view_closure",
        "treatments.view_treatment",
        "treatments.view_phase",
        # Courses (issue 5): specialists grade areas and confirm extended courses.
        "courses.view_plan",
        "courses.add_plan",
        "courses.change_plan",
        "courses.view_planarea",
        "courses.add_planarea",
        "courses.change_planarea",
        "courses.view_plansession",
        "courses.view_importantdate",
        "courses.add_importantdate",
        "courses.delete_importantdate",
        "courses.view_coursedefault",
        "courses.view_importantdatekind",
        # Screening (issue 14): the table, and a client's stored answers (health data).
        "records.view_questionnaire",
        "records.view_question",
        "records.view_rule",
        "records.view_screeningresponse",
        # Charting (issue 14): consumables and their lots are received in the admin too;
        # the charting rules are the manager's.
        "records.view_product",
        "records.add_product",
        "records.change_product",
        "records.view_lot",
        "records.add_lot",
        "records.change_lot",
        "records.view_chartpolicy",
        # Consent (issue 14): the templates' text and versions (signed consents: at the desk).
        "records.view_consenttemplate",
        "records.view_consenttemplateversion",
        # The consultation (issue 14, item 2) is filled in and signed at the desk.
        "records.view_consultation",
        "records.add_consultation",
        "records.change_consultation",
        "records.view_consultationamendment",
        "records.add_consultationamendment",
        # Clinical photos (issue 14, item 7): taken and seen by clinicians only; reception
        # neither (docs/roles.md: clinical detail is for the clinicians).
        "records.view_photo",
        "records.add_photo",
    ],
}


def role_permissions(role: str) -> frozenset[str]:
    """The permissions ("app_label.codename") a role grants; the manager's are all of them."""
    return frozenset(ROLE_PERMISSIONS.get(role, ()))
