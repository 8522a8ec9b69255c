"""Rebuilding the database from the archive alone: ``govarchive replay reparse``.

Every capture is read back in capture order and handled as the crawl handled the response:
a source's start URLs and the pages its list pages lead to are list pages (read with
:func:`crawler.links.parse_list_page` and the source's rules), the links they list are articles
(extracted with :func:`crawler.extract.extract_article`, the source's rules and timezone), a
redirect passes its role on to where it leads. Captures and articles go to
:meth:`storage.Store.ingest` in batches, with each capture's own fetch time, so first_seen,
versions and their WARC pointers come out as the crawl made them.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin

from scrapy.http import Headers

from govarchive.crawler.blocking import block_reason
from govarchive.crawler.extract import NotHTMLError, extract_article
from govarchive.crawler.json_lists import decode_list_body
from govarchive.crawler.links import ListPage, ListRequest, parse_list_page
from govarchive.crawler.list_api import ListApiError, api_call, read_api_page
from govarchive.crawler.verdict import (
    ARTICLE,
    BLOCKED,
    EXTRACT,
    REDIRECT,
    REDIRECT_STATUSES,
    REFETCH,
    Verdict,
    article_in,
    observation_in,
    response_verdict,
    same_site,
)
from govarchive.crawler.walk import walked_in_full
from govarchive.storage import ArticleIn, CaptureIn, ListingIn, ObservationIn, Store
from govarchive.warc import CapturedRecord, FileEnd, RecordLocation, iter_captures, read_record

log = logging.getLogger(__name__)

BATCH_ARTICLES = 200
BATCH_CAPTURES = 2000


@dataclass
class ReparseStats:
    records: int = 0
    bytes: int = 0
    list_pages: int = 0
    articles: int = 0
    not_html: int = 0
    blocked: int = 0
    observations: int = 0
    new_articles: int = 0
    new_versions: int = 0
    unchanged: int = 0
    deleted: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        rate = self.records / self.seconds if self.seconds else 0.0
        return (
            f"reparsed {self.records} captures ({rate:.0f}/s): {self.list_pages} list pages, "
            f"{self.articles} articles ({self.new_articles} new, {self.new_versions} new "
            f"versions, {self.unchanged} unchanged), {self.not_html} not HTML, "
            f"{self.blocked} blocked, {self.observations} gone/blocked/unmodified observations; "
            f"{self.deleted} articles rebuilt from scratch"
        )


@dataclass
class _Role:
    source: str
    kind: str  # "list" or "article"
    start: str  # the start URL a list page belongs to
    chain: list[str] = field(default_factory=list)  # redirected from, first hop first


class CrawlGraph:
    """Which URL was fetched as what, learnt from the captures as they come."""

    def __init__(self, sources: Iterable) -> None:
        self.sources = {s.name: s for s in sources}
        self.rules = {s.name: s.rules.model_dump() for s in self.sources.values()}
        # ListRequest.key -> {source: start}: a JSON API asks every page at one URL
        self.lists: dict[tuple, dict[str, str]] = {}
        self.api_pages: dict[tuple[tuple, str], int] = {}  # (key, source) -> list_api page
        self.sections: dict[str, set[str]] = {}  # source -> its list pages (self.lists by source)
        self.articles: dict[str, list[str]] = {}  # url -> sources, in the order they linked it
        self.redirected: dict[str, _Role] = {}  # redirect target -> role it inherits
        self.file_source: dict[str, str] = {}  # a crawler writes one source's files only
        self.list_apis = {s.name: s.list_api.model_dump() for s in self.sources.values()
                          if getattr(s, "list_api", None) is not None}
        self.hubs: set[str] = set()  # channel hubs: their walks are never complete
        for source in self.sources.values():
            spec = self.list_apis.get(source.name)
            if spec is not None:  # the API's pages instead of the start URL (crawler.spider)
                first = ListRequest(*api_call(spec, spec["first_page"]))
                self.lists.setdefault(first.key, {})[source.name] = source.start_urls[0]
                self.api_pages[(first.key, source.name)] = spec["first_page"]
                self.sections.setdefault(source.name, set()).add(first.url)
                continue
            for url in source.start_urls:
                self.lists.setdefault(ListRequest(url).key, {})[source.name] = url
                self.sections.setdefault(source.name, set()).add(url)

    def role(self, capture: CapturedRecord) -> _Role | None:
        url = capture.url
        inherited = self.redirected.pop(url, None)
        if inherited is not None:
            return inherited
        wanted = self.file_source.get(capture.location.file)
        starts = self.lists.get(capture_request(capture).key)
        if starts:
            name = wanted if wanted in starts else next(iter(starts))
            return _Role(name, "list", starts[name])
        linked = self.articles.get(url)
        if linked:
            name = wanted if wanted in linked else linked[0]
            return _Role(name, "article", "")
        return None

    def redirect(self, capture: CapturedRecord, role: _Role) -> None:
        location = capture.header("Location")
        if location:
            target = urljoin(capture.url, location.strip())
            self.redirected[target] = _Role(
                role.source, role.kind, role.start, [*role.chain, capture.url]
            )

    def read_list(
        self, capture: CapturedRecord, body: bytes, role: _Role
    ) -> tuple[list[str], list[tuple]]:
        """Read a list page: (the article links it lists, the keys of the further list
        requests it leads to)."""
        content_type = capture.header("Content-Type")
        text, _is_json = decode_list_body(body, content_type)
        request = capture_request(capture)
        api_page = self.api_pages.get((request.key, role.source))
        if api_page is not None:
            items, following = read_api_page(text, capture.url, self.list_apis[role.source],
                                             api_page)
            page = ListPage(article_links=[(item.url, item.title) for item in items])
            if following is not None:
                page.api_requests.append(ListRequest(*following))
                self.api_pages[(page.api_requests[0].key, role.source)] = api_page + 1
        else:
            rules = self.rules[role.source]
            page = parse_list_page(
                text,
                capture.url,
                article_links_rule=rules.get("article_links"),
                next_page_rule=rules.get("next_page"),
                content_type=content_type,
                request=request,
            )
        for url, _text in page.article_links:
            linked = self.articles.setdefault(url, [])
            if role.source not in linked:
                linked.append(role.source)
        further = [r for r in page.list_requests() if same_site(r.url, role.start)]
        for next_request in further:
            self.lists.setdefault(next_request.key, {}).setdefault(role.source, role.start)
            self.sections.setdefault(role.source, set()).add(next_request.url)
        # A hub's sub-columns are sections of their own (as the spider walks them); the hub's
        # own listing proves nothing, as in the crawl.
        if page.section_links:
            self.hubs.add(capture.url)
        for url in page.section_links:
            if same_site(url, role.start):
                self.lists.setdefault(ListRequest(url).key, {}).setdefault(role.source, url)
                self.sections.setdefault(role.source, set()).add(url)
        return [url for url, _text in page.article_links], [r.key for r in further]

    def refetch(self, capture: CapturedRecord, role: _Role) -> None:
        """The crawl fetches this URL again, unconditionally, keeping the redirects on the way
        to it: its next capture takes the role on."""
        self.redirected[capture.url] = role

    def section_urls(self, source: str) -> set[str]:
        return self.sections.get(source, set())


def capture_request(capture: CapturedRecord) -> ListRequest:
    """The request a capture answered, as the spider made it (from its request record)."""
    method = (capture.request_method or "GET").upper()
    body = capture.request_body.decode("utf-8", "replace") if capture.request_body else None
    return ListRequest(capture.url, method, body, capture.request_content_type)


def _capture_in(capture: CapturedRecord) -> CaptureIn:
    return CaptureIn(
        record_id=capture.record_id,
        url=capture.url,
        fetched_at=capture.fetched_at,
        status=capture.status,
        content_type=capture.header("Content-Type"),
        payload_digest=capture.payload_digest,
        warc_file=capture.location.file,
        warc_offset=capture.location.offset,
        warc_length=capture.location.length,
        record_type="revisit" if capture.rec_type == "revisit" else "response",
        etag=capture.header("ETag"),
        last_modified=capture.header("Last-Modified"),
    )


def _scrapy_headers(capture: CapturedRecord) -> Headers:
    headers = Headers()
    for name, value in capture.headers:
        headers.appendlist(name, value)
    return headers


@dataclass
class _Walk:
    """One run's walk of a section from one start URL (storage.tracking.ListingIn)."""

    fetched_at: datetime
    urls: list[str] = field(default_factory=list)
    record_ids: list[str] = field(default_factory=list)
    read: set[tuple] = field(default_factory=set)  # ListRequest.key of each page read
    wanted: set[tuple] = field(default_factory=set)
    failed: bool = False
    first_page_links: int | None = None  # article links the start page itself showed


