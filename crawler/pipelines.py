"""The last step of the one-way flow: archived and parsed pages go into the store.

Captures (one per archived response) arrive through the ``capture_archived`` signal, articles as
items. Both are buffered and written in one transaction per batch. Before a batch is handed
over the pipeline sends ``before_store_commit``, on which the WARC archiver flushes and fsyncs
its file: an article row therefore never points at a record that is not safely on disk.

Batches are written by :class:`crawler.ingest_worker.IngestWorker` in a process of its own, in
the order they were handed over, while the crawl goes on; at most ``MAX_PENDING`` batches wait
per crawler. Every crawler of a crawl process hands its batches to the same worker
(:mod:`crawler.crawl_resources`): one writer to the database, one process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from concurrent.futures import Future

from scrapy.exceptions import NotConfigured
from twisted.python.failure import Failure

from govarchive.crawler import signals as govarchive_signals
from govarchive.crawler.crawl_resources import SharedPart, resources_of
from govarchive.crawler.ingest_worker import IngestWorker
from govarchive.crawler.items import ArticleItem, ObservationItem
from govarchive.storage import ArticleIn, CaptureIn, ListingIn, ObservationIn, StorageError

logger = logging.getLogger(__name__)


class StorePipeline:
    MAX_PENDING = 2

    def __init__(self, crawler, run_id: int | None, batch_size: int, batch_seconds: float,
                 part: SharedPart):
        self.crawler = crawler
        self.run_id = run_id
        self.batch_size = batch_size
        self.batch_seconds = batch_seconds
        # The process's one ingest worker, shared by every crawler (crawler.crawl_resources).
        self.part = part
        self.worker: IngestWorker | None = None
        self.pending: deque[tuple[Future, int]] = deque()
        self.captures: list[CaptureIn] = []
        self.articles: list[ArticleIn] = []
        self.observations: list[ObservationIn] = []
        self.listings: list[ListingIn] = []
        self._last_commit = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        url = settings.get("GOVARCHIVE_STORAGE_URL")
        if not url:
            raise NotConfigured("GOVARCHIVE_STORAGE_URL is not set")
        resources = resources_of(settings)
        separate_process = settings.getbool("GOVARCHIVE_STORE_IN_SEPARATE_PROCESS", True)
        part = resources.ingest if resources is not None else SharedPart(
            "ingest worker", lambda: IngestWorker(url, separate_process=separate_process),
            IngestWorker.close)
        pipeline = cls(
            crawler,
            settings.getint("GOVARCHIVE_RUN_ID") or None,
            settings.getint("GOVARCHIVE_STORE_BATCH_SIZE", 200),
            settings.getfloat("GOVARCHIVE_STORE_BATCH_SECONDS", 2.0),
            part,
        )
        crawler.signals.connect(pipeline.capture_archived, signal=govarchive_signals.capture_archived)
        return pipeline

    def open_spider(self, spider=None):
        self.worker = self.part.acquire()

    async def close_spider(self, spider=None):
        spider = spider if spider is not None else getattr(self.crawler, "spider", None)
        try:
            # What the section's list pages showed is known only once the run is over.
            for listing in getattr(spider, "listings", list)():
                self.listings.append(ListingIn(
                    source=spider.name, start_url=listing.start_url,
                    fetched_at=listing.fetched_at, urls=listing.urls,
                    complete=listing.complete, capture_record_ids=listing.record_ids,
                    full=listing.full, first_page_links=listing.first_page_links,
                ))
            self.commit()
            # Every response has been through the spider: the archive can close now, while
            # the last batches are stored.
            self.crawler.signals.send_catch_log(signal=govarchive_signals.responses_done)
            while self.pending:
                await self._settle_oldest()
        finally:
            if self.worker is not None:
                # Every batch of this crawler is stored (or failed); the last crawler to let
                # go closes the worker.
                self.worker = None
                self.part.release()

    def capture_archived(self, exchange, response, request, spider=None):
        headers = response.headers
        self.captures.append(
            CaptureIn(
                record_id=exchange.record_id,
                url=response.url,
                fetched_at=exchange.fetched_at,
                status=response.status,
                content_type=_header(headers, b"Content-Type"),
                payload_digest=exchange.payload_digest or None,
                warc_file=exchange.location.file,
                warc_offset=exchange.location.offset,
                warc_length=exchange.location.length,
                etag=_header(headers, b"ETag"),
                last_modified=_header(headers, b"Last-Modified"),
                record_type=exchange.record_type,
            )
        )

    async def process_item(self, item, spider=None):
        if isinstance(item, ArticleItem):
            fields = {k: v for k, v in item.fields.items() if k != "url"}
            self.articles.append(
                ArticleIn(
                    source=item.source,
                    url=item.url,
                    urls=item.urls,
                    capture_record_id=item.record_id,
                    fetched_at=item.fetched_at,
                    fields=fields,
                    signature=item.signature,
                    section_url=item.section_url,
                )
            )
        elif isinstance(item, ObservationItem):
            self.observations.append(
                ObservationIn(
                    source=item.source, url=item.url, capture_record_id=item.record_id,
                    fetched_at=item.fetched_at, kind=item.kind, reason=item.reason,
                    confirmations=item.confirmations, min_interval=item.min_interval,
                )
            )
        if (len(self.articles) + len(self.observations) >= self.batch_size
                or time.monotonic() - self._last_commit >= self.batch_seconds):
            self.commit()
        while self.pending and (self.pending[0][0].done() or len(self.pending) > self.MAX_PENDING):
            await self._settle_oldest()
        return item

    def commit(self) -> None:
        """Hand over what is buffered: WARC bytes to disk first, then one database batch."""
        if not (self.captures or self.articles or self.observations or self.listings):
            return
        assert self.worker is not None
        for _receiver, outcome in self.crawler.signals.send_catch_log(
            signal=govarchive_signals.before_store_commit
        ):
            if isinstance(outcome, Failure):
                # The archive could not be made durable (disk full?): storing rows that point
                # at those records would invent captures. Keep the batch; the crawl stops.
                outcome.raiseException()
        future = self.worker.submit(self.captures, self.articles, self.run_id,
                                    self.observations, self.listings)
        self.pending.append((future, len(self.captures)))
        self.captures, self.articles, self.observations, self.listings = [], [], [], []
        self._last_commit = time.monotonic()

    async def _settle_oldest(self) -> None:
        """Wait for the oldest batch and count what it stored (on the crawl's own thread)."""
        future, captures = self.pending.popleft()
        stats = self.crawler.stats
        try:
            result = await asyncio.wrap_future(future)
        except Exception as exc:
            # The batch's transaction rolled back: nothing of it is half-written, and its
            # captures are still in the WARC files (``govarchive replay reparse`` restores
            # them). Stop the crawl rather than go on fetching what cannot be stored.
            stats.inc_value("govarchive/store_errors")
            stats.inc_value("govarchive/captures_not_stored", captures)
            if stats.get_value("govarchive/store_error") is None:
                stats.set_value("govarchive/store_error", str(exc))
            # A database that is away or locked is said in words; anything else is a bug
            # whose traceback is worth having.
            known = isinstance(exc, StorageError)
            logger.error("storing a batch of %d captures failed: %s", captures, exc,
                         exc_info=None if known else exc)
            engine = self.crawler.engine
            if engine is not None and engine.running:
                asyncio.ensure_future(engine.close_spider_async(reason="store_error"))
            return
        stats.inc_value("govarchive/captures_stored", captures)
        stats.inc_value("govarchive/new_articles", result.new_articles)
        stats.inc_value("govarchive/new_versions", result.new_versions)
        stats.inc_value("govarchive/unchanged", result.unchanged)
        stats.inc_value("govarchive/removed", getattr(result, "removed", 0))
        stats.inc_value("govarchive/restored", getattr(result, "restored", 0))


def _header(headers, name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if value else None
