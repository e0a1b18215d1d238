"""Contact preferences and marketing consent (issue 6 item 4): kept apart, validated against
what the client can be reached by, and audited."""

from __future__ import annotations

import pytest

from daisy.audit.models import AuditEntry
from daisy.clients.services import client_preferences_update
from daisy.lib.errors import ValidationFailed
from tests.support.testing import MONDAY, at, make_client

pytestmark = pytest.mark.django_db
NOW = at(MONDAY, 9)


def test_channel_and_consent_change_independently_and_are_audited() -> None:
    client = make_client()
    assert (client.contact_channel, client.marketing_consent) == ("both", False)
    client = client_preferences_update(client=client, by=None, now=NOW, contact_channel="sms")
    assert (client.contact_channel, client.marketing_consent) == ("sms", False)
    client = client_preferences_update(client=client, by=None, now=NOW, marketing_consent=True)
    assert (client.contact_channel, client.marketing_consent) == ("sms", True)
    assert client.marketing_consent_changed_at == NOW
    entries = AuditEntry.objects.filter(action="client.preferences", object_id=str(client.pk))
    assert [e.data["changes"] for e in entries.order_by("id")] == [
        {"contact_channel": {"from": "both", "to": "sms"}},
        {"marketing_consent": {"from": False, "to": True}},
    ]
    # Saying the same again changes and audits nothing.
    client_preferences_update(client=client, by=None, now=NOW, contact_channel="sms")
    assert entries.count() == 2


@pytest.mark.parametrize(
    ("overrides", "channel", "message"),
    [
        ({"phone": ""}, "sms", "Add a mobile phone number"),
        ({"phone": ""}, "both", "Add a mobile phone number"),
        ({"email": ""}, "email", "Add an email address"),
        ({}, "fax", "Choose email, text message, or both."),
    ],
)
def test_refuses_a_channel_the_client_cannot_be_reached_by(
    overrides: dict[str, str], channel: str, message: str
) -> None:
    client = make_client(**overrides)
    with pytest.raises(ValidationFailed, match=message) as refused:
        client_preferences_update(client=client, by=None, now=NOW, contact_channel=channel)
    assert "contact_channel" in refused.value.fields
    client.refresh_from_db()
    assert client.contact_channel == "both"
    assert not AuditEntry.objects.filter(action="client.preferences").exists()


def test_consent_must_be_a_yes_or_no() -> None:
    with pytest.raises(ValidationFailed, match="yes or no"):
        client_preferences_update(client=make_client(), by=None, now=NOW, marketing_consent="y")
