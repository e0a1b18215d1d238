"""Every link a person follows starts with one public address (DAISY_PUBLIC_URL); unset, it
is the address the server listens on, so `PORT=8080 make demo` sends links to port 8080."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from daisy.demo.management.commands.demo import demo_environment
from daisy.env import public_url

ROOT = Path(__file__).resolve().parents[3]


def test_the_public_address_follows_the_port_unless_it_is_set() -> None:
    assert public_url({}) == "http://127.0.0.1:8000"
    assert public_url({"PORT": "8080"}) == "http://127.0.0.1:8080"
    assert public_url({"PORT": "8080", "HOST": "0.0.0.0"}) == "http://127.0.0.1:8080"
    assert public_url({"PORT": "9000", "HOST": "clinic.lan"}) == "http://clinic.lan:9000"
    assert (
        public_url({"PORT": "8080", "DAISY_PUBLIC_URL": "https://clinic.example/"})
        == "https://clinic.example"
    )


def test_the_demos_web_server_and_worker_share_the_ports_address() -> None:
    env = demo_environment({"PATH": "/bin"}, port="8080")
    assert env["DAISY_PUBLIC_URL"] == "http://127.0.0.1:8080" and env["PORT"] == "8080"
    kept = demo_environment({"DAISY_PUBLIC_URL": "https://clinic.example"}, port="8080")
    assert kept["DAISY_PUBLIC_URL"] == "https://clinic.example"


def test_settings_read_port_8080_as_links_on_8080() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DAISY_PUBLIC_URL"}
    env.update(PORT="8080", DJANGO_SETTINGS_MODULE="daisy.settings")
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.DAISY_PUBLIC_URL)",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "http://127.0.0.1:8080"
