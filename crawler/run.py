"""One crawl run in the foreground: Scrapy settings from govarchive's, one crawler per source.

Scrapy's reactor cannot be restarted, so :func:`run_crawl` can run once per process; the service
(``scheduler``) therefore starts each run as a child process (``govarchive crawl``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from twisted.python.failure import Failure

from govarchive.crawler.archiving import ArchiveFiles, open_archive_files
from govarchive.crawler.crawl_resources import CrawlResources, SharedPart
from govarchive.crawler.extraction_pool import ExtractionWorkers
from govarchive.crawler.ingest_worker import IngestWorker
from govarchive.crawler.lazy import LazyMapping, LazySet
from govarchive.crawler.progress import CrawlCounts, crawl_counts, plural
from govarchive.crawler.spider import MAX_LIST_LINKS, SectionSpider
from govarchive.crawler.walk import SectionWalks, plan_walk
from govarchive.politeness_groups import GroupTurns
from govarchive.processes import process_started_at, this_node
from govarchive.storage import HEARTBEAT_INTERVAL, RunOwner, Store

logger = logging.getLogger(__name__)

ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# No government page is this large; a larger answer is a trap or a misconfigured server.
MAX_PAGE_SIZE = 16 << 20
# The start of a run's error when a section's list pages gave no article link (the
# scheduler's alerts count such runs: scheduler.alerts.NO_LINKS, the same words).
NO_LINKS = "no article links found on"


def spare_cores() -> int:
    """Worker processes for parsing: one core stays with Scrapy's own loop."""
    return min(2, max(0, (os.cpu_count() or 1) - 1))


def scrapy_settings(settings, *, verbose: bool = False) -> dict:
    """The Scrapy settings every govarchive crawl shares."""
    crawl = settings.crawl
    return {
        "BOT_NAME": "govarchive",
        "USER_AGENT": crawl.user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "DOWNLOAD_DELAY": crawl.delay,
        "DOWNLOAD_DELAY_JITTER": 0.5 if crawl.delay > 0 else 0,
        "CONCURRENT_REQUESTS": crawl.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrency_per_host,
        # Scrapy starts this many tasks for every callback's output; a list page yields a few
        # dozen requests and an article one item, so the default of 100 is pure overhead.
        "CONCURRENT_ITEMS": 16,
        # Scrapy checks each generator callback for "return value" by reading its source and
        # parsing it with ast; its cache is keyed weakly by the bound method, which is new on
        # every request, so every list page paid for a parse of parse_list. Ours return none.
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(crawl.delay, 0.5),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(crawl.concurrency_per_host),
        "DOWNLOAD_TIMEOUT": crawl.timeout,
        "RETRY_TIMES": crawl.retries,
        # Replay tools decode gzip and deflate only: never ask for br or zstd.
        "DEFAULT_REQUEST_HEADERS": {
            "Accept": ACCEPT,
            "Accept-Language": "zh-CN,zh;q=0.9,zh-TW;q=0.8,en;q=0.5",
            "Accept-Encoding": "gzip, deflate",
        },
        # A section page can be large, but an unbounded download is a hostile page's weapon.
        # A page cut at the cap is not archived (status too_large, see crawler.page_status);
        # attachments have their own cap (max_attachment_size) in their request's meta.
        "DOWNLOAD_MAXSIZE": MAX_PAGE_SIZE,
        "DOWNLOAD_WARNSIZE": MAX_PAGE_SIZE // 4,
        # Real sites redirect two or three times; longer chains are refused as
        # too_many_redirects, and loops as redirect_loop, by crawler.page_guards.RedirectGuard.
        "REDIRECT_MAX_TIMES": 10,
        "GOVARCHIVE_MAX_LIST_LINKS": MAX_LIST_LINKS,
        # Anti-bot answers reach the spider's errback, which records them as blocked.
        "HTTPERROR_ALLOWED_CODES": [],
        # Connections resolve through a resolver that refuses private answers (SSRF guard).
        "TWISTED_DNS_RESOLVER": "govarchive.crawler.addresses.PrivateAddressResolver",
        "TELNETCONSOLE_ENABLED": False,
        # Scrapy 2.19's remote-control HTTP endpoint: nobody drives a govarchive crawl from
        # outside (the service stops one by signal), and an open port is one to defend.
        "REMOTE_CONTROL_ENABLED": False,
        "LOGSTATS_INTERVAL": 0,
        "LOG_LEVEL": "INFO" if verbose else "WARNING",
        "LOG_INSTALL_ROOT_HANDLER": True,
        "LOG_FORMAT": "%(asctime)s %(levelname)s %(name)s: %(message)s",
        "EXTENSIONS": {
            "govarchive.crawler.archiving.WarcArchiver": 100,
            "govarchive.crawler.progress.ProgressLine": 900,
        },
        "DOWNLOADER_MIDDLEWARES": {
            "govarchive.crawler.middlewares.PrivateAddressGuard": 40,
            "govarchive.crawler.middlewares.ChallengeGuard": 650,
            # Downloader side of RedirectMiddleware (600) and HttpCompressionMiddleware (590).
            "govarchive.crawler.page_guards.RedirectGuard": 620,
            "govarchive.crawler.page_guards.GzipGuard": 595,
        },
        "ITEM_PIPELINES": {"govarchive.crawler.pipelines.StorePipeline": 500},
        "GOVARCHIVE_STORAGE_URL": settings.storage.url,
        "GOVARCHIVE_ARCHIVE_DIR": str(settings.archive.archive_path),
        "GOVARCHIVE_WARC_MAX_FILE_SIZE": settings.archive.max_file_size,
        "GOVARCHIVE_WARC_OPERATOR": crawl.user_agent,
        # WARC file names carry the node: machines may share the archive folder.
        "GOVARCHIVE_WARC_NODE": this_node(),
        "GOVARCHIVE_ALLOW_PRIVATE_ADDRESSES": crawl.allow_private_addresses,
        "GOVARCHIVE_PROGRESS_INTERVAL": 2.0,
        # Parsing and storing run in worker processes when there is a core to spare for them.
        "GOVARCHIVE_EXTRACT_WORKERS": spare_cores(),
        "GOVARCHIVE_STORE_IN_SEPARATE_PROCESS": spare_cores() > 0,
    }


