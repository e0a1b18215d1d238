"""The email channel hands Django's own EmailMultiAlternatives to the configured backend: what
a mail client reads is what was rendered, and a line break can never split a header."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core import mail
from django.core.mail import get_connection

from daisy.notifications.channels import Outgoing, PermanentFailure
from daisy.notifications.channels.email import EmailChannel
from daisy.notifications.rendering import Attachment
from tests.support.notifications import SmtpSink

ICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nSUMMARY:Micro-needling – Zoë\r\nEND:VCALENDAR\r\n"
MESSAGE_ID = "<12345678-1234-5678-1234-567812345678@daisy.example>"


def outgoing(**kw: Any) -> Outgoing:
    values: dict[str, Any] = {
        "message_id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "message_id_header": MESSAGE_ID,
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


def locmem() -> EmailChannel:
    return EmailChannel(connection=get_connection("django.core.mail.backends.locmem.EmailBackend"))


@pytest.mark.parametrize(
    "header",
    [
        {"recipient": "ada@example.com\nBcc: everyone@example.com"},
        {"recipient": "ada@example.com\n"},
        {"subject": "Hello\r\nBcc: everyone@example.com"},
        {"attachments": (Attachment("x", "text/plain\r\nBcc: x@example.com", b"x"),)},
    ],
    ids=["recipient", "recipient with a final line break", "subject", "attachment type"],
)
def test_a_header_cannot_be_split_into_two(header: dict[str, Any]) -> None:
    mail.outbox = []
    with pytest.raises(PermanentFailure, match="cannot write this email"):
        locmem().send(outgoing(**header))
    assert mail.outbox == []


def test_over_smtp_what_cannot_be_written_fails_for_good_and_the_rest_goes_out(
    sink: SmtpSink,
) -> None:
    channel = EmailChannel()
    channel.open()
    try:
        with pytest.raises(PermanentFailure, match="cannot write this email"):
            channel.send(outgoing(recipient="ada@example.com\nBcc: everyone@example.com"))
        assert channel.send(outgoing()) == MESSAGE_ID
    finally:
        channel.close()
    (received,) = sink.received
    assert received.rcpt_tos == ["client@example.com"]
    assert received.parsed()["Message-ID"] == MESSAGE_ID


def test_a_reader_sees_non_ascii_text_names_and_addresses_as_written(sink: SmtpSink) -> None:
    out = outgoing(
        recipient="zoë@bücher.example",
        subject="Ihr Termin – Zoë, morgen um 10:30",
        text="Grüße aus der Praxis\n" + "é" * 600 + "\n",
        attachments=(
            Attachment("visit.ics", "text/calendar", ICS.encode()),
            Attachment("Rückblick.pdf", "application/pdf", b"%PDF-1.4\x00\xff"),
        ),
    )
    channel = EmailChannel()
    try:
        assert channel.send(out) == MESSAGE_ID
    finally:
        channel.close()
    (received,) = sink.received
    msg = received.parsed()
    assert all(len(line) <= 998 for line in received.raw.split(b"\r\n"))
    assert msg["Subject"] == out.subject and msg["Message-ID"] == MESSAGE_ID
    assert [p.defects for p in msg.walk()] == [[] for _ in msg.walk()]
    body = msg.get_body(("plain",))
    assert body is not None and body.get_content().replace("\r\n", "\n") == out.text
    files = {p.get_filename(): p.get_content() for p in msg.iter_attachments()}
    assert files["Rückblick.pdf"] == b"%PDF-1.4\x00\xff"
    assert files["visit.ics"].replace("\r\n", "\n") == ICS.replace("\r\n", "\n")
