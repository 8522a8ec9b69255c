"""The last step of the one-way flow: archived and parsed pages go into the store.

Captures (one per archived response) arrive through the ``capture_archived`` signal, articles as
items. Both are buffered and written in one transaction per batch. Before each transaction the
pipeline sends ``before_store_commit``, on which the WARC archiver flushes and fsyncs its file:
an article row therefore never points at a record that is not safely on disk.
"""

from __future__ import annotations

import logging
import time

from scrapy.exceptions import NotConfigured
from twisted.python.failure import Failure

from crawler import signals as govarchive_signals
from crawler.items import ArticleItem
from crawler.revisit import ObservationItem
from storage import ArticleIn, CaptureIn, ListingIn, ObservationIn, Store

logger = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, crawler, url: str, run_id: int | None, batch_size: int, batch_seconds: float):
        self.crawler = crawler
        self.url = url
        self.run_id = run_id
        self.batch_size = batch_size
        self.batch_seconds = batch_seconds
        self.store: Store | None = None
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
        pipeline = cls(
            crawler,
            url,
            settings.getint("GOVARCHIVE_RUN_ID") or None,
            settings.getint("GOVARCHIVE_STORE_BATCH_SIZE", 200),
            settings.getfloat("GOVARCHIVE_STORE_BATCH_SECONDS", 2.0),
        )
        crawler.signals.connect(pipeline.capture_archived, signal=govarchive_signals.capture_archived)
        return pipeline

    def open_spider(self, spider=None):
        self.store = Store(self.url)

    def close_spider(self, spider=None):
        spider = spider if spider is not None else getattr(self.crawler, "spider", None)
        try:
            # What the section's list pages showed is known only once the run is over.
            for listing in getattr(spider, "listings", list)():
                self.listings.append(ListingIn(
                    source=spider.name, start_url=listing.start_url,
                    fetched_at=listing.fetched_at, urls=listing.urls,
                    complete=listing.complete, capture_record_ids=listing.record_ids,
                ))
            self.commit()
        finally:
            if self.store is not None:
                self.store.close()
                self.store = None

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

    def process_item(self, item, spider=None):
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
        return item

    def commit(self) -> None:
        """Write what is buffered: WARC bytes to disk first, then one database transaction."""
        if not (self.captures or self.articles or self.observations or self.listings):
            return
        assert self.store is not None
        for _receiver, outcome in self.crawler.signals.send_catch_log(
            signal=govarchive_signals.before_store_commit
        ):
            if isinstance(outcome, Failure):
                # The archive could not be made durable (disk full?): storing rows that point
                # at those records would invent captures. Keep the batch; the crawl stops.
                outcome.raiseException()
        captures, articles = self.captures, self.articles
        result = self.store.ingest(captures, articles, run_id=self.run_id,
                                   observations=self.observations, listings=self.listings)
        # Cleared only once the transaction is in: a failed commit keeps the batch, and the
        # error stops the crawl with nothing half-written (the transaction rolled back).
        self.captures, self.articles, self.observations, self.listings = [], [], [], []
        self._last_commit = time.monotonic()
        stats = self.crawler.stats
        stats.inc_value("govarchive/captures_stored", len(captures))
        stats.inc_value("govarchive/new_articles", result.new_articles)
        stats.inc_value("govarchive/new_versions", result.new_versions)
        stats.inc_value("govarchive/unchanged", result.unchanged)
        stats.inc_value("govarchive/removed", getattr(result, "removed", 0))
        stats.inc_value("govarchive/restored", getattr(result, "restored", 0))


def _header(headers, name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if value else None