def crawl_resources(base: dict) -> CrawlResources:
    """The WARC writer, ingest worker and extraction pool every crawler of this process
    shares, as the Scrapy settings ``base`` (with the WARC prefix) describe them."""
    settings = Settings(base)
    return CrawlResources(
        warc=SharedPart("WARC writer", lambda: open_archive_files(settings),
                        ArchiveFiles.close_writer),
        ingest=SharedPart(
            "ingest worker",
            lambda: IngestWorker(base["GOVARCHIVE_STORAGE_URL"],
                                 separate_process=base["GOVARCHIVE_STORE_IN_SEPARATE_PROCESS"]),
            IngestWorker.close),
        extraction=SharedPart("extraction pool",
                              lambda: ExtractionWorkers(base["GOVARCHIVE_EXTRACT_WORKERS"]),
                              ExtractionWorkers.close),
    )


def this_process() -> RunOwner:
    """This process, as a run records the process that crawls it."""
    pid = os.getpid()
    return RunOwner(pid, this_node(), process_started_at(pid))


class Heartbeat:
    """Tells the database every ``interval`` seconds that this process still crawls its runs,
    from a thread of its own, so the crawl's loop never waits for the database."""

    def __init__(self, store: Store, run_ids: list[int], interval: float = HEARTBEAT_INTERVAL):
        self._store, self._run_ids, self._interval = store, run_ids, interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="run-heartbeat", daemon=True)

    @property
    def started(self) -> bool:
        return self._thread.ident is not None

    def start(self) -> None:
        self._thread.start()

    def watch(self, run_id: int) -> None:
        self._run_ids.append(run_id)

    def unwatch(self, run_id: int) -> None:
        self._run_ids.remove(run_id)

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()

    def _beat(self) -> None:
        while not self._stopped.wait(self._interval):
            run_ids = list(self._run_ids)
            if not run_ids:
                continue
            try:
                self._store.beat(run_ids)
            except Exception as exc:  # noqa: BLE001 - a database away for a moment; try again
                logger.warning("cannot record the run heartbeat: %s", exc)


