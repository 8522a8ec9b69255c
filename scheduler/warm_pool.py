"""Warm crawl workers (``[service] workers = "warm"``): long-lived processes, each crawling one
run at a time in its running reactor, so a run does not pay for starting Python, Scrapy,
SQLAlchemy and the extractor again.

The pool has the :class:`~govarchive.scheduler.runner.ChildRunner`'s interface (``run``,
``active``, ``settings``, ``aclose``) and keeps what a child per run gives: a per-run log file
(the worker's stderr goes to it during the run), a per-run timeout (a ``cancel`` message, the
graceful stop; a worker that has not answered ``stop_grace`` later is killed and replaced),
bounded memory (a worker is replaced after ``worker_max_runs`` runs or past ``worker_max_rss``
bytes), and a run whose worker died (EOF on its pipe) is closed as failed, saying how it died.
Workers die with the service (``die_with_parent``) and end at EOF on their stdin.

A worker reads the config file again before a run when it has changed (as a crawl process
started for the run would), so a reload needs no new workers. What a worker runs comes from the
wiring (``command(config_path)``): this package imports
nothing of ours. The protocol is in ``govarchive.crawl_worker``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from govarchive.processes import die_with_parent
from govarchive.scheduler.runner import (
    ActiveRun,
    RunOutcome,
    open_scheduled_run,
    record_outcome,
)

log = logging.getLogger(__name__)

READY_TIMEOUT = 120.0  # a worker importing Scrapy on a loaded machine takes a few seconds


class WorkerGone(Exception):
    """The worker's pipe closed: it exited or was killed."""


