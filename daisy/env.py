"""Typed access to the environment variables that configure Daisy (see docs/configuration.md)."""

from __future__ import annotations

import os


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return int(raw)


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


def public_url(environ: dict[str, str] | None = None) -> str:
    """The site's address as people reach it, without a trailing slash: every link in an email,
    a text message or a calendar file starts with it. DAISY_PUBLIC_URL when set; otherwise the
    address `daisy serve` (and `make demo`) listens on, from PORT and HOST, so
    `PORT=8080 make demo` gives links on 8080. A server bound to every interface (0.0.0.0, ::)
    is reached on this machine as 127.0.0.1."""
    env = os.environ if environ is None else environ
    explicit = (env.get("DAISY_PUBLIC_URL") or "").strip()
    if explicit:
        return explicit.rstrip("/")
    port = (env.get("PORT") or "").strip() or "8000"
    host = (env.get("HOST") or "").strip() or "127.0.0.1"
    if host in {"0.0.0.0", "::", "[::]", "*"}:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"
