"""The restore drill of docs/deployment.md ("Backups"), performed: a booking is made, the
database is dumped with `pg_dump -Fc` exactly as the guide says, restored with `pg_restore`
into a fresh database, and the booking, its client and its messages are there; `daisy migrate
--check` on the restored copy finds nothing to apply (it is a whole Daisy database, not a part).

PostgreSQL only (the SQLite pass skips it). The programs are PostgreSQL's own (Debian's
/usr/lib/postgresql/N/bin, the newest, or PATH): the same ones scripts/with-postgres uses."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from daisy.booking.services import appointment_book
from tests.support.testing import MONDAY, at, booking_now, current_database_url, make_clinic

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _program(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version_key)
    path = found[-1] if found else shutil.which(name)
    if not path:
        pytest.fail(f"{name} not found: install Debian's postgresql-client")
    return path


def _version_key(path: str) -> tuple[int, ...]:
    part = path.split("/")[4]
    return tuple(int(p) for p in part.split(".") if p.isdigit())


def test_a_dump_restored_into_a_fresh_database_has_the_booking(tmp_path: Path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump drill: runs in the PostgreSQL pass of `make test`")
    clinic = make_clinic(specialists=1, rooms=1, pens=1, clients=1)
    client = clinic.clients[0]
    appt = appointment_book(
        client=client,
        treatment=clinic.microneedling,
        starts_at=at(MONDAY, 10),
        booked_by=clinic.reception,
        now=booking_now(),
    ).appointment

    source = current_database_url()
    dump = tmp_path / "daisy.dump"
    # The guide's command: pg_dump -Fc daisy > daisy-DATE.dump
    with dump.open("wb") as out:
        subprocess.run([_program("pg_dump"), "-Fc", "-d", source], stdout=out, check=True)
    assert dump.stat().st_size > 0

    parts = urlsplit(source)
    fresh_name = f"daisy_restore_{uuid.uuid4().hex[:8]}"
    fresh = urlunsplit(parts._replace(path=f"/{fresh_name}"))
    admin = urlunsplit(parts._replace(path="/postgres"))
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(fresh_name)))
    try:
        # The guide's restore into a new, empty database.
        subprocess.run(
            [_program("pg_restore"), "--no-owner", "-d", fresh, str(dump)],
            check=True,
            capture_output=True,
        )
        with psycopg.connect(fresh) as db:
            row = db.execute(
                "SELECT a.starts_at, c.email FROM scheduling_appointment a "
                "JOIN clients_client c ON c.id = a.client_id WHERE a.id = %s",
                (appt.pk,),
            ).fetchone()
            messages = db.execute(
                "SELECT count(*) FROM notifications_message WHERE about = %s",
                (f"appointment:{appt.pk}",),
            ).fetchone()
        assert row is not None, "the booking is not in the restored database"
        assert row[0] == appt.starts_at and row[1] == client.email
        assert messages is not None and messages[0] >= 1
        # A whole Daisy database: every migration recorded, nothing to apply.
        env = {**os.environ, "DATABASE_URL": fresh, "DAISY_VAR_DIR": str(tmp_path / "var")}
        check = subprocess.run(
            [sys.executable, "-m", "daisy", "migrate", "--check"],
            env=env,
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        with psycopg.connect(admin, autocommit=True) as db:
            db.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(fresh_name)
                )
            )
