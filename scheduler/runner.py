"""Each run is a child process: ``govarchive --config PATH -v crawl SOURCE --run-id N``.

Scrapy's reactor cannot be restarted, so a process crawls once. The child records its own run
(``ok``, ``failed``, ``blocked``); the runner overrules that with ``timeout`` when it
had to stop the child, and closes the run as ``failed`` when the child died without recording
it. Stopping is SIGINT first (Scrapy then closes the spider and its WARC files), SIGKILL after
``stop_grace``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from govarchive.processes import die_with_parent

log = logging.getLogger(__name__)

_TAIL_BYTES = 4096


@dataclass
class ActiveRun:
    """A run in progress, as ``/healthz`` shows it."""

    run_id: int
    source: str
    pid: int | None
    log_path: str
    started_at: datetime

    def to_json(self) -> dict:
        return {
            "run_id": self.run_id,
            "source": self.source,
            "pid": self.pid,
            "log": self.log_path,
            "started_at": self.started_at.isoformat(),
        }


@dataclass
class RunOutcome:
    run_id: int
    source: str
    run: dict  # the run row after the run (Store.get_run)
    stopped: str | None  # "timeout" or "shutdown" when the runner stopped the child
    returncode: int | None

    @property
    def status(self) -> str:
        return self.run["status"]


def log_path_for(log_dir: Path, source: str, when: datetime):
    """Run logs go to ``<log_dir>/<YYYY-MM>/<source>-<run id>.log``."""
    folder = log_dir / f"{when:%Y-%m}"
    return lambda run_id: str(folder / f"{source}-{run_id}.log")


def describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return "the crawl process did not start"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"the crawl process was killed by {name} before it recorded the run"
    return f"the crawl process exited with code {returncode} before it recorded the run"


def log_tail(path: str) -> str | None:
    """What a crashing child said last: the last error line near the end of its log (an
    exception's own line, not SQLAlchemy's "Background on this error" footer), else the last
    line."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - _TAIL_BYTES))
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    lines = [line.strip() for line in lines if line.strip()]
    errors = [line for line in lines if _ERROR_LINE.search(line)]
    chosen = errors[-1] if errors else (lines[-1] if lines else None)
    return chosen[:300] if chosen else None


_ERROR_LINE = re.compile(r"^(?:[\w.]+(?:Error|Exception|Interrupt)\b|error:|ERROR\b)")


async def open_scheduled_run(store, settings, source: str,
                             scheduled_for: datetime | None) -> ActiveRun:
    """Record a scheduled run of ``source`` as started by this process, with its log path;
    the crawl that makes it (a child process or a warm worker) is not known yet."""
    started = datetime.now(UTC)
    run_id = await asyncio.to_thread(
        store.start_scheduled_run, source,
        log_path_for(settings.service.log_dir, source, started), scheduled_for, os.getpid(),
    )
    run = await asyncio.to_thread(store.get_run, run_id)
    return ActiveRun(run_id, source, None, run["log_path"], started)


