"""A warm crawl worker: ``python -m govarchive.crawl_worker --config PATH``.

The service (``scheduler.warm_pool``) starts a few of these and hands each one run at a time.
Scrapy, SQLAlchemy and the extractor are imported once; each run is a crawl in the worker's
running reactor (``crawler.warm_crawl``).

Protocol: JSON lines. The service writes to the worker's stdin::

    {"run": 12, "source": "govcn", "log": "data/logs/2026-12/govcn-12.log"}
    {"cancel": 12, "abort_after": 30}
                       stop run 12 gracefully (its spider closes, the run is recorded);
                       downloads still in flight after abort_after seconds are cut
    {"exit": true}     finish, close the parsing and storing workers, exit (so does EOF)

and reads the worker's stdout::

    {"ready": PID}
    {"done": 12, "status": "ok", "error": null, "rss": BYTES, "sound": true}

``sound`` is false after a run that could not store or archive what it fetched: the worker's
storing or parsing process may be what broke, and the service replaces the worker.

While a run crawls, the worker's stderr (and so every log record) goes to the run's log file;
between runs it is the service's. SIGTERM or SIGINT stop the run in progress gracefully and end
the worker.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

import click

ABORT_AFTER = 10.0  # seconds a stopping run's downloads get when the worker is told to end


def _rss() -> int:
    """This process's resident memory in bytes (0 where /proc cannot tell)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class Worker:
    def __init__(self, settings, replies):
        from govarchive.crawler.warm_crawl import WarmCrawls

        self.crawls = WarmCrawls(settings)
        self._config_stamp = _stamp(settings.config_path)
        self.replies = replies
        self.run_id: int | None = None
        self.exiting = False
        self._stderr = os.dup(2)  # the service's, between runs

    def reply(self, message: dict) -> None:
        try:
            self.replies.write(json.dumps(message) + "\n")
            self.replies.flush()
        except OSError:  # the service is gone (its end of the pipe closed): finish and exit
            self.exiting = True

    def handle(self, message: dict | None) -> None:
        """One message from the service (None: stdin closed); in the reactor's thread."""
        if message is None or message.get("exit"):
            self.exit()
        elif "cancel" in message:
            if message["cancel"] == self.run_id:
                self.crawls.cancel(message.get("abort_after"))
        elif "run" in message:
            self.start(message)
        else:
            print(f"crawl worker: unknown message {message!r}", file=sys.stderr, flush=True)

    def start(self, message: dict) -> None:
        from govarchive.crawler.warm_crawl import SourceBusy

        run_id = int(message["run"])
        if self.run_id is not None or self.exiting:
            self.reply({"done": run_id, "status": "refused",
                        "error": "the worker is busy or exiting"})
            return
        self.run_id = run_id
        self._to_log(message["log"])
        self._follow_config()
        crawl = self.crawls.crawl(message["source"], run_id)

        def done(result):
            status, error = result.status, result.error
            return status, error

        def failed(failure):
            error = failure.getErrorMessage()
            if not failure.check(SourceBusy):
                failure.printTraceback(file=sys.stderr)
                error = f"the crawl worker could not crawl the run: {error}"
                try:  # the run is closed here, where the error is known
                    self.crawls.store.close_run(run_id, status="failed", error=error,
                                                only_running=True)
                except Exception as exc:  # noqa: BLE001 - the service closes it then
                    print(f"crawl worker: cannot close run {run_id}: {exc}", file=sys.stderr)
            return "failed", error

        crawl.addCallbacks(done, failed)
        crawl.addCallback(self._finished, run_id)

    def _follow_config(self) -> None:
        """Read the config file again when it changed since the last run, as a crawl process
        of its own would read it: edits to rules and ``[crawl]`` apply from the next run. A
        file with an error keeps the last good one (the service refuses it too); the database
        stays the one the worker started with (the service's needs a restart to change)."""
        from govarchive.settings import load_settings

        settings = self.crawls.settings
        stamp = _stamp(settings.config_path)
        if stamp == self._config_stamp:
            return
        self._config_stamp = stamp
        try:
            fresh = load_settings(settings.config_path)
        except Exception as exc:  # noqa: BLE001 - whatever is wrong, say it and keep going
            print(f"crawl worker: keeping the configuration read earlier: {exc}",
                  file=sys.stderr, flush=True)
            return
        if fresh.storage.url != settings.storage.url:
            print("crawl worker: a new storage url applies after a restart of the service",
                  file=sys.stderr, flush=True)
            fresh = fresh.model_copy(update={"storage": settings.storage})
        self.crawls.settings = fresh

    def _finished(self, outcome, run_id: int) -> None:
        status, error = outcome
        try:
            self._to_service()
        finally:
            self.run_id = None
            self.reply({"done": run_id, "status": status, "error": error, "rss": _rss(),
                        "sound": self.crawls.sound})
            if self.exiting:
                self._stop_reactor()

    def _to_log(self, path: str) -> None:
        sys.stderr.flush()
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(fd, 2)
        os.close(fd)

    def _to_service(self) -> None:
        sys.stderr.flush()
        os.dup2(self._stderr, 2)

    def exit(self) -> None:
        if self.exiting:
            return
        self.exiting = True
        if self.run_id is not None:
            # _finished stops the reactor once the run is recorded.
            self.crawls.cancel(abort_after=ABORT_AFTER)
        else:
            self._stop_reactor()

    @staticmethod
    def _stop_reactor() -> None:
        from twisted.internet import reactor

        if reactor.running:
            reactor.stop()


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _read_requests(worker: Worker) -> None:
    """Hand each line of stdin to the reactor's thread; EOF (the service gone) ends the
    worker."""
    from twisted.internet import reactor

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            message = json.loads(line)
        except ValueError:
            message = {"bad": line}
        reactor.callFromThread(worker.handle, message)
    reactor.callFromThread(worker.handle, None)


@click.command()
@click.option("--config", "config_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="The configuration file the service runs with.")
def main(config_path: Path) -> None:
    """A warm crawl worker of `govarchive serve` (started by the service, not by hand)."""
    # Replies go to the real stdout; anything else printing to fd 1 lands on stderr instead.
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    from scrapy.settings import Settings
    from scrapy.utils.log import configure_logging
    from scrapy.utils.reactor import install_reactor

    from govarchive.crawler.run import scrapy_settings
    from govarchive.crawler.warm_crawl import reactor_name
    from govarchive.settings import load_settings

    settings = load_settings(config_path)
    install_reactor(reactor_name(settings))
    from twisted.internet import reactor

    configure_logging(Settings(scrapy_settings(settings, verbose=True)))
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its schema check, every start
    worker = Worker(settings, replies)
    worker.crawls.warm_up()

    def on_signal(signum, _frame):
        reactor.callFromThread(worker.exit)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    threading.Thread(target=_read_requests, args=(worker,), name="requests",
                     daemon=True).start()
    reactor.callWhenRunning(worker.reply, {"ready": os.getpid()})
    try:
        reactor.run(installSignalHandlers=False)
    finally:
        worker.crawls.close()


if __name__ == "__main__":
    main()