class WarmWorker:
    """One worker process and the messages it sends."""

    def __init__(self, process: asyncio.subprocess.Process):
        self.process = process
        self.runs = 0
        self.rss = 0
        self.sound = True
        self.messages: asyncio.Queue[dict | None] = asyncio.Queue()
        self._reader = asyncio.ensure_future(self._read())

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.returncode is None and not self._reader.done()

    async def _read(self) -> None:
        try:
            while line := await self.process.stdout.readline():
                try:
                    await self.messages.put(json.loads(line))
                except ValueError:
                    log.warning("crawl worker %s said %r", self.pid, line[:200])
        finally:
            await self.messages.put(None)

    async def next_message(self) -> dict:
        message = await self.messages.get()
        if message is None:
            self.messages.put_nowait(None)  # every later wait sees the EOF too
            raise WorkerGone()
        return message

    def send(self, message: dict) -> bool:
        """False when the worker's stdin is closed (it is gone)."""
        try:
            self.process.stdin.write((json.dumps(message) + "\n").encode())
        except (BrokenPipeError, ConnectionResetError, RuntimeError):
            return False
        return True

    def process_rss(self) -> int:
        """The worker's resident memory now (its own process; its parsing and storing
        workers are bounded by theirs)."""
        try:
            with open(f"/proc/{self.pid}/statm", encoding="ascii") as statm:
                return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return self.rss

    async def exit_code(self) -> int | None:
        return await self.process.wait()

    async def stop(self, grace: float) -> None:
        """Ask it to exit (EOF on stdin, as ``{"exit": true}``); SIGKILL after ``grace``."""
        with contextlib.suppress(Exception):
            self.send({"exit": True})
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), grace)
        except TimeoutError:
            log.error("crawl worker %s did not exit within %g s: SIGKILL", self.pid, grace)
            self.kill()
            await self.process.wait()
        await asyncio.wait({self._reader}, timeout=5)

    def kill(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()


class WarmPool:
    """Hands runs to warm workers (one run per worker at a time); as many workers as runs at
    once, which the service bounds with ``max_concurrent_runs``."""

    def __init__(self, settings, store, *, command: Callable[[Path], list[str]],
                 parent_death_signal: int = signal.SIGTERM):
        self.settings = settings
        self.store = store
        self.command = command
        # What a worker gets when this process dies: SIGTERM stops its run gracefully (the
        # service's workers); a queue worker's are SIGKILLed, for another machine is about to
        # make their run again and must not find it still crawling the host.
        self.parent_death_signal = parent_death_signal
        self.active: dict[int, ActiveRun] = {}
        self._idle: list[WarmWorker] = []
        self._retiring: set[asyncio.Task] = set()
        self.started_workers = 0

    # -- runs ---------------------------------------------------------------------------

    async def run(self, source: str, stopping: asyncio.Event, *,
                  scheduled_for: datetime | None = None) -> RunOutcome:
        active = await open_scheduled_run(self.store, self.settings, source, scheduled_for)
        run_id = active.run_id
        try:
            returncode, stopped, exit_text = await self._supervise(active, stopping)
        finally:
            self.active.pop(run_id, None)
        run = await asyncio.to_thread(record_outcome, self.store, self.settings, run_id,
                                      returncode, stopped, active.log_path, exit_text=exit_text)
        return RunOutcome(run_id, source, run, stopped, returncode)

    async def _supervise(self, active: ActiveRun, stopping: asyncio.Event):
        """(returncode of a worker that died, how the service stopped the run, what to say
        of a worker that never took it)."""
        Path(active.log_path).parent.mkdir(parents=True, exist_ok=True)
        with open(active.log_path, "ab") as log_file:  # noqa: ASYNC230 - a local file
            log_file.write(f"# govarchive serve: run {active.run_id} of {active.source}, "
                           f"started {active.started_at.isoformat()} in a warm crawl "
                           "worker\n".encode())
        if stopping.is_set():
            return None, "shutdown", None
        try:
            worker = await self._take()
        except (OSError, WorkerGone, TimeoutError) as exc:
            why = f"the crawl worker did not start: {exc or type(exc).__name__}"
            log.error("run %s of %s: %s", active.run_id, active.source, why)
            return None, None, why
        active.pid = worker.pid
        # Shown (/healthz) from here on: with the process that crawls it.
        self.active[active.run_id] = active
        if not worker.send({"run": active.run_id, "source": active.source,
                            "log": active.log_path}):
            return await self._lost(worker), None, None
        log.info("run %s of %s started (worker pid %s, run %d of it, log %s)", active.run_id,
                 active.source, worker.pid, worker.runs + 1, active.log_path)
        done = asyncio.ensure_future(self._done(worker, active.run_id))
        stop_asked = asyncio.ensure_future(stopping.wait())
        stopped = None
        try:
            await asyncio.wait({done, stop_asked}, timeout=self.settings.service.run_timeout,
                               return_when=asyncio.FIRST_COMPLETED)
            if not done.done():
                stopped = "shutdown" if stopping.is_set() else "timeout"
                await self._stop(worker, done, active, stopped)
        except asyncio.CancelledError:
            worker.kill()
            raise
        finally:
            stop_asked.cancel()
        if done.exception() is not None:  # WorkerGone
            return await self._lost(worker), stopped, None
        worker.runs += 1
        worker.rss = done.result().get("rss") or worker.process_rss()
        worker.sound = done.result().get("sound", True)
        self._give_back(worker)
        return None, stopped, None

    async def _done(self, worker: WarmWorker, run_id: int) -> dict:
        while True:
            message = await worker.next_message()
            if message.get("done") == run_id:
                return message

    async def _stop(self, worker: WarmWorker, done: asyncio.Future, active: ActiveRun,
                    why: str) -> None:
        grace = self.settings.service.stop_grace
        log.warning("run %s of %s: stopping the crawl (%s); the worker is killed in %.0f s if "
                    "it lingers", active.run_id, active.source, why, grace)
        # Downloads still waiting on a server after half the grace are cut, so that the run
        # ends, recorded, before the worker would have to be killed.
        worker.send({"cancel": active.run_id, "abort_after": grace / 2})
        await asyncio.wait({done}, timeout=grace)
        if not done.done():
            log.error("run %s of %s: the crawl did not stop within %.0f s: SIGKILL to its "
                      "worker (pid %s), which is replaced", active.run_id, active.source, grace,
                      worker.pid)
            worker.kill()
            await asyncio.wait({done})

    async def _lost(self, worker: WarmWorker) -> int | None:
        # Its pipe closed: it is exiting or gone. Killing it at once would reap a process that
        # has just died before asyncio does (Popen.send_signal polls first), and its exit
        # status, which the run's error reports, would be lost.
        try:
            code = await asyncio.wait_for(worker.exit_code(), 5)
        except TimeoutError:
            worker.kill()  # a worker that closed its pipe but lingers is no use
            code = await worker.exit_code()
        log.warning("crawl worker %s ended (%s); a new one takes the next run", worker.pid,
                    _exit_words(code))
        return code

    # -- workers ------------------------------------------------------------------------

    async def _take(self) -> WarmWorker:
        while self._idle:
            worker = self._idle.pop()
            if worker.alive:
                return worker
            self._retire(worker, "it ended while idle")
        return await self._start()

    async def _start(self) -> WarmWorker:
        command = self.command(self.settings.config_path)
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            # Its own session: a Ctrl-C at the terminal reaches the service only. SIGTERM (a
            # graceful stop) if the service dies, so no worker outlives it.
            start_new_session=True,
            preexec_fn=lambda: die_with_parent(self.parent_death_signal),
        )
        worker = WarmWorker(process)
        try:
            message = await asyncio.wait_for(worker.next_message(), READY_TIMEOUT)
        except (WorkerGone, TimeoutError):
            try:  # it may be on its way out, saying why on its stderr
                code = await asyncio.wait_for(worker.exit_code(), 5)
            except TimeoutError:
                worker.kill()
                code = await worker.exit_code()
            raise WorkerGone(_exit_words(code)) from None
        if "ready" not in message:
            worker.kill()
            await worker.exit_code()
            raise WorkerGone(f"it said {message!r} instead of being ready")
        self.started_workers += 1
        log.info("crawl worker %s started", worker.pid)
        return worker

    def _give_back(self, worker: WarmWorker) -> None:
        service = self.settings.service
        if not worker.sound:
            self._retire(worker, "its last run could not store or archive what it fetched "
                                 "(its storing or parsing process may be broken)")
        elif worker.runs >= service.worker_max_runs:
            self._retire(worker, f"{worker.runs} runs (service.worker_max_runs)")
        elif worker.rss > service.worker_max_rss:
            self._retire(worker, f"{worker.rss >> 20} MB resident, past "
                                 f"{service.worker_max_rss >> 20} MB (service.worker_max_rss)")
        else:
            self._idle.append(worker)

    def _retire(self, worker: WarmWorker, why: str) -> None:
        log.info("crawl worker %s retires: %s", worker.pid, why)
        task = asyncio.ensure_future(worker.stop(self.settings.service.stop_grace))
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    def kill_busy(self) -> None:
        """SIGKILL the workers crawling a run now: a fenced queue worker's runs must stop at
        once, before another machine makes them again (a graceful stop would still send
        requests). Their runs are closed as the workers' deaths are noticed."""
        for active in list(self.active.values()):
            if active.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(active.pid, signal.SIGKILL)

    async def aclose(self) -> None:
        """Stop the idle workers (the service is stopping; every run has ended)."""
        while self._idle:
            self._retire(self._idle.pop(), "the service stops")
        if self._retiring:
            await asyncio.wait(set(self._retiring))


def _exit_words(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"
