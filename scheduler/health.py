"""``/healthz`` and ``/metrics`` on a loopback port, served from a thread.

The thread reads a :class:`ServiceState` the event loop keeps up to date, and the database
(through ``storage.Store``) when Prometheus scrapes. ``/healthz`` answers 503 when the event
loop has stopped beating, so a hung scheduler is noticed, not only a dead one.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

STALL_AFTER = 30.0  # seconds without a heartbeat before /healthz reports the loop stalled
METRICS_CACHE = 10.0  # seconds a database reading serves scrapes


@dataclass
class ServiceState:
    """What the service is doing, written by the event loop, read by the health thread."""

    role: str = "starting"  # starting | standby | leader | stopping
    lock: str = ""
    heartbeat: float = field(default_factory=time.monotonic)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    next_runs: dict[str, datetime | None] = field(default_factory=dict)
    active_runs: list[dict] = field(default_factory=list)
    alerts_sent: int = 0
    webhook_delivered: int = 0
    webhook_failed: int = 0

    def health(self) -> tuple[int, dict]:
        age = time.monotonic() - self.heartbeat
        stalled = age > STALL_AFTER
        body = {
            "status": "stalled" if stalled else "ok",
            "role": self.role,
            "lock": self.lock,
            "heartbeat_age": round(age, 3),
            "started_at": self.started_at.isoformat(),
            "next_runs": {k: v.isoformat() if v else None for k, v in self.next_runs.items()},
            "running": list(self.active_runs),
        }
        return (503 if stalled else 200), body


class ServiceCollector(Collector):
    """Prometheus families from the database (cached briefly) and the service state."""

    def __init__(self, state: ServiceState, store, archive_dir: Path):
        self.state, self.store, self.archive_dir = state, store, archive_dir
        self.archive_bytes = FolderBytes(archive_dir)
        self._cached: tuple[float, dict] | None = None
        self._lock = threading.Lock()

    def _figures(self) -> dict:
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] > METRICS_CACHE:
                self._cached = (time.monotonic(), self.store.service_metrics())
            return self._cached[1]

    def collect(self):
        state = self.state
        yield GaugeMetricFamily(
            "govarchive_scheduler_leader",
            "1 when this process holds the scheduler lock and schedules runs",
            value=1 if state.role == "leader" else 0,
        )
        yield GaugeMetricFamily(
            "govarchive_runs_in_progress", "crawls running now", value=len(state.active_runs)
        )
        next_run = GaugeMetricFamily(
            "govarchive_next_run_timestamp_seconds",
            "when each source's next run is due",
            labels=["source"],
        )
        for source, when in sorted(state.next_runs.items()):
            if when is not None:
                next_run.add_metric([source], when.timestamp())
        yield next_run
        yield CounterMetricFamily(
            "govarchive_alerts", "alerts raised by this process", value=state.alerts_sent
        )
        webhook = CounterMetricFamily(
            "govarchive_webhook_deliveries", "webhook POSTs by outcome", labels=["outcome"]
        )
        webhook.add_metric(["delivered"], state.webhook_delivered)
        webhook.add_metric(["failed"], state.webhook_failed)
        yield webhook
        yield GaugeMetricFamily(
            "govarchive_archive_bytes",
            "bytes of WARC files in the collection's archive folder (counted at most every "
            "5 minutes)",
            value=self.archive_bytes.value(),
        )
        yield from self._database_families()

    def _database_families(self):
        try:
            figures = self._figures()
        except Exception as exc:  # noqa: BLE001 - a scrape answers while the database is away
            log.warning("metrics: cannot read the database: %s", exc)
            yield GaugeMetricFamily("govarchive_database_up", "the database answered", value=0)
            return
        yield GaugeMetricFamily("govarchive_database_up", "the database answered", value=1)
        runs = CounterMetricFamily(
            "govarchive_runs", "runs by source and status", labels=["source", "status"]
        )
        for (source, status), count in sorted(figures["runs"].items()):
            runs.add_metric([source, status], count)
        yield runs
        archived = CounterMetricFamily(
            "govarchive_run_archived_bytes", "WARC bytes written by runs", labels=["source"]
        )
        for source, count in sorted(figures["bytes_archived"].items()):
            archived.add_metric([source], count)
        yield archived
        success = GaugeMetricFamily(
            "govarchive_last_success_timestamp_seconds",
            "end of each source's latest ok or empty run",
            labels=["source"],
        )
        for source, when in sorted(figures["last_success"].items()):
            success.add_metric([source], when.timestamp())
        yield success
        articles = GaugeMetricFamily(
            "govarchive_articles", "articles by source and status", labels=["source", "status"]
        )
        for (source, status), count in sorted(figures["articles"].items()):
            articles.add_metric([source, status], count)
        yield articles
        versions = GaugeMetricFamily(
            "govarchive_article_versions", "article versions by source", labels=["source"]
        )
        for source, count in sorted(figures["versions"].items()):
            versions.add_metric([source], count)
        yield versions


class FolderBytes:
    """The bytes of the files in a folder, as last counted. Counting looks at every file, and
    an archive folder gains a file per run: a scrape gets the last count, and a count older
    than ``max_age`` seconds is made again in a thread of its own (only the first scrape waits
    for one)."""

    def __init__(self, folder: Path, max_age: float = 300.0, clock=time.monotonic):
        self.folder, self.max_age, self._clock = folder, max_age, clock
        self._lock = threading.Lock()
        self._bytes: int | None = None
        self._counted_at: float | None = None
        self._counting = False

    def value(self) -> int:
        with self._lock:
            stale = self._counted_at is None or self._clock() - self._counted_at > self.max_age
            start = stale and not self._counting
            if start:
                self._counting = True
            first = self._bytes is None
        if start and first:
            self._count()
        elif start:
            threading.Thread(target=self._count, name="archive-bytes", daemon=True).start()
        return self._bytes or 0

    def _count(self) -> None:
        started = self._clock()
        total = self._bytes or 0  # kept when the folder cannot be read
        try:
            total = _folder_bytes(self.folder)
        except OSError as exc:
            log.warning("cannot count the bytes in %s: %s", self.folder, exc)
        finally:
            with self._lock:
                self._bytes, self._counted_at, self._counting = total, started, False


def _folder_bytes(folder: Path) -> int:
    total = 0
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                try:
                    total += entry.stat().st_size
                except FileNotFoundError:
                    continue  # renamed from .open meanwhile
    except FileNotFoundError:
        return 0
    return total


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        log.debug("health: " + format, *args)


class HealthServer:
    def __init__(self, state: ServiceState, store, archive_dir: Path):
        self.state = state
        registry = CollectorRegistry(auto_describe=False)
        registry.register(ServiceCollector(state, store, archive_dir))
        self._metrics = make_wsgi_app(registry)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def app(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return self._metrics(environ, start_response)
        if path == "/healthz":
            status, body = self.state.health()
            data = json.dumps(body).encode()
            reason = "200 OK" if status == 200 else "503 Service Unavailable"
            start_response(reason, [("Content-Type", "application/json")])
            return [data]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found: try /healthz or /metrics\n"]

    def start(self, host: str, port: int) -> int:
        """Listen (port 0 picks a free one) and return the port."""
        self._server = make_server(
            host, port, self.app, server_class=_Server, handler_class=_QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
            name="govarchive-health", daemon=True,
        )
        self._thread.start()
        return self._server.server_address[1]

    @property
    def running(self) -> bool:
        return self._server is not None

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None
