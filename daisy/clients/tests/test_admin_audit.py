"""Opening a client's health record in the back-office is audited, as in the portal and the API
(the developers' guide: every view of a health record is in the audit log)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from daisy.audit.models import AuditEntry
from daisy.clients.models import Contraindication, Tier
from daisy.courses.services import plan_create
from tests.support.testing import make_clinic, staff_login

pytestmark = pytest.mark.django_db


def test_opening_a_client_a_finding_or_a_plan_in_the_admin_is_audited(client):
    clinic = make_clinic()
    patient = clinic.clients[0]
    finding = Contraindication.objects.create(
        client=patient, condition="Active acne", tier=Tier.DEFER
    )
    plan = plan_create(
        client=patient,
        treatment=clinic.microneedling,
        by=clinic.manager,
        now=timezone.now(),
        sessions=3,
    )
    staff_login(client, clinic.manager)
    pages = {
        "admin:clients_client_change": patient.pk,
        "admin:clients_contraindication_change": finding.pk,
        "admin:courses_plan_change": plan.pk,
    }
    for name, pk in pages.items():
        assert client.get(reverse(name, args=[pk])).status_code == 200
    views = AuditEntry.objects.filter(action="client.view", object_id=str(patient.pk))
    assert sorted(views.values_list("data__via", flat=True)) == [
        "admin:client",
        "admin:contraindication",
        "admin:plan",
    ]
    assert set(views.values_list("actor", flat=True)) == {clinic.manager.pk}
    # The lists of records are not per-client views, and a page that was not shown is not one.
    client.get(reverse("admin:clients_client_changelist"))
    client.get(
        reverse("admin:clients_client_change", args=["00000000-0000-0000-0000-000000000000"])
    )
    assert views.count() == 3
