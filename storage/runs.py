"""Queries about runs: who runs them and their heartbeats, closing runs whose process died,
the service's scheduled runs and their logs, closing runs a crash left ``running``, recent
statuses for alerts, figures for ``/metrics``, and the PostgreSQL advisory lock that keeps a
second scheduler on standby (and one crawl of a source at a time).

``runs.log_path`` and ``runs.scheduled`` come from migration 0002; they are reached through a
lightweight table clause here so the ORM model stays as it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from govarchive.storage.export import iso
from govarchive.storage.models import Article, ArticleVersion, Run, RunSource, Source

JOBS_TABLE = "scheduler_jobs"
# "empty" (nothing new found) is the status of runs before quiet runs became "ok".
SUCCESS_STATUSES = ("ok", "empty")
# A crawling process updates its runs' heartbeat this often (seconds); a run on another host
# whose heartbeat is older than HEARTBEAT_LIMIT has lost its process.
HEARTBEAT_INTERVAL = 15.0
HEARTBEAT_LIMIT = 3 * HEARTBEAT_INTERVAL + 15.0
DIED = "process died"


@dataclass(frozen=True)
class RunOwner:
    """The process that crawls a run: its pid, when it started, and its host."""

    pid: int
    node: str
    started_at: datetime | None = None

    def values(self) -> dict[str, Any]:
        return {"pid": self.pid, "node": self.node, "pid_started_at": self.started_at}


@dataclass(frozen=True)
class RunningRun:
    """A run still ``running``, as the liveness check reads it."""

    id: int
    started_at: datetime
    pid: int | None
    pid_started_at: datetime | None
    node: str | None
    heartbeat_at: datetime | None

    def death(self, *, node: str, is_alive: Callable[[int, datetime | None], bool],
              now: datetime, limit: float) -> str | None:
        """Why the run's process is known to be dead, or None while it may be alive. On this
        host the process itself is asked; elsewhere only the heartbeat can tell."""
        if self.node == node and self.pid is not None:
            if is_alive(self.pid, self.pid_started_at):
                return None
            return f"{DIED}: pid {self.pid} on {node} is gone"
        last = self.heartbeat_at or self.started_at
        if now - last <= timedelta(seconds=limit):
            return None
        return f"{DIED}: no heartbeat from {self.node or 'its host'} since {iso(last)}"

service_runs = sa.table(
    "runs",
    sa.column("id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("log_path", sa.Text),
    sa.column("scheduled", sa.Boolean),
)


def mark_scheduled(conn: sa.Connection, run_id: int, log_path: str,
                   scheduled_for: datetime | None = None) -> None:
    conn.execute(
        sa.update(service_runs)
        .where(service_runs.c.id == run_id)
        .values(scheduled=True, log_path=log_path)
    )
    if scheduled_for is not None:
        conn.execute(sa.update(Run).where(Run.id == run_id).values(scheduled_for=scheduled_for))


def get_run(conn: sa.Connection, run_id: int) -> dict[str, Any] | None:
    # literal columns of the same table: a second "runs" clause would be a second FROM.
    stmt = sa.select(
        Run,
        sa.literal_column("runs.log_path").label("log_path"),
        sa.literal_column("runs.scheduled").label("scheduled"),
    ).where(Run.id == run_id)
    row = conn.execute(stmt).first()
    if row is None:
        return None
    return {
        "id": row.id,
        "status": row.status,
        "scheduled_for": iso(row.scheduled_for),
        "started_at": iso(row.started_at),
        "finished_at": iso(row.finished_at),
        "requests": row.requests,
        "new_articles": row.new_articles,
        "new_versions": row.new_versions,
        "removed": row.removed,
        "bytes_archived": row.bytes_archived,
        "error": row.error,
        "log_path": row.log_path,
        "scheduled": bool(row.scheduled),
    }


def close_run(
    conn: sa.Connection,
    run_id: int,
    *,
    status: str,
    error: str | None,
    now: datetime,
    only_running: bool,
) -> bool:
    """Set a run's status and error, keeping the counts its crawl recorded; ``finished_at``
    is kept if the crawl set it. With ``only_running``, a run already finished is left alone.
    Returns whether the run was changed."""
    stmt = (
        sa.update(Run)
        .where(Run.id == run_id)
        .values(
            status=status,
            error=error,
            finished_at=sa.func.coalesce(Run.finished_at, sa.literal(now, Run.finished_at.type)),
        )
    )
    if only_running:
        stmt = stmt.where(Run.status == "running")
    return conn.execute(stmt).rowcount == 1


def close_abandoned_runs(conn: sa.Connection, *, error: str, now: datetime) -> list[int]:
    """Close as ``failed`` every scheduled run still ``running``: only the scheduler holding
    the lock starts scheduled runs, so when a new one takes over these have no process left."""
    abandoned = sa.select(service_runs.c.id).where(
        service_runs.c.status == "running", service_runs.c.scheduled.is_(True)
    )
    ids = list(conn.execute(abandoned).scalars())
    if ids:
        conn.execute(
            sa.update(Run)
            .where(Run.id.in_(ids), Run.status == "running")
            .values(status="failed", error=error, finished_at=now)
        )
    return ids


def claim_run(conn: sa.Connection, run_id: int, owner: RunOwner, now: datetime) -> bool:
    """Record ``owner`` as the process crawling a run made beforehand (by the service)."""
    stmt = (
        sa.update(Run).where(Run.id == run_id).values(**owner.values(), heartbeat_at=now)
    )
    return conn.execute(stmt).rowcount == 1


def beat(conn: sa.Connection, run_ids: Sequence[int], now: datetime) -> None:
    """The crawling process is alive: its running runs' heartbeat is ``now``."""
    conn.execute(
        sa.update(Run)
        .where(Run.id.in_(list(run_ids)), Run.status == "running")
        .values(heartbeat_at=now)
    )


