"""Channels hand one rendered message to the outside world.

A channel is opened when a worker first needs it, sends messages one at a time, and is closed
when the worker has nothing more due (it serves every group of a backlog). `send` returns the
provider's id for the message, or raises:

- PermanentFailure: the provider refused this message for good (bad address, 5xx SMTP reply,
  HTTP 4xx); the message ends as `failed` at once;
- HandedOverUnconfirmed: the provider had the whole message (the SMTP DATA was sent, the HTTP
  request written) but its answer never came (too late, or the connection dropped): it most
  likely went out, so it is never sent again by itself (status `unconfirmed`, for staff);
- ServerUnavailable (a TemporaryFailure): the server could not be reached or did not greet in
  time: nothing was handed over, and the worker pauses the channel for a while (delivery.py);
- anything else (TemporaryFailure, network errors, timeouts): retried with back-off.

Every hand-off of one Message carries the same Message-ID header (email) or idempotency key
(SMS), so a re-send after a lost worker is recognisably the same message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from daisy.notifications.rendering import Attachment


class DeliveryFailure(Exception):
    """Base of the errors a channel raises on purpose."""


class TemporaryFailure(DeliveryFailure):
    """Try again later (provider busy, greylisting, network)."""


class PermanentFailure(DeliveryFailure):
    """Do not try again: the provider refused this message."""


class ServerUnavailable(TemporaryFailure):
    """The server did not answer (connect, greeting, log-in) in time, or refused the connection:
    nothing was handed over. Other messages on this channel would wait the same way."""


class HandedOverUnconfirmed(DeliveryFailure):
    """The provider had the whole message, but its answer never came: the outcome is unknown
    and the message is not sent again automatically."""


@dataclass(frozen=True)
class Outgoing:
    message_id: UUID
    message_id_header: str  # "<uuid@domain>": the same on every hand-off of this message
    idempotency_key: str
    recipient: str
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...]
    is_resend: bool  # an earlier hand-off's outcome is unknown


class Channel(Protocol):
    def open(self) -> None: ...

    def send(self, outgoing: Outgoing) -> str: ...

    def close(self) -> None: ...


def channel_for(name: str) -> Channel:
    from daisy.notifications.channels.email import EmailChannel
    from daisy.notifications.channels.sms import sms_channel

    if name == "email":
        return EmailChannel()
    if name == "sms":
        return sms_channel()
    raise ValueError(f"unknown channel {name!r}")
