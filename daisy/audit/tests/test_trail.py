"""The audit trail (issue 16, item 4): append only; every settings change made in the admin and
every change to a finding recorded as the person who made it, with what changed (and, for a
finding, why); and the manager's "who saw and changed what" page for one client, in names."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from daisy.accounts.models import Role, User
from daisy.audit.models import AuditEntry, AuditImmutable
from daisy.audit.services import audit_record
from daisy.clients.models import Contraindication, Tier
from daisy.clinic.models import Closure, Location
from tests.support.testing import Clinic, make_clinic, make_user, staff_login

pytestmark = pytest.mark.django_db

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


@pytest.fixture
def clinic() -> Clinic:
    world = make_clinic(specialists=2, rooms=1, pens=1, clients=1)
    for user, (first, last) in (
        (world.manager, ("Maya", "Manager")),
        (world.reception, ("Rita", "Reception")),
        (world.specialists[0].user, ("Sara", "First")),
        (world.specialists[1].user, ("Tom", "Second")),
    ):
        User.objects.filter(pk=user.pk).update(first_name=first, last_name=last)
        user.refresh_from_db()
    return world


def signed_in(user: Any) -> HttpClient:
    http = HttpClient()
    if getattr(user, "is_clinic_staff", False):
        return staff_login(http, user)  # staff pages need the second factor (issue 16)
    http.force_login(user)
    return http


def visible_text(html: str) -> str:
    body = html.split("<main", 1)[-1]
    return re.sub(r"<[^>]+>", " ", body)


def test_an_entry_cannot_be_changed_or_deleted(clinic: Clinic) -> None:
    patient = clinic.clients[0]
    entry = audit_record(actor=clinic.manager, action="client.view", obj=patient, at=timezone.now())
    assert entry.actor_name == "Maya Manager"
    assert entry.object_name == patient.full_name
    assert entry.client_ref == str(patient.pk)

    entry.action = "client.update"
    with pytest.raises(AuditImmutable):
        entry.save()
    with pytest.raises(AuditImmutable):
        entry.delete()
    with pytest.raises(AuditImmutable):
        AuditEntry.objects.filter(pk=entry.pk).update(action="client.update")
    with pytest.raises(AuditImmutable):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "client.view"

    # The admin offers no way to change or delete one either.
    http = signed_in(clinic.manager)
    change = reverse("admin:audit_auditentry_change", args=[entry.pk])
    delete = reverse("admin:audit_auditentry_delete", args=[entry.pk])
    assert http.post(change, {"action": "x"}).status_code == 403
    assert http.post(delete, {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_a_deleted_login_leaves_its_name_in_the_trail(clinic: Clinic) -> None:
    leaver = make_user(role=Role.RECEPTION, first_name="Lee", last_name="Leaver")
    audit_record(actor=leaver, action="client.view", obj=clinic.clients[0], at=timezone.now())
    leaver.delete()
    entry = AuditEntry.objects.get(actor_name="Lee Leaver")
    assert entry.actor_id is None


def test_settings_saved_in_the_admin_are_recorded_by_name(clinic: Clinic) -> None:
    http = signed_in(clinic.manager)
    location = clinic.location
    add = http.post(
        reverse("admin:clinic_closure_add"),
        {"location": str(location.pk), "on": "2030-12-25", "name": "Christmas Day"},
    )
    assert add.status_code == 302
    closure = Closure.objects.get(name="Christmas Day")
    change = http.post(
        reverse("admin:clinic_closure_change", args=[closure.pk]),
        {"location": str(location.pk), "on": "2030-12-26", "name": "Boxing Day"},
    )
    assert change.status_code == 302
    delete = http.post(reverse("admin:clinic_closure_delete", args=[closure.pk]), {"post": "yes"})
    assert delete.status_code == 302

    entries = AuditEntry.objects.filter(object_type="clinic.closure").order_by("id")
    assert [e.action for e in entries] == ["settings.add", "settings.change", "settings.delete"]
    assert {e.actor_name for e in entries} == {"Maya Manager"}
    added, changed, deleted = entries
    assert "Christmas Day" in added.object_name
    assert changed.data["changes"] == {
        "on": {"from": "2030-12-25", "to": "2030-12-26"},
        "name": {"from": "Christmas Day", "to": "Boxing Day"},
    }
    assert "Boxing Day" in deleted.object_name

    # A login's role, named in words, and the location it changed.
    someone = make_user(role=Role.RECEPTION, username="rob", first_name="Rob", last_name="Desk")
    page = http.get(reverse("admin:accounts_user_change", args=[someone.pk]))
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "password"}
    data.update(role=Role.SPECIALIST, date_joined_0="2030-01-01", date_joined_1="09:00")
    data = {k: v for k, v in data.items() if not k.startswith(("last_login", "date_joined"))}
    saved = http.post(reverse("admin:accounts_user_change", args=[someone.pk]), data)
    assert saved.status_code == 302, page.context["adminform"].form.errors
    role = AuditEntry.objects.get(object_type="accounts.user", action="settings.change")
    assert role.object_name == "rob"
    assert role.data["changes"]["role"] == {"from": "Reception", "to": "Specialist"}
    assert Location.objects.filter(pk=location.pk).exists()


def test_a_password_changed_in_the_admin_is_recorded_without_the_password(
    clinic: Clinic,
) -> None:
    someone = make_user(role=Role.RECEPTION, username="rob", first_name="Rob", last_name="Desk")
    http = signed_in(clinic.manager)
    url = reverse("admin:auth_user_password_change", args=[someone.pk])
    mismatch = http.post(
        url, {"password1": "a-New-pass-2030", "password2": "other", "set_usable_password": "true"}
    )
    assert mismatch.status_code == 200
    assert not AuditEntry.objects.filter(object_type="accounts.user").exists()

    saved = http.post(
        url,
        {
            "password1": "a-New-pass-2030",
            "password2": "a-New-pass-2030",
            "set_usable_password": "true",
        },
    )
    assert saved.status_code == 302
    someone.refresh_from_db()
    assert someone.check_password("a-New-pass-2030")
    entry = AuditEntry.objects.get(object_type="accounts.user", action="settings.change")
    assert (entry.actor_name, entry.object_name) == ("Maya Manager", "rob")
    assert entry.data["changes"] == {"password": "changed"}
    assert "a-New-pass-2030" not in str(entry.data)


def _finding_post(finding: Contraindication, **changes: Any) -> dict[str, Any]:
    data = {
        "client": str(finding.client_id),
        "condition": finding.condition,
        "tier": finding.tier,
        "domain_row": finding.domain_row,
        "until_on": "",
        "resolved_at_0": "",
        "resolved_at_1": "",
        "change_reason": "",
    }
    data.update(changes)
    return data


def test_a_specialist_changing_anothers_finding_is_recorded_as_themselves(clinic: Clinic) -> None:
    first, second = (s.user for s in clinic.specialists)
    patient = clinic.clients[0]
    new = Contraindication(client=patient, condition="Active acne", tier=Tier.DEFER)
    # Recording a finding asks why, as changing and resolving one do (issue 14, item 4).
    unexplained = signed_in(first).post(
        reverse("admin:clients_contraindication_add"), _finding_post(new)
    )
    assert unexplained.status_code == 200
    assert "Say why you record this finding" in unexplained.content.decode()
    assert not Contraindication.objects.filter(condition="Active acne").exists()
    made = signed_in(first).post(
        reverse("admin:clients_contraindication_add"),
        _finding_post(new, change_reason="Inflamed papules on both cheeks today"),
    )
    assert made.status_code == 302
    created = AuditEntry.objects.get(action="finding.create")
    assert created.data["reason"] == "Inflamed papules on both cheeks today"
    finding = Contraindication.objects.get(condition="Active acne")
    assert finding.recorded_by == first

    page = reverse("admin:clients_contraindication_change", args=[finding.pk])
    editor = signed_in(second)
    refused = editor.post(page, _finding_post(finding, tier=Tier.HARD_STOP))
    assert refused.status_code == 200
    assert "Say why you changed this finding" in refused.content.decode()
    finding.refresh_from_db()
    assert finding.tier == Tier.DEFER

    saved = editor.post(
        page, _finding_post(finding, tier=Tier.HARD_STOP, change_reason="Cystic, not mild")
    )
    assert saved.status_code == 302
    resolved = editor.post(
        page,
        _finding_post(
            finding,
            tier=Tier.HARD_STOP,
            resolved_at_0="2030-01-07",
            resolved_at_1="10:00",
            change_reason="Cleared by the GP",
        ),
    )
    assert resolved.status_code == 302

    trail = AuditEntry.objects.filter(object_id=str(finding.pk)).order_by("id")
    actions = [(e.action, e.actor_name) for e in trail if e.action != "client.view"]
    assert actions == [
        ("finding.create", "Sara First"),
        ("finding.change", "Tom Second"),
        ("finding.resolve", "Tom Second"),
    ]
    change = trail.get(action="finding.change")
    assert change.data["changes"]["tier"] == {
        "from": str(Tier.DEFER.label),
        "to": str(Tier.HARD_STOP.label),
    }
    assert change.data["reason"] == "Cystic, not mild"
    assert change.data["first_recorded_by"] == "Sara First"
    assert {e.client_ref for e in trail} == {str(patient.pk)}
    # The finding's page says who changed it last, and why.
    shown = editor.get(page).content.decode()
    assert "Resolved a finding by Tom Second" in shown and "Cleared by the GP" in shown


def test_the_manager_sees_who_saw_and_changed_a_clients_record(clinic: Clinic) -> None:
    patient = clinic.clients[0]
    specialist = clinic.specialists[0].user
    signed_in(specialist).post(
        reverse("admin:clients_contraindication_add"),
        _finding_post(
            Contraindication(client=patient, condition="Keloid scars", tier=Tier.DEFER),
            change_reason="Raised scar on the chin",
        ),
    )
    assert (
        signed_in(clinic.reception)
        .get(reverse("desk:client", kwargs={"client_id": patient.pk}))
        .status_code
        == 200
    )
    url = reverse("desk:client-audit", kwargs={"client_id": patient.pk})

    for refused in (clinic.reception, specialist):
        response = signed_in(refused).get(url)
        assert response.status_code == 403
        assert "Opened the health record" not in response.content.decode()

    manager = signed_in(clinic.manager)
    file_page = manager.get(reverse("desk:client", kwargs={"client_id": patient.pk}))
    assert url in file_page.content.decode()
    page = manager.get(url)
    assert page.status_code == 200
    text = visible_text(page.content.decode())
    assert "Rita Reception" in text and "Opened the health record" in text and "in the desk" in text
    assert "Sara First" in text and "Recorded a finding" in text and "Keloid scars" in text
    assert not UUID.search(text)
