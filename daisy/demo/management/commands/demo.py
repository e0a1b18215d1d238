from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from daisy.demo.seed import DEMO_CLIENT_EMAIL, DEMO_PASSWORD, STAFF_USERS
from daisy.env import public_url


def demo_environment(environ: Any, *, port: str) -> dict[str, str]:
    """The web server's and the worker's environment: both build links from the same public
    address, the port the demo serves on unless DAISY_PUBLIC_URL says otherwise. The worker
    renders the emails, so it must know the port as well as the server does."""
    env = dict(environ)
    env["PORT"] = port
    env["DAISY_PUBLIC_URL"] = public_url(env)
    return env


class Command(BaseCommand):
    help = "Migrate, seed the demo clinic once, then run the web server and the worker together."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-serve", action="store_true", help="Set up only; do not serve.")

    def handle(self, *args: Any, **options: Any) -> None:
        # The demo clinic's people have Ofcom drama-range numbers (+44 7700 900xxx), and a
        # visitor trying it out types one too: accepted here, never by a clinic's own server.
        os.environ.setdefault("DAISY_PHONE_TEST_NUMBERS", "1")
        settings.DAISY_PHONE_TEST_NUMBERS = os.environ["DAISY_PHONE_TEST_NUMBERS"] == "1"
        call_command("migrate", verbosity=0, interactive=False)
        call_command("seed_demo")
        if options["no_serve"]:
            return
        port = os.environ.get("PORT", "8000")
        daisy = [sys.executable, "-m", "daisy"]
        env = demo_environment(os.environ, port=port)
        procs = [
            subprocess.Popen([*daisy, "serve", "--port", port], env=env),
            subprocess.Popen([*daisy, "worker"], env=env),
        ]
        base = f"http://127.0.0.1:{port}"
        self.stdout.write(
            "\nDaisy is running (web server and worker). Ctrl-C stops both.\n"
            f"  Clinic site:   {base}/\n"
            f"  Back-office:   {base}/admin/\n"
            f"  API docs:      {base}/api/v1/docs\n"
            f"  Staff sign-in: {base}/account/staff/sign-in/ as {', '.join(STAFF_USERS)} "
            f"(password: {DEMO_PASSWORD}; the code: `daisy demo_code USERNAME`, or an "
            "authenticator app with the README's secrets)\n"
            f"  Client portal: {base}/portal/ as {DEMO_CLIENT_EMAIL} (password: {DEMO_PASSWORD})\n"
            f"  Email links:   {env['DAISY_PUBLIC_URL']}/ (DAISY_PUBLIC_URL)\n"
        )
        try:
            while all(p.poll() is None for p in procs):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
        code = max((p.returncode or 0) for p in procs)
        if code not in (0, -signal.SIGTERM, -signal.SIGINT):
            sys.exit(code)