def running_runs(conn: sa.Connection, source: str | None = None) -> list[RunningRun]:
    """Runs still ``running`` (of ``source``), newest first."""
    stmt = (
        sa.select(Run.id, Run.started_at, Run.pid, Run.pid_started_at, Run.node,
                  Run.heartbeat_at)
        .where(Run.status == "running")
        .order_by(Run.started_at.desc(), Run.id.desc())
    )
    if source is not None:
        stmt = stmt.where(Run.id.in_(
            sa.select(RunSource.run_id)
            .join(Source, Source.id == RunSource.source_id)
            .where(Source.name == source)
        ))
    return [RunningRun(*row) for row in conn.execute(stmt)]


def fail_dead_run(conn: sa.Connection, run_id: int, error: str, now: datetime) -> bool:
    """Close a run whose process died as ``failed``, unless it finished meanwhile."""
    stmt = (
        sa.update(Run)
        .where(Run.id == run_id, Run.status == "running")
        .values(status="failed", error=error, finished_at=now)
    )
    return conn.execute(stmt).rowcount == 1


def recent_runs(conn: sa.Connection, source: str, limit: int) -> list[tuple[str, str | None]]:
    """(status, error) of the source's latest finished runs, newest first."""
    stmt = (
        sa.select(Run.status, Run.error)
        .join(RunSource, RunSource.run_id == Run.id)
        .join(Source, Source.id == RunSource.source_id)
        .where(Source.name == source, Run.status != "running")
        .order_by(Run.started_at.desc(), Run.id.desc())
        .limit(limit)
    )
    return [(status, error) for status, error in conn.execute(stmt)]


def service_metrics(conn: sa.Connection) -> dict[str, Any]:
    """Figures for ``/metrics``: runs by source and status, last success and bytes archived
    per source, articles by source and status, versions per source."""
    by_run = (
        sa.select(Source.name, Run.status, sa.func.count(), sa.func.sum(Run.bytes_archived))
        .join(RunSource, RunSource.source_id == Source.id)
        .join(Run, Run.id == RunSource.run_id)
        .group_by(Source.name, Run.status)
    )
    runs: dict[tuple[str, str], int] = {}
    archived: dict[str, int] = {}
    for name, status, count, archived_bytes in conn.execute(by_run):
        runs[(name, status)] = int(count)
        archived[name] = archived.get(name, 0) + int(archived_bytes or 0)
    last_success = (
        sa.select(Source.name, sa.func.max(Run.finished_at))
        .join(RunSource, RunSource.source_id == Source.id)
        .join(Run, Run.id == RunSource.run_id)
        .where(Run.status.in_(SUCCESS_STATUSES))
        .group_by(Source.name)
    )
    articles = (
        sa.select(Source.name, Article.status, sa.func.count())
        .join(Article, Article.source_id == Source.id)
        .group_by(Source.name, Article.status)
    )
    versions = (
        sa.select(Source.name, sa.func.count())
        .join(Article, Article.source_id == Source.id)
        .join(ArticleVersion, ArticleVersion.article_id == Article.id)
        .group_by(Source.name)
    )
    finished_type = Run.finished_at.type
    dialect = conn.dialect
    return {
        "runs": runs,
        "bytes_archived": archived,
        # max() loses the column type on SQLite: convert back to an aware datetime.
        "last_success": {
            name: finished_type.process_result_value(_as_datetime(when), dialect)
            for name, when in conn.execute(last_success)
            if when is not None
        },
        "articles": {(name, status): int(n) for name, status, n in conn.execute(articles)},
        "versions": {name: int(n) for name, n in conn.execute(versions)},
    }


def _as_datetime(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def close_session(conn: sa.Connection | None) -> None:
    """Close a session that holds advisory locks (which releases them); a lost connection has
    released them already."""
    if conn is not None:
        try:
            conn.close()
        except sa.exc.DBAPIError:
            pass


def lock_key(text: str) -> int:
    """The advisory lock key (a signed 64-bit integer) of ``text``."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock on a connection of its own.

    The key is derived from ``name``, the database and the schema, so two govarchive
    installations sharing a server (or a database, in two schemas) do not exclude each other.
    The lock lives as long as the session: ``still_held()`` fails once the connection is lost,
    and then another scheduler may already hold it.
    """

    def __init__(self, url: URL, name: str):
        self._engine = sa.create_engine(url, poolclass=NullPool)
        self._name = name
        self._conn: sa.Connection | None = None

    def try_acquire(self) -> bool:
        if self._conn is None:
            self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        conn = self._conn
        where = conn.execute(sa.text("select current_database() || '/' || current_schema()"))
        key = lock_key(f"{self._name}/{where.scalar_one()}")
        got = conn.execute(sa.text("select pg_try_advisory_lock(:key)"), {"key": key})
        if got.scalar_one():
            return True
        self.release()  # the session would keep an idle connection while on standby
        return False

    def still_held(self) -> bool:
        if self._conn is None:
            return False
        try:
            self._conn.execute(sa.text("select 1"))
        except sa.exc.DBAPIError:
            return False
        return True

    def release(self) -> None:
        """Closing the session releases the lock (and nothing else is done on it)."""
        conn, self._conn = self._conn, None
        close_session(conn)

    def dispose(self) -> None:
        self.release()
        self._engine.dispose()
