"""Constants shared by the bench orchestrator and its workers. No Django imports here: the
orchestrator reads them before any database is chosen."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, date, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
# DAISY_VAR_DIR, as for the app: engineers sharing one checkout keep their bench files apart.
VAR_DIR = Path(os.environ.get("DAISY_VAR_DIR") or REPO_ROOT / "var")

SQLITE_PATH = VAR_DIR / "bench.sqlite3"
SQLITE_URL = f"sqlite:///{SQLITE_PATH}"
PG_URL = os.environ.get("DAISY_BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/daisy_bench")
RESULTS_PATH = VAR_DIR / "bench.json"
PROFILE_PATH = VAR_DIR / "bench-profile.txt"

# Bump when the generator changes meaning; the hash below also catches any edit of the files.
DATASET_VERSION = 1
SEED = 20310303
# A Monday far in the future: minimum notice never interferes, and the 90 days from here cross
# the British spring-forward (Sunday 2031-03-30).
START = date(2031, 3, 3)
DAYS = 90
# Every selector and service is given this `now` (a week before START).
NOW = datetime(2031, 2, 24, 9, 0, tzinfo=UTC)
TIME_ZONE = "Europe/London"

SPECIALISTS = 20
ROOMS = 10
PENS = 6
CLIENTS = 600
# The share of the treatment rooms' open hours that the data set books (clean-down included):
# a clinic 60 to 70% booked, so availability answers list many free times (a nearly full clinic
# makes building the answer look free). The greedy allocator fills about 72%; a seeded random
# part of what it placed is kept.
BOOKED_SHARE = 0.65

# Marks the appointments the bench books itself, so each run removes them again and the data set
# stays the same from run to run.
BENCH_NOTE = "bench booking (removed at the end of each bench run)"

THREADS = 8
THREAD_SECONDS = 5.0


def dataset_marker() -> str:
    """Slug of the bench location: present only once the whole data set committed."""
    digest = hashlib.sha256((BENCH_DIR / "dataset.py").read_bytes())
    params = (SEED, START, DAYS, NOW, TIME_ZONE, SPECIALISTS, ROOMS, PENS, CLIENTS, BOOKED_SHARE)
    digest.update(repr(params).encode())
    return f"bench-v{DATASET_VERSION}-{digest.hexdigest()[:10]}"
