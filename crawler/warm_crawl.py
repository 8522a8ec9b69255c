"""Runs of one source after another in a reactor that keeps running: a warm crawl worker's
crawls (``govarchive.crawl_worker``).

``run_crawl`` starts a reactor, crawls, and ends with the process. Here the reactor is already
running; each run is a ``CrawlerRunner`` crawl. The extraction pool and the ingest worker (each
a process with the crawler imported) stay up between runs: :class:`WarmCrawls` holds one use
of each for its life. The WARC writer is the run's own, closed (flushed, fsynced, renamed
from ``.open``) when the run ends, as in a crawl process, so a worker killed between runs
leaves nothing open.
"""

from __future__ import annotations

import logging

from scrapy.crawler import CrawlerRunner
from scrapy.settings import Settings
from scrapy.utils.conf import build_component_list
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.misc import build_from_crawler, load_object
from twisted.internet import defer

from govarchive.crawler.crawl_resources import CrawlResources
from govarchive.crawler.run import (
    Heartbeat,
    SourceResult,
    crawl_resources,
    quiet_loggers,
    record_result,
    scrapy_settings,
    spider_arguments,
    spider_class,
    this_process,
)
from govarchive.processes import process_alive, this_node
from govarchive.storage import Store

logger = logging.getLogger(__name__)


class SourceBusy(Exception):
    """Another process holds the source's crawl lock."""


