"""Delivery bookkeeping (DESIGN.md 5).

`Message` is the outbox and the source of truth for every email and SMS: a service writes the row
inside the transaction that causes it, and workers deliver it later under a lease. Its life:

    pending --claim--> sending --hand-off, channel accepts--> sent
       ^                  |  \\--channel refuses for good, or attempts used up--> failed
       |                  |   \\--temporary failure--> pending (send_after moved by the back-off)
       |                  |
       |          lease expired (worker lost)
       |                  |-- before its hand-off started --> pending (nothing went out)
       |                  \\-- after its hand-off started  --> outcome_unknown (+1 unknown_outcomes)
       |                                                          |
       \\------------- outcome_unknown is claimed like pending ---/  and re-sent with the SAME
                                                                    Message-ID / idempotency key
    pending / outcome_unknown / sending-before-hand-off --cancel--> cancelled

A worker claims a group (lease only) and marks each message's hand-off just before it calls the
channel, in the same commit that records the previous message's result: a lost worker leaves at
most one message with an unknown outcome.

`unknown_outcomes` never goes down, so a message that went out after an unknown outcome stays
visibly "re-sent" for staff, and a de-duplicating receiver (keyed by Message-ID) sees it once.

A message the mail server (or SMS provider) had received in full, but whose answer never came
(it came after the timeout, or the connection dropped while waiting for it), ends `unconfirmed`:
it most likely reached the client, so it is never sent again by itself. Staff see it (admin, the
client's file) and may send it again deliberately (message_resend_by_staff, audited).

    sending --handed over in full, no answer--> unconfirmed --staff "send again"--> pending

WorkerHeartbeat lets the health endpoint and staff pages tell when no worker is running."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class MessageChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending (leased by a worker)")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    OUTCOME_UNKNOWN = "outcome_unknown", _("Outcome unknown: will be re-sent")
    UNCONFIRMED = "unconfirmed", _("Handed over, not confirmed: not sent again by itself")


# Rows a worker may claim once send_after has passed.
CLAIMABLE = (MessageStatus.PENDING, MessageStatus.OUTCOME_UNKNOWN)
# Rows a cancel still stops: not yet handed to a channel (a `sending` row only while its
# hand-off has not started; see message_cancel_for).
CANCELLABLE = (MessageStatus.PENDING, MessageStatus.OUTCOME_UNKNOWN)


class Message(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.CharField(max_length=10, choices=MessageChannel.choices)
    recipient = models.CharField(
        max_length=254, help_text=_("Email address, or phone number in E.164 for SMS.")
    )
    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
    )
    template = models.CharField(
        max_length=100, help_text=_("notifications/<template>.txt, .html and _subject.txt")
    )
    language = models.CharField(max_length=15, blank=True)
    context = models.JSONField(default=dict, blank=True)
    attachments = models.JSONField(
        default=list,
        blank=True,
        help_text=_('[{"filename", "content_type", "content", "encoding": "base64"?}]'),
    )
    subject = models.CharField(max_length=255, blank=True, help_text=_("As last rendered."))
    dedupe_key = models.CharField(max_length=200, db_index=True)
    about = models.CharField(
        max_length=100,
        db_index=True,
        help_text=_('What the message is about, e.g. "appointment:<uuid>"; cancel by it.'),
    )
    send_after = models.DateTimeField()
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Not sent at all once this has passed.")
    )
    status = models.CharField(
        max_length=20, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=8)
    unknown_outcomes = models.PositiveSmallIntegerField(
        default=0,
        help_text=_(
            "Hand-offs whose result was never recorded (worker lost). Each was followed by a "
            "re-send with the same Message-ID."
        ),
    )
    lease_until = models.DateTimeField(null=True, blank=True)
    leased_by = models.CharField(
        max_length=100, blank=True, help_text=_("The worker that holds, or last held, the lease.")
    )
    handoff_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=200, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-send_after"]
        constraints = [
            # A cancelled message frees its key, so a reschedule may reuse it.
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=~Q(status="cancelled"),
                name="message_dedupe_key_live_unique",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["email", "sms"]), name="message_channel_known"
            ),
        ]
        indexes = [
            # The claim: due rows in send_after order, only among the few claimable ones.
            models.Index(
                fields=["send_after"],
                condition=Q(status__in=["pending", "outcome_unknown"]),
                name="message_claimable_idx",
            ),
            # The sweep: leases that ran out.
            models.Index(
                fields=["lease_until"],
                condition=Q(status="sending"),
                name="message_leased_idx",
            ),
            models.Index(fields=["status", "send_after"], name="message_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.recipient}: {self.template} ({self.status})"

    @property
    def message_id_header(self) -> str:
        """The RFC 5322 Message-ID every hand-off of this row carries, so a re-send after a
        crash is recognisably the same message."""
        domain = getattr(settings, "DAISY_MESSAGE_ID_DOMAIN", "") or "daisy.invalid"
        return f"<{self.pk}@{domain}>"

    @property
    def idempotency_key(self) -> str:
        return str(self.pk)

    @property
    def was_resent_after_unknown_outcome(self) -> bool:
        return self.unknown_outcomes > 0


class WorkerHeartbeat(models.Model):
    worker_id = models.CharField(max_length=100, unique=True)
    hostname = models.CharField(max_length=200, blank=True)
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-beat_at"]

    def __str__(self) -> str:
        return f"{self.worker_id} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"
