"""The email a worker writes itself (channels/mime.py) reads, to a mail client, as the one
Django's own builder makes: same headers, same parts in the same order, same decoded content,
same attachment names. Checked for the shapes the worker sends and for generated content."""

from __future__ import annotations

import email
import email.policy
import uuid
from email.message import EmailMessage
from typing import Any

import pytest
from django.core.mail import get_connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daisy.notifications.channels import Outgoing, PermanentFailure
from daisy.notifications.channels.email import EmailChannel
from daisy.notifications.channels.mime import address, compose, header_value
from daisy.notifications.rendering import Attachment
from daisy.notifications.testing import SmtpSink

ICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nSUMMARY:Micro-needling – Zoë\r\nEND:VCALENDAR\r\n"


def outgoing(**kw: Any) -> Outgoing:
    values: dict[str, Any] = {
        "message_id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "message_id_header": "<12345678-1234-5678-1234-567812345678@daisy.example>",
        "idempotency_key": "k",
        "recipient": "client@example.com",
        "subject": "Your appointment tomorrow",
        "text": "Hello Ada,\n\nSee you at 10:30.\n",
        "html": "<p>Hello Ada,</p>\n<p>See you at 10:30.</p>\n",
        "attachments": (),
        "is_resend": False,
    }
    values.update(kw)
    return Outgoing(**values)


def parsed(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def reader_view(msg: EmailMessage) -> dict[str, Any]:
    """What a mail client shows: headers, and each leaf part's type, name and decoded content."""
    parts = []
    for part in msg.walk():
        if part.is_multipart():
            parts.append((part.get_content_type(), None, None))
            continue
        content = part.get_content()
        if isinstance(content, str):
            content = content.replace("\r\n", "\n").rstrip("\n")
        parts.append((part.get_content_type(), part.get_filename(), content))
    return {
        # Folding whitespace is not content (Django's builder folds a long unbroken subject
        # onto a continuation line, which a reader shows with a leading space).
        "headers": {
            h: " ".join(str(msg[h]).split()) for h in ("Subject", "From", "To", "Message-ID")
        },
        "defects": [d for p in msg.walk() for d in p.defects],
        "parts": parts,
    }


def both(out: Outgoing) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    channel = EmailChannel(
        connection=get_connection("django.core.mail.backends.locmem.EmailBackend")
    )
    django_raw = channel.build(out).message().as_bytes(linesep="\r\n")
    ours = channel.raw(out)
    return reader_view(parsed(django_raw)), reader_view(parsed(ours)), ours


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"html": ""},
        {"attachments": (Attachment("visit.ics", "text/calendar", ICS.encode()),)},
        {
            "html": "",
            "attachments": (Attachment("visit.ics", "text/calendar", ICS.encode()),),
        },
        {"subject": "Ihr Termin – Zoë, morgen um 10:30", "text": "Grüße aus der Praxis\n"},
        {"subject": "x" * 255, "text": ("long line " * 200) + "\nend\n"},
        {"text": "é" * 600 + "\n"},  # 1,200 octets on one line: quoted-printable
        {"recipient": "zoë@example.com"},
        {"recipient": "ada@bücher.example"},
        {"text": ".a line that starts with a dot\n..two\n.\n"},
        {"text": "mixed\r\nline\rendings\n"},
        {
            "attachments": (
                Attachment("Rückblick ünd plan.pdf", "application/pdf", b"%PDF-1.4\x00\xff"),
                Attachment("notes.txt", "text/plain", b"\xff\xfe not utf-8"),
            )
        },
    ],
    ids=[
        "text+html",
        "text only",
        "with ics",
        "text+ics",
        "non-ascii",
        "long",
        "long non-ascii line",
        "non-ascii local part",
        "idn domain",
        "leading dots",
        "line endings",
        "binary attachments",
    ],
)
def test_a_reader_sees_the_same_message_as_djangos(kw: dict[str, Any]) -> None:
    django_view, our_view, raw = both(outgoing(**kw))
    assert our_view == django_view
    assert our_view["defects"] == []
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    subject=st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=255),
    text=st.text(
        st.characters(
            blacklist_categories=("Cs",),
            blacklist_characters="\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029",
        ),
        max_size=400,
    ),
    html=st.text(
        st.characters(
            blacklist_categories=("Cs",),
            blacklist_characters="\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029",
        ),
        max_size=200,
    ),
)
def test_generated_content_reads_the_same(subject: str, text: str, html: str) -> None:
    subject = " ".join(subject.split())  # as rendering makes it
    django_view, our_view, raw = both(outgoing(subject=subject, text=text, html=html))
    assert our_view == django_view
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_a_header_cannot_be_split_into_two() -> None:
    with pytest.raises(ValueError):
        header_value("Subject", "Hello\r\nBcc: everyone@example.com")
    with pytest.raises(ValueError):
        address("ada@example.com\nBcc: everyone@example.com")
    # A final line break is not a plain address: it goes through sanitize_address, which drops
    # it (a plain "$" match once let it into the To: header).
    assert address("ada@example.com\n") == "ada@example.com"


def test_an_attachment_type_cannot_smuggle_a_header() -> None:
    with pytest.raises(ValueError):
        compose(
            from_email="a@example.com",
            to="b@example.com",
            subject="Hi",
            date="Tue, 24 Nov 2026 20:30:53 -0000",
            message_id="<x@y>",
            text="hi",
            attachments=(Attachment("x", "text/plain\r\nBcc: x@example.com", b"x"),),
            boundary_seed="s",
        )


def test_over_smtp_what_cannot_be_written_fails_for_good_and_the_rest_goes_out(
    sink: SmtpSink,
) -> None:
    channel = EmailChannel()
    channel.open()
    try:
        with pytest.raises(PermanentFailure, match="cannot write this email"):
            channel.send(outgoing(recipient="ada@example.com\nBcc: everyone@example.com"))
        assert channel.send(outgoing()) == outgoing().message_id_header
    finally:
        channel.close()
    (received,) = sink.received
    assert received.rcpt_tos == ["client@example.com"]
    assert reader_view(received.parsed()) == both(outgoing())[0]
