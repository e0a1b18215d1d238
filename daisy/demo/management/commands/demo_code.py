"""`daisy demo_code USERNAME`: the code a demo staff login's authenticator app would show now.

Computed from the demo's published secrets (daisy/demo/seed.py, also in the README), never from
the database: it knows no real person's secret."""

from __future__ import annotations

import base64
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import totp

from daisy.demo.seed import DEMO_TOTP_SECRETS


def demo_code(username: str) -> str:
    """The current 6-digit code (RFC 6238: 30-second steps, SHA-1) for a demo staff login."""
    return f"{totp(base64.b32decode(DEMO_TOTP_SECRETS[username])):06d}"


class Command(BaseCommand):
    help = "Print the current two-factor code of a demo staff login (demo data only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", choices=sorted(DEMO_TOTP_SECRETS))

    def handle(self, *args: Any, **options: Any) -> None:
        if options["username"] not in DEMO_TOTP_SECRETS:
            raise CommandError("Only the demo clinic's staff logins have published secrets.")
        self.stdout.write(demo_code(options["username"]))
