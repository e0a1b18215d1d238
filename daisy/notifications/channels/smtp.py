"""Daisy's SMTP email backend: Django's own (`django.core.mail.backends.smtp.EmailBackend`, which
the settings map to this one), with two things the delivery worker needs to know:

- reaching the server (connect, greeting, EHLO, STARTTLS, log-in) has its own short limit,
  DAISY_SMTP_CONNECT_TIMEOUT, so a server that hangs is noticed in seconds; each command after
  that has EMAIL_TIMEOUT, as in Django;
- `handed_over()`: whether the server had the whole of the last message (its content and the
  final "." written, the server's verdict awaited) when a send failed. A timeout or a dropped
  connection after that point means the message most likely went out, and it must not be sent
  again by itself (channels/email.py raises HandedOverUnconfirmed).

Only public parts of smtplib are extended: `data()` and `getreply()`, whose order within one
DATA command (the 354 go-ahead, then the verdict on the content) is what RFC 5321 prescribes."""

from __future__ import annotations

import smtplib
from typing import Any

from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend as DjangoSmtpBackend


class _HandOverTracking:
    """Mixed into smtplib.SMTP: `handed_over` is True from the moment the content of the
    message in hand has been written in full until the next MAIL command."""

    handed_over = False
    _in_data = False
    _data_replies = 0

    def mail(self, sender: str, options: Any = ()) -> Any:
        self.handed_over = False
        return super().mail(sender, options)  # type: ignore[misc]

    def data(self, msg: Any) -> Any:
        self.handed_over, self._in_data, self._data_replies = False, True, 0
        try:
            return super().data(msg)  # type: ignore[misc]
        finally:
            self._in_data = False

    def getreply(self) -> Any:
        if self._in_data:
            self._data_replies += 1
            if self._data_replies == 2:
                # The first reply was the 354 go-ahead, the content has been written: this one
                # is the server's verdict on a message it holds.
                self.handed_over = True
        return super().getreply()  # type: ignore[misc]


class HandOverSMTP(_HandOverTracking, smtplib.SMTP):
    pass


class HandOverSMTPSSL(_HandOverTracking, smtplib.SMTP_SSL):
    pass


class EmailBackend(DjangoSmtpBackend):
    def __init__(self, *args: Any, connect_timeout: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connect_timeout = (
            settings.DAISY_SMTP_CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
        )

    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        return HandOverSMTPSSL if self.use_ssl else HandOverSMTP

    def open(self) -> bool | None:
        command_timeout = self.timeout
        limits = [t for t in (self.connect_timeout, command_timeout) if t]
        self.timeout = min(limits) if limits else None
        try:
            opened = super().open()
            if opened and self.connection is not None:
                # The server's EHLO answer too, within the same short limit (Django's open()
                # leaves it to the first send unless it logs in or starts TLS).
                try:
                    self.connection.ehlo_or_helo_if_needed()
                except (smtplib.SMTPException, OSError):
                    self.close()
                    raise
        finally:
            self.timeout = command_timeout
        if opened and self.connection is not None:
            # From here on, each command may take EMAIL_TIMEOUT.
            self.connection.timeout = command_timeout
            if self.connection.sock is not None:
                self.connection.sock.settimeout(command_timeout)
        return opened

    def handed_over(self) -> bool:
        """Whether the last message's content had been written in full (see the module)."""
        return bool(getattr(self.connection, "handed_over", False))