class WarmCrawls:
    """Crawls one run at a time in the running reactor, with the parsing and storing workers
    kept between runs. ``settings`` are govarchive's; the worker may replace them between
    runs. ``sound`` turns False after a run that could not store or archive: the parts kept
    between runs may be what broke (a storing process that died stays broken), so the worker
    should be replaced."""

    def __init__(self, settings, *, verbose: bool = True):
        self.settings = settings
        self.verbose = verbose
        self.store = Store(settings.storage.url)
        shared = crawl_resources(scrapy_settings(settings, verbose=verbose))
        self._ingest, self._extraction = shared.ingest, shared.extraction
        # The worker's own use: the last crawler of a run letting go does not close them.
        self._storing = self._ingest.acquire()
        self._extraction.acquire()
        self.crawler = None  # the run in progress
        self._runner_settings = None  # the settings self._runner was made with
        self._base: dict = {}
        self._runner: CrawlerRunner | None = None
        self.runs = 0
        self.sound = True
        # One heartbeat thread for the worker's life, beating for the run in progress.
        self._heartbeat = Heartbeat(self.store, [])

    def warm_up(self) -> None:
        """Import now what a first crawl would import on its way (Scrapy loads its
        components by name when a crawler starts), and let the store check its schema, so
        that the first run is as quick as the others."""
        settings = Settings(scrapy_settings(self.settings, verbose=self.verbose))
        for name in ("DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES", "EXTENSIONS",
                     "ITEM_PIPELINES", "ADDONS"):
            for path in build_component_list(settings.getwithbase(name)):
                if isinstance(path, str):
                    load_object(path)
        load_object(settings.getwithbase("DOWNLOAD_HANDLERS")["http"])
        for name in ("SCHEDULER", "DUPEFILTER_CLASS", "STATS_CLASS", "LOG_FORMATTER",
                     "REQUEST_FINGERPRINTER_CLASS", "SCHEDULER_PRIORITY_QUEUE",
                     "SCHEDULER_MEMORY_QUEUE", "SCHEDULER_DISK_QUEUE", "ROBOTSTXT_PARSER",
                     "SPIDER_LOADER_CLASS"):
            if isinstance(settings.get(name), str):
                load_object(settings[name])
        self.store.running_runs()

    def runner(self) -> CrawlerRunner:
        """The worker's crawler runner, made again only when the settings change: making
        one copies Scrapy's settings twice over (a tenth of an unchanged check's CPU)."""
        if self._runner_settings is not self.settings:
            self._base = scrapy_settings(self.settings, verbose=self.verbose)
            self._runner = CrawlerRunner(self._base)
            install_resolver(self._runner)
            self._runner_settings = self.settings
        return self._runner

    def run_settings(self, source_name: str) -> dict:
        """What is the run's own: its WARC writer (named after the source) with the worker's
        parsing and storing parts. They ride on the spider class (its custom settings)."""
        base = {**self._base,
                "GOVARCHIVE_WARC_PREFIX": f"{self.settings.archive.collection}-{source_name}"}
        own = crawl_resources(base)  # its WARC writer is the run's
        return {"GOVARCHIVE_WARC_PREFIX": base["GOVARCHIVE_WARC_PREFIX"],
                "GOVARCHIVE_CRAWL_RESOURCES": CrawlResources(
                    warc=own.warc, ingest=self._ingest, extraction=self._extraction)}

    @defer.inlineCallbacks
    def crawl(self, source_name: str, run_id: int):
        """Crawl run ``run_id`` (made beforehand, by the service) of ``source_name``; fires
        with its :class:`SourceResult` once the run is recorded. Raises :class:`SourceBusy`
        (the run closed as failed) when another process crawls the source."""
        if self.crawler is not None:
            raise RuntimeError("a warm worker crawls one run at a time")
        source = self.settings.source(source_name)
        store = self.store
        lock = store.crawl_lock(source_name)
        if not lock.try_acquire():
            error = "another process crawls this source (its crawl lock is held)"
            store.finish_run(run_id, status="failed", counts={}, error=error)
            raise SourceBusy(error)
        heartbeat = self._heartbeat
        watched = False
        runner = self.runner()
        own = self.run_settings(source_name)
        resources = own["GOVARCHIVE_CRAWL_RESOURCES"]
        try:
            closed = store.close_dead_runs(node=this_node(), is_alive=process_alive,
                                           source=source_name)
            if closed:
                logger.warning("closed run(s) %s of %s as failed: process died",
                               ", ".join(map(str, closed)), source_name)
            store.claim_run(run_id, this_process())
            if not self.verbose:
                quiet_loggers()
            spidercls = spider_class(source, run_id)
            spidercls.custom_settings = {**spidercls.custom_settings, **own}
            crawler = runner.create_crawler(spidercls)
            arguments = spider_arguments(self.settings, store, source)
            self.crawler = crawler
            heartbeat.watch(run_id)
            watched = True
            if not heartbeat.started:
                heartbeat.start()
            try:
                yield runner.crawl(crawler, **arguments)
            except Exception:  # the run records its own failure below
                logger.exception("the crawl of %s failed", source_name)
            heartbeat.unwatch(run_id)
            watched = False
            # What a crawler that never started (or never closed) left open.
            resources.warc.close()
            result: SourceResult = record_result(store, crawler, {source_name: run_id})
            self.runs += 1
            if result.stats.get("govarchive/store_errors") or result.stats.get(
                    "govarchive/archive_error"):
                self.sound = False
            if not self._storing.usable():
                self.sound = False
                result.status = "failed"
                result.error = (
                    "storing failed: the storing process died during the run, so what it "
                    "archived may be missing from the database; `govarchive replay reparse "
                    f"--source {source_name}` stores it from the WARC files")
                store.close_run(run_id, status="failed", error=result.error)
            return result
        finally:
            self.crawler = None
            if watched:
                heartbeat.unwatch(run_id)
            resources.warc.close()
            lock.release()

    def cancel(self, abort_after: float | None = None) -> bool:
        """Stop the run in progress gracefully (its spider closes, its batches are stored,
        its WARC file closed); False when there is none. A spider closes only once its
        downloads in flight have ended; ``abort_after`` seconds later, those still waiting
        on a server are cut (their connections aborted), so a hung server cannot keep the
        run, and the worker, past its timeout."""
        crawler = self.crawler
        if crawler is None:
            return False
        logger.warning("stopping the crawl of %s (asked by the service)", crawler.spidercls.name)
        engine = crawler.engine
        if engine is not None and engine.spider is not None:
            # As a spider closing itself (CloseSpider) does: the engine stops once it has.
            closing = deferred_from_coro(engine.close_spider_async(reason="shutdown"))
            closing.addErrback(lambda failure: logger.error("closing the spider failed: %s",
                                                            failure.value))
        if abort_after is not None:
            from twisted.internet import reactor

            reactor.callLater(abort_after, self._abort_downloads, crawler)
        return True

    def _abort_downloads(self, crawler) -> None:
        if self.crawler is not crawler:
            return  # that run has ended
        from twisted.internet import reactor, tcp

        # One run at a time: every HTTP connection of this process is the run's.
        connections = {c for c in reactor.getReaders() + reactor.getWriters()
                       if isinstance(c, tcp.Client)}
        if connections:
            logger.warning("stopping the crawl of %s: cutting %d connection(s) still waiting "
                           "on a server", crawler.spidercls.name, len(connections))
        for connection in connections:
            connection.abortConnection()
        # Twisted's connection pool tries a GET cut on a reused connection once more, on a
        # new one: cut again until the spider has closed.
        reactor.callLater(1.0, self._abort_downloads, crawler)

    def close(self) -> None:
        """Stop the parsing and storing workers (the end of the worker)."""
        self._heartbeat.stop()
        for part in (self._extraction, self._ingest):
            try:
                part.close()
            except Exception:  # the run records its own failure below
                logger.exception("closing the shared %s failed", part.what)
        self.store.close()


def install_resolver(runner: CrawlerRunner) -> None:
    """Connect through the resolver the settings name (the private-address guard), as
    ``CrawlerProcess.start`` does; per run, so it follows the run's settings."""
    from twisted.internet import reactor

    resolver_class = load_object(runner.settings["TWISTED_DNS_RESOLVER"])
    resolver = build_from_crawler(resolver_class, runner, reactor=reactor)
    resolver.install_on_reactor()


def reactor_name(settings) -> str:
    """The reactor the crawls need (``TWISTED_REACTOR``), to install before anything imports
    ``twisted.internet.reactor``."""
    return Settings(scrapy_settings(settings))["TWISTED_REACTOR"]
