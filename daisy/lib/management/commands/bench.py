from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

import daisy

# bench/ sits beside the daisy package at the repository root; it is not installed.
REPO_ROOT = Path(daisy.__file__).resolve().parent.parent


class Command(BaseCommand):
    help = (
        "Performance figures for availability and booking on SQLite and PostgreSQL, into "
        "var/bench.json (see bench/run.py). Uses its own databases, never the configured one."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--quick", action="store_true", help="5 runs after 1 warm-up: a smoke test"
        )
        parser.add_argument(
            "--only",
            action="append",
            default=[],
            metavar="NAME",
            help="measure only these figures (repeatable, comma-separated, globs allowed)",
        )
        parser.add_argument(
            "--rebuild", action="store_true", help="rebuild the bench data sets from scratch"
        )
        parser.add_argument("--no-postgres", action="store_true", help="SQLite figures only")

    def handle(self, *args: Any, **options: Any) -> None:
        if not (REPO_ROOT / "bench" / "run.py").exists():
            raise CommandError(f"bench/run.py not found under {REPO_ROOT}")
        if str(REPO_ROOT) not in sys.path:
            sys.path.insert(0, str(REPO_ROOT))
        from bench.run import main

        argv = []
        if options["quick"]:
            argv.append("--quick")
        for name in options["only"]:
            argv += ["--only", name]
        if options["rebuild"]:
            argv.append("--rebuild")
        if options["no_postgres"]:
            argv.append("--no-postgres")
        code = main(argv)
        if code:
            raise CommandError(f"the bench failed (exit {code})")
