"""Deployment hardening (issue 16, item 3): HTTPS settings and a clean `daisy check --deploy`
with the documented production settings; secrets kept out of the access and app logs of the
real server (`daisy serve`) after a full flow; every answer under /api/ in JSON, the server's
own 414 and 431 included, and an oversized body a 413 logged as a warning; names normalised,
with hidden and direction-changing characters refused in a clear message."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core import signing
from django.test import Client as HttpClient
from django.test import override_settings
from django.utils import timezone

from daisy.accounts.models import Role, User
from daisy.accounts.tokens import api_token_create
from daisy.aftercare.services import CHECKIN_SALT, calendar_feed_issue
from daisy.clients import accounts
from daisy.clients.services import client_create
from daisy.lib.errors import ValidationFailed
from daisy.lib.names import person_name_clean
from daisy.notifications.models import Message
from tests.support.testing import current_database_url, make_client, make_user

REPO = Path(__file__).resolve().parents[1]
PRODUCTION = {
    "SECRET_KEY": "k" + secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "clinic.example",
    "CSRF_TRUSTED_ORIGINS": "https://clinic.example",
    "SECURE_COOKIES": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto: https",
    "DAISY_PUBLIC_URL": "https://clinic.example",
}


def _daisy(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SECURE_", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG"))
    }
    return subprocess.run(
        [sys.executable, "-m", "daisy", *args],
        cwd=REPO,
        env={**base, "DAISY_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- HTTPS settings and the deploy check --------------------------------------------------------


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path: Path) -> None:
    clean = _daisy(
        "check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION, tmp_path=tmp_path
    )
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "no issues" in clean.stdout
    # The check is live: without HSTS and the redirect it says so (W004, W008).
    lax = {
        k: v
        for k, v in PRODUCTION.items()
        if k not in {"SECURE_HSTS_SECONDS", "SECURE_SSL_REDIRECT"}
    }
    warned = _daisy("check", "--deploy", "--fail-level", "WARNING", env=lax, tmp_path=tmp_path)
    assert warned.returncode != 0 and "W004" in warned.stderr and "W008" in warned.stderr


def test_https_settings_are_read_from_the_environment(tmp_path: Path) -> None:
    shown = _daisy(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.SECURE_PROXY_SSL_HEADER, "
        "s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_PRELOAD, s.SECURE_SSL_REDIRECT)",
        env=PRODUCTION,
        tmp_path=tmp_path,
    )
    last = shown.stdout.strip().splitlines()[-1]
    assert last == "('HTTP_X_FORWARDED_PROTO', 'https') 31536000 False True"


@pytest.mark.django_db
@override_settings(
    SECURE_SSL_REDIRECT=True,
    SECURE_HSTS_SECONDS=31536000,
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
)
def test_plain_http_is_redirected_and_https_carries_hsts() -> None:
    http = HttpClient()
    plain = http.get("/prices/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    secure = http.get("/prices/", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    # A load balancer's plain-HTTP health check is answered, not redirected.
    assert http.get("/api/v1/health").status_code in {200, 503}


# --- JSON under /api/ ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v1/x%0Ay", "/api/v1/x\ny", "/api/x", "/api/v2/clients", "/api/", "/api"]
)
def test_every_missing_api_path_answers_json(path: str) -> None:
    response = HttpClient().get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_an_oversized_body_is_413_in_json_for_the_api_and_a_page_elsewhere() -> None:
    token = api_token_create(user=make_user(role=Role.RECEPTION), name="t", now=timezone.now())
    api = HttpClient().post(
        "/api/v1/clients",
        data=json.dumps({"first_name": "x" * 5000}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token.raw}",
    )
    assert api.status_code == 413 and api.json()["error"]["code"] == "request_too_large"
    form = HttpClient().post(
        "/account/sign-in/", {"email": "a@example.com", "password": "x" * 5000}
    )
    assert form.status_code == 413 and "too large" in form.content.decode()


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "Ada\u202eecalevoL",  # right-to-left override
        "Ada\u2066x\u2069",  # isolates
        "A\u200bda",  # zero-width space
        "Ad\u200da",  # zero-width joiner
        "\ufeffAda",  # byte-order mark
        "Ada\u00ad",  # soft hyphen
        "Ad\u3164a",  # Hangul filler
    ],
)
def test_hidden_and_direction_changing_characters_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="hidden characters"):
        person_name_clean(raw)


def test_names_are_nfc_with_single_spaces() -> None:
    decomposed = "Zoe\u0308  Bj\u00f6rk "  # "Zoë" typed as e + combining diaeresis
    assert person_name_clean(decomposed) == "Zo\u00eb Bj\u00f6rk"


@pytest.mark.django_db
def test_clients_and_staff_get_the_message_in_forms_services_and_the_api() -> None:
    with pytest.raises(ValidationFailed) as refused:
        client_create(first_name="Ada\u202e", last_name="Lovelace", by=None, now=timezone.now())
    assert "hidden characters" in refused.value.fields["first_name"]
    stored = client_create(
        first_name="Zoe\u0308", last_name="Lovelace", by=None, now=timezone.now()
    )
    assert stored.first_name == "Zo\u00eb"
    page = HttpClient().post(
        "/account/register/",
        {
            "first_name": "A\u200bda",
            "last_name": "Lovelace",
            "email": "ada@example.com",
            "password": "lavender-fields-42",
        },
    )
    assert page.status_code == 200 and "hidden characters" in page.content.decode()
    token = api_token_create(user=make_user(role=Role.RECEPTION), name="t", now=timezone.now())
    api = HttpClient().post(
        "/api/v1/clients",
        data=json.dumps({"first_name": "Ada", "last_name": "Love\u202elace"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token.raw}",
    )
    assert api.status_code == 422
    assert "hidden characters" in api.json()["error"]["fields"]["last_name"]
    staff = User(username="ben", first_name="B\u200ben", last_name="Okafor", role=Role.RECEPTION)
    with pytest.raises(Exception, match="hidden characters"):
        staff.full_clean(exclude=["password"])


# --- the real server: logs without secrets, JSON refusals ----------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _serve(log: Path, tmp_path: Path) -> Iterator[int]:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": current_database_url(),
        "DAISY_VAR_DIR": str(tmp_path),
        "DAISY_API_RATE_LIMITS": "{}",
        "LOG_LEVEL": "INFO",
        "WEB_CONCURRENCY": "1",
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "daisy", "serve", "--port", str(port), "--workers", "1"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            try:
                if _raw(port, "GET", "/api/v1/health")[0] in {200, 503}:
                    break
            except OSError:
                time.sleep(0.2)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _raw(
    port: int,
    method: str,
    target: str,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
) -> tuple[int, str, bytes]:
    """One HTTP/1.1 request as bytes on a socket: (status, content type, body)."""
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or [])]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _sep, payload = b"".join(chunks).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    match = re.search(rb"(?im)^content-type:\s*([^\r\n;]+)", head)
    return status, (match[1].decode() if match else ""), payload


def _path_of(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_server_keeps_secrets_out_of_its_logs_and_refuses_in_json(tmp_path: Path) -> None:
    now = timezone.now()
    user, _client, _ = accounts.client_account_ensure(
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        phone="",
        date_of_birth=None,
        now=now,
    )
    user.set_password("lavender-fields-42")
    user.email_verified_at = now
    user.save()
    accounts.sign_in_link_request(email="ada@example.com", now=now)
    accounts.password_reset_request(email="ada@example.com", now=now)
    sign_in = _path_of(
        Message.objects.get(dedupe_key__startswith="accounts.sign-in-link:").context["link"]
    )
    reset = _path_of(
        Message.objects.get(dedupe_key__startswith="accounts.password-reset:").context["link"]
    )
    verify = "/account/verify/" + accounts.email_verification_token(user=user, now=now) + "/"
    checkin = "/check-in/" + signing.TimestampSigner(salt=CHECKIN_SALT).sign_object(
        {"a": str(uuid.uuid4()), "k": "24h"}
    )
    feed = calendar_feed_issue(by=None, now=now, client=make_client())
    calendar = f"/calendar/{feed.token}.ics"
    api_token = api_token_create(user=make_user(role=Role.RECEPTION), name="t", now=now).raw
    secrets_sent = {
        "sign-in": sign_in.rstrip("/").rsplit("/", 1)[1],
        "reset": reset.rstrip("/").rsplit("/", 1)[1],
        "verify": verify.rstrip("/").rsplit("/", 1)[1],
        "check-in": checkin.rsplit("/", 1)[1],
        "calendar": feed.token,
        "api token": api_token,
        "query": "q" + secrets.token_urlsafe(16),
    }
    log = tmp_path / "server.log"
    with _serve(log, tmp_path) as port:
        # The full flow: open each link (and a mistyped copy, which the app logs), follow a
        # link with a secret in the referrer, call the API with a token.
        for path in (sign_in, reset, verify, checkin, calendar):
            assert _raw(port, "GET", path)[0] < 500
            _raw(port, "GET", path.rstrip("/") + "x/", [("Referer", f"http://x{path}")])
        assert _raw(port, "GET", f"/calendar/file/{feed.token}.ics")[0] < 500
        _raw(port, "GET", f"/account/sign-in/?token={secrets_sent['query']}")
        status, _type, _body = _raw(
            port, "GET", "/api/v1/clients", [("Authorization", f"Bearer {api_token}")]
        )
        assert status == 200
        # JSON for every answer under /api/, including the server's own refusals.
        for target, headers, expected in (
            ("/api/v1/x%0Ay", [], 404),
            ("/api/v1/clients?" + "a" * 9000, [], 414),
            ("/api/v1/clients", [(f"X-Many-{n}", "1") for n in range(120)], 431),
            ("/api/v1/clients", [("X-Big", "b" * 9000)], 431),
        ):
            status, kind, body = _raw(port, "GET", target, headers)
            assert (status, kind) == (expected, "application/json"), body[:200]
            assert json.loads(body)["error"]["code"]
        # An oversized form: 413, and a warning in the log rather than an error.
        big = b"email=a%40example.com&password=" + b"x" * 300_000
        status, _kind, _body = _raw(
            port,
            "POST",
            "/account/sign-in/",
            [
                ("Content-Type", "application/x-www-form-urlencoded"),
                # A CSRF cookie, so Django reads the form (to check its token) and meets the size.
                ("Cookie", "csrftoken=" + "c" * 32),
            ],
            big,
        )
        assert status == 413
        time.sleep(0.5)
    text = log.read_text(errors="replace")
    assert "GET /account/sign-in/link/[redacted]/" in text  # the access log is on, redacted
    for name, secret in secrets_sent.items():
        assert secret not in text, f"the {name} secret is in the server's log"
    assert "Request body too large" in text and "Traceback" not in text
    assert " ERROR " not in text
