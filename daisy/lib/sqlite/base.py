"""Django's SQLite backend with a write gate: writers queue on a lock file, not in SQLite.

Every atomic() on SQLite starts with BEGIN IMMEDIATE (settings.py), so writers are serialised
by SQLite's own lock. A writer that finds it taken waits in SQLite's busy handler, which sleeps
in coarse steps (1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 ms...), so under contention a
booking waited up to ~100 ms after the lock was already free (bench: http_book p99). Here the
outermost transaction first takes an exclusive flock() on `<database>.write-gate`, shared by
every thread and process using the file, and drops it right after COMMIT or ROLLBACK; a waiter
retries every few hundred microseconds, so it starts within about a millisecond of the lock
coming free. A single writing statement outside atomic() (INSERT, UPDATE, DELETE in autocommit
mode: a task enqueued after commit, a token's last use) passes the gate the same way. SQLite's
lock still does the real work: the gate only orders the queue, and a process that dies drops
its flock with it. In-memory databases are not gated."""

from __future__ import annotations

import fcntl
import os
import time
from typing import Any

from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError

_FIRST_PAUSE = 0.0002
_LONGEST_PAUSE = 0.002


_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")


class GatedCursorWrapper(base.SQLiteCursorWrapper):
    gate: DatabaseWrapper

    def execute(self, query: str, params: Any = None) -> Any:
        if self.gate._gate_held or query.lstrip()[:6].upper() not in _WRITES:
            return super().execute(query, params)
        self.gate._gate_acquire()
        try:
            return super().execute(query, params)
        finally:
            self.gate._gate_release()

    def executemany(self, query: str, param_list: Any) -> Any:
        if self.gate._gate_held or query.lstrip()[:6].upper() not in _WRITES:
            return super().executemany(query, param_list)
        self.gate._gate_acquire()
        try:
            return super().executemany(query, param_list)
        finally:
            self.gate._gate_release()


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._gate_fd: int | None = None
        self._gate_held = False

    def create_cursor(self, name: Any = None) -> Any:
        cursor = self.connection.cursor(factory=GatedCursorWrapper)
        cursor.gate = self
        return cursor

    def _gate_path(self) -> str | None:
        name = str(self.settings_dict["NAME"])
        if self.is_in_memory_db() or not name:
            return None
        return f"{name}.write-gate"

    def _gate_acquire(self) -> None:
        path = self._gate_path()
        if path is None:
            return
        if self._gate_fd is None:
            self._gate_fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        # The same patience as SQLite's own busy timeout, then the same error.
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        deadline = time.monotonic() + timeout
        pause = _FIRST_PAUSE
        while True:
            try:
                fcntl.flock(self._gate_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._gate_held = True
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OperationalError("database is locked (write gate)") from None
                time.sleep(pause)
                pause = min(pause * 2, _LONGEST_PAUSE)

    def _gate_release(self) -> None:
        if self._gate_held and self._gate_fd is not None:
            self._gate_held = False
            fcntl.flock(self._gate_fd, fcntl.LOCK_UN)

    def _start_transaction_under_autocommit(self) -> None:
        self._gate_acquire()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._gate_release()
            raise

    def _commit(self) -> None:
        try:
            super()._commit()
        finally:
            self._gate_release()

    def _rollback(self) -> None:
        try:
            super()._rollback()
        finally:
            self._gate_release()

    def _close(self) -> None:
        try:
            super()._close()
        finally:
            self._gate_release()
            if self._gate_fd is not None:
                os.close(self._gate_fd)
                self._gate_fd = None
