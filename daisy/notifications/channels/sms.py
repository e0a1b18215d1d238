"""SMS: one small interface, a file and a console backend for development, and an adapter for
Twilio's REST API shape (`DAISY_SMS_BACKEND`)."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

from daisy.notifications.channels import (
    HandedOverUnconfirmed,
    Outgoing,
    PermanentFailure,
    ServerUnavailable,
    TemporaryFailure,
)

logger = logging.getLogger("daisy.sms")

ALIASES = {
    "file": "daisy.notifications.channels.sms.FileSmsChannel",
    "console": "daisy.notifications.channels.sms.ConsoleSmsChannel",
    "twilio": "daisy.notifications.channels.sms.TwilioSmsChannel",
}


class SmsChannel:
    """Send one text message. Subclasses implement `send`; open/close are optional."""

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def send(self, outgoing: Outgoing) -> str:
        raise NotImplementedError


def sms_channel() -> SmsChannel:
    name = settings.DAISY_SMS_BACKEND
    cls = import_string(ALIASES.get(name, name))
    channel = cls()
    if not isinstance(channel, SmsChannel):
        raise TypeError(f"{name} is not a SmsChannel")
    return channel


class FileSmsChannel(SmsChannel):
    """One file per message, named by its idempotency key, so a re-send overwrites the same
    file (a de-duplicating receiver, like a real provider with idempotency keys)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory or settings.DAISY_SMS_FILE_DIR)

    def send(self, outgoing: Outgoing) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{outgoing.idempotency_key}.txt"
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(
            f"To: {outgoing.recipient}\nFrom: {settings.DAISY_SMS_FROM}\n"
            f"Idempotency-Key: {outgoing.idempotency_key}\n\n{outgoing.text}",
            encoding="utf-8",
        )
        tmp.replace(path)
        return f"file:{path.name}"


class ConsoleSmsChannel(SmsChannel):
    def send(self, outgoing: Outgoing) -> str:
        logger.info(
            "SMS to %s (key %s):\n%s", outgoing.recipient, outgoing.idempotency_key, outgoing.text
        )
        return f"console:{outgoing.idempotency_key}"


class TwilioSmsChannel(SmsChannel):
    """POST {base}/2010-04-01/Accounts/{sid}/Messages.json, form-encoded, HTTP basic auth.

    The Idempotency-Key header carries the message's key on every attempt: providers that honour
    it (and the test's fake server) return the first result for a repeat instead of sending
    again. 4xx answers are permanent (bad number, unverified sender...), except 408 and 429;
    5xx and network errors are temporary. Not reaching the provider (urllib's URLError: while
    connecting or writing the request) is ServerUnavailable; no answer once the request was
    written (a timeout, a dropped connection) is HandedOverUnconfirmed: not sent again."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        account_sid: str | None = None,
        auth_token: str | None = None,
        from_: str | None = None,
        messaging_service_sid: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.base_url = (base_url or settings.DAISY_TWILIO_BASE_URL).rstrip("/")
        self.account_sid = account_sid or settings.DAISY_TWILIO_ACCOUNT_SID
        self.auth_token = auth_token or settings.DAISY_TWILIO_AUTH_TOKEN
        self.from_ = from_ or settings.DAISY_SMS_FROM
        self.messaging_service_sid = (
            messaging_service_sid or settings.DAISY_TWILIO_MESSAGING_SERVICE_SID
        )
        self.timeout = timeout or settings.DAISY_SMS_TIMEOUT
        if not self.account_sid or not self.auth_token:
            # Temporary: the messages go out once the configuration is fixed (within the retries).
            raise TemporaryFailure(
                "DAISY_SMS_BACKEND is twilio but DAISY_TWILIO_ACCOUNT_SID or "
                "DAISY_TWILIO_AUTH_TOKEN is not set"
            )

    @property
    def url(self) -> str:
        sid = urllib.parse.quote(self.account_sid, safe="")
        return f"{self.base_url}/2010-04-01/Accounts/{sid}/Messages.json"

    def send(self, outgoing: Outgoing) -> str:
        form = {"To": outgoing.recipient, "Body": outgoing.text.strip()}
        if self.messaging_service_sid:
            form["MessagingServiceSid"] = self.messaging_service_sid
        else:
            form["From"] = self.from_
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        request = urllib.request.Request(
            self.url,
            data=urllib.parse.urlencode(form).encode(),
            method="POST",
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
                "Idempotency-Key": outgoing.idempotency_key,
                "User-Agent": "daisy-notifications",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            detail = _provider_error(exc)
            if 400 <= exc.code < 500 and exc.code not in (408, 429):
                raise PermanentFailure(f"HTTP {exc.code}: {detail}") from exc
            raise TemporaryFailure(f"HTTP {exc.code}: {detail}") from exc
        except urllib.error.URLError as exc:
            # Raised while connecting or writing the request: the provider has nothing.
            raise ServerUnavailable(f"cannot reach the SMS provider: {exc.reason}") from exc
        except (OSError, http.client.HTTPException) as exc:
            # While waiting for the answer to a request written in full.
            raise HandedOverUnconfirmed(
                f"the SMS provider had the message but did not answer "
                f"({type(exc).__name__}: {exc})"
            ) from exc
        try:
            sid = str(json.loads(body)["sid"])
        except (ValueError, KeyError, TypeError):
            # A 2xx means the provider accepted the message: record it as sent, not retried.
            logger.warning("SMS provider answered without a sid: %r", body[:200])
            return f"no-sid:{outgoing.idempotency_key}"
        return sid


def _provider_error(exc: urllib.error.HTTPError) -> str:
    try:
        payload = json.loads(exc.read() or b"{}")
    except ValueError:
        return exc.reason if isinstance(exc.reason, str) else str(exc.reason)
    code = payload.get("code")
    message = payload.get("message") or exc.reason
    return f"{message} (provider code {code})" if code else str(message)
