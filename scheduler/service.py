"""``govarchive serve``: one APScheduler job per scheduled source, each run crawled by a warm
crawl worker (``warm_pool``) or a child process (``runner``).

Lifecycle: listen for ``/healthz``; take the scheduler lock or wait as a standby; close the
runs a crashed scheduler left ``running``; start the scheduler paused, reconcile its stored
jobs with the configuration, resume (owed catch-up runs fire now). SIGHUP reloads the
configuration and reconciles again. SIGTERM/SIGINT stop scheduling, stop running crawls
gracefully (SIGINT, then SIGKILL after ``stop_grace``), record them and return 0.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from govarchive.processes import process_alive, this_node
from govarchive.scheduler import jobs
from govarchive.scheduler.alerts import Alerter
from govarchive.scheduler.health import HealthServer, ServiceState
from govarchive.scheduler.lock import scheduler_lock
from govarchive.scheduler.politeness import PolitenessGroups
from govarchive.scheduler.runner import ChildRunner, prune_logs
from govarchive.scheduler.warm_pool import WarmPool

log = logging.getLogger(__name__)

HEARTBEAT = 1.0
SNAPSHOT_EVERY = 5  # heartbeats between reads of the jobs' next run times
PRUNE_EVERY = 3600.0
DELIVER_EVERY = 30.0  # seconds between delivery rounds (and one after each run)
DEAD_RUNS_EVERY = 60  # heartbeats between closings of runs whose process died
def default_max_concurrent_runs() -> int:
    """Two runs per core (a crawl mostly waits on the network), but no more than one per
    512 MB of memory (a crawl's process tree: Scrapy, its parsing and storing workers)."""
    cores = os.cpu_count() or 1
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):  # not a POSIX system that tells
        memory = 0
    by_memory = memory // (512 << 20) if memory else 2 * cores
    return max(1, min(2 * cores, by_memory))


ABANDONED = (
    "the service stopped before this run finished (crash or kill); "
    "closed when the next scheduler started"
)