class ChildRunner:
    """Starts runs, awaits them, and tells the service what became of each."""

    def __init__(self, settings, store, *, python: str = sys.executable):
        self.settings = settings
        self.store = store
        self.python = python
        self.active: dict[int, ActiveRun] = {}

    def command(self, source: str, run_id: int) -> list[str]:
        return [
            self.python, "-m", "govarchive", "--config", str(self.settings.config_path), "-v",
            "crawl", source, "--run-id", str(run_id),
        ]  # fmt: skip

    async def run(self, source: str, stopping: asyncio.Event, *,
                  scheduled_for: datetime | None = None) -> RunOutcome:
        active = await open_scheduled_run(self.store, self.settings, source, scheduled_for)
        run_id, log_path = active.run_id, active.log_path
        self.active[run_id] = active
        try:
            returncode, stopped = await self._supervise(active, stopping)
        finally:
            del self.active[run_id]
        run = await asyncio.to_thread(self._record, run_id, returncode, stopped, log_path)
        return RunOutcome(run_id, source, run, stopped, returncode)

    async def _supervise(self, active: ActiveRun, stopping: asyncio.Event):
        service = self.settings.service
        Path(active.log_path).parent.mkdir(parents=True, exist_ok=True)
        command = self.command(active.source, active.run_id)
        # Opening a local file is instant; the child then writes to it directly.
        with open(active.log_path, "ab") as log_file:  # noqa: ASYNC230
            log_file.write(
                f"# govarchive serve: run {active.run_id} of {active.source}, "
                f"started {active.started_at.isoformat()}: {' '.join(command)}\n".encode()
            )
            log_file.flush()
            if stopping.is_set():
                return None, "shutdown"
            try:
                process = await asyncio.create_subprocess_exec(
                    *command,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=asyncio.subprocess.STDOUT,
                    # Its own session: a Ctrl-C at the terminal reaches the service only, and
                    # the service decides how its children stop.
                    start_new_session=True,
                    # SIGTERM (a graceful Scrapy stop) if the service dies, so an orphaned crawl
                    # never races the scheduler that takes over.
                    preexec_fn=lambda: die_with_parent(signal.SIGTERM),
                )
            except OSError as exc:
                log_file.write(f"# cannot start the crawl: {exc}\n".encode())
                log.error("run %s of %s: cannot start the crawl: %s", active.run_id,
                          active.source, exc)
                return None, None
        active.pid = process.pid
        log.info("run %s of %s started (pid %s, log %s)", active.run_id, active.source,
                 process.pid, active.log_path)
        exited = asyncio.ensure_future(process.wait())
        stop_asked = asyncio.ensure_future(stopping.wait())
        try:
            await asyncio.wait(
                {exited, stop_asked}, timeout=service.run_timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
            stopped = None
            if not exited.done():
                stopped = "shutdown" if stopping.is_set() else "timeout"
                await self._stop(process, exited, active, stopped)
            return exited.result(), stopped
        except asyncio.CancelledError:
            if process.returncode is None:
                process.kill()
            raise
        finally:
            stop_asked.cancel()

    async def _stop(self, process, exited: asyncio.Future, active: ActiveRun, why: str) -> None:
        grace = self.settings.service.stop_grace
        log.warning("run %s of %s: stopping the crawl (%s); SIGKILL in %.0f s if it lingers",
                    active.run_id, active.source, why, grace)
        began = time.monotonic()
        process.send_signal(signal.SIGINT)
        await asyncio.wait({exited}, timeout=grace)
        if not exited.done():
            log.error("run %s of %s: the crawl did not stop within %.0f s: SIGKILL",
                      active.run_id, active.source, time.monotonic() - began)
            process.kill()
            await exited

    def _record(self, run_id: int, returncode: int | None, stopped: str | None,
                log_path: str) -> dict:
        return record_outcome(self.store, self.settings, run_id, returncode, stopped, log_path)

    async def aclose(self) -> None:
        """Nothing outlives a run here (each run's process ends with it)."""


def record_outcome(store, settings, run_id: int, returncode: int | None, stopped: str | None,
                   log_path: str, *, exit_text: str | None = None) -> dict:
    """Overrule what a run's crawl recorded: ``timeout`` when the service had to stop it,
    ``failed`` when its process ended (``returncode``, or ``exit_text`` saying so) before
    recording it. Returns the run row."""
    run = store.get_run(run_id)
    exit_text = exit_text or describe_exit(returncode)
    if stopped == "timeout":
        limit = settings.service.run_timeout
        error = f"stopped after {limit:g} s (service.run_timeout)"
        if run["status"] == "running":
            error += f"; {exit_text}"
        store.close_run(run_id, status="timeout", error=error)
    elif run["status"] == "running":
        error = exit_text
        if stopped == "shutdown":
            error = f"stopped by the service shutting down; {error}"
        tail = log_tail(log_path)
        if tail:
            error += f": {tail}"
        store.close_run(run_id, status="failed", error=error, only_running=True)
    else:
        return run  # recorded by its crawl, nothing to overrule
    return store.get_run(run_id)


def prune_logs(log_dir: Path, older_than: float, now: float | None = None) -> int:
    """Delete run logs last written more than ``older_than`` seconds ago, and month folders
    left empty. Returns the number of files deleted."""
    if not log_dir.is_dir():
        return 0
    cutoff = (now or time.time()) - older_than
    deleted = 0
    for month in log_dir.iterdir():
        if not month.is_dir():
            continue
        for path in month.glob("*.log"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    deleted += 1
            except FileNotFoundError:
                continue
        try:
            month.rmdir()  # only succeeds when empty
        except OSError:
            pass
    return deleted
