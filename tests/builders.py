"""Fake crawls for storage, search and web tests (like datasette's ``tests/fixtures.py``).

A ``FakeCrawl`` writes captures, articles, "gone" or "blocked" answers and list-page walks
through ``Store.ingest`` the way the crawl's pipeline does, one fetch at a time, at the times
the test names::

    crawl = FakeCrawl(store, source="govcn", fields={"title": "通知", "body_text": BODY})
    first = crawl.article(URL, T0)                           # fetched at T0: version 1
    crawl.article(URL, T0 + HOUR, title="更正")               # fetched again, title edited
    crawl.observe(URL, T0 + 2 * HOUR, "gone")                # a 404
    crawl.listing(START, T0 + 3 * HOUR, [OTHER])             # the list pages no longer link it
    store.get_article(first.article_id)

Every ingest's inputs are kept in ``crawl.calls`` so a test can feed them again. Record ids,
digests and WARC offsets are numbered by fetch: ``record_id(1)`` is the first capture's, so
use one ``FakeCrawl`` per store (a second one would reuse the first one's record ids); give
``source=`` per call for articles of other sources.

``add_change_event`` writes a change-feed row for an article a ``FakeCrawl`` made (until
ingest writes them itself).

``RaceAt`` and ``ingest_in_parallel`` make two writers ingest at the same moment.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa

from govarchive.storage import ArticleIn, CaptureIn, IngestResult, Store
from govarchive.storage.tracking import ListingIn, ObservationIn

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def article_fields(**fields: Any) -> dict[str, Any]:
    """An extractor record (``crawler.extract.Article.to_record()`` without ``url``): every
    key present, empty unless given."""
    return {"title": None, "published_at": None, "published_precision": "day", "origin": None,
            "author": None, "section": [], "doc_number": None, "body_text": "", "body_html": "",
            "attachments": [], "images": [], "encoding": "utf-8", "truncated": False, **fields}


def record_id(n: int) -> str:
    """The WARC record id of a fake crawl's ``n``-th capture."""
    return f"<urn:uuid:00000000-0000-0000-0000-{n:012d}>"


class Fetched(NamedTuple):
    """What one fetch stored: the ingest's result and the capture it made."""

    result: IngestResult
    capture: CaptureIn

    @property
    def article_id(self) -> int:
        (article_id,) = self.result.article_ids
        return article_id


class FakeCrawl:
    """Feeds ``store`` as a crawl of ``source`` would.

    ``fields``: the article every fetch finds unless the call says otherwise (merged over
    ``article_fields()``). ``base``: prefixed to URLs that start with ``/``.
    """

    def __init__(self, store: Store, *, source: str = "govcn", fields: dict | None = None,
                 base: str = "", warc_file: str = "govarchive-1.warc.gz") -> None:
        self.store = store
        self.source = source
        self.fields = dict(fields or {})
        self.base = base
        self.warc_file = warc_file
        self.fetches = 0
        self.calls: list[tuple[list, list, list, list]] = []

    def url(self, url: str) -> str:
        return self.base + url if url.startswith("/") else url

    def capture(self, url: str, when: datetime, status: int = 200) -> CaptureIn:
        """A new capture of ``url`` (not yet stored)."""
        self.fetches += 1
        n = self.fetches
        return CaptureIn(
            record_id=record_id(n), url=self.url(url), fetched_at=when, status=status,
            content_type="text/html; charset=utf-8", payload_digest=f"sha1:D{n}",
            warc_file=self.warc_file, warc_offset=1000 * n, warc_length=500 + n, etag='"abc"',
        )

    def ingest(self, captures=(), articles=(), observations=(), listings=(),
               run_id: int | None = None) -> IngestResult:
        """``store.ingest`` one batch, kept in ``calls``."""
        call = (list(captures), list(articles), list(observations), list(listings))
        self.calls.append(call)
        return self.store.ingest(call[0], call[1], run_id, observations=call[2],
                                 listings=call[3])

    def batch(self, url: str, when: datetime, *, urls: list[str] | None = None,
              source: str | None = None, section_url: str | None = None,
              signature: list[int] | None = None, **fields: Any
              ) -> tuple[list[CaptureIn], list[ArticleIn]]:
        """The captures and articles of one fetch of an article page, not stored."""
        capture = self.capture(url, when)
        item = ArticleIn(source or self.source, capture.url,
                         [self.url(u) for u in urls] if urls else [capture.url],
                         capture.record_id, when, article_fields(**{**self.fields, **fields}),
                         signature=signature, section_url=section_url)
        return [capture], [item]

    def article(self, url: str, when: datetime, *, run_id: int | None = None,
                **changes: Any) -> Fetched:
        """Fetch the article page ``url`` at ``when``, finding ``fields`` with ``changes``.

        ``changes`` may also name ``urls`` (the article's URLs, a redirect's first),
        ``source``, ``section_url`` and ``signature``; any other key is an article field.
        """
        captures, articles = self.batch(url, when, **changes)
        return Fetched(self.ingest(captures, articles, run_id=run_id), captures[0])

    def observe(self, url: str, when: datetime, kind: str, *, status: int = 404,
                reason: str | None = None, source: str | None = None,
                **policy: Any) -> IngestResult:
        """A fetch of ``url`` that found no article: ``kind`` is ``gone``, ``blocked`` or
        ``not_modified``; ``reason`` defaults to the status; ``policy`` the removal settings
        (``confirmations``, ``min_interval``)."""
        capture = self.capture(url, when, status)
        obs = ObservationIn(source or self.source, capture.url, capture.record_id, when, kind,
                            reason=reason or str(status), **policy)
        return self.ingest([capture], observations=[obs])

    def listing(self, start: str, when: datetime, urls: list[str], *, complete: bool = True,
                source: str | None = None, full: bool = True) -> IngestResult:
        """A walk of the section starting at ``start`` that linked ``urls`` (all of its list
        pages when ``complete``; ``full``: it read what a full walk reads)."""
        listing = ListingIn(source or self.source, self.url(start), when,
                            [self.url(u) for u in urls], complete, full=full)
        return self.ingest(listings=[listing])


