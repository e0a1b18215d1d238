"""Writes for notifications (DESIGN.md 5).

Two kinds of caller:

- other apps schedule and cancel messages *inside their own transaction* (`message_schedule`,
  `message_cancel_for`), so a rolled-back booking leaves no message and a reschedule replaces
  its reminders atomically. Notifications knows nothing of what a message is about beyond the
  opaque `about` string ("appointment:<uuid>").
- the worker moves rows through delivery, each step its own short transaction:
  `messages_claim_due` (lease and hand-off mark, committed) -> (channel) ->
  `messages_record_results`, with `messages_sweep_expired_leases` recovering the rows of a lost
  worker.

Every delivery write is a compare-and-set on (status, leased_by): a worker whose lease was taken
over can no longer change the row, so the database, not the worker, decides what happened.
Workers never wait for a row lock when they pick work (SKIP LOCKED on PostgreSQL; SQLite's
IMMEDIATE transactions serialise writers), and afterwards they write only rows they hold, so they
cannot deadlock with a booking that cancels its messages."""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template import TemplateDoesNotExist

from daisy.lib.errors import InvalidTime, NotFound, ValidationFailed
from daisy.notifications.models import (
    CANCELLABLE,
    CLAIMABLE,
    Message,
    MessageChannel,
    MessageStatus,
    WorkerHeartbeat,
)
from daisy.notifications.rendering import attachment_spec, check_template

logger = logging.getLogger("daisy.notifications")

HEARTBEAT_STALE_AFTER_SECONDS = 300  # DESIGN.md 5: red when no worker has beaten for 5 minutes
SWEEP_LIMIT = 500


def worker_heartbeat_beat(*, worker_id: str, started_at: datetime, now: datetime) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": socket.gethostname()[:200],
            "pid": os.getpid(),
            "started_at": started_at,
            "beat_at": now,
        },
    )


# --- scheduling and cancelling: called inside the caller's transaction -------------------------


@dataclass(frozen=True)
class MessageSpec:
    """One message to schedule; see message_schedule for the fields."""

    channel: str
    recipient: str
    template: str
    context: dict[str, Any]
    send_after: datetime
    dedupe_key: str
    about: str
    # The client record the message is about (a model instance), if any: notifications keeps
    # the link for staff, and knows nothing else of clients (DESIGN.md 3, layer 2).
    client: Any = None
    attachments: Sequence[dict[str, Any]] = ()
    language: str = ""
    expires_at: datetime | None = None
    max_attempts: int | None = None


def message_schedule(
    *,
    channel: str,
    recipient: str,
    template: str,
    context: dict[str, Any],
    send_after: datetime,
    dedupe_key: str,
    about: str,
    now: datetime,
    client: Any = None,
    attachments: Sequence[dict[str, Any]] = (),
    language: str = "",
    expires_at: datetime | None = None,
    max_attempts: int | None = None,
) -> Message:
    """Create one outgoing message, to be delivered at or after `send_after`.

    Must run inside the transaction of the write that causes it: a rollback leaves no message,
    and the `deliver_due` task is enqueued only once that transaction commits. Idempotent on
    `dedupe_key`: while a non-cancelled message holds the key, scheduling it again returns that
    message unchanged. `context` must be JSON (format dates and times for the reader first);
    the templates are notifications/<template>_subject.txt, .txt and .html (SMS: .txt).
    `attachments`: [{"filename", "content_type", "content": str or bytes}]. `about` names what
    the message is about ("appointment:<uuid>"), for message_cancel_for."""
    spec = MessageSpec(
        channel=channel,
        recipient=recipient,
        template=template,
        context=context,
        send_after=send_after,
        dedupe_key=dedupe_key,
        about=about,
        client=client,
        attachments=attachments,
        language=language,
        expires_at=expires_at,
        max_attempts=max_attempts,
    )
    return message_schedule_many(messages=[spec], now=now)[0]


