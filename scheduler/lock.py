"""One scheduler per database: APScheduler 3 cannot share a job store between two schedulers.

SQLite: ``flock`` on ``<database>.lock`` beside the database file (released by the kernel when
the holder dies). PostgreSQL: a session advisory lock (``storage.Store.advisory_lock``),
released when the holder's connection closes. A scheduler that cannot take the lock waits as
a standby and tries again.
"""

from __future__ import annotations

from typing import Protocol

from govarchive.processes import FileLock

LOCK_NAME = "govarchive-scheduler"


class SchedulerLock(Protocol):
    description: str

    def try_acquire(self) -> bool: ...

    def still_held(self) -> bool: ...

    def release(self) -> None: ...


class AdvisoryLock:
    """``storage``'s PostgreSQL advisory lock under the SchedulerLock protocol."""

    def __init__(self, store):
        self.description = "the PostgreSQL advisory lock of this database and schema"
        self._lock = store.advisory_lock(LOCK_NAME)

    def try_acquire(self) -> bool:
        return self._lock.try_acquire()

    def still_held(self) -> bool:
        return self._lock.still_held()

    def release(self) -> None:
        self._lock.dispose()


class ProcessLock:
    """An in-memory SQLite database exists in one process only: nothing to exclude."""

    description = "nothing (in-memory database)"

    def try_acquire(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        pass


def scheduler_lock(settings, store) -> SchedulerLock:
    """The lock that fits the configured database."""
    database_file = settings.storage.sqlite_path
    if database_file is not None:
        return FileLock(database_file.with_name(database_file.name + ".lock"))
    if settings.storage.url.startswith("sqlite"):
        return ProcessLock()
    return AdvisoryLock(store)
