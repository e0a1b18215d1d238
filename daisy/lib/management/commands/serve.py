from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the production web server (gunicorn) on 127.0.0.1."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2"))
        )

    def handle(self, *args: Any, **options: Any) -> None:
        argv = [
            sys.executable, "-m", "gunicorn", "daisy.wsgi:application",
            "--bind", f"{options['host']}:{options['port']}",
            "--workers", str(options["workers"]),
            "--access-logfile", "-",
            # Secrets redacted from the access log; the server's own refusals (414, 431, 400)
            # answered in JSON like every /api/ error (daisy/lib/server.py).
            "--logger-class", "daisy.lib.server.Logger",
            "--worker-class", "daisy.lib.server.Worker",
            "--graceful-timeout", "10",
        ]
        os.execv(sys.executable, argv)
