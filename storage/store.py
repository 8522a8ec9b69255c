"""``Store``: the one object the rest of govarchive uses to read and write the database."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, Self

import sqlalchemy as sa

from govarchive.processes import process_started_at, this_node
from govarchive.storage import engine as db
from govarchive.storage import runs as service_runs
from govarchive.storage.export import articles_query, iso, iter_records, records
from govarchive.storage.ingest import ensure_sources, ingest_batch
from govarchive.storage.models import RUN_STATUSES, Article, Run, RunSource, Source
from govarchive.storage.types import ArticleIn, CaptureIn, IngestResult, StorageError
from govarchive.times import DEFAULT_TIMEZONE

log = logging.getLogger(__name__)

RUN_COUNTS = ("requests", "new_articles", "new_versions", "removed", "bytes_archived")
INGEST_ATTEMPTS = 5
# PostgreSQL SQLSTATEs worth retrying: another transaction committed the same unique key
# (article url, version number) first; serialization failure; deadlock detected. SQLite
# needs no retries: its writers take the write lock at BEGIN and so never overlap.
_RETRYABLE_SQLSTATES = {"23505", "40001", "40P01"}


def utc_now() -> datetime:
    return datetime.now(UTC)


def _retryable(exc: sa.exc.DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES


def _since_utc(since: datetime | date | None) -> datetime | None:
    """``since`` as an aware UTC datetime; a date or naive datetime is read as UTC."""
    if since is None:
        return None
    if not isinstance(since, datetime):
        since = datetime(since.year, since.month, since.day)
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return since.astimezone(UTC)


class Store:
    """The govarchive database, on SQLite (``sqlite:///path``) or PostgreSQL
    (``postgresql+psycopg://user@host/db``).

    Creating a Store does not connect. ``migrate()`` creates or upgrades the schema; every
    other method first checks the schema is at head and raises ``StorageError`` (saying to run
    ``govarchive init``) when it is not, or when the database cannot be reached.
    """

    def __init__(self, url: str, *, clock: Callable[[], datetime] = utc_now,
                 reconnect_seconds: float = db.RECONNECT_SECONDS) -> None:
        self._url = db.parse_url(url)
        self._reconnect_seconds = reconnect_seconds
        self._engine = db.create_engine(self._url)
        self._writer = self._engine.execution_options(**{db.WRITE_OPTION: True})
        self._clock = clock
        self._checked = False

    def __repr__(self) -> str:
        return f"Store({db.display_url(self._url)!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._engine.dispose()

    # -- schema -------------------------------------------------------------------------

    def migrate(self) -> None:
        """Create or upgrade the schema to the latest revision (safe to repeat)."""
        db.upgrade(self._writer, self._url)
        self._checked = True

    def _check(self) -> None:
        if not self._checked:
            db.check_schema(self._engine, self._url)
            self._checked = True

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        self._check()
        with self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        self._check()
        try:
            with self._writer.begin() as conn:
                yield conn
        except sa.exc.OperationalError as exc:
            failure = db.write_failure(self._url, exc)
            if failure is None:
                raise
            raise failure from exc

    def _reconnecting(self, what: str, transaction: Callable[[], Any]) -> Any:
        """Run ``transaction`` (one whole transaction), again after a lost connection to the
        database server, with backoff, for up to ``reconnect_seconds``. Safe because a
        transaction the connection broke in left nothing behind; one whose COMMIT was sent
        but never acknowledged is redone against what it wrote, which ingest and run updates
        tolerate (captures are inserted ignoring duplicates, articles match themselves)."""
        deadline = time.monotonic() + self._reconnect_seconds
        delay = 0.5
        while True:
            try:
                return transaction()
            except (sa.exc.DBAPIError, StorageError) as exc:
                if not db.connection_lost(self._url, exc):
                    raise
                left = deadline - time.monotonic()
                if left <= 0:
                    raise db.gone(self._url, exc, self._reconnect_seconds) from None
                wait = min(delay, left)
                cause = exc.__cause__ if isinstance(exc, StorageError) else exc
                reason = str(getattr(cause, "orig", None) or cause).strip().splitlines()
                log.warning("lost the database connection while %s (%s); retrying in %.1f s",
                            what, reason[0] if reason else type(cause).__name__, wait)
                time.sleep(wait)
                delay = min(delay * 2, 8.0)

    # -- sources and runs ---------------------------------------------------------------

    def set_sources(self, titles: Mapping[str, str | None]) -> None:
        """Record the configured sources (name -> title); titles are updated."""
        with self._write() as conn:
            ids = ensure_sources(conn, titles)
            for name, title in titles.items():
                conn.execute(sa.update(Source).where(Source.id == ids[name]).values(title=title))

    def start_run(self, sources: list[str], owner: service_runs.RunOwner | None = None) -> int:
        """A new ``running`` run of ``sources``, crawled by the process ``owner``."""
        now = self._clock()
        with self._write() as conn:
            ids = ensure_sources(conn, sources)
            values = {"status": "running", "started_at": now, "heartbeat_at": now}
            if owner is not None:
                values.update(owner.values())
            run_id = conn.execute(
                sa.insert(Run).values(**values).returning(Run.id)
            ).scalar_one()
            rows = [
                {"run_id": run_id, "source_id": ids[name], "position": i}
                for i, name in enumerate(dict.fromkeys(sources))
            ]
            if rows:
                conn.execute(sa.insert(RunSource), rows)
            return run_id

    def finish_run(
        self, run_id: int, *, status: str, counts: Mapping[str, int], error: str | None
    ) -> None:
        if status not in RUN_STATUSES or status == "running":
            raise ValueError(f"run status {status!r}: expected one of {RUN_STATUSES[1:]}")
        unknown = set(counts) - set(RUN_COUNTS)
        if unknown:
            raise ValueError(f"unknown run counts {sorted(unknown)}: expected {RUN_COUNTS}")

        def finish() -> None:
            with self._write() as conn:
                now = self._clock()
                values = {**counts, "status": status, "error": error, "finished_at": now,
                          "heartbeat_at": now}
                updated = conn.execute(sa.update(Run).where(Run.id == run_id).values(**values))
                if updated.rowcount != 1:
                    raise ValueError(f"no run with id {run_id}")

        self._reconnecting(f"finishing run {run_id}", finish)

    # -- liveness of runs (storage.runs, storage.crawl_lock) ----------------------------------

    def claim_run(self, run_id: int, owner: service_runs.RunOwner) -> None:
        """Record ``owner`` as the process crawling a run made beforehand (``--run-id``)."""
        with self._write() as conn:
            if not service_runs.claim_run(conn, run_id, owner, self._clock()):
                raise ValueError(f"no run with id {run_id}")

    def beat(self, run_ids: Sequence[int]) -> None:
        """The process crawling ``run_ids`` is alive (see ``storage.runs.HEARTBEAT_INTERVAL``)."""
        with self._write() as conn:
            service_runs.beat(conn, run_ids, self._clock())

    def close_dead_runs(
        self, *, node: str, is_alive: Callable[[int, datetime | None], bool],
        source: str | None = None, now: datetime | None = None,
        limit: float = service_runs.HEARTBEAT_LIMIT,
    ) -> list[int]:
        """Close as ``failed`` ("process died: ...") every run still ``running`` (of
        ``source``) whose process is gone: on host ``node``, when ``is_alive(pid,
        pid_started_at)`` says so; elsewhere, when its heartbeat is more than ``limit``
        seconds old. Returns the ids closed. Storage does not look at processes: the caller
        passes the probe."""
        now = now or self._clock()
        with self._read() as conn:
            running = service_runs.running_runs(conn, source)
        dead = [(run.id, why) for run in running
                if (why := run.death(node=node, is_alive=is_alive, now=now, limit=limit))]
        closed = []
        if dead:
            with self._write() as conn:
                closed = [run_id for run_id, why in dead
                          if service_runs.fail_dead_run(conn, run_id, why, now)]
        return closed

    def running_runs(self, source: str | None = None) -> list[service_runs.RunningRun]:
        """Runs still ``running`` (of ``source``), newest first, with their process."""
        with self._read() as conn:
            return service_runs.running_runs(conn, source)

    def crawl_lock(self, source: str) -> Any:
        """The lock that lets one process at a time crawl ``source``
        (``storage.crawl_lock.CrawlLock``: ``try_acquire()``, ``release()``)."""
        from govarchive.storage.crawl_lock import crawl_lock

        return crawl_lock(self._engine.url, source)

    def list_runs(self, source: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """Runs newest first, as ``govarchive runs --json`` prints them."""
        stmt = sa.select(Run).order_by(Run.started_at.desc(), Run.id.desc()).limit(limit)
        if source is not None:
            stmt = stmt.where(
                Run.id.in_(
                    sa.select(RunSource.run_id)
                    .join(Source, Source.id == RunSource.source_id)
                    .where(Source.name == source)
                )
            )
        with self._read() as conn:
            runs = conn.execute(stmt).all()
            names: dict[int, list[str]] = {run.id: [] for run in runs}
            if names:
                member = (
                    sa.select(RunSource.run_id, Source.name)
                    .join(Source, Source.id == RunSource.source_id)
                    .where(RunSource.run_id.in_(names))
                    .order_by(RunSource.run_id, RunSource.position)
                )
                for run_id, name in conn.execute(member):
                    names[run_id].append(name)
        return [
            {
                "id": run.id,
                # A run usually covers one source; several are listed comma-separated.
                "source": ",".join(names[run.id]),
                "status": run.status,
                "scheduled_for": iso(run.scheduled_for),
                "started_at": iso(run.started_at),
                "finished_at": iso(run.finished_at),
                "requests": run.requests,
                "new_articles": run.new_articles,
                "new_versions": run.new_versions,
                "removed": run.removed,
                "bytes_archived": run.bytes_archived,
                "error": run.error,
                # The machine (or `govarchive worker --node` name) that crawled it.
                "node": run.node,
            }
            for run in runs
        ]

    # -- the scheduler service (queries in storage.runs) ---------------------------------

    def start_scheduled_run(self, source: str, log_path: Callable[[int], str],
                            scheduled_for: datetime | None = None,
                            owner_pid: int | None = None) -> int:
        """A run the service starts: ``log_path(run_id)`` names its log file;
        ``scheduled_for`` is when its schedule fired. ``owner_pid`` (the service) owns the
        run until its crawl claims it, so a service killed in between leaves no run that
        only the heartbeat limit can close."""
        owner = None
        if owner_pid is not None:
            owner = service_runs.RunOwner(owner_pid, this_node(), process_started_at(owner_pid))
        run_id = self.start_run([source], owner)
        with self._write() as conn:
            service_runs.mark_scheduled(conn, run_id, log_path(run_id), scheduled_for)
        return run_id

    def get_run(self, run_id: int) -> dict[str, Any] | None:
        """One run as ``list_runs`` gives it (without ``source``), plus ``log_path`` and
        ``scheduled``."""
        with self._read() as conn:
            return service_runs.get_run(conn, run_id)

    def close_run(
        self, run_id: int, *, status: str, error: str | None, only_running: bool = False
    ) -> bool:
        """Overrule a run's status (``timeout``, or ``failed`` when its crawl died before
        finishing it), keeping the counts the crawl recorded. Returns whether it changed."""
        if status not in RUN_STATUSES or status == "running":
            raise ValueError(f"run status {status!r}: expected one of {RUN_STATUSES[1:]}")
        with self._write() as conn:
            return service_runs.close_run(
                conn, run_id, status=status, error=error, now=self._clock(),
                only_running=only_running,
            )

    def close_abandoned_runs(self, error: str) -> list[int]:
        """Close scheduled runs left ``running`` (by a crash) as ``failed``; their ids."""
        with self._write() as conn:
            return service_runs.close_abandoned_runs(conn, error=error, now=self._clock())

    def recent_runs(self, source: str, limit: int) -> list[tuple[str, str | None]]:
        """(status, error) of the source's latest finished runs, newest first."""
        with self._read() as conn:
            return service_runs.recent_runs(conn, source, limit)

    def service_metrics(self) -> dict[str, Any]:
        with self._read() as conn:
            return service_runs.service_metrics(conn)

    jobs_table = service_runs.JOBS_TABLE  # APScheduler's job store table (migration 0002)

    def jobstore_engine(self) -> sa.Engine:
        """The engine APScheduler's job store uses for its table (``storage.runs.JOBS_TABLE``).
        Its write transactions start with their write, so SQLite's plain BEGIN is enough; and
        its frequent reads must not take the write lock."""
        self._check()
        return self._engine

    def advisory_lock(self, name: str) -> service_runs.AdvisoryLock:
        """A PostgreSQL advisory lock named ``name`` (see ``storage.runs.AdvisoryLock``)."""
        if self._url.get_backend_name() != "postgresql":
            raise ValueError(f"advisory locks need PostgreSQL, not {db.display_url(self._url)}")
        return service_runs.AdvisoryLock(self._engine.url, name)

    # -- notifications (storage.deliveries) ----------------------------------------------

    @property
    def deliveries(self) -> Any:
        """The outbox of change events owed to watches (``storage.deliveries.DeliveryOutbox``:
        ``fan_out``, ``due``, ``pending``, ``mark_delivered``, ``record_failure``)."""
        from govarchive.storage.deliveries import DeliveryOutbox

        return DeliveryOutbox(self._read, self._write, self._clock)

    # -- articles -----------------------------------------------------------------------

    def ingest(
        self, captures: list[CaptureIn], articles: list[ArticleIn], run_id: int | None = None,
        *, observations: Sequence[Any] = (), listings: Sequence[Any] = (),
        history: bool = False,
    ) -> IngestResult:
        """Store captures, the articles extracted from them, and what other fetches of known
        articles showed (``storage.tracking.ObservationIn``: gone, blocked, not modified;
        ``storage.tracking.ListingIn``: what a section's list pages listed), in one transaction.

        Each article is matched to a stored one by any of its (canonical) urls, or else by
        identical content (a cross-post or move); a content change (see ``storage.content``
        and ``storage.tracking``) adds a version. Every article counts as exactly one of
        ``new_articles``, ``new_versions`` or ``unchanged``; the result is a
        ``storage.tracking.TrackingResult`` (also ``removed``, ``restored``).

        Each change (new article, edit, confirmed removal, restoration, delisting, move) is
        written as a change event in the same transaction (``storage.changes``). With
        ``history`` (a rebuild from the archive) those events are written already fanned
        out, so no watch is notified of them again. When another process commits the same
        article or version first, the unique constraints make this transaction fail and it
        is retried against what that process wrote. A connection
        lost to the database server (a restart) is reconnected and the batch retried, for up
        to ``reconnect_seconds``; then ``StorageError`` says how long it stayed away.
        """
        def transaction() -> IngestResult:
            for attempt in range(1, INGEST_ATTEMPTS + 1):
                try:
                    with self._write() as conn:
                        return ingest_batch(conn, captures, articles, run_id, observations,
                                            listings, self._clock() if history else None)
                except sa.exc.DBAPIError as exc:
                    if attempt == INGEST_ATTEMPTS or not _retryable(exc):
                        raise
                    log.info("ingest conflicted with a concurrent write, retrying: %s",
                             exc.orig)
            raise AssertionError("unreachable")

        return self._reconnecting(f"storing a batch of {len(captures)} captures", transaction)

    def iter_export(
        self, *, source: str | None = None, since: datetime | date | None = None
    ) -> Iterator[dict[str, Any]]:
        """Export records (CONTRACT.md), oldest article first, streamed.

        ``since`` keeps articles first seen or changed at or after it.
        """
        stmt = articles_query(source, _since_utc(since))
        with self._read() as conn:
            yield from iter_records(conn, stmt)

    def get_article(self, article_id: int) -> dict[str, Any] | None:
        stmt = articles_query().where(Article.id == article_id)
        with self._read() as conn:
            rows = conn.execute(stmt).all()
            return records(conn, rows)[0] if rows else None

    # -- change tracking (storage.history, storage.revisits) -------------------------------

    def article_history(self, article_id: int) -> dict[str, Any] | None:
        """Versions and status events of an article, oldest first (``storage.history``)."""
        from govarchive.storage import history

        with self._read() as conn:
            return history.article_history(conn, article_id)

    def article_version(self, article_id: int, n: int) -> dict[str, Any] | None:
        """The full content of version ``n`` of an article."""
        from govarchive.storage import history

        with self._read() as conn:
            return history.version_content(conn, article_id, n)

    def article_diff(
        self, article_id: int, from_n: int | None = None, to_n: int | None = None
    ) -> dict[str, Any] | None:
        """Differences per field between two versions (default: the last two), in whole
        tokens (``storage.diffs``); None when the article or a version does not exist."""
        from govarchive.storage import history

        with self._read() as conn:
            return history.article_diff(conn, article_id, from_n, to_n)

    def revisit_targets(
        self, source: str, *, steps, mode: str = "due", budget: int | None = None,
        now: datetime | None = None,
    ) -> list[Any]:
        """``storage.revisits.RevisitTarget`` for the source's articles to fetch again."""
        from govarchive.storage import revisits

        with self._read() as conn:
            return revisits.revisit_targets(
                conn, source, now=now or self._clock(), steps=steps, mode=mode, budget=budget
            )

    def requisite_targets(self) -> dict[str, Any]:
        """{URL: ``storage.revisits.RevisitTarget``} of the page requisites (images,
        stylesheets, scripts) already archived: fetched again, they become revisit records."""
        from govarchive.storage import revisits

        with self._read() as conn:
            return revisits.requisite_targets(conn)

    def known_article_urls(self, source: str) -> set[str]:
        """Canonical URLs of the source's stored articles and their attachments."""
        from govarchive.storage import revisits

        with self._read() as conn:
            return revisits.known_urls(conn, source)

    def section_walks(self, source: str, start_urls: Sequence[str]) -> list[Any]:
        """``storage.walks.SectionWalk`` of each start URL: when its list pages were last
        walked (in full), and the validators of its last capture."""
        from govarchive.storage import walks

        with self._read() as conn:
            return walks.section_walks(conn, source, start_urls)

    # -- the change feed (storage.changes) ------------------------------------------------

    def list_changes(
        self, *, since: datetime | None = None, source: str | None = None,
        kinds: Sequence[str] | None = None, query: str | None = None,
        article_id: int | None = None, limit: int = 50, before_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """Change events newest first (by id), with filters and paging: see
        ``storage.changes.list_changes``."""
        from govarchive.storage import changes

        with self._read() as conn:
            return changes.list_changes(conn, since=_since_utc(since), source=source, kinds=kinds,
                                        query=query, article_id=article_id, limit=limit,
                                        before_id=before_id)

    def change_event(self, event_id: int) -> dict[str, Any] | None:
        """One change event as ``list_changes`` gives it, or None."""
        from govarchive.storage import changes

        with self._read() as conn:
            return changes.change_event(conn, event_id)

    # -- archive tools (storage.archive_queries) ------------------------------------------

    def reset_derived(self, source: str | None = None) -> int:
        """Delete articles, versions, urls and change events (with their deliveries) of
        ``source``, or all, keeping every capture, so they can be rebuilt from the archive.
        Returns the number of articles deleted."""
        from govarchive.storage import archive_queries

        with self._write() as conn:
            return archive_queries.reset_derived(conn, source)

    def iter_captures(self) -> Iterator[CaptureIn]:
        """Every stored capture in capture order (time, then place in the archive)."""
        from govarchive.storage import archive_queries

        with self._read() as conn:
            yield from archive_queries.iter_captures(conn)

    def count_captures(self) -> int:
        from govarchive.storage import archive_queries

        with self._read() as conn:
            return archive_queries.count_captures(conn)

    def iter_version_pointers(self) -> Iterator[Any]:
        """``storage.archive_queries.VersionPointer`` of every article version."""
        from govarchive.storage import archive_queries

        with self._read() as conn:
            yield from archive_queries.iter_version_pointers(conn)

    # -- search (storage.search) ----------------------------------------------------------

    def search(
        self, q: str | None = None, *, source: str | None = None,
        since: date | datetime | None = None, until: date | datetime | None = None,
        status: str | None = None, origin: str | None = None, limit: int = 20,
        offset: int = 0, sort: str | None = None, timezone: str = DEFAULT_TIMEZONE,
        versions: bool = False, exact_total: bool = False,
    ) -> dict[str, Any]:
        """Full-text search of titles and bodies (``storage.search``) with filters:
        ``{"total": N, "total_exact": bool, "ranked": N, "items": [record + "snippet"],
        "terms": [...]}``. Hits are counted up to ``storage.search.TOTAL_LIMIT`` (then
        ``total_exact`` is false) unless ``exact_total``.

        ``since``/``until`` bound the publication time (a date is a whole day in
        ``timezone``); without ``q``, every matching article, newest first. At most
        ``storage.search.MAX_LIMIT`` items a page. Raises ``SearchQueryError`` (a
        ``ValueError``) for a query or filter it cannot use.
        """
        from govarchive.storage import search

        filters = search.Filters(source=source, since=since, until=until, status=status,
                                 origin=origin, timezone=timezone)
        with self._read() as conn:
            paging = search.Paging(limit=limit, offset=offset, sort=sort, exact_total=exact_total)
            return search.search_records(conn, q, filters, paging, versions=versions)

    def list_sources(self) -> list[dict[str, Any]]:
        """Every source the database knows: ``[{"name", "title"}]`` by name."""
        stmt = sa.select(Source.name, Source.title).order_by(Source.name)
        with self._read() as conn:
            return [{"name": name, "title": title} for name, title in conn.execute(stmt)]

    def rebuild_search_index(self) -> int:
        """Index every article's title and body afresh; returns how many were indexed."""
        from govarchive.storage import search_index

        with self._write() as conn:
            return search_index.rebuild(conn)