def message_schedule_many(*, messages: Sequence[MessageSpec], now: datetime) -> list[Message]:
    """message_schedule for several messages in one INSERT (a booking's confirmation, reminders
    and check-ins): the same rules, in the same order, one round trip instead of one each."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(
            "message_schedule must run inside the transaction of the write that causes it"
        )
    recipients: dict[tuple[str, str], str] = {}  # a booking's messages share one or two
    rows = [_new_message(spec, now, recipients) for spec in messages]
    if len({m.dedupe_key for m in rows}) != len(rows):
        raise ValidationFailed("Two of these messages share a dedupe key.")
    try:
        # A savepoint, so that a taken key does not poison the caller's transaction. Inserting
        # first (not looking first) keeps the usual case to one statement.
        with transaction.atomic():
            _insert_rows(rows)
        made = rows
    except IntegrityError:
        # A key is taken by a live message (the partial unique index): that one stands. Go one
        # by one, each in its own savepoint, to find out which.
        made = [_insert_or_existing(m) for m in rows]
    if any(
        m.send_after <= now + timedelta(seconds=settings.DAISY_MESSAGE_POLL_SECONDS)
        for m in made
        if m.status == MessageStatus.PENDING
    ):
        _kick_after_commit()
    return made


def _insert_rows(rows: Sequence[Message]) -> None:
    """INSERT the rows with one prepared statement (executemany). What bulk_create does, minus
    its per-field SQL compilation, which was most of what scheduling a booking's messages cost
    (bench/booking_messages.py). Every field has its value already (ids, created_at), so
    nothing needs to come back from the database."""
    connection = transaction.get_connection()
    meta = Message._meta
    fields = meta.concrete_fields
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    values = [[f.get_db_prep_save(getattr(m, f.attname), connection) for f in fields] for m in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)
    for m in rows:
        m._state.adding, m._state.db = False, connection.alias


def _new_message(
    spec: MessageSpec, now: datetime, recipients: dict[tuple[str, str], str] | None = None
) -> Message:
    channel, send_after, expires_at = spec.channel, spec.send_after, spec.expires_at
    if channel not in MessageChannel.values:
        raise ValidationFailed(f"Unknown channel {channel!r}.", fields={"channel": "unknown"})
    seen = recipients if recipients is not None else {}
    recipient = seen.get((channel, spec.recipient))
    if recipient is None:
        recipient = seen[(channel, spec.recipient)] = _clean_recipient(channel, spec.recipient)
    for name, value in (("send_after", send_after), ("expires_at", expires_at)):
        if value is not None and value.utcoffset() is None:
            raise InvalidTime(f"{name} needs a time zone.", fields={name: "naive"})
    if expires_at is not None and expires_at <= send_after:
        raise ValidationFailed(
            "A message cannot expire before it is due.", fields={"expires_at": "too early"}
        )
    if not spec.dedupe_key or len(spec.dedupe_key) > 200:
        raise ValidationFailed("A dedupe key of 1-200 characters is required.")
    if not spec.about or len(spec.about) > 100:
        raise ValidationFailed('"about" of 1-100 characters is required.')
    try:
        _check_template(spec.template, channel)
    except (TemplateDoesNotExist, ValueError) as exc:
        raise ValidationFailed(
            f"No message template {spec.template!r} for {channel}: {exc}",
            fields={"template": "missing"},
        ) from exc
    try:
        json.dumps(spec.context)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(f"The message context is not JSON: {exc}") from exc
    return Message(
        channel=channel,
        recipient=recipient,
        client=spec.client,
        template=spec.template,
        language=spec.language,
        context=spec.context,
        attachments=[_clean_attachment(a) for a in spec.attachments],
        dedupe_key=spec.dedupe_key,
        about=spec.about,
        send_after=send_after,
        expires_at=expires_at,
        max_attempts=spec.max_attempts or settings.DAISY_MESSAGE_MAX_ATTEMPTS,
        created_at=now,
    )


def _insert_or_existing(message: Message) -> Message:
    try:
        with transaction.atomic():
            message.save(force_insert=True)
        return message
    except IntegrityError:
        existing = (
            Message.objects.filter(dedupe_key=message.dedupe_key)
            .exclude(status=MessageStatus.CANCELLED)
            .order_by()
            .first()
        )
        if existing is None:
            raise
        return existing


def message_cancel_for(*, about: str, now: datetime, kinds: Iterable[str] | None = None) -> int:
    """Cancel the messages about `about` (only those with a template in `kinds`, if given)
    that have not been handed to a channel yet; returns how many. Call it in the transaction
    that cancels or moves the thing they are about.

    A message a worker has claimed but not started to hand off is cancelled like a pending one
    (the worker's hand-off mark then finds it gone and skips it). One whose hand-off has started
    cannot be called back: it is only the one message a worker has in hand right now. It is
    marked (`cancelled_at`), so that if it does not go out after all (the provider says "try
    later", the worker is lost) it ends cancelled instead of being sent later
    (messages_record_results, messages_sweep_expired_leases).

    This waits for row locks (a worker's writes commit within milliseconds); workers never wait
    for it when they pick work. Both lock rows not yet handed off (in id order) before rows in
    flight (in id order), so the two cannot wait for each other in a circle."""
    not_handed_off = Q(status__in=CANCELLABLE) | Q(
        status=MessageStatus.SENDING, handoff_started_at__isnull=True
    )
    rows = Message.objects.filter(about=about)
    if kinds is not None:
        rows = rows.filter(template__in=list(kinds))
    in_flight = rows.filter(
        status=MessageStatus.SENDING, handoff_started_at__isnull=False, cancelled_at__isnull=True
    )
    with transaction.atomic():
        waiting = list(
            rows.filter(not_handed_off)
            .order_by("pk")
            .select_for_update()
            .values_list("pk", flat=True)
        )
        cancelled = 0
        if waiting:
            # Still not handed off now that they are locked (a worker may have marked one).
            cancelled = (
                Message.objects.filter(pk__in=waiting)
                .filter(not_handed_off)
                .update(status=MessageStatus.CANCELLED, cancelled_at=now, lease_until=None)
            )
        ids = list(in_flight.order_by("pk").select_for_update().values_list("pk", flat=True))
        if ids:
            Message.objects.filter(pk__in=ids).update(cancelled_at=now)
    return cancelled


def message_discard_unsent(*, about: str) -> int:
    """Delete the messages about `about` that never reached a channel (a record withdrawn as if
    it had never been made: its address must not linger in the outbox); returns how many. One
    whose hand-off has started is kept, as it may have gone out."""
    statuses = [*CANCELLABLE, MessageStatus.CANCELLED, MessageStatus.SENDING]
    deleted, _by_model = Message.objects.filter(
        about=about, status__in=statuses, handoff_started_at__isnull=True, sent_at__isnull=True
    ).delete()
    return deleted


def messages_reassign_client(*, source_id: Any, target_id: Any) -> int:
    """File every message of client `source_id` under `target_id` instead (a client merge:
    the outbox keeps what was sent, to whom, untouched); returns how many. Plain ids, because
    notifications knows no client model."""
    return Message.objects.filter(client_id=source_id).update(client_id=target_id)


def message_resend_by_staff(
    *, message_id: Any, by: Any, now: datetime, client_id: Any = None
) -> Message:
    """Send again, at once, a message whose outcome is unknown (`unconfirmed`: the provider had
    it but never confirmed it), because a person decided to (the client says it never came).
    It goes out under the same Message-ID / idempotency key. Audited as `message.resend`.
    Any other state is refused: a message that went out, or is on its way, is not sent again.
    `client_id`, when given, must be the message's client (NotFound otherwise)."""
    from daisy.audit.services import audit_record, person_name

    with transaction.atomic():
        rows = Message.objects.select_for_update().filter(pk=message_id)
        if client_id is not None:
            rows = rows.filter(client_id=client_id)
        message = rows.first()
        if message is None:
            raise NotFound("That message does not exist.")
        if message.status != MessageStatus.UNCONFIRMED:
            raise ValidationFailed(
                "Only a message whose delivery was not confirmed can be sent again."
            )
        who = person_name(by) or "staff"
        note = f"sent again by {who} at {now:%Y-%m-%d %H:%M} UTC (earlier: {message.last_error})"
        Message.objects.filter(pk=message.pk).update(
            status=MessageStatus.PENDING,
            send_after=now,
            lease_until=None,
            handoff_started_at=None,
            max_attempts=max(message.max_attempts, message.attempts + 1),
            last_error=note[:2000],
        )
        audit_record(
            actor=by,
            action="message.resend",
            obj=message,
            at=now,
            data={"channel": message.channel, "template": message.template},
            name=f"{message.get_channel_display()} to {message.recipient}",
            client=message.client_id,
        )
        _kick_after_commit()
    message.refresh_from_db()
    return message


_TEMPLATES_SEEN: set[tuple[str, str]] = set()


def _check_template(template: str, channel: str) -> None:
    # Templates do not change while the process runs; look each one up once.
    if (template, channel) not in _TEMPLATES_SEEN:
        check_template(template, channel)
        _TEMPLATES_SEEN.add((template, channel))


def _clean_recipient(channel: str, recipient: str) -> str:
    recipient = (recipient or "").strip()
    if channel == MessageChannel.EMAIL:
        try:
            validate_email(recipient)
        except ValidationError as exc:
            raise ValidationFailed(
                f"{recipient!r} is not an email address.", fields={"recipient": "invalid"}
            ) from exc
        return recipient
    try:
        number = phonenumbers.parse(recipient, None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(
            f"{recipient!r} is not a phone number in international format (+44...).",
            fields={"recipient": "invalid"},
        ) from exc
    # Possible, not "valid": the drama range (+44 7700 900xxx) the demo uses is not assigned.
    if not phonenumbers.is_possible_number(number):
        raise ValidationFailed(
            f"{recipient!r} is not a valid phone number.", fields={"recipient": "invalid"}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _clean_attachment(raw: dict[str, Any]) -> dict[str, str]:
    try:
        filename, content_type, content = raw["filename"], raw["content_type"], raw["content"]
    except (KeyError, TypeError) as exc:
        raise ValidationFailed(
            "An attachment needs filename, content_type and content.",
            fields={"attachments": "invalid"},
        ) from exc
    if raw.get("encoding") == "base64":
        return {
            "filename": filename,
            "content_type": content_type,
            "content": content,
            "encoding": "base64",
        }
    return attachment_spec(filename=filename, content_type=content_type, content=content)


def _deliver_soon() -> None:
    if not settings.DAISY_MESSAGE_ENQUEUE_TASK:
        return
    from daisy.notifications.tasks import deliver_due

    deliver_due.enqueue()


def _kick_after_commit() -> None:
    """Enqueue one `deliver_due` per committing transaction, however many messages it made. The
    task only makes delivery prompt: if enqueuing fails, the workers' poll delivers anyway."""
    connection = transaction.get_connection()
    if any(func is _deliver_soon for _, func, _ in connection.run_on_commit):
        return
    transaction.on_commit(_deliver_soon, robust=True)


# --- delivery: called by workers, each step its own short transaction --------------------------


def retry_delay(attempts: int) -> timedelta:
    """Back-off after the `attempts`-th failed attempt: base, 2x base, 4x base ... capped."""
    base = settings.DAISY_MESSAGE_RETRY_BASE_SECONDS
    cap = settings.DAISY_MESSAGE_RETRY_MAX_SECONDS
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def messages_claim_due(
    *,
    owner: str,
    now: datetime,
    limit: int,
    lease_seconds: float,
    exclude_channels: Iterable[str] = (),
) -> list[Message]:
    """Lease up to `limit` due messages to `owner`, oldest due first, in one committed
    transaction.
    The lease says who may deliver them; it does not say they are going out. The worker marks
    each one's hand-off just before it calls the channel (messages_handoff), so a lost worker
    leaves at most the one message it had in hand with an unknown outcome, and the rest of its
    group goes back to pending when the lease runs out, with nothing unknown about it.
    `exclude_channels`: channels the worker has paused (a mail server that does not answer):
    their messages stay pending, untouched, for when the channel is back.

    PostgreSQL: the rows are picked with `FOR UPDATE SKIP LOCKED`, so workers never wait for one
    another or for a booking that is cancelling its messages; a row another transaction stepped
    over and still holds locked is written later with a plain (waiting) UPDATE, never skipped,
    so it cannot be stranded. SQLite: the IMMEDIATE transaction holds the database's write lock
    from its first statement."""
    excluded = [str(c) for c in exclude_channels]
    due = Message.objects.filter(status__in=CLAIMABLE, send_after__lte=now)
    if excluded:
        due = due.exclude(channel__in=excluded)
    # Look before locking: on SQLite every transaction here takes the database's one write lock,
    # and an idle poll should not queue up behind (or in front of) real work.
    if not due.exists():
        return []
    # Pick, then lease, in one transaction. Not one `UPDATE ... WHERE id IN (SELECT ... LIMIT n
    # FOR UPDATE SKIP LOCKED)`: PostgreSQL may run such a subquery more than once in one
    # statement, and with SKIP LOCKED each run finds other rows, so a worker leased more than it
    # asked for (seen in CI: 6 leased by a worker that asked for 4).
    with transaction.atomic():
        picked = list(
            due.order_by("send_after")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[: int(limit)]
        )
        Message.objects.filter(pk__in=picked).update(
            status=MessageStatus.SENDING,
            leased_by=owner,
            lease_until=now + timedelta(seconds=lease_seconds),
            handoff_started_at=None,
        )
        rows = list(Message.objects.filter(pk__in=picked))
    return sorted(rows, key=lambda row: (row.send_after, str(row.pk)))


def messages_handoff(
    *,
    owner: str,
    message_id: UUID | None,
    now: datetime,
    results: Sequence[DeliveryResult] = (),
) -> bool:
    """Mark that the hand-off of `message_id` starts now (one more attempt), and record the
    `results` of the messages handed off before it, in one commit: one commit per message, and
    a worker lost at any moment leaves at most one row marked without a result.

    Returns whether the mark took: False when the worker no longer holds the row (cancelled by
    a booking since the claim, its lease taken over): then it must not be sent. The mark comes
    first, the results after: every writer locks rows not yet handed off before rows in flight
    (as message_cancel_for does), so a booking's cancel and a worker cannot wait in a circle."""
    marked = True
    with transaction.atomic():
        if message_id is not None:
            marked = bool(
                Message.objects.filter(
                    pk=message_id,
                    status=MessageStatus.SENDING,
                    leased_by=owner,
                    handoff_started_at__isnull=True,
                    cancelled_at__isnull=True,
                ).update(handoff_started_at=now, attempts=F("attempts") + 1)
            )
        if results:
            messages_record_results(owner=owner, results=results)
    return marked


# sent / retry (temporary failure) / failed (for good) / unconfirmed (handed over in full, no
# answer: not sent again by itself) / release (claimed, but its hand-off never started: the
# worker is stopping, the lease was about to run out, or its channel is paused).
Outcome = Literal["sent", "retry", "failed", "unconfirmed", "release"]


@dataclass(frozen=True)
class DeliveryResult:
    message_id: UUID
    outcome: Outcome
    at: datetime
    attempts: int = 0  # after this attempt; for "retry"
    max_attempts: int = 0
    provider_id: str = ""
    error: str = ""
    subject: str = ""


def messages_record_results(*, owner: str, results: Sequence[DeliveryResult]) -> int:
    """Write what the channel said, in one transaction. A row the worker no longer holds (lease
    expired and swept, or re-claimed) is left alone: the sweep already recorded it as
    outcome-unknown and another hand-off with the same Message-ID follows. Returns rows written."""
    written = 0
    # In id order, as message_cancel_for locks in-flight rows: two writers never wait in a circle.
    results = sorted(results, key=lambda r: r.message_id)
    sent = [r for r in results if r.outcome == "sent"]
    with transaction.atomic():
        if sent:
            written += _record_sent(owner, sent)
        for r in results:
            if r.outcome == "sent":
                continue
            held = Message.objects.filter(
                pk=r.message_id, status=MessageStatus.SENDING, leased_by=owner
            )
            if r.outcome == "retry" and r.attempts < r.max_attempts:
                fields: dict[str, Any] = {
                    "status": MessageStatus.PENDING,
                    "send_after": r.at + retry_delay(r.attempts),
                    "last_error": f"attempt {r.attempts} of {r.max_attempts}: {r.error}",
                    "lease_until": None,
                    "handoff_started_at": None,
                }
            elif r.outcome == "unconfirmed":
                fields = {
                    "status": MessageStatus.UNCONFIRMED,
                    "unknown_outcomes": F("unknown_outcomes") + 1,
                    "last_error": f"handed over at attempt {r.attempts}, not confirmed: {r.error}",
                    "lease_until": None,
                }
            elif r.outcome in ("retry", "failed"):
                reason = r.error
                if r.outcome == "retry":
                    reason = f"gave up after {r.attempts} attempts; last: {r.error}"
                fields = {
                    "status": MessageStatus.FAILED,
                    "last_error": reason,
                    "lease_until": None,
                }
            else:  # release: claimed, but its hand-off never started
                fields = {
                    "status": MessageStatus.PENDING,
                    "lease_until": None,
                    "handoff_started_at": None,
                }
                held = held.filter(handoff_started_at__isnull=True)
            if fields["status"] == MessageStatus.PENDING:
                # Cancelled while in flight and not sent after all: it must not go out later.
                written += held.filter(cancelled_at__isnull=False).update(
                    **{**fields, "status": MessageStatus.CANCELLED}
                )
                held = held.filter(cancelled_at__isnull=True)
            written += held.update(**fields)
    if written < len(results) - sum(1 for r in results if r.outcome == "release"):
        logger.warning(
            "%d result(s) not recorded: %s no longer holds their lease (swept as outcome "
            "unknown; another hand-off with the same Message-ID follows)",
            len(results) - written,
            owner,
        )
    return written


def _record_sent(owner: str, sent: Sequence[DeliveryResult]) -> int:
    """Mark a group sent with one prepared statement run per row (executemany): this is most of
    what a worker writes, and the ORM's per-row update costs more CPU than the send itself."""
    meta = Message._meta
    connection = transaction.get_connection()
    column = {f.name: connection.ops.quote_name(f.column) for f in meta.concrete_fields}
    sql = (
        f"UPDATE {connection.ops.quote_name(meta.db_table)} SET "
        f"{column['status']} = %s, {column['sent_at']} = %s, {column['provider_id']} = %s, "
        f"{column['subject']} = %s, {column['lease_until']} = NULL "
        f"WHERE {column['id']} = %s AND {column['status']} = %s AND {column['leased_by']} = %s"
    )
    prep_id = meta.get_field("id").get_db_prep_value
    prep_at = meta.get_field("sent_at").get_db_prep_value
    rows = [
        (
            str(MessageStatus.SENT),
            prep_at(r.at, connection),
            r.provider_id[:200],
            r.subject[:255],
            prep_id(r.message_id, connection),
            str(MessageStatus.SENDING),
            owner,
        )
        for r in sent
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
        return max(0, cursor.rowcount)


@dataclass(frozen=True)
class SweepResult:
    requeued: int = 0  # lease expired before the hand-off started: nothing went out
    unknown: int = 0  # hand-off started, no result: re-sent with the same Message-ID
    failed: int = 0  # ...and no attempts left
    cancelled: int = 0  # ...but cancelled while in flight: not re-sent

    @property
    def total(self) -> int:
        return self.requeued + self.unknown + self.failed + self.cancelled


def messages_sweep_expired_leases(*, now: datetime, limit: int = SWEEP_LIMIT) -> SweepResult:
    """Recover the messages of workers that died (or stalled past their lease).

    A row whose hand-off never started goes back to pending. A row whose hand-off started may or
    may not have reached the provider: it becomes `outcome_unknown`, counts one more unknown
    outcome, and is claimed again like a pending one, to be re-sent under the same Message-ID /
    idempotency key. With no attempts left it ends as failed, saying the outcome is unknown."""
    requeued = unknown = failed = cancelled = 0
    expired = Message.objects.filter(status=MessageStatus.SENDING, lease_until__lt=now)
    if not expired.exists():  # the usual case: read only, no write lock
        return SweepResult()
    with transaction.atomic():
        rows = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(status=MessageStatus.SENDING, lease_until__lt=now)
            .order_by("lease_until")
            .only(
                "pk",
                "leased_by",
                "handoff_started_at",
                "attempts",
                "max_attempts",
                "unknown_outcomes",
                "cancelled_at",
            )[:limit]
        )
        for row in rows:
            held = Message.objects.filter(pk=row.pk, status=MessageStatus.SENDING)
            if row.handoff_started_at is None:
                requeued += held.update(status=MessageStatus.PENDING, lease_until=None)
                continue
            note = (
                f"outcome unknown: {row.leased_by} started the hand-off at "
                f"{row.handoff_started_at:%Y-%m-%d %H:%M:%S} UTC and was lost before recording "
                "the result"
            )
            if row.cancelled_at is not None:
                # Cancelled while in flight: whether or not it went out, it is not sent again.
                cancelled += held.update(
                    status=MessageStatus.CANCELLED,
                    unknown_outcomes=row.unknown_outcomes + 1,
                    last_error=f"{note}; cancelled meanwhile, not re-sent",
                    lease_until=None,
                )
                continue
            if row.attempts >= row.max_attempts:
                failed += held.update(
                    status=MessageStatus.FAILED,
                    unknown_outcomes=row.unknown_outcomes + 1,
                    last_error=f"{note}; no attempts left, not re-sent",
                    lease_until=None,
                )
            else:
                unknown += held.update(
                    status=MessageStatus.OUTCOME_UNKNOWN,
                    unknown_outcomes=row.unknown_outcomes + 1,
                    last_error=f"{note}; re-sending with the same Message-ID",
                    lease_until=None,
                )
    result = SweepResult(requeued, unknown, failed, cancelled)
    if result.unknown or result.failed:
        logger.warning(
            "sweep: %d message(s) with an unknown hand-off outcome, %d failed, %d requeued",
            result.unknown,
            result.failed,
            result.requeued,
        )
    return result
