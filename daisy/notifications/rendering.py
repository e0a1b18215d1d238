"""Turn a Message row into what a channel sends: subject, plain text, HTML, attachments.

Templates live at `notifications/<template>_subject.txt`, `<template>.txt` and `<template>.html`
(an SMS uses `<template>_sms.txt` when it exists, else `<template>.txt`). Text templates are
rendered without HTML escaping; the HTML one with it. Each message is rendered in its own
language (`Message.language`), so `{% translate %}` and `{% blocktranslate %}` strings follow the
recipient, not the worker."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.template import Context, Engine
from django.template.loader import get_template
from django.utils import translation

from daisy.notifications.models import Message, MessageChannel

TEMPLATE_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]*(/[a-z0-9][a-z0-9_\-]*)*$")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...]


@cache
def _text_engine() -> Engine:
    """The project's template directories, but no autoescaping: `&` stays `&` in plain text."""
    from django.template import engines

    html = engines["django"].engine  # type: ignore[attr-defined]
    loaders = [
        "django.template.loaders.filesystem.Loader",
        "django.template.loaders.app_directories.Loader",
    ]
    return Engine(
        dirs=list(html.dirs),
        loaders=[("django.template.loaders.cached.Loader", loaders)],
        libraries=dict(html.libraries),
        autoescape=False,
        debug=False,
    )


def template_names(template: str, channel: str) -> list[str]:
    base = f"notifications/{template}"
    if channel == MessageChannel.SMS:
        return [f"{base}.txt"]
    return [f"{base}_subject.txt", f"{base}.txt", f"{base}.html"]


def check_template(template: str, channel: str) -> None:
    """Raise TemplateDoesNotExist (or ValueError) now rather than at 3 a.m. in the worker."""
    if not TEMPLATE_NAME.match(template):
        raise ValueError(f"bad template name {template!r}")
    engine = _text_engine()
    for name in template_names(template, channel):
        if name.endswith(".html"):
            get_template(name)
        else:
            engine.get_template(name)


def render_message(message: Message) -> Rendered:
    context: dict[str, Any] = {
        "clinic_name": settings.DAISY_CLINIC_NAME,  # a caller may name the location instead
        **(message.context or {}),
        "message_id": str(message.pk),
    }
    base = f"notifications/{message.template}"
    engine = _text_engine()
    with translation.override(message.language or settings.LANGUAGE_CODE):
        if message.channel == MessageChannel.SMS:
            text = engine.select_template([f"{base}_sms.txt", f"{base}.txt"]).render(
                engine_context(context)
            )
            return Rendered("", _tidy(text), "", ())
        subject = engine.get_template(f"{base}_subject.txt").render(engine_context(context))
        text = engine.get_template(f"{base}.txt").render(engine_context(context))
        html = get_template(f"{base}.html").render(context)
    return Rendered(
        subject=" ".join(subject.split())[:255],
        text=_tidy(text),
        html=html,
        attachments=tuple(_attachment(a) for a in message.attachments or []),
    )


def engine_context(values: dict[str, Any]) -> Context:
    return Context(values, autoescape=False)


def _tidy(text: str) -> str:
    # Template tags leave runs of blank lines behind; keep at most one.
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out) + "\n"


def _attachment(raw: dict[str, Any]) -> Attachment:
    content = raw.get("content", "")
    if raw.get("encoding") == "base64":
        data = base64.b64decode(content)
    else:
        data = str(content).encode("utf-8")
    return Attachment(
        filename=str(raw.get("filename") or "attachment"),
        content_type=str(raw.get("content_type") or "application/octet-stream"),
        content=data,
    )


def attachment_spec(*, filename: str, content_type: str, content: str | bytes) -> dict[str, str]:
    """The JSON form of one attachment, as message_schedule stores it."""
    if isinstance(content, bytes):
        return {
            "filename": filename,
            "content_type": content_type,
            "content": base64.b64encode(content).decode("ascii"),
            "encoding": "base64",
        }
    return {"filename": filename, "content_type": content_type, "content": content}
