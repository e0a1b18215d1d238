"""The bytes of one outgoing email (RFC 5322 / MIME), written directly.

Django builds an email as a tree of `email.mime` objects and flattens it with the standard
library's generator, which parses and re-folds every header on the way: about 0.4 ms a message,
most of what a worker spends per email. The worker's messages have one fixed shape, so this
module writes that shape straight out, with the same structure and encodings Django uses:

- `text/plain`, with `text/html` as a `multipart/alternative`, and attachments in a
  `multipart/mixed` around it; boundaries derived from the message id;
- bodies in UTF-8: `7bit` when ASCII, `8bit` otherwise, quoted-printable when a line is longer
  than RFC 5322's 998 octets (as Django does);
- text attachments (the `.ics`) as text, others in base64;
- a non-ASCII subject as RFC 2047 encoded words, addresses as Django's `sanitize_address` makes
  them, a non-ASCII file name per RFC 2231.

The delivery tests parse what the SMTP server received; `test_mime.py` checks that a reader sees
the same message as from Django's own builder, for fixed and generated content."""

from __future__ import annotations

import base64
import quopri
import re
from collections.abc import Iterable
from email.header import Header
from email.utils import encode_rfc2231
from functools import lru_cache

from django.core.mail.message import sanitize_address

from daisy.notifications.rendering import Attachment

CRLF = "\r\n"
LINE_LIMIT = 998  # RFC 5322 2.1.1: octets per line, without the CRLF
NEWLINES = re.compile(r"\r\n|\r|\n")
PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")
TOKEN_FILENAME = re.compile(r"[A-Za-z0-9._ ()+-]+")


@lru_cache(maxsize=256)
def _sanitized(address: str) -> str:
    return sanitize_address(address, "utf-8")


def address(value: str) -> str:
    """An address for a header or the SMTP envelope, as Django's sanitize_address writes it (and
    refuses it: a line break or a malformed address raises ValueError)."""
    if PLAIN_ADDRESS.fullmatch(value):  # fullmatch: "$" would let a final newline through
        return value  # what sanitize_address returns for a plain ASCII address
    return _sanitized(value)


def header_value(name: str, value: str) -> str:
    """One header's value: as it is when it is short ASCII; RFC 2047 encoded words otherwise."""
    if "\n" in value or "\r" in value:
        raise ValueError(f"header {name} must be a single line")
    if value.isascii() and len(name) + 2 + len(value) <= LINE_LIMIT:
        return value
    return Header(value, "utf-8", header_name=name).encode(linesep=CRLF)


def compose(
    *,
    from_email: str,
    to: str,
    subject: str,
    date: str,
    message_id: str,
    text: str,
    html: str = "",
    attachments: Iterable[Attachment] = (),
    boundary_seed: str,
) -> bytes:
    """The whole message, CRLF line endings, ready for SMTP DATA (smtplib adds dot-stuffing)."""
    files = [_attachment(a) for a in attachments]
    body = _text_part("plain", text)
    if html:
        # Boundaries numbered as Django's builder numbers its parts: the top part is 0.
        seed = f"{boundary_seed}-{1 if files else 0}"
        # An empty plain text is left out, as Django's builder does.
        alternatives = [body] if text else []
        body = _multipart("alternative", [*alternatives, _text_part("html", html)], seed)
    if files:
        body = _multipart("mixed", [body, *files], f"{boundary_seed}-0")
    content_headers, _, content = body.partition(CRLF + CRLF)
    headers = [
        content_headers,
        "MIME-Version: 1.0",
        f"Subject: {header_value('Subject', subject)}",
        f"From: {address(from_email)}",
        f"To: {address(to)}",
        f"Date: {header_value('Date', date)}",
        f"Message-ID: {header_value('Message-ID', message_id)}",
    ]
    return (CRLF.join(headers) + CRLF + CRLF + content).encode("utf-8")


def _lines(value: str) -> list[str]:
    lines = NEWLINES.split(value)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _text_part(subtype: str, value: str, extra: str = "") -> str:
    lines = _lines(value)
    if any(len(line.encode("utf-8", "surrogateescape")) > LINE_LIMIT for line in lines):
        data = "\n".join(lines).encode("utf-8", "surrogateescape") + b"\n"
        encoded = quopri.encodestring(data).decode("ascii")
        return (
            f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}'
            f"Content-Transfer-Encoding: quoted-printable{CRLF}{extra}{CRLF}"
            + "".join(line + CRLF for line in _lines(encoded))
        )
    encoding = "7bit" if value.isascii() else "8bit"
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}'
        f"Content-Transfer-Encoding: {encoding}{CRLF}{extra}{CRLF}"
        + "".join(line + CRLF for line in lines)
    )


def _multipart(subtype: str, parts: list[str], seed: str) -> str:
    # Each part ends with a line break of its own; the CRLF before a delimiter belongs to the
    # delimiter (RFC 2046 5.1.1), so a part's last line break survives.
    boundary = f"==daisy-{seed}=="
    head = f'Content-Type: multipart/{subtype}; boundary="{boundary}"{CRLF}{CRLF}'
    body = f"{CRLF}--{boundary}{CRLF}".join(parts)
    return f"{head}--{boundary}{CRLF}{body}{CRLF}--{boundary}--{CRLF}"


def _disposition(filename: str) -> str:
    if TOKEN_FILENAME.fullmatch(filename):
        return f'Content-Disposition: attachment; filename="{filename}"{CRLF}'
    return f"Content-Disposition: attachment; filename*={encode_rfc2231(filename, 'utf-8')}{CRLF}"


def _attachment(attachment: Attachment) -> str:
    content_type = attachment.content_type.lower()
    if not re.fullmatch(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+", content_type):
        raise ValueError(f"bad attachment content type {attachment.content_type!r}")
    disposition = _disposition(attachment.filename)
    if content_type.startswith("text/"):
        try:
            value = attachment.content.decode("utf-8")
        except UnicodeDecodeError:
            content_type = "application/octet-stream"  # what Django does with such bytes
        else:
            return _text_part(content_type.split("/", 1)[1], value, disposition)
    encoded = base64.encodebytes(attachment.content).decode("ascii")
    return (
        f"Content-Type: {content_type}{CRLF}"
        f"Content-Transfer-Encoding: base64{CRLF}{disposition}{CRLF}"
        + "".join(line + CRLF for line in _lines(encoded))
    )
