"""Email through Django's configured EMAIL_BACKEND (SMTP in production): each message is a
Django `EmailMultiAlternatives` handed to the backend's public `send_messages`.

The channel opens the backend once (`open()`), so one SMTP connection serves a whole batch, and
closes it after any failure so the next message starts on a fresh one. Every hand-off of one
Message carries the same Message-ID header. Django refuses a header or an address with a line
break in it (ValueError): such a message can never be written, so it fails for good.

Not reaching the server (connect, greeting, log-in) is ServerUnavailable: the worker pauses the
channel. A failure after the server had the whole message (Daisy's SMTP backend knows: see
channels/smtp.py) without a reply is HandedOverUnconfirmed: not sent again by itself. A reply,
however late it is, is a verdict like any other."""

from __future__ import annotations

import smtplib
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from daisy.notifications.channels import (
    HandedOverUnconfirmed,
    Outgoing,
    PermanentFailure,
    ServerUnavailable,
    TemporaryFailure,
)


class EmailChannel:
    def __init__(self, connection: Any = None) -> None:
        self.connection = connection or get_connection(fail_silently=False)

    def open(self) -> None:
        # Django's SMTP backend keeps a connection it did not open itself in send_messages();
        # opening it here makes one connection serve the whole batch (a no-op when open).
        try:
            self.connection.open()
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise ServerUnavailable(f"cannot reach the mail server: {_describe(exc)}") from exc

    def _handed_over(self) -> bool:
        handed_over = getattr(self.connection, "handed_over", None)
        return bool(handed_over()) if callable(handed_over) else False

    def close(self) -> None:
        try:
            self.connection.close()
        except Exception:  # noqa: BLE001 - closing a broken connection must not mask the result
            pass

    def build(self, out: Outgoing) -> EmailMultiAlternatives:
        email = EmailMultiAlternatives(
            subject=out.subject,
            body=out.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[out.recipient],
            connection=self.connection,
            headers={"Message-ID": out.message_id_header},
        )
        if out.html:
            email.attach_alternative(out.html, "text/html")
        for a in out.attachments:
            email.attach(a.filename, a.content, a.content_type)
        return email

    def send(self, out: Outgoing) -> str:
        self.open()
        try:
            sent = self.connection.send_messages([self.build(out)])
        except smtplib.SMTPRecipientsRefused as exc:
            self.close()
            codes = [code for code, _ in exc.recipients.values()]
            reason = "; ".join(f"{code} {msg!r}" for code, msg in exc.recipients.values())
            if all(code >= 500 for code in codes):
                raise PermanentFailure(f"recipient refused: {reason}") from exc
            raise TemporaryFailure(f"recipient deferred: {reason}") from exc
        except smtplib.SMTPResponseException as exc:
            self.close()
            text = (
                exc.smtp_error.decode(errors="replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(f"SMTP {exc.smtp_code} {text}") from exc
            raise TemporaryFailure(f"SMTP {exc.smtp_code} {text}") from exc
        except ValueError as exc:  # an address or header that cannot be written: never will be
            self.close()  # in case the SMTP transaction had begun; the next message starts afresh
            raise PermanentFailure(f"cannot write this email: {exc}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            handed_over = self._handed_over()  # before close() forgets the connection
            self.close()
            if handed_over:
                raise HandedOverUnconfirmed(
                    f"the mail server had the whole message but did not confirm it "
                    f"({_describe(exc)})"
                ) from exc
            if _timed_out(exc):
                # A server that stops answering mid-way: the next messages would wait as long.
                raise ServerUnavailable(
                    f"the mail server stopped answering ({_describe(exc)})"
                ) from exc
            raise TemporaryFailure(_describe(exc)) from exc
        if sent != 1:
            raise TemporaryFailure("the email backend reported the message as not sent")
        return out.message_id_header


def _describe(exc: BaseException) -> str:
    # smtplib reports a timeout as "Connection unexpectedly closed: timed out".
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _timed_out(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, TimeoutError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