@dataclass
class SourceResult:
    source: str
    run_id: int
    status: str
    stats: dict
    error: str | None = None

    @property
    def counts(self) -> CrawlCounts:
        return crawl_counts(self.stats)


@dataclass
class CrawlSummary:
    results: list[SourceResult] = field(default_factory=list)
    seconds: float = 0.0
    not_started: list[str] = field(default_factory=list)  # waiting when the crawl was stopped

    @property
    def exit_code(self) -> int:
        failed = any(r.status == "failed" for r in self.results)
        return 1 if failed or self.not_started else 0

    def summary_text(self) -> str:
        lines = []
        for r in self.results:
            counts = r.counts
            # The same words as the progress line, so the two can be compared at a glance.
            line = (
                f"{r.source}: {r.status} (run {r.run_id}) · {counts.text()}"
                f" in {plural(counts.warc_records, 'WARC record')}"
            )
            if r.error:
                line += f"\n  {r.error}"
            lines.append(line)
        if self.not_started:
            lines.append(f"not started (the crawl was stopped): {', '.join(self.not_started)}")
        lines.append(f"done in {self.seconds:.1f} s")
        return "\n".join(lines)


def store_failure(stats: dict, source: str) -> str:
    """The error of a run whose batches could not all be stored: how many archived captures
    the database lacks, why, and the command that fills them in from the archive."""
    missing = int(stats.get("govarchive/captures_not_stored", 0))
    why = stats.get("govarchive/store_error") or "see the log"
    verb = "is" if missing == 1 else "are"
    return (f"storing failed: {plural(missing, 'archived capture')} {verb} not in the "
            f"database ({why}); `govarchive replay reparse --source {source}` stores them "
            "from the WARC files")


def run_status(stats: dict, spider: SectionSpider) -> tuple[str, str | None]:
    """How a source's run went, and the error a user should read first."""
    starts = list(spider.source.start_urls)
    failed_starts = [u for u in starts if u in spider.start_failures]
    if failed_starts and len(failed_starts) == len(starts):
        reasons = "; ".join(f"{u} {spider.start_failures[u]}" for u in failed_starts)
        status = "blocked" if spider.blocked and all(
            "anti-bot" in spider.start_failures[u] for u in failed_starts) else "failed"
        return status, f"no section page could be read: {reasons}"
    error = None
    if failed_starts:
        error = "; ".join(f"{u} {spider.start_failures[u]}" for u in failed_starts)
    if spider.blocked:
        hosts = ", ".join(f"{h} ({why})" for h, why in sorted(spider.blocked.items()))
        return "blocked", f"anti-bot wall at {hosts}" + (f"; {error}" if error else "")
    if stats.get("govarchive/archive_error"):
        return "failed", stats["govarchive/archive_error"]
    if stats.get("govarchive/store_errors"):
        return "failed", store_failure(stats, spider.name)
    finish = stats.get("finish_reason")
    if finish not in (None, "finished"):
        return "failed", f"crawl stopped: {finish}"
    # A section that lists nothing has changed its layout (or moved); a run that found only
    # known articles, or list pages answering 304, is a quiet night: ok.
    no_links = [f"{NO_LINKS} {url}" for url in spider.sections_without_links()]
    if no_links:
        return "failed", "; ".join(no_links + ([error] if error else []))
    return "ok", error


def section_walks(store: Store, source, *, command_line_pages: bool) -> SectionWalks:
    """How this run walks each of the source's sections (crawler.walk)."""
    now = datetime.now(UTC)
    last = store.recent_runs(source.name, 1)
    last_run_ok = not last or last[0][0] in ("ok", "empty")  # "empty": runs before 0010
    plans = [plan_walk(state, walk=source.walk, full_walk_every=source.full_walk_every,
                       now=now, command_line_pages=command_line_pages, last_run_ok=last_run_ok)
             for state in store.section_walks(source.name, source.start_urls)]
    for plan in plans:
        logger.info("%s: %s walked %s", source.name, plan.start_url,
                    f"in full ({plan.reason})" if plan.full else "until known links")
    return SectionWalks(plans)


