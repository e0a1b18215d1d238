"""`daisy token create USERNAME [--name LABEL] | list | revoke ID_OR_PREFIX`: API tokens."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from daisy.accounts.tokens import (
    api_token_create,
    api_token_list,
    api_token_revoke,
    user_get_by_username,
)
from daisy.accounts.twofactor import second_factor_require
from daisy.lib.errors import DomainError


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


class Command(BaseCommand):
    help = "Create, list and revoke API tokens (Authorization: Bearer <token>)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser(
            "create", help="Create a token; it is printed once, alone on the last line."
        )
        create.add_argument("username")
        create.add_argument("--name", default="", help="What the token is for, e.g. 'website'.")
        create.add_argument(
            "--code",
            default="",
            help="For a staff login: the code its authenticator app shows now (or one of its "
            "recovery codes). A token acts as that person, so it takes their second factor.",
        )
        listing = sub.add_parser("list", help="List tokens (never their secrets).")
        listing.add_argument("--user", default=None, help="Only this user's tokens.")
        listing.add_argument("--all", action="store_true", help="Include revoked tokens.")
        revoke = sub.add_parser("revoke", help="Revoke a token by id or prefix.")
        revoke.add_argument("ident", metavar="ID_OR_PREFIX")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        try:
            if options["action"] == "create":
                user = user_get_by_username(options["username"])
                second_factor_require(user=user, code=options["code"])
                new = api_token_create(user=user, name=options["name"], now=now)
                self.stdout.write(
                    f"Created token {new.token.prefix} for {user.username} ({user.role}). "
                    "Copy it now: it cannot be shown again."
                )
                # Alone on the last line of stdout, so scripts can take `| tail -n 1`.
                self.stdout.write(new.raw)
            elif options["action"] == "list":
                user = user_get_by_username(options["user"]) if options["user"] else None
                rows = api_token_list(user=user, include_revoked=options["all"])
                self.stdout.write(
                    f"{'ID':36}  {'PREFIX':12}  {'USER':20}  {'ROLE':10}  {'CREATED':20}  "
                    f"{'LAST USED':20}  {'REVOKED':20}  NAME"
                )
                for t in rows:
                    self.stdout.write(
                        f"{t.pk!s:36}  {t.prefix:12}  {t.user.username:20}  {t.user.role:10}  "
                        f"{_when(t.created_at):20}  {_when(t.last_used_at):20}  "
                        f"{_when(t.revoked_at) if t.revoked_at else '-':20}  {t.name}"
                    )
            else:
                token = api_token_revoke(ident=options["ident"], now=now)
                self.stdout.write(
                    f"Revoked token {token.prefix} of {token.user.username} "
                    f"at {_when(token.revoked_at)}."
                )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
