"""Test receivers for the delivery tests and the bench: a real SMTP server on loopback (aiosmtpd,
a dev dependency) and a fake of Twilio's Messages endpoint (http.server). Both record what they
receive and de-duplicate the way a careful receiver would: by Message-ID, by idempotency key."""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import json
import logging
import re
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]*>)", re.IGNORECASE | re.MULTILINE)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    message_id: str
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    at: float = 0.0  # time.time() when the server had it

    def parsed(self) -> email.message.EmailMessage:
        msg = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(msg, email.message.EmailMessage)
        return msg


@dataclass
class SmtpSink:
    """An SMTP server on 127.0.0.1 that records every accepted message.

    `rcpt_reply(address) -> "550 ..." | None` and `data_reply(address, attempt) -> "451 ..." |
    None` script refusals; `delay` (seconds) slows every DATA reply down without blocking other
    connections. Use as a context manager.

    Misbehaving on purpose, as real servers do:
    - `misbehave(phase, address) -> "drop" | "late" | None`, asked at MAIL ("drop": the
      connection is closed before anything is sent) and after a message's content has arrived
      ("late": it is kept, and the reply comes `late_seconds` later, past the client's
      timeout; "drop": it is kept and the connection closed without a reply);
    - `stall(seconds)`: for that long, every command (EHLO, HELO, MAIL, RCPT) waits without an
      answer, and a message that arrives meanwhile is kept but answered only when it ends."""

    delay: float = 0.0
    rcpt_reply: Callable[[str], str | None] | None = None
    data_reply: Callable[[str, int], str | None] | None = None
    misbehave: Callable[[str, str], str | None] | None = None
    late_seconds: float = 0.0
    stall_until: float = 0.0  # time.monotonic()
    host: str = "127.0.0.1"
    port: int = 0
    received: list[Received] = field(default_factory=list)
    tries: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Any = None

    def __enter__(self) -> SmtpSink:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        # aiosmtpd logs every SMTP command at INFO: thousands of lines, and slow.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.port = self.port or free_port()
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def stall(self, seconds: float) -> None:
        self.stall_until = time.monotonic() + seconds

    @property
    def stalled(self) -> bool:
        return time.monotonic() < self.stall_until

    # --- what arrived ---

    def message_ids(self) -> list[str]:
        with self._lock:
            return [r.message_id for r in self.received]

    def counts(self) -> Counter[str]:
        return Counter(self.message_ids())

    def unique(self) -> set[str]:
        """What a receiver that de-duplicates by Message-ID delivers to the reader."""
        return set(self.message_ids())

    def by_message_id(self, message_id: str) -> Received:
        with self._lock:
            return next(r for r in self.received if r.message_id == message_id)

    def settings(self) -> dict[str, Any]:
        """Settings (or environment) that point Django's SMTP backend here."""
        return {
            "EMAIL_BACKEND": "daisy.notifications.channels.smtp.EmailBackend",
            "EMAIL_HOST": self.host,
            "EMAIL_PORT": self.port,
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
        }

    def env(self) -> dict[str, str]:
        return {k: str(v) if not isinstance(v, bool) else "0" for k, v in self.settings().items()}


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def _stalled(self) -> None:
        while time.monotonic() < self.sink.stall_until:
            await asyncio.sleep(min(0.2, max(0.01, self.sink.stall_until - time.monotonic())))

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        await self._stalled()
        session.host_name = hostname
        return responses

    async def handle_HELO(self, server: Any, session: Any, envelope: Any, hostname: str) -> str:
        await self._stalled()
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: Any
    ) -> str:
        await self._stalled()
        if self.sink.misbehave is not None and self.sink.misbehave("mail", address) == "drop":
            server.transport.close()
            return "421 closing"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        await self._stalled()
        if self.sink.rcpt_reply is not None:
            reply = self.sink.rcpt_reply(address)
            if reply:
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)
        raw = bytes(envelope.original_content or envelope.content)
        found = MESSAGE_ID.search(raw.split(b"\r\n\r\n", 1)[0])
        message_id = found.group(1).decode() if found else ""
        if self.sink.data_reply is not None:
            address = envelope.rcpt_tos[0] if envelope.rcpt_tos else ""
            with self.sink._lock:
                self.sink.tries[address] += 1
                attempt = self.sink.tries[address]
            reply = self.sink.data_reply(address, attempt)
            if reply:
                return reply
        with self.sink._lock:
            self.sink.received.append(
                Received(
                    message_id, envelope.mail_from, list(envelope.rcpt_tos), raw, time.time()
                )
            )
        fault = None
        if self.sink.misbehave is not None:
            fault = self.sink.misbehave("data", envelope.rcpt_tos[0] if envelope.rcpt_tos else "")
        if fault == "drop":
            server.transport.close()
            return "421 closing"
        if fault == "late":
            await asyncio.sleep(self.sink.late_seconds)
        await self._stalled()
        return "250 Message accepted for delivery"


@dataclass
class FakeTwilio:
    """Twilio's `POST /2010-04-01/Accounts/{sid}/Messages.json`, on loopback.

    Checks basic auth, records each request, and answers a repeated Idempotency-Key with the
    first answer (sending nothing new). `reply(form, attempt) -> (status, body) | None` scripts
    errors."""

    account_sid: str = "AC" + "0" * 32
    auth_token: str = "test-token"
    reply: Callable[[dict[str, str], int], tuple[int, dict[str, Any]] | None] | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    delivered: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> first answer
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                fake._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length).decode()
        form = {k: v[0] for k, v in parse_qs(body).items()}
        key = request.headers.get("Idempotency-Key", "")
        expected = (
            "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        )
        with self._lock:
            self.requests.append(
                {
                    "path": request.path,
                    "form": form,
                    "key": key,
                    "auth_ok": request.headers.get("Authorization") == expected,
                    "at": time.time(),
                }
            )
            attempt = sum(1 for r in self.requests if r["key"] == key)
        path = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        if request.path != path:
            return self._answer(request, 404, {"code": 20404, "message": "Not found"})
        if request.headers.get("Authorization") != expected:
            return self._answer(request, 401, {"code": 20003, "message": "Authenticate"})
        scripted = self.reply(form, attempt) if self.reply is not None else None
        if scripted is not None:
            return self._answer(request, *scripted)
        with self._lock:
            if key and key in self.delivered:
                return self._answer(request, 201, self.delivered[key])
            sid = "SM" + uuid.uuid4().hex
            answer = {
                "sid": sid,
                "status": "queued",
                "to": form.get("To"),
                "body": form.get("Body"),
            }
            if key:
                self.delivered[key] = answer
            else:
                self.delivered[sid] = answer
        self._answer(request, 201, answer)

    @staticmethod
    def _answer(request: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)
