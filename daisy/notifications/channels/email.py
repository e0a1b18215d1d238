"""Email through Django's configured EMAIL_BACKEND (SMTP in production).

With Django's SMTP backend the channel writes the message's bytes itself (channels/mime.py) and
hands them to the backend's open SMTP connection, under the backend's lock: building and
flattening Django's `email.mime` tree costs more CPU than the rest of a delivery. Any other
backend (console, file, locmem in tests, a provider's) gets a Django EmailMessage as usual."""

from __future__ import annotations

import smtplib
import socket
from email.utils import formatdate
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend

from daisy.notifications.channels import Outgoing, PermanentFailure, TemporaryFailure
from daisy.notifications.channels.mime import address, compose


class _Email(EmailMultiAlternatives):
    """Multipart boundaries derived from the message id. The standard library otherwise draws a
    random boundary and compiles a fresh regular expression to check it against the body: a
    third of the CPU of building a message."""

    boundary_seed = ""

    def message(self, *args: Any, **kwargs: Any) -> Any:
        msg = super().message(*args, **kwargs)
        if self.boundary_seed:
            for n, part in enumerate(msg.walk()):
                if part.is_multipart():
                    part.set_boundary(f"==daisy-{self.boundary_seed}-{n}==")
        return msg


class EmailChannel:
    def __init__(self, connection: Any = None) -> None:
        self.connection = connection or get_connection(fail_silently=False)

    def open(self) -> None:
        self._ensure_open()

    def _ensure_open(self) -> None:
        # Django's SMTP backend closes a connection that send_messages() opened itself; open it
        # here so one connection serves the whole batch.
        if hasattr(self.connection, "connection") and self.connection.connection is None:
            self.connection.open()
            sock = getattr(self.connection.connection, "sock", None)
            if sock is not None:
                try:
                    # SMTP is lock-step request/reply: Nagle plus delayed ACKs cost ~1 ms a
                    # command on loopback.
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                except OSError:
                    pass

    def close(self) -> None:
        try:
            self.connection.close()
        except Exception:  # noqa: BLE001 - closing a broken connection must not mask the result
            pass

    def build(self, out: Outgoing) -> EmailMultiAlternatives:
        email = _Email(
            subject=out.subject,
            body=out.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[out.recipient],
            connection=self.connection,
            headers={"Message-ID": out.message_id_header},
        )
        email.boundary_seed = out.message_id.hex
        if out.html:
            email.attach_alternative(out.html, "text/html")
        for a in out.attachments:
            email.attach(a.filename, a.content, a.content_type)
        return email

    def raw(self, out: Outgoing) -> bytes:
        """The message as the SMTP server receives it."""
        return compose(
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=out.recipient,
            subject=out.subject,
            date=formatdate(localtime=settings.EMAIL_USE_LOCALTIME),
            message_id=out.message_id_header,
            text=out.text,
            html=out.html,
            attachments=out.attachments,
            boundary_seed=out.message_id.hex,
        )

    def _send_raw(self, out: Outgoing) -> int:
        backend = self.connection
        raw = self.raw(out)
        with backend._lock:
            backend.connection.sendmail(
                address(settings.DEFAULT_FROM_EMAIL), [address(out.recipient)], raw
            )
        return 1

    def send(self, out: Outgoing) -> str:
        try:
            self._ensure_open()
            if isinstance(self.connection, SmtpBackend) and self.connection.connection:
                sent = self._send_raw(out)
            else:
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
            self.close()
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from exc
        if sent != 1:
            raise TemporaryFailure("the email backend reported the message as not sent")
        return out.message_id_header