# ---- two writers at once ----------------------------------------------------------------------


class RaceAt:
    """Holds each participating thread at its first statement starting with ``prefix``
    until both have arrived there (PostgreSQL only: SQLite serialises writers at BEGIN)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.barrier = threading.Barrier(2, timeout=20)
        self.waited: set[int] = set()

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        me = threading.get_ident()
        if (
            conn.dialect.name == "postgresql"
            and statement.startswith(self.prefix)
            and me not in self.waited
        ):
            self.waited.add(me)
            self.barrier.wait()

    def __enter__(self):
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc_info) -> None:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", self)


def ingest_in_parallel(database_url: str, batches, race: RaceAt) -> list[IngestResult]:
    """Each ``(captures, articles)`` batch ingested by a Store of its own on its own thread,
    as two crawl processes would, meeting at ``race``."""
    stores = [Store(database_url) for _ in batches]
    try:
        for store in stores:
            store.list_runs()  # schema check done before the race starts
        with race, ThreadPoolExecutor(len(batches)) as pool:
            futures = [pool.submit(s.ingest, *b) for s, b in zip(stores, batches, strict=True)]
            return [f.result(timeout=60) for f in futures]
    finally:
        for store in stores:
            store.close()


# ---- change events (until storage writes them with each change) --------------------------


def add_change_event(store: Store, article_id: int, kind: str, at: datetime = T0, *,
                     version: int | None = None, changed: list[str] | None = None,
                     summary: str | None = None, detail: str | None = None,
                     title: str | None = None, url: str | None = None,
                     fanned_out: datetime | None = None) -> int:
    """Insert a ``change_events`` row about the stored article ``article_id`` (its source,
    URL, title and, for new and edited, its version count as they are now, unless given);
    its id."""
    from govarchive.storage.models import Article, ArticleVersion, ChangeEvent

    with store._engine.begin() as conn:
        article = conn.execute(sa.select(Article).where(Article.id == article_id)).one()
        if version is None and kind in ("new", "edited"):
            version = conn.execute(sa.select(sa.func.count()).where(
                ArticleVersion.article_id == article_id)).scalar_one()
        return conn.execute(sa.insert(ChangeEvent).values(
            kind=kind, at=at, source_id=article.source_id, article_id=article_id,
            url=url or article.url, title=title if title is not None else article.title,
            version_n=version, changed=changed or [], summary=summary, detail=detail,
            fanned_out_at=fanned_out,
        ).returning(ChangeEvent.id)).scalar_one()
