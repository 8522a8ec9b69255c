"""One crawl of a source at a time, across processes: the per-source crawl lock.

SQLite: ``flock`` on ``<database>.crawl-<source>.lock`` beside the database file. PostgreSQL:
a session advisory lock keyed by the source, all of a process's on one connection. Both are
released by the operating system or the server when their holder dies, so a killed crawl
never leaves its source locked. An in-memory database lives in one process: nothing to exclude.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from govarchive.processes import FileLock
from govarchive.storage.runs import close_session, lock_key

LOCK_PREFIX = "govarchive-crawl"


class CrawlLock(Protocol):
    source: str

    def try_acquire(self) -> bool:
        """Take the lock without waiting; False when another process holds it."""
        ...

    def release(self) -> None: ...


class FileCrawlLock(FileLock):
    """An exclusive ``flock`` on a file beside the SQLite database."""

    def __init__(self, path: Path, source: str):
        super().__init__(path)
        self.source = source


class AdvisoryCrawlLock:
    """A PostgreSQL session advisory lock keyed by the source, on the connection that holds
    every crawl lock of this process (:class:`_LockSession`)."""

    def __init__(self, url: URL, source: str):
        self.source = source
        self._session = _LockSession.of(url)
        self._name = f"{LOCK_PREFIX}/{source}"
        self._held = False

    def try_acquire(self) -> bool:
        if not self._held:
            self._held = self._session.try_lock(self._name)
        return self._held

    def release(self) -> None:
        if self._held:
            self._held = False
            self._session.unlock(self._name)


class _LockSession:
    """One connection holding every crawl lock this process takes on one database, open while
    it holds any: a connection per lock made `crawl --all` of 300 sources open 300 (PostgreSQL
    allows 100 by default). A session's advisory locks are re-entrant, so the names held are
    kept here too, and a second lock of a held source is refused as another process's is."""

    _sessions: dict[tuple[int, str], _LockSession] = {}
    _sessions_mutex = threading.Lock()

    @classmethod
    def of(cls, url: URL) -> _LockSession:
        key = (os.getpid(), url.render_as_string(hide_password=False))  # a fork makes its own
        with cls._sessions_mutex:
            if key not in cls._sessions:
                cls._sessions[key] = cls(url)
            return cls._sessions[key]

    def __init__(self, url: URL):
        self._engine = sa.create_engine(url, poolclass=NullPool)
        self._conn: sa.Connection | None = None
        self._where = ""  # database/schema, part of every key (see storage.runs.AdvisoryLock)
        self._held: dict[str, int] = {}  # lock name -> key
        self._mutex = threading.Lock()  # the connection is shared by the process's threads

    def try_lock(self, name: str) -> bool:
        with self._mutex:
            if name in self._held:
                return False
            try:
                conn = self._connection()
                key = lock_key(f"{name}/{self._where}")
                got = conn.execute(sa.text("select pg_try_advisory_lock(:key)"),
                                   {"key": key}).scalar_one()
            except sa.exc.DBAPIError:
                self._drop()
                raise
            if got:
                self._held[name] = key
            self._close_if_idle()
            return bool(got)

    def unlock(self, name: str) -> None:
        with self._mutex:
            key = self._held.pop(name, None)
            if key is None or self._conn is None:
                return
            try:
                self._conn.execute(sa.text("select pg_advisory_unlock(:key)"), {"key": key})
            except sa.exc.DBAPIError:
                self._drop()  # a lost connection has released its locks already
            self._close_if_idle()

    def _connection(self) -> sa.Connection:
        if self._conn is None:
            conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self._where = conn.execute(
                sa.text("select current_database() || '/' || current_schema()")).scalar_one()
            self._conn = conn
        return self._conn

    def _close_if_idle(self) -> None:
        if not self._held and self._conn is not None:
            self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        close_session(conn)


class InProcessCrawlLock:
    """An in-memory SQLite database exists in one process only."""

    def __init__(self, source: str):
        self.source = source

    def try_acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass


def lock_file_name(database: Path, source: str) -> Path:
    """``<database>.crawl-<source>.lock``; a name unfit for a file name is hashed."""
    safe = source if re.fullmatch(r"[A-Za-z0-9_-]{1,100}", source) else (
        hashlib.sha256(source.encode()).hexdigest()[:16])
    return database.with_name(f"{database.name}.crawl-{safe}.lock")


def crawl_lock(url: URL, source: str) -> CrawlLock:
    """The crawl lock of ``source`` that fits the database at ``url``."""
    if url.get_backend_name() == "postgresql":
        return AdvisoryCrawlLock(url, source)
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        return InProcessCrawlLock(source)
    return FileCrawlLock(lock_file_name(Path(database).expanduser(), source), source)
