"""Logs that keep secrets out (issue 16): the addresses that carry a secret (sign-in and reset
links, email confirmations, check-in links, calendar feeds) are written with the secret replaced,
in the app's log (a filter on its handler, settings.LOGGING) and in gunicorn's access log
(daisy.lib.gunicorn). A body over the size limit is the sender's mistake, not ours: a warning,
without a traceback."""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "[redacted]"
# The routes whose last segment is a secret (daisy/portal/account_urls.py, daisy/site/urls.py),
# also when the address is itself inside a query string (?next=%2Fcheck-in%2F...).
_SEP = r"(?:/|%2[Ff])"
_SECRET_SEGMENT = re.compile(
    rf"({_SEP}(?:account{_SEP}verify|account{_SEP}sign-in{_SEP}link|account{_SEP}password-reset"
    rf"|check-in|calendar{_SEP}file|calendar){_SEP})"
    r"((?:(?!%2[Ff])[^/?#&\s\"'])+?)"
    r"(\.ics)?(?=$|[/?#&\s\"']|%2[Ff])"
)
_SECRET_PARAM = re.compile(
    r"([?&;](?:token|secret|code|password|key|sig|signature)=)[^&;#\s\"']*", re.IGNORECASE
)
_BEARER = re.compile(r"(Bearer\s+)dsy_[0-9a-f]{12}_[A-Za-z0-9_-]+")


def redact(text: str) -> str:
    """`text` with every secret in a secret-bearing address replaced by [redacted]."""
    if not text:
        return text
    text = _SECRET_SEGMENT.sub(lambda m: f"{m[1]}{REDACTED}{m[3] or ''}", text)
    text = _SECRET_PARAM.sub(lambda m: f"{m[1]}{REDACTED}", text)
    return _BEARER.sub(lambda m: f"{m[1]}{REDACTED}", text)


def _clean(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class SafeRecords(logging.Filter):
    """On the log handler: secrets redacted from every record's message and arguments; Django's
    "request body too large" (a SuspiciousOperation it logs as an ERROR with a traceback)
    written as a WARNING without one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "django.security.RequestDataTooBig":
            record.levelno = logging.WARNING
            record.levelname = logging.getLevelName(logging.WARNING)
            record.exc_info = None
            record.exc_text = None
            record.msg = "Request body too large (over DAISY_MAX_BODY_BYTES): %s"
            request = getattr(record, "request", None)
            record.args = (getattr(request, "path", "?"),)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_clean(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _clean(v) for k, v in record.args.items()}
        if record.exc_info and record.exc_text is None and record.exc_info[0] is not None:
            # Format the traceback now, redacted, so the handler prints this text.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True
