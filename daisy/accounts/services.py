from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from daisy.accounts.models import Role, User

# What each staff role may do in the back-office (the admin, for now). The manager is a
# superuser. Appointment writes go through the booking services whatever the role.
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
    ],
    Role.SPECIALIST: [
        "clients.view_client",
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
    ],
}


@transaction.atomic
def staff_groups_ensure() -> dict[str, Group]:
    groups = {}
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=str(Role(role).label))
        perms = []
        for dotted in codenames:
            app_label, codename = dotted.split(".")
            perms.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(perms)
        groups[role] = group
    return groups


def staff_user_create(
    *,
    username: str,
    role: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> User:
    groups = staff_groups_ensure()
    user = User.objects.create_user(
        username=username,
        password=password,
        first_name=first_name,
        last_name=last_name,
        email=email,
        role=role,
        is_staff=True,
        is_superuser=role == Role.MANAGER,
    )
    if role in groups:
        user.groups.add(groups[role])
    return user
