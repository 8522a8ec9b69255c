"""One crawl of a source at a time, across processes: the per-source crawl lock.

SQLite: ``flock`` on ``<database>.crawl-<source>.lock`` beside the database file. PostgreSQL:
a session advisory lock keyed by the source (``storage.runs.AdvisoryLock``). Both are released
by the operating system or the server when their holder dies, so a killed crawl never leaves
its source locked. An in-memory database lives in one process: nothing to exclude.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import URL

from govarchive.processes import FileLock
from govarchive.storage.runs import AdvisoryLock

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
    """A PostgreSQL session advisory lock on a connection of its own, keyed by the source."""

    def __init__(self, url: URL, source: str):
        self.source = source
        self._lock = AdvisoryLock(url, f"{LOCK_PREFIX}/{source}")

    def try_acquire(self) -> bool:
        return self._lock.try_acquire()

    def release(self) -> None:
        self._lock.dispose()


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
