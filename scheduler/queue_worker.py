"""``govarchive worker``: runs the jobs ``serve`` queued (``scheduler.queue``), each as today's
supervised child crawl (``scheduler.runner``), on any machine that reaches the database and
the archive folder.

Besides running jobs, every worker keeps the cluster whole: it puts the jobs of workers not
heard from for ``stall_timeout`` back in the queue, and closes runs whose process died. And it
fences itself: a worker that cannot reach the database for a quarter of ``stall_timeout``
stops its crawls (SIGINT, then SIGKILL an eighth of it later) and exits with code 1, before
the others could take its jobs for stalled and start them again: one host is never crawled
twice at once. SIGTERM/SIGINT stop it gracefully (as ``serve``: crawls get ``stop_grace`` to
close their WARC files and are recorded); SIGHUP reloads the configuration.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from govarchive.processes import process_alive, this_node
from govarchive.scheduler.alerts import Alerter
from govarchive.scheduler.queue import QUEUE, ensure_schema, make_app, retry_stalled
from govarchive.scheduler.runner import ChildRunner
from govarchive.scheduler.warm_pool import WarmPool

log = logging.getLogger(__name__)


class QueueWorker:
    def __init__(self, settings, store, *, conninfo: str, concurrency: int,
                 reload_settings: Callable[[Path], Any], python: str | None = None,
                 worker_command: Callable[[Path], list[str]] | None = None):
        self.settings = settings
        self.store = store
        self.conninfo = conninfo
        self.concurrency = concurrency
        self.reload_settings = reload_settings
        self.node = this_node()
        # Each job is crawled by a warm crawl worker (one per unit of concurrency), as `serve`
        # crawls its runs; without a worker command, by a child process per job.
        self.runner = (WarmPool(settings, store, command=worker_command,
                                parent_death_signal=signal.SIGKILL)
                       if worker_command is not None else
                       ChildRunner(settings, store, **({"python": python} if python else {})))
        self.alerter = Alerter(settings.service, store, user_agent=settings.crawl.user_agent)
        self.exit_code = 0
        self._stop = asyncio.Event()
        self._stopping = asyncio.Event()  # running crawls watch this one
        self.fenced = False

    @property
    def stall_timeout(self) -> float:
        return self.settings.service.stall_timeout

    # -- signals ------------------------------------------------------------------------

    def request_stop(self, why: str = "asked to stop") -> None:
        if not self._stop.is_set():
            log.info("%s: stopping", why)
        self._stop.set()

    def _reload(self) -> None:
        try:
            settings = self.reload_settings(self.settings.config_path)
        except Exception as exc:  # noqa: BLE001 - whatever the new file's fault, it goes on
            log.error("SIGHUP: keeping the running configuration: %s", exc)
            return
        if settings.storage.url != self.settings.storage.url:
            log.warning("SIGHUP: a new storage url applies after a restart")
            settings = settings.model_copy(update={"storage": self.settings.storage})
        self.settings = self.runner.settings = settings
        self.alerter.reconfigure(settings.service)
        log.info("SIGHUP: reloaded %s", settings.config_path)

    # -- the main coroutine -------------------------------------------------------------

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.request_stop, "SIGTERM")
        loop.add_signal_handler(signal.SIGINT, self.request_stop, "SIGINT")
        loop.add_signal_handler(signal.SIGHUP, self._reload)
        try:
            try:
                await asyncio.to_thread(ensure_schema, self.conninfo)
            except psycopg.OperationalError as exc:
                log.error("cannot reach the database of the run queue: %s", exc)
                return 1
            app = make_app(self.conninfo, self._run_job)
            async with app.open_async():
                await self._work(app)
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
        log.info("worker %s stopped (exit code %d)", self.node, self.exit_code)
        return self.exit_code

    async def _work(self, app) -> None:
        stall = self.stall_timeout
        worker = asyncio.create_task(app.run_worker_async(
            queues=[QUEUE], name=self.node, concurrency=self.concurrency,
            install_signal_handlers=False, listen_notify=True,
            update_heartbeat_interval=stall / 6, stalled_worker_timeout=stall,
            fetch_job_polling_interval=min(5.0, stall / 6),
            delete_jobs="successful",
        ), name="queue-worker")
        self.alerter.start()
        keepers = [asyncio.create_task(self._maintaining(app), name="stalled-jobs"),
                   asyncio.create_task(self._fence_watch(), name="fence")]
        log.info("worker %s: taking runs from the queue, %d at a time (stall timeout %g s)",
                 self.node, self.concurrency, stall)
        stop = asyncio.ensure_future(self._stop.wait())
        await asyncio.wait({worker, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if worker.done() and not self._stop.is_set():
            problem = worker.exception() if not worker.cancelled() else None
            log.error("the queue worker ended (%s): stopping this worker's crawls",
                      problem or "cancelled")
            self._fence(f"the queue worker ended: {problem}")
        self._stopping.set()  # each run stops its child (SIGINT, SIGKILL after stop_grace)
        if not worker.done():
            worker.cancel()  # no new jobs; waits for the running ones to end
        grace = self.runner.settings.service.stop_grace
        # A fenced worker cannot record its jobs' ends anyway: it does not wait for that.
        await asyncio.wait({worker}, timeout=grace + (5 if self.fenced else 30))
        for task in keepers:
            task.cancel()
        closing = getattr(self.runner, "aclose", None)  # warm workers: let them go
        if closing is not None:
            await closing()
        await self.alerter.aclose(min(5.0, self.settings.service.webhook_timeout))

    # -- a job --------------------------------------------------------------------------

    async def _run_job(self, source: str, scheduled_for: datetime, job_id: int) -> None:
        if source not in {s.name for s in self.settings.sources}:
            log.error("job %d: no source %r in %s (is serve's configuration the same?): "
                      "nothing run", job_id, source, self.settings.config_path)
            return
        log.info("job %d: a run of %s (due %s) on %s", job_id, source,
                 scheduled_for.isoformat(timespec="seconds"), self.node)
        outcome = await self.runner.run(source, self._stopping, scheduled_for=scheduled_for)
        run = outcome.run
        log.info("job %d: run %s of %s on %s: %s%s (%s requests, %s new articles, "
                 "%s new versions)", job_id, outcome.run_id, source, self.node, run["status"],
                 f" [{outcome.stopped}]" if outcome.stopped else "", run["requests"],
                 run["new_articles"], run["new_versions"])
        if outcome.stopped != "shutdown":
            await self.alerter.after_run(source, run)

    # -- keeping the cluster whole ------------------------------------------------------

    async def _maintaining(self, app) -> None:
        """Retry stalled workers' jobs and close runs whose process died, every quarter of
        the stall timeout."""
        while not self._stop.is_set():
            try:
                await retry_stalled(app, self.stall_timeout, self.conninfo)
                closed = await asyncio.to_thread(
                    self.store.close_dead_runs, node=self.node, is_alive=process_alive)
                if closed:
                    log.warning("closed %d run(s) whose process died as failed: %s",
                                len(closed), ", ".join(map(str, closed)))
            except Exception as exc:  # noqa: BLE001 - the database may be away for a moment
                log.warning("cannot look for stalled jobs: %s", exc)
            await _wait(self._stop, max(1.0, self.stall_timeout / 4))

    async def _fence_watch(self) -> None:
        every = self.stall_timeout / 8
        lost_since: float | None = None
        while not self._stop.is_set():
            if await self._database_answers(timeout=every):
                if lost_since is not None:
                    log.warning("the database answers again")
                lost_since = None
            else:
                now = time.monotonic()
                lost_since = lost_since or now
                if now - lost_since >= self.stall_timeout / 4:
                    self._fence(f"no answer from the database for {now - lost_since:.0f} s")
                    return
            await _wait(self._stop, every)

    async def _database_answers(self, timeout: float) -> bool:
        """A new connection and ``SELECT 1`` within ``timeout`` seconds."""
        async def probe() -> None:
            conn = await psycopg.AsyncConnection.connect(
                self.conninfo, connect_timeout=max(1, round(timeout)), autocommit=True)
            try:
                await conn.execute("SELECT 1")
            finally:
                await conn.close()

        try:
            await asyncio.wait_for(probe(), timeout)
        except (OSError, psycopg.Error, TimeoutError) as exc:
            log.warning("the database does not answer: %s", exc or "timed out")
            return False
        return True

    def _fence(self, why: str) -> None:
        """Stop every crawl of this worker fast: the others will soon take its jobs for
        stalled and run them again."""
        if self.fenced:
            return
        self.fenced = True
        kill_after = self.stall_timeout / 8
        log.error("%s: stopping this worker's crawls now (SIGKILL after %g s) and exiting, "
                  "so that no host is crawled twice at once; their jobs are retried by another "
                  "worker", why, kill_after)
        service = self.runner.settings.service
        self.runner.settings = self.runner.settings.model_copy(update={
            "service": service.model_copy(update={"stop_grace": min(service.stop_grace,
                                                                    kill_after)})})
        self.exit_code = 1
        kill_busy = getattr(self.runner, "kill_busy", None)  # warm workers: no grace at all
        if kill_busy is not None:
            kill_busy()
        self.request_stop("fencing")


async def _wait(event: asyncio.Event, timeout: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        pass


def work(settings, store, *, conninfo: str, concurrency: int,
         reload_settings: Callable[[Path], Any],
         worker_command: Callable[[Path], list[str]] | None = None) -> int:
    """Run a queue worker until stopped; its exit code (0 after a graceful stop, 1 when it
    fenced itself). ``worker_command(path)`` starts a warm crawl worker; without it each job
    is a child process."""
    worker = QueueWorker(settings, store, conninfo=conninfo, concurrency=concurrency,
                         reload_settings=reload_settings, worker_command=worker_command)
    return asyncio.run(worker.run())
