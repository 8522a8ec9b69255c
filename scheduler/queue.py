"""Runs as jobs of a Procrastinate queue in PostgreSQL, for workers on several machines.

``govarchive serve`` (the one scheduler, by its lock) defers each due run as a job; ``govarchive
worker`` processes fetch and run them (``scheduler.queue_worker``). What the queue promises:

- a job is fetched by exactly one worker (``SELECT ... FOR UPDATE SKIP LOCKED``);
- ``lock`` = the source's politeness group (``govarchive.politeness_groups``): no two jobs of
  one group
  run at once, anywhere, and a group's jobs run in the order they were queued;
- ``queueing_lock`` = the source: a source already waiting is not queued a second time;
- each worker beats its heartbeat into ``procrastinate_workers``; the jobs of a worker not
  heard from for ``stall_timeout`` are put back in the queue (``retry_stalled``) and run again
  elsewhere, before any later job of their group.

The task itself only says which source to crawl and when it fell due; the process that runs
it passes its run function in (``make_app(run=...)``). Procrastinate's tables live in the
database's current schema (the connection's ``search_path``), made by ``ensure_schema``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

import procrastinate
import psycopg
from procrastinate import exceptions as queue_errors
from procrastinate.jobs import Job, Status
from procrastinate.manager import JobManager
from procrastinate.schema import SchemaManager

from govarchive.politeness_groups import politeness_groups

log = logging.getLogger(__name__)

QUEUE = "govarchive-runs"
TASK = "govarchive.run_source"
MAX_ATTEMPTS = 3  # a job whose worker stalls this many times is not retried again
FETCH_TRIES = 3  # fetches that lose a race for a group's lock before waiting for the next poll
RETRY_TRIES = 3  # puts back of a stalled job that find its source queued again

# (source, when it fell due, the queue's job id) -> the run is over (whatever its status).
RunJob = Callable[[str, datetime, int], Awaitable[None]]


def ensure_schema(conninfo: str) -> bool:
    """Create Procrastinate's tables, types and functions in the connection's current schema
    unless they are there already; True when it made them. Two processes starting at once
    take turns (an advisory lock), so the schema is made once."""
    with psycopg.connect(conninfo) as conn:
        where = conn.execute(WHERE_QUEUE_IS).fetchone()[0]
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key("schema", where)])
        found = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()[0]
        if found is not None:
            return False
        # Run as a script, without parameters: its "%" are not placeholders.
        conn.execute(SchemaManager.get_schema().encode())
        conn.commit()
    log.info("queue: made Procrastinate's tables in %s", where)
    return True


WHERE_QUEUE_IS = "SELECT current_database() || '/' || current_schema()"


def _lock_key(purpose: str, where: str) -> int:
    """An advisory lock's key for ``purpose`` on the queue in ``where`` (database/schema)."""
    digest = hashlib.sha256(f"govarchive-queue-{purpose}/{where}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def make_app(conninfo: str, run: RunJob | None = None) -> procrastinate.App:
    """The Procrastinate app on the database at ``conninfo`` (a libpq connection string)
    with the one task, which calls ``run`` (a process that only defers jobs passes none)."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo))
    app.job_manager = GroupLockJobManager(connector=app.connector)

    @app.task(name=TASK, queue=QUEUE, pass_context=True)
    async def run_source(context, source: str, scheduled_for: str) -> None:
        if run is None:
            raise RuntimeError("this process only queues runs; `govarchive worker` runs them")
        await run(source, datetime.fromisoformat(scheduled_for), context.job.id)

    return app


class GroupLockJobManager(JobManager):
    """Procrastinate's job manager, but a fetch that loses a race for a group's lock is no
    error. Two workers can pick two jobs of one group at once when their ids were committed
    out of order (``serve`` defers on several connections): the lock's unique index lets one
    run and the other's fetch raises ``UniqueViolation``, which would end that worker. It
    tries again a moment later, then waits for the next job notice or poll as when the queue
    is empty (procrastinate-org/procrastinate#1242)."""

    async def fetch_job(self, queues, worker_id) -> Job | None:
        for attempt in range(1, FETCH_TRIES + 1):
            try:
                return await super().fetch_job(queues=queues, worker_id=worker_id)
            except queue_errors.UniqueViolation as exc:
                log.debug("fetching a job lost a race for %s (try %d of %d)",
                          exc.constraint_name or "a unique index", attempt, FETCH_TRIES)
                await asyncio.sleep(random.uniform(0.02, 0.1) * attempt)
        return None


def group_lock(group: str) -> str:
    return f"group:{group}"


def source_queueing_lock(source: str) -> str:
    return f"source:{source}"


class Dispatcher:
    """``serve``'s side of the queue: defers due runs. Opens its connections on first use."""

    def __init__(self, conninfo: str):
        self.conninfo = conninfo
        self.app = make_app(conninfo)
        self._open = False

    async def defer(self, source: str, due: datetime, sources: Iterable) -> int | None:
        """Queue a run of ``source`` due at ``due``: the job id, or None when the source is
        queued already (that job makes this run). ``sources`` are the configured sources
        (``name``, ``start_urls``), for the politeness group."""
        if not self._open:
            await asyncio.to_thread(ensure_schema, self.conninfo)
            await self.app.open_async()
            self._open = True
        group = politeness_groups(sources)[source]
        task = self.app.configure_task(TASK, queue=QUEUE, lock=group_lock(group),
                                       queueing_lock=source_queueing_lock(source))
        try:
            job_id = await task.defer_async(source=source, scheduled_for=due.isoformat())
        except queue_errors.AlreadyEnqueued:
            log.info("%s is due, but a run of it is still waiting for a worker: not queued "
                     "twice", source)
            return None
        log.info("%s is due: queued as job %d (politeness group %s)", source, job_id, group)
        return job_id

    async def aclose(self) -> None:
        if self._open:
            self._open = False
            await self.app.close_async()


async def retry_stalled(app: procrastinate.App, stall_timeout: float, conninfo: str) -> list[int]:
    """Put the jobs of workers not heard from for ``stall_timeout`` seconds back in the queue,
    ahead of their group's later jobs; their ids. A run of the same source queued since
    then is cancelled: the retried job makes it (a source waits in the queue once).

    Every worker looks for stalled jobs; one at a time does (an advisory lock held in a
    transaction of a connection of its own; the others skip their turn). Two at once would
    act on what they read before the other acted: one would cancel the job the other had
    just put back as a duplicate of itself, or put back a job a live worker had taken since.
    A holder cut off mid-pass does not keep the lock: its idle transaction is ended by the
    server after ``stall_timeout``."""
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        async with conn.transaction():
            where = (await (await conn.execute(WHERE_QUEUE_IS)).fetchone())[0]
            await conn.execute(f"SET LOCAL idle_in_transaction_session_timeout = "
                               f"{max(1000, round(stall_timeout * 1000))}")
            taken = await conn.execute("SELECT pg_try_advisory_xact_lock(%s)",
                                       [_lock_key("retry-stalled", where)])
            if not (await taken.fetchone())[0]:
                log.debug("another worker is looking for stalled jobs")
                return []
            # Read after taking the lock: what the last holder put back is not "doing" now.
            stalled = await app.job_manager.get_stalled_jobs(
                queue=QUEUE, seconds_since_heartbeat=stall_timeout)
            return [job.id for job in stalled if await _retry(app.job_manager, job)]


async def _retry(manager: JobManager, job: Job) -> bool:
    """Put one stalled job back in the queue (True), or give it up."""
    source = _source_of(job)
    if job.attempts + 1 >= MAX_ATTEMPTS:
        # A run that takes its worker down each time (memory?) must not take them all.
        await manager.finish_job_by_id_async(job.id, Status.FAILED, delete_job=False)
        log.error("job %s (%s): its worker stopped answering %d times in a row: given up "
                  "(the next firing of the schedule queues it again)", job.id, source,
                  job.attempts + 1)
        return False
    try:
        for _ in range(RETRY_TRIES):
            try:
                await manager.retry_job(job)
                break
            except queue_errors.UniqueViolation:
                # A run of its source was queued since: cancelled, the stalled job makes it
                # (``serve`` may queue one again at once, hence a few tries).
                cancelled = [queued.id for queued in await manager.list_jobs_async(
                    queue=QUEUE, status="todo", queueing_lock=job.queueing_lock)
                    if queued.id != job.id and await manager.cancel_job_by_id_async(queued.id)]
                if cancelled:
                    log.warning("job %s (%s): cancelled job(s) %s queued since, the stalled "
                                "one makes the run", job.id, source, ", ".join(map(str, cancelled)))
        else:
            await manager.finish_job_by_id_async(job.id, Status.FAILED, delete_job=False)
            log.warning("job %s (%s) of a stalled worker: not retried, its source is queued "
                        "again each time (that job makes the run)", job.id, source)
            return False
    except queue_errors.ConnectorException as exc:
        log.warning("job %s (%s): not retried: %s", job.id, source, exc)
        return False
    log.warning("job %s (%s) was running on a worker that stopped answering: queued "
                "again", job.id, source)
    return True


def _source_of(job) -> str:
    return str((job.task_kwargs or {}).get("source", "?"))
