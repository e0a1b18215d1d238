"""gunicorn as `daisy serve` runs it (issue 16): an access log without secrets, and the server's
own refusals (a request line or headers over its limits, a malformed request) answered in JSON,
the shape every /api/ error has, instead of gunicorn's HTML page. gunicorn answers these before
Daisy sees the request, so it cannot know whether the path was under /api/; a short JSON body is
readable by a person too."""

from __future__ import annotations

import json
from typing import Any

import gunicorn.util
from gunicorn.glogging import Logger as GunicornLogger
from gunicorn.workers.sync import SyncWorker

from daisy.lib.logs import redact

CODES = {
    400: "malformed_request",
    403: "forbidden",
    414: "request_line_too_long",
    417: "expectation_failed",
    431: "request_headers_too_large",
    500: "server_error",
    501: "not_implemented",
}
MESSAGES = {
    400: "The request could not be read.",
    403: "The request was refused.",
    414: "The address is too long.",
    417: "The Expect header is not supported.",
    431: "The request's headers are too large.",
    500: "The server could not handle the request.",
    501: "The request's transfer coding is not supported.",
}


def json_error_body(status: int) -> bytes:
    return json.dumps(
        {
            "error": {
                "code": CODES.get(status, "http_error"),
                "message": MESSAGES.get(status, "The request could not be handled."),
                "fields": {},
            }
        }
    ).encode()


def write_json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    body = json_error_body(int(status_int))
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    ).encode("latin-1")
    gunicorn.util.write_nonblock(sock, head + body)


class Worker(SyncWorker):
    """gunicorn's sync worker, writing its own error answers as JSON."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        # gunicorn writes these answers with util.write_error; in this worker process that is
        # the JSON writer (set once, before the first request).
        gunicorn.util.write_error = write_json_error
        super().handle_error(req, client, addr, exc)


class Logger(GunicornLogger):
    """gunicorn's logger, with secrets redacted from every access-log field (the request line,
    path, query string and referrer may each carry a sign-in, check-in or calendar secret)."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {k: redact(v) if isinstance(v, str) else v for k, v in atoms.items()}

    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None:
        # gunicorn's "Invalid request from ip=...: <the request line>" may carry a secret too.
        super().warning(redact(str(msg)), *args, **kwargs)
