from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from daisy.lib.errors import DomainError
from daisy.notifications.models import Message, MessageStatus, WorkerHeartbeat
from daisy.notifications.services import HEARTBEAT_STALE_AFTER_SECONDS, message_resend_by_staff


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by services and workers: staff look, never edit."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ("worker_id", "hostname", "pid", "started_at", "beat_at", "is_alive")
    search_fields = ("worker_id", "hostname")
    ordering = ("-beat_at",)
    readonly_fields = ("worker_id", "hostname", "pid", "started_at", "beat_at")

    @admin.display(description=_("alive"), boolean=True)
    def is_alive(self, obj: WorkerHeartbeat) -> bool:
        return obj.beat_at >= timezone.now() - timedelta(seconds=HEARTBEAT_STALE_AFTER_SECONDS)


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = (
        "send_after",
        "channel",
        "recipient",
        "template",
        "status",
        "attempts",
        "resent_after_unknown_outcome",
        "sent_at",
        "error",
    )
    list_filter = ("status", "channel", "template")
    actions = ("send_again",)
    search_fields = ("recipient", "about", "dedupe_key")
    ordering = ("-send_after",)
    list_per_page = 100
    show_full_result_count = False  # a count(*) over a large outbox on every page load
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "id",
                    "channel",
                    "recipient",
                    "client",
                    "template",
                    "language",
                    "subject",
                    "about",
                    "dedupe_key",
                )
            },
        ),
        (
            _("Delivery"),
            {
                "fields": (
                    "status",
                    "send_after",
                    "expires_at",
                    "attempts",
                    "max_attempts",
                    "unknown_outcomes",
                    "sent_at",
                    "provider_id",
                    "cancelled_at",
                    "last_error",
                )
            },
        ),
        (_("Lease"), {"fields": ("leased_by", "lease_until", "handoff_started_at")}),
        (_("Content"), {"fields": ("context", "attachment_names", "created_at")}),
    )
    readonly_fields = (
        "id",
        "channel",
        "recipient",
        "client",
        "template",
        "language",
        "subject",
        "about",
        "dedupe_key",
        "status",
        "send_after",
        "expires_at",
        "attempts",
        "max_attempts",
        "unknown_outcomes",
        "sent_at",
        "provider_id",
        "cancelled_at",
        "last_error",
        "leased_by",
        "lease_until",
        "handoff_started_at",
        "context",
        "attachment_names",
        "created_at",
    )

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    @admin.action(
        description=_("Send again (delivery was not confirmed; the client says it never came)"),
        permissions=["resend"],
    )
    def send_again(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        done = 0
        for message in queryset.filter(status=MessageStatus.UNCONFIRMED):
            try:
                message_resend_by_staff(message_id=message.pk, by=request.user, now=timezone.now())
                done += 1
            except DomainError as exc:
                messages.error(request, f"{message}: {exc.message}")
        skipped = queryset.exclude(status=MessageStatus.UNCONFIRMED).count()
        if done:
            messages.success(request, _("%(n)s message(s) will be sent again.") % {"n": done})
        if skipped:
            messages.warning(
                request,
                _(
                    "%(n)s message(s) left as they are: only a message whose delivery was not "
                    "confirmed can be sent again."
                )
                % {"n": skipped},
            )

    @admin.display(description=_("re-sent after unknown outcome"), boolean=True)
    def resent_after_unknown_outcome(self, obj: Message) -> bool:
        return obj.unknown_outcomes > 0

    @admin.display(description=_("last error"))
    def error(self, obj: Message) -> str:
        return Truncator(obj.last_error).chars(120)

    @admin.display(description=_("attachments"))
    def attachment_names(self, obj: Message) -> str:
        return ", ".join(str(a.get("filename", "?")) for a in obj.attachments or []) or "-"