class Service:
    def __init__(self, settings, store, *, reload_settings: Callable[[Path], Any],
                 python: str | None = None, deliver: Callable[[Any], Any] | None = None,
                 deliver_every: float = DELIVER_EVERY, dispatch=None,
                 worker_command: Callable[[Path], list[str]] | None = None):
        self.settings = settings
        # With workers = "procrastinate": a scheduler.queue.Dispatcher; due runs are queued
        # for `govarchive worker` processes instead of run here.
        self.dispatch = dispatch
        self.store = store
        self.reload_settings = reload_settings  # the wiring's loader; raises on a bad file
        # The wiring's notification round, called with the current settings in a thread.
        self.deliver, self.deliver_every = deliver, deliver_every
        self._deliver_now = asyncio.Event()
        limit = settings.service.max_concurrent_runs
        self.max_concurrent_runs = limit or default_max_concurrent_runs()
        self._run_slots = asyncio.Semaphore(self.max_concurrent_runs)
        self.state = ServiceState()
        self.runner = self._make_runner(python, worker_command)
        self.politeness = PolitenessGroups(settings.sources)
        self.alerter = Alerter(settings.service, store, user_agent=settings.crawl.user_agent)
        self.health = HealthServer(self.state, store, settings.archive.archive_path)
        self.health_port: int | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self.exit_code = 0
        self._stop = asyncio.Event()
        self._stopping = asyncio.Event()  # running crawls watch this one
        self._reload = asyncio.Event()
        self._runs: set[asyncio.Task] = set()
        self._last_prune = 0.0

    def _make_runner(self, python: str | None, worker_command):
        """What runs a run: warm workers (``worker_command(config_path)`` starts one), or a
        child process per run (``[service] workers = "process"``, or no worker command)."""
        if self.settings.service.workers == "warm" and worker_command is not None:
            return WarmPool(self.settings, self.store, command=worker_command)
        return ChildRunner(self.settings, self.store, **({"python": python} if python else {}))

    # -- signals ------------------------------------------------------------------------

    def request_stop(self, why: str = "asked to stop") -> None:
        if not self._stop.is_set():
            log.info("%s: stopping", why)
        self._stop.set()

    def request_reload(self) -> None:
        self._reload.set()

    def _install_signals(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.add_signal_handler(signal.SIGTERM, self.request_stop, "SIGTERM")
        loop.add_signal_handler(signal.SIGINT, self.request_stop, "SIGINT")
        loop.add_signal_handler(signal.SIGHUP, self.request_reload)

    # -- the main coroutine -------------------------------------------------------------

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        self._install_signals(loop)
        self._start_health()
        beating = asyncio.create_task(self._heartbeat(), name="heartbeat")
        lock = await asyncio.to_thread(scheduler_lock, self.settings, self.store)
        self.state.lock = lock.description
        try:
            if await self._wait_for_lock(lock):
                await self._lead(lock)
        finally:
            beating.cancel()
            await asyncio.to_thread(lock.release)
            self.health.stop()
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
        log.info("stopped (exit code %d)", self.exit_code)
        return self.exit_code

    def _start_health(self) -> None:
        if self.health.running:
            return
        service = self.settings.service
        try:
            self.health_port = self.health.start(service.health_host, service.health_port)
        except OSError as exc:
            # A standby beside a leader on one host finds the port taken: it retries when it
            # takes over.
            log.warning("health: cannot listen on %s:%s (%s); /healthz and /metrics are off",
                        service.health_host, service.health_port, exc.strerror or exc)
            return
        log.info("health: http://%s:%d/healthz and /metrics", service.health_host,
                 self.health_port)

    async def _wait_for_lock(self, lock) -> bool:
        """True once this process holds the lock; False if asked to stop while waiting."""
        if await asyncio.to_thread(lock.try_acquire):
            return True
        self.state.role = "standby"
        log.warning("standby: another govarchive scheduler holds %s; waiting to take over "
                    "(checking every %g s)", lock.description, self.settings.service.standby_poll)
        while not self._stop.is_set():
            if self._reload.is_set():
                self._reload.clear()
                self._reload_settings()
            await self._wait(self._stop, self.settings.service.standby_poll)
            if not self._stop.is_set() and await asyncio.to_thread(lock.try_acquire):
                log.warning("taking over: this process now holds %s", lock.description)
                return True
        return False

    async def _lead(self, lock) -> None:
        self.state.role = "leader"
        self._start_health()
        log.info("scheduler: holding %s", lock.description)
        # Queued runs belong to the workers, which may well be running them now.
        closed = [] if self.dispatch is not None else await asyncio.to_thread(
            self.store.close_abandoned_runs, ABANDONED)
        if closed:
            log.warning("closed %d run(s) left running by a previous scheduler as failed: %s",
                        len(closed), ", ".join(map(str, closed)))
        await asyncio.to_thread(self._close_dead_runs)
        await asyncio.to_thread(self._prune_logs)
        self.alerter.start()
        jobs.set_run_handler(self._run_source)
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": SQLAlchemyJobStore(
                engine=self.store.jobstore_engine(), tablename=self.store.jobs_table)},
            timezone=UTC,
        )
        self.scheduler.start(paused=True)
        delivering: asyncio.Task | None = None
        try:
            self._reconcile()
            self.scheduler.resume()
            watch = asyncio.create_task(self._watch_lock(lock), name="lock-watch")
            delivering = asyncio.create_task(self._delivering(), name="delivering")
            while not self._stop.is_set():
                await self._wait_any(self._stop, self._reload)
                if self._reload.is_set() and not self._stop.is_set():
                    self._reload.clear()
                    if self._reload_settings():
                        self._reconcile()
            watch.cancel()
        finally:
            await self._shutdown()
            if delivering is not None:
                # A round in its thread finishes what it sends (and marks it), then the loop
                # ends; one stuck on a channel is left behind after its timeout.
                await asyncio.wait({delivering}, timeout=30)
                delivering.cancel()

    async def _shutdown(self) -> None:
        self.state.role = "stopping"
        if self.scheduler is not None:
            self.scheduler.pause()
        self._stopping.set()
        if self._runs:
            log.info("waiting for %d running crawl(s) to stop", len(self._runs))
            # Each run stops its child within stop_grace (SIGINT, then SIGKILL) and records it.
            await asyncio.wait(set(self._runs), timeout=self.settings.service.stop_grace + 30)
        closing = getattr(self.runner, "aclose", None)  # a runner that keeps workers
        if closing is not None:
            await closing()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        jobs.set_run_handler(None)
        if self.dispatch is not None:
            await self.dispatch.aclose()
        await self.alerter.aclose(min(5.0, self.settings.service.webhook_timeout))

    async def _watch_lock(self, lock) -> None:
        while True:
            await asyncio.sleep(self.settings.service.standby_poll)
            if not await asyncio.to_thread(lock.still_held):
                log.error("lost %s (database connection gone?): stopping, so that two "
                          "schedulers never run at once", lock.description)
                self.exit_code = 1
                self.request_stop("lost the scheduler lock")
                return

    # -- configuration ------------------------------------------------------------------

    def _reload_settings(self) -> bool:
        path = self.settings.config_path
        try:
            settings = self.reload_settings(path)
        except Exception as exc:  # noqa: BLE001 - whatever the new file's fault, the service goes on
            log.error("SIGHUP: keeping the running configuration: %s", exc)
            return False
        old = self.settings.service
        if (settings.service.health_host, settings.service.health_port) != (
            old.health_host, old.health_port
        ):
            log.warning("SIGHUP: a new health address applies after a restart")
        if settings.service.workers != old.workers:
            log.warning("SIGHUP: a new service.workers applies after a restart")
        if settings.storage.url != self.settings.storage.url:
            log.warning("SIGHUP: a new storage url applies after a restart")
            settings = settings.model_copy(update={"storage": self.settings.storage})
        self.settings = settings
        self.runner.settings = settings
        self.politeness.update(settings.sources)
        self.alerter.reconfigure(settings.service)
        log.info("SIGHUP: reloaded %s", path)
        return True

    def _reconcile(self) -> None:
        options = jobs.JobOptions(misfire_grace_time=self.settings.service.misfire_grace_time,
                                  spread=self.settings.service.spread_schedules)
        result = jobs.reconcile(self.scheduler, self.settings.sources, options)
        log.info("jobs: %s", result.summary())
        self._snapshot_jobs()

    def _snapshot_jobs(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.state.next_runs = jobs.next_runs(self.scheduler)

    # -- runs ---------------------------------------------------------------------------

    async def _run_source(self, source: str) -> None:
        """One scheduled run of ``source``: waits for a free slot, in due order (asyncio's
        semaphore wakes waiters first come, first served). While it waits, APScheduler's
        ``max_instances=1`` coalesces further firings of the same source."""
        due = datetime.now(UTC)
        try:
            if self.dispatch is not None:
                # Queued for `govarchive worker`s: the queue keeps the groups' turns
                # cluster-wide (a defer may wait for a database connection).
                await self._run_now(source, due)
                return
            if self.politeness.waiting(source):
                log.info("%s is due; waiting for the run of another source on its host (%s)",
                         source, self.politeness.group(source))
            async with self.politeness.turn(source, rest=self.settings.crawl.delay):
                if self._run_slots.locked():
                    log.info("%s is due; waiting for one of the %d run slots", source,
                             self.max_concurrent_runs)
                async with self._run_slots:
                    await self._run_now(source, due)
        except asyncio.CancelledError:
            if not self._stopping.is_set():
                raise
            # The service stopped while this run waited for its turn, a slot or the queue: it
            # was never started, and APScheduler would log the cancellation as the job's
            # traceback.
            log.info("%s: not %s, the service is stopping", source,
                     "queued" if self.dispatch is not None else "started")

    async def _run_now(self, source: str, due: datetime) -> None:
        if self._stopping.is_set():
            return
        if source not in {s.name for s in self.settings.sources if s.schedule}:
            # Fired just before a reload unscheduled it: the crawl would not find it.
            log.info("%s is no longer scheduled: not starting its run", source)
            return
        if self.dispatch is not None:
            try:
                await self.dispatch.defer(source, due, self.settings.sources)
            except Exception as exc:  # noqa: BLE001 - the next firing queues it again
                log.error("%s is due but cannot be queued: %s", source, error_text(exc))
            return
        holder = await asyncio.to_thread(self._crawled_elsewhere, source)
        if holder is not None:
            log.warning("%s is being crawled by %s: skipping this scheduled run", source, holder)
            return
        task = asyncio.current_task()
        self._runs.add(task)
        try:
            outcome = await self.runner.run(source, self._stopping, scheduled_for=due)
        finally:
            self._runs.discard(task)
        run = outcome.run
        log.info("run %s of %s: %s%s (%s requests, %s new articles, %s new versions)",
                 outcome.run_id, source, run["status"],
                 f" [{outcome.stopped}]" if outcome.stopped else "",
                 run["requests"], run["new_articles"], run["new_versions"])
        # A run stopped by a deliberate shutdown is no news.
        if outcome.stopped != "shutdown" and await self.alerter.after_run(source, run):
            self.state.alerts_sent = self.alerter.sent
        self._deliver_now.set()  # the run's changes go out now, not at the next round
        if time.monotonic() - self._last_prune > PRUNE_EVERY:
            await asyncio.to_thread(self._prune_logs)

    # -- notifications ------------------------------------------------------------------

    async def _delivering(self) -> None:
        """Deliver change events every ``deliver_every`` seconds and after each run, in a
        thread (sending may wait on slow channels), one round at a time."""
        if self.deliver is None:
            return
        while not self._stop.is_set():
            self._deliver_now.clear()
            try:
                await asyncio.to_thread(self.deliver, self.settings)
            except Exception as exc:  # noqa: BLE001 - the next round tries again
                log.error("delivering notifications failed: %s", exc)
            await self._wait_any_for(self.deliver_every, self._stop, self._deliver_now)
    def _crawled_elsewhere(self, source: str) -> str | None:
        """Who holds the source's crawl lock (a ``govarchive crawl`` of it), or None when it
        is free. The lock is only tried here: the run's own child takes it."""
        lock = self.store.crawl_lock(source)
        try:
            if lock.try_acquire():
                return None
        finally:
            lock.release()
        running = self.store.running_runs(source)
        if not running:
            return "another process"
        run = running[0]
        return (f"run {run.id} (pid {run.pid} on {run.node} since "
                f"{run.started_at.isoformat(timespec='seconds')})")

    def _close_dead_runs(self) -> None:
        closed = self.store.close_dead_runs(node=this_node(), is_alive=process_alive)
        if closed:
            log.warning("closed %d run(s) whose process died as failed: %s", len(closed),
                        ", ".join(map(str, closed)))

    def _prune_logs(self) -> None:
        self._last_prune = time.monotonic()
        service = self.settings.service
        deleted = prune_logs(service.log_dir, service.log_retention)
        if deleted:
            log.info("deleted %d run log(s) older than %g days", deleted,
                     service.log_retention / 86400)

    # -- helpers ------------------------------------------------------------------------

    async def _heartbeat(self) -> None:
        beats = 0
        while True:
            self.state.heartbeat = time.monotonic()
            self.state.active_runs = [a.to_json() for a in list(self.runner.active.values())]
            webhook = self.alerter.webhook
            if webhook is not None:
                self.state.webhook_delivered = webhook.delivered
                self.state.webhook_failed = webhook.failed
            if beats % SNAPSHOT_EVERY == 0:
                try:
                    self._snapshot_jobs()
                except Exception as exc:  # noqa: BLE001 - the database may be away for a moment
                    log.warning("cannot read the jobs' next run times: %s", exc)
            if beats and beats % DEAD_RUNS_EVERY == 0 and self.state.role == "leader":
                try:
                    await asyncio.to_thread(self._close_dead_runs)
                except Exception as exc:  # noqa: BLE001 - the database may be away for a moment
                    log.warning("cannot close runs whose process died: %s", exc)
            beats += 1
            await asyncio.sleep(HEARTBEAT)

    @staticmethod
    async def _wait(event: asyncio.Event, timeout: float) -> None:
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass

    @staticmethod
    async def _wait_any(*events: asyncio.Event) -> None:
        await Service._wait_any_for(None, *events)

    @staticmethod
    async def _wait_any_for(timeout: float | None, *events: asyncio.Event) -> None:
        waiters = [asyncio.ensure_future(e.wait()) for e in events]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()


def serve(settings, store, *, reload_settings: Callable[[Path], Any],
          deliver: Callable[[Any], Any] | None = None, dispatch=None,
          worker_command: Callable[[Path], list[str]] | None = None) -> int:
    """Run the service on ``store`` until stopped; the exit code (0 after a graceful stop).

    ``reload_settings(path)`` reads the configuration again on SIGHUP (raising on a bad file
    keeps the running one). ``deliver(settings)``, when given, sends the notifications due
    (every ``DELIVER_EVERY`` seconds and after each run, in a thread). ``dispatch`` (a
    ``scheduler.queue.Dispatcher``) queues due runs for workers instead of running them;
    ``worker_command(path)`` starts a warm crawl worker (``[service] workers = "warm"``)."""
    store.jobstore_engine()  # fails early, saying to run `govarchive init`, if needed
    service = Service(settings, store, reload_settings=reload_settings, deliver=deliver,
                      dispatch=dispatch, worker_command=worker_command)
    return asyncio.run(service.run())


def error_text(exc: BaseException) -> str:
    """``exc`` with the errors that caused it: Procrastinate says only "Database error." and
    keeps what went wrong (a pool timeout, a lost connection) as the cause."""
    parts, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        text = " ".join(str(exc).split())
        parts.append(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)
        exc = exc.__cause__ or exc.__context__
    return "; caused by ".join(parts)