def spider_class(source, run_id: int) -> type[SectionSpider]:
    """The spider of one source's run. Per-source settings ride on a subclass: Scrapy builds
    each crawler's settings from the process settings plus the spider class's
    custom_settings."""
    return type(
        f"SectionSpider_{source.name.replace('-', '_')}",
        (SectionSpider,),
        {"name": source.name, "custom_settings": {"GOVARCHIVE_RUN_ID": run_id}},
    )


def spider_arguments(settings, store: Store, source, *, max_list_pages: int | None = None,
                     revisit: str = "due", revisit_budget: int | None = None,
                     requisite_targets: dict | None = None) -> dict:
    """What a source's spider is made with: its rules, the known articles due again, how far
    each section is walked, and the page requisites archived before (``requisite_targets``:
    one map for every source of a crawl, read here when not given)."""
    if requisite_targets is None:
        requisite_targets = (LazyMapping(store.requisite_targets)
                             if settings.crawl.requisites != "none" else {})
    return {
        "source": source,
        "max_list_pages": max_list_pages,
        "max_attachment_size": settings.crawl.max_attachment_size,
        "attachments": settings.crawl.attachments,
        "revisit_targets": store.revisit_targets(
            source.name, steps=source.tracking.revisit_steps, mode=revisit,
            budget=source.tracking.max_revisits if revisit_budget is None else revisit_budget,
        ),
        "known_urls": LazySet(lambda: store.known_article_urls(source.name)),
        "requisites": settings.crawl.requisites,
        "requisite_targets": requisite_targets,
        "walks": section_walks(store, source, command_line_pages=max_list_pages is not None),
    }


def record_result(store: Store, crawler, run_ids: dict[str, int]) -> SourceResult:
    """Record how a finished crawler's run went (``store.finish_run``)."""
    spider = getattr(crawler, "spider", None)
    source_name = spider.name if spider is not None else crawler.spidercls.name
    stats = crawler.stats.get_stats() if crawler.stats else {}
    if spider is None or "finish_reason" not in stats:
        status, error = "failed", "the crawl did not start (see the log above)"
    else:
        status, error = run_status(stats, spider)
    counts = {
        "requests": int(stats.get("downloader/request_count", 0)),
        "new_articles": int(stats.get("govarchive/new_articles", 0)),
        "new_versions": int(stats.get("govarchive/new_versions", 0)),
        "removed": int(stats.get("govarchive/removed", 0)),
        "bytes_archived": int(stats.get("warc/bytes", 0)),
    }
    run_id = run_ids[source_name]
    store.finish_run(run_id, status=status, counts=counts, error=error)
    return SourceResult(source_name, run_id, status, stats, error)


def quiet_loggers() -> None:
    """A robots.txt that cannot be fetched is logged with a full traceback; the same failure
    reaches the spider's errback, which reports it in one line. Scrapy's cookie middleware
    asks tldextract for the public suffix list, which tries the network and logs a traceback
    when offline before using its own copy."""
    logging.getLogger("scrapy.downloadermiddlewares.robotstxt").setLevel(logging.CRITICAL)
    logging.getLogger("tldextract").setLevel(logging.CRITICAL)


class CrawlProcess(CrawlerProcess):
    """Scrapy's process, remembering that it was asked to stop (Ctrl-C, SIGTERM): no source
    waiting for its turn starts after that."""

    stopping = False

    def stop(self):
        self.stopping = True
        return super().stop()


