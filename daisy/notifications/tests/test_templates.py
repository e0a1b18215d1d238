"""Every email template comes as a set (subject, plain text, HTML) and is translatable
(issue 6: every message has a plain-text and an HTML version and is translatable)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.template.utils import get_app_template_dirs

from daisy.notifications.models import Message
from daisy.notifications.rendering import render_message


def notification_templates() -> dict[str, Path]:
    dirs = [Path(d) for t in settings.TEMPLATES for d in t.get("DIRS", [])]
    dirs += [Path(d) for d in get_app_template_dirs("templates")]
    found: dict[str, Path] = {}
    for base in dirs:
        for path in (base / "notifications").glob("**/*"):
            if path.suffix in {".txt", ".html"}:
                found.setdefault(path.relative_to(base / "notifications").as_posix(), path)
    return found


TEMPLATES = notification_templates()
EMAILS = sorted(
    name.removesuffix(".txt")
    for name in TEMPLATES
    if name.endswith(".txt") and not name.endswith(("_subject.txt", "_sms.txt"))
    # "_name": a part included by emails (appointment/_manage), not an email of its own.
    and not name.rsplit("/", 1)[-1].startswith("_")
)


def test_the_generic_template_is_found() -> None:
    assert "generic" in EMAILS


@pytest.mark.parametrize("name", EMAILS)
def test_each_email_has_a_subject_a_text_and_an_html_version(name: str) -> None:
    assert f"{name}.html" in TEMPLATES
    assert f"{name}_subject.txt" in TEMPLATES


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_each_template_is_translatable(name: str) -> None:
    text = TEMPLATES[name].read_text(encoding="utf-8")
    assert "{% load i18n %}" in text, f"{name}: load i18n and mark its words for translation"


@pytest.mark.parametrize("name", EMAILS)
def test_each_email_renders_with_an_empty_context(name: str) -> None:
    rendered = render_message(Message(channel="email", template=name, context={}))
    assert rendered.subject and rendered.text.strip() and "<html" in rendered.html
