"""Process-wide settings for Daisy's long-running processes (web and worker)."""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Exempt everything alive after start-up (modules, settings, URL patterns, compiled
    templates, cached clinic set-up) from the garbage collector's full collections.

    Those objects live as long as the process, yet CPython's oldest-generation collection walks
    all of them: about 60 ms in a web process, landing on whichever request happens to allocate
    past the threshold (a course proposal reads tens of thousands of busy rows, so every 15th
    or so paid it; bench: course_plan_ms p95). After this, a full collection walks only what
    was made since: about 1 ms. Objects frozen here are never freed, which is what they are
    for. Call it once, when the process has finished starting (Python's gc.freeze docs)."""
    gc.collect()
    gc.freeze()