class Reparser:
    """Feeds the captures of an archive through the crawl's parsing into a store."""

    def __init__(self, store: Store, sources: Iterable, *, only_source: str | None = None,
                 progress: Callable[[CapturedRecord], None] | None = None) -> None:
        self.store = store
        self.graph = CrawlGraph(sources)
        self.only_source = only_source
        self.progress = progress
        self.stats = ReparseStats()
        self._captures: list[CaptureIn] = []
        self._articles: list[ArticleIn] = []
        self._observations: list[ObservationIn] = []
        # (file, source, start) -> the walk; a crawler writes one run of one source per file.
        self._walks: dict[tuple[str, str, str], _Walk] = {}
        # Where each payload was first archived, for revisit records (locations, not payloads:
        # an archive does not fit in memory).
        self._by_digest: dict[str, RecordLocation] = {}
        self._archive_dir: Path | None = None

    def run(self, archive_dir) -> ReparseStats:
        started = time.monotonic()
        self._archive_dir = Path(archive_dir)
        self.stats.deleted = self.store.reset_derived(self.only_source)
        for capture in iter_captures(archive_dir, file_ends=True):
            if isinstance(capture, FileEnd):
                self._end_of_run(capture.location.file)
                continue
            self.handle(capture)
            if self.progress is not None:
                self.progress(capture)
        self._commit()
        self.stats.seconds = time.monotonic() - started
        return self.stats

    def handle(self, capture: CapturedRecord) -> None:
        self.stats.records += 1
        self.stats.bytes += capture.location.length
        if capture.rec_type == "resource":
            return
        self._captures.append(_capture_in(capture))
        if capture.rec_type == "response" and capture.payload_digest:
            self._by_digest.setdefault(capture.payload_digest, capture.location)
        role = self.graph.role(capture)
        if role is not None:
            self.graph.file_source.setdefault(capture.location.file, role.source)
            if role.kind == "list":
                self._list(capture, role)
            elif self.only_source is None or role.source == self.only_source:
                self._article(capture, role)
        if (len(self._articles) + len(self._observations) >= BATCH_ARTICLES
                or len(self._captures) >= BATCH_CAPTURES):
            self._commit()

    # -- list pages ---------------------------------------------------------------------------

    def _list(self, capture: CapturedRecord, role: _Role) -> None:
        status = capture.status or 0
        key = (capture.location.file, role.source, role.start)
        walk = self._walks.setdefault(key, _Walk(capture.fetched_at))
        if block_reason(status, _scrapy_headers(capture)) is not None:
            self.stats.blocked += 1
            walk.failed = True
            return
        if status in REDIRECT_STATUSES:
            self.graph.redirect(capture, role)
            return
        body = self._body(capture) if 200 <= status < 300 else None
        if body is None:
            walk.failed = True
            return
        try:
            links, next_pages = self.graph.read_list(capture, body, role)
        except NotHTMLError:
            self.stats.not_html += 1
            walk.failed = True
            return
        except ListApiError as exc:
            log.warning("%s: %s", role.source, exc)
            walk.failed = True
            return
        self.stats.list_pages += 1
        walk.fetched_at = min(walk.fetched_at, capture.fetched_at)
        walk.urls.extend(links)
        walk.record_ids.append(capture.record_id)
        if capture_request(capture).key == ListRequest(role.start).key or \
                capture.url == role.start:
            walk.first_page_links = len(links)
        walk.read.update([capture_request(capture).key,
                          *(ListRequest(url).key for url in role.chain)])
        walk.wanted.update(next_pages)
        if capture.url in self.graph.hubs:
            walk.failed = True  # not a failure: a hub's listing is never complete (see spider)

    def _end_of_run(self, file: str) -> None:
        """What each section's list pages showed in the run that wrote ``file``."""
        listings = []
        for (walk_file, source, start), walk in list(self._walks.items()):
            if walk_file != file:
                continue
            del self._walks[(walk_file, source, start)]
            if not walk.record_ids or (self.only_source and source != self.only_source):
                continue
            # A page found but never read (beyond max_list_pages, after an until-known walk
            # stopped, or failed): the walk did not reach the section's end.
            complete = not walk.failed and walk.wanted <= walk.read
            listings.append(ListingIn(
                source=source, start_url=start, fetched_at=walk.fetched_at, urls=walk.urls,
                complete=complete, capture_record_ids=walk.record_ids,
                first_page_links=walk.first_page_links,
                full=walked_in_full(complete=complete, failed=walk.failed,
                                    pages_read=len(walk.record_ids),
                                    page_cap=self.graph.sources[source].max_list_pages,
                                    links=len(walk.urls)),
            ))
        if listings:
            self._commit(listings)

    # -- articles -----------------------------------------------------------------------------

    def _article(self, capture: CapturedRecord, role: _Role) -> None:
        facts = {"url": capture.url, "status": capture.status or 0,
                 "headers": _scrapy_headers(capture), "redirected_from": role.chain,
                 "section_urls": self.graph.section_urls(role.source)}
        verdict = response_verdict(**facts)
        if verdict.kind == BLOCKED:
            self.stats.blocked += 1
        if verdict.kind == REDIRECT:
            self.graph.redirect(capture, role)
            return
        if verdict.kind == REFETCH:
            self.graph.refetch(capture, role)
            return
        if verdict.kind != EXTRACT:
            self._observe(capture, role, verdict)
            return
        body = self._body(capture)
        if body is None:
            return
        source = self.graph.sources[role.source]
        try:
            article = extract_article(
                body,
                capture.url,
                content_type=capture.header("Content-Type"),
                rules=self.graph.rules[role.source],
                timezone=source.timezone,
            )
        except NotHTMLError:
            self.stats.not_html += 1
            return
        verdict = response_verdict(**facts, page=article)
        if verdict.kind != ARTICLE:
            self._observe(capture, role, verdict)
            return
        self.stats.articles += 1
        self._articles.append(article_in(verdict, article, source=role.source,
                                         capture_record_id=capture.record_id,
                                         fetched_at=capture.fetched_at))

    def _observe(self, capture: CapturedRecord, role: _Role, verdict: Verdict) -> None:
        if not verdict.is_observation:
            return
        self.stats.observations += 1
        self._observations.append(observation_in(
            verdict, source=role.source, capture_record_id=capture.record_id,
            fetched_at=capture.fetched_at, tracking=self.graph.sources[role.source].tracking,
        ))

    def _body(self, capture: CapturedRecord) -> bytes | None:
        try:
            if capture.rec_type != "revisit":
                return capture.content()
            # An identical payload was archived before; the page is that payload.
            original = self._by_digest.get(capture.payload_digest or "")
            if original is None or self._archive_dir is None:
                log.warning("revisit %s of %s: no earlier record with its payload digest",
                            capture.record_id, capture.url)
                return None
            return read_record(self._archive_dir, original).content()
        except (zlib.error, ValueError, OSError) as exc:
            log.warning("%s (%s): cannot undo its Content-Encoding: %s",
                        capture.url, capture.location.file, exc)
            return None

    def _commit(self, listings: list[ListingIn] | None = None) -> None:
        if not (self._captures or self._articles or self._observations or listings):
            return
        # The events it rebuilds are history: no watch is told of them again.
        result = self.store.ingest(self._captures, self._articles,
                                   observations=self._observations, listings=listings or [],
                                   history=True)
        self._captures, self._articles, self._observations = [], [], []
        self.stats.new_articles += result.new_articles
        self.stats.new_versions += result.new_versions
        self.stats.unchanged += result.unchanged


def reparse(store: Store, sources: Iterable, archive_dir, *, only_source: str | None = None,
            progress: Callable[[CapturedRecord], None] | None = None) -> ReparseStats:
    """Rebuild articles, versions and urls (of ``only_source``, or all) from the archive."""
    return Reparser(store, sources, only_source=only_source, progress=progress).run(archive_dir)