def run_crawl(settings, source_names: list[str], *, max_list_pages: int | None = None,
              verbose: bool = False, run_id: int | None = None, revisit: str = "due",
              revisit_budget: int | None = None) -> CrawlSummary:
    """Crawl the named sources once and record a run for each.

    Sources of one politeness group (``govarchive.politeness_groups``: sharing a start host)
    are crawled one after another, and at most ``[crawl] concurrency`` sources at once; each
    source's run is made when its crawl starts and closed when it ends. ``run_id`` names a
    run row made beforehand (by the scheduler, which starts one child process per source and
    run); without it each source gets a new run. ``revisit`` says which known articles are
    fetched again: ``due`` (by age, per the source's ``[sources.tracking] revisit``
    schedule, at most ``revisit_budget`` or else the source's ``max_revisits``), ``all`` or
    ``none``.
    """
    sources = {name: settings.source(name) for name in source_names}
    if run_id is not None and len(sources) != 1:
        raise ValueError("a run id can be given for one source only")
    store = Store(settings.storage.url)
    started = time.monotonic()
    heartbeat: Heartbeat | None = None
    resources: CrawlResources | None = None
    owner = this_process()
    try:
        base = scrapy_settings(settings, verbose=verbose)
        # One file series for the crawl; records carry their URLs, so a file per source is
        # not needed. A crawl of one source keeps the source's name in its files' names.
        base["GOVARCHIVE_WARC_PREFIX"] = settings.archive.collection + (
            f"-{source_names[0]}" if len(sources) == 1 else "")
        resources = crawl_resources(base)
        base["GOVARCHIVE_CRAWL_RESOURCES"] = resources
        # The crawl's own use of the shared parts: between one group's source and the next,
        # no crawler may hold them, and they must not close.
        for part in (resources.warc, resources.ingest, resources.extraction):
            part.acquire()
        process = CrawlProcess(base)
        if not verbose:
            quiet_loggers()
        turns = GroupTurns(list(sources.values()), at_once=settings.crawl.concurrency)
        run_ids: dict[str, int] = {}
        crawlers: dict[str, object] = {}
        results: dict[str, SourceResult] = {}
        # Requisites archived before, to be fetched conditionally; one map for every source.
        requisite_targets = (LazyMapping(store.requisite_targets)
                             if settings.crawl.requisites != "none" else {})
        heartbeat = Heartbeat(store, [])

        def start_ready() -> None:
            if process.stopping:
                return
            for name in turns.ready():
                source = sources[name]
                if run_id is not None:
                    store.claim_run(run_id, owner)
                    run_ids[name] = run_id
                else:
                    run_ids[name] = store.start_run([name], owner)
                heartbeat.watch(run_ids[name])
                crawler = process.create_crawler(spider_class(source, run_ids[name]))
                crawlers[name] = crawler
                crawl = process.crawl(crawler, **spider_arguments(
                    settings, store, source, max_list_pages=max_list_pages, revisit=revisit,
                    revisit_budget=revisit_budget, requisite_targets=requisite_targets))
                crawl.addBoth(crawled, name)

        def crawled(outcome, name: str) -> None:
            if isinstance(outcome, Failure):
                logger.error("the crawl of %s failed: %s", name, outcome.getErrorMessage())
            heartbeat.unwatch(run_ids[name])
            try:
                # Let go of the finished crawler (its spider, engine, stats): a crawl of
                # thousands of sources must not keep them all.
                results[name] = record_result(store, crawlers.pop(name), run_ids)
            finally:
                turns.done(name)
                start_ready()

        start_ready()
        heartbeat.start()
        process.start()
        heartbeat.stop()
        # What a crawler that never started (or never closed) left open.
        resources.close()
        for name, crawler in crawlers.items():  # the reactor stopped before their crawl ended
            results[name] = record_result(store, crawler, run_ids)
        not_started = turns.waiting()
        if not_started:
            logger.warning("the crawl was stopped before %s could start: %s",
                           plural(len(not_started), "source"), ", ".join(not_started))
        summary = CrawlSummary(seconds=time.monotonic() - started, not_started=not_started)
        summary.results = [results[name] for name in sources if name in results]
        return summary
    finally:
        if heartbeat is not None:
            heartbeat.stop()
        if resources is not None:
            resources.close()
        store.close()
