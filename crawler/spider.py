"""The one spider: walks a government news section as its config describes it.

For each start URL it reads up to ``max_list_pages`` list pages (an until-known walk stops
sooner: :mod:`crawler.walk`), follows every article link it
finds (by the source's rules or by :mod:`crawler.links`), extracts each article with
:func:`crawler.extract.extract_article` and fetches the article's attachments. Every response is
archived by :class:`crawler.archiving.WarcArchiver` before this spider sees it; the spider hands
the archive pointer on with the item, and :class:`crawler.pipelines.StorePipeline` stores it.
What an article response means (an article, gone, blocked, not modified) is decided by
:func:`crawler.verdict.response_verdict`, the decision ``govarchive replay reparse`` makes too.
"""

from __future__ import annotations

import logging
from collections.abc import Set as AbstractSet
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.spidermiddlewares.httperror import HttpError

from govarchive.crawler import signals as govarchive_signals
from govarchive.crawler.blocking import block_reason
from govarchive.crawler.crawl_resources import SharedPart, resources_of
from govarchive.crawler.extract import NotHTMLError
from govarchive.crawler.extraction_pool import ExtractionWorkers
from govarchive.crawler.json_lists import decode_list_body
from govarchive.crawler.links import ListPage, ListRequest, parse_list_page
from govarchive.crawler.list_api import ListApiError, api_call, read_api_page
from govarchive.crawler.middlewares import HostBlocked
from govarchive.crawler.page_status import BLOCKED as BLOCKED_STATUS
from govarchive.crawler.page_status import (
    LIST_CAPPED,
    NOT_HTML,
    TOO_MANY_LINKS,
    failure_status,
)
from govarchive.crawler.progress import STATUS_PREFIX
from govarchive.crawler.requisites import Requisites
from govarchive.crawler.revisit import REVISIT_META, Listing, conditional_headers
from govarchive.crawler.verdict import ARTICLE as ARTICLE_VERDICT
from govarchive.crawler.verdict import (
    BLOCKED,
    EXTRACT,
    REFETCH,
    Verdict,
    article_item,
    observation_item,
    response_verdict,
    same_site,
)
from govarchive.crawler.walk import SectionWalks, walked_in_full
from govarchive.storage import canonical_url

logger = logging.getLogger(__name__)

LIST, ARTICLE, ATTACHMENT = "list", "article", "attachment"
# A real list page shows tens of articles, a site map a few thousand; beyond this a page is a
# trap, and following all of its links would be the crawl's whole run.
MAX_LIST_LINKS = 1000
# A channel hub's sub-columns may be hubs too; deeper than this is a site map, not a section.
MAX_HUB_DEPTH = 2


class SectionSpider(scrapy.Spider):
    """Crawls one source (a ``[[sources]]`` entry of govarchive.toml)."""

    name = "section"

    # Scrapy builds the spider with these keyword arguments (see crawler.run).
    def __init__(self, source, max_list_pages: int | None = None,
                 max_attachment_size: int = 20 << 20, attachments: bool = True,
                 revisit_targets=(), known_urls=frozenset(), requisites: str = "body",
                 requisite_targets=None, walks=None, **kwargs):
        super().__init__(name=source.name, **kwargs)
        self.source = source
        self.rules = source.rules.model_dump() if source.rules is not None else {}
        list_api = getattr(source, "list_api", None)
        self.list_api = list_api.model_dump() if list_api is not None else None
        self.max_list_pages = max_list_pages or source.max_list_pages
        self.max_attachment_size = max_attachment_size
        self.fetch_attachments = attachments
        # Each section's list requests so far, by ListRequest.key: an API asks every page
        # at one URL, with the page number in the body.
        self._list_pages_by_start: dict[str, set[tuple]] = {}
        self._section_pages: set[str] = set()  # every list page requested, of every section
        self._hub_depth: dict[str, int] = {}  # a hub's sub-column -> how many hubs above it
        self._hubs: set[str] = set()  # sections that are channel hubs (they list no article)
        self._seen_articles: set[str] = set()
        self._seen_attachments: set[str] = set()
        # Images and stylesheets of articles (crawler.requisites), capped like attachments.
        self.requisites = Requisites(requisites, max_attachment_size, requisite_targets)
        self.start_failures: dict[str, str] = {}
        self.blocked: dict[str, str] = {}
        # Change tracking: known articles to fetch again (storage.revisits.RevisitTarget), the
        # canonical URLs of every stored article (listed ones are not fetched again unless
        # due), and what each section's list pages showed.
        self.revisit_targets = list(revisit_targets)
        # A set read on first use (crawler.lazy) stays one: a 304 never reads it.
        self.known_urls = known_urls if isinstance(known_urls, AbstractSet) else set(known_urls)
        self._listings: dict[str, Listing] = {}
        self.walks = walks or SectionWalks()  # how far each section is walked (crawler.walk)

    async def start(self):
        if self.list_api is not None:
            # [sources.list_api]: the API's pages instead of the start URL, which names the
            # section (its listing, the articles' section).
            start = self.source.start_urls[0]
            first = ListRequest(*api_call(self.list_api, self.list_api["first_page"]))
            self._list_pages_by_start[start] = {first.key}
            self._section_pages.add(first.url)
            self._listings[start] = Listing(start)
            yield self._list_request(first, start=start, page_no=1,
                                     api_page=self.list_api["first_page"])
        for url in self.source.start_urls if self.list_api is None else ():
            self._list_pages_by_start[url] = {ListRequest(url).key}
            self._section_pages.add(url)
            self._listings[url] = Listing(url)
            yield self.walks.first_request(self._list_request(ListRequest(url), start=url,
                                                              page_no=1))
        for target in self.revisit_targets:
            self._seen_articles.add(canonical_url(target.url))
            yield scrapy.Request(
                target.url,
                callback=self.parse_article,
                errback=self.on_error,
                headers=conditional_headers(target),
                meta={"kind": ARTICLE, REVISIT_META: target, "handle_httpstatus_list": [304]},
            )

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        # Parsing an article is CPU work (lxml): done in worker processes so the crawl loop
        # keeps fetching meanwhile. One pool serves every crawler of the process
        # (crawler.crawl_resources); the last spider to close reaps it.
        resources = resources_of(crawler.settings)
        if resources is not None:
            part = resources.extraction
        else:
            workers = crawler.settings.getint("GOVARCHIVE_EXTRACT_WORKERS")
            part = SharedPart("extraction pool", lambda: ExtractionWorkers(workers),
                              ExtractionWorkers.close)
        spider.extraction = part.acquire()
        spider.max_list_links = crawler.settings.getint("GOVARCHIVE_MAX_LIST_LINKS", MAX_LIST_LINKS)
        if resources is None:
            # Every page is parsed once the pipeline says responses_done: the workers can
            # exit while the last batches are stored.
            crawler.signals.connect(spider.extraction.finish,
                                    signal=govarchive_signals.responses_done)
        crawler.signals.connect(lambda: part.release(), signal=signals.spider_closed, weak=False)
        return spider

    def listings(self) -> list[Listing]:
        """What each section's list pages showed in this run (those that were read)."""
        read = [listing for listing in self._listings.values() if listing.fetched_at is not None]
        for listing in read:
            listing.full = walked_in_full(complete=listing.complete, failed=listing.failed,
                                          pages_read=listing.pages, page_cap=self.max_list_pages,
                                          links=len(listing.urls))
        return read

    def sections_without_links(self) -> list[str]:
        """Start URLs whose list pages were read and gave no article link at all."""
        return [listing.start_url for listing in self._listings.values()
                if listing.pages and not listing.urls and listing.start_url not in self._hubs]

    # -- requests -------------------------------------------------------------------------

    def _list_request(self, request: ListRequest | str, *, start: str, page_no: int,
                      api_page: int | None = None) -> scrapy.Request:
        if isinstance(request, str):
            request = ListRequest(request)
        meta = {"kind": LIST, "start": start, "page_no": page_no, "list_request": request}
        if api_page is not None:
            meta["api_page"] = api_page
        headers = {}
        if request.method == "POST":
            # A data proxy (Hanweb) or a JSON API answers a POST; the body goes out as the
            # page asked it (form-urlencoded or JSON) and is archived so.
            headers["Content-Type"] = request.content_type or "application/x-www-form-urlencoded"
        # A section's list pages are its table of contents: read them before articles so a
        # run that is stopped early still knows what the section listed.
        return scrapy.Request(request.url, method=request.method,
                              body=(request.body or "").encode("utf-8") or None,
                              headers=headers or None, callback=self.parse_list,
                              errback=self.on_error, priority=10, meta=meta)

    def _host_blocked(self, url: str) -> bool:
        return (urlsplit(url).hostname or "") in self.blocked

    # -- callbacks -------------------------------------------------------------------------

    def parse_list(self, response):
        if self._check_blocked(response):
            return
        start = response.meta["start"]
        if response.status == 304:  # a conditional first page (crawler.walk): unchanged
            self.crawler.stats.inc_value("govarchive/list_pages_not_modified")
            return
        content_type = _content_type(response)
        try:
            text, _is_json = decode_list_body(response.body, content_type)
        except NotHTMLError as exc:
            self._page_status(response.url, LIST, NOT_HTML, str(exc))
            self._list_failed(response, f"is not an HTML page ({exc})")
            return
        page = self._read_list(text, response, content_type)
        if page is None:
            return
        self.crawler.stats.inc_value("govarchive/list_pages")
        self._record_listing(response, start, [url for url, _text in page.article_links])
        if response.meta.get("page_no") == 1:
            self._listings[start].first_page_links = len(page.article_links)
        if not (page.article_links or page.section_links or page.redirect_to
                or page.framed_list):
            logger.warning("%s: no article links found on list page %s", self.name, response.url)
            self.crawler.stats.inc_value("govarchive/empty_list_pages")
        links = page.article_links
        if len(links) > self.max_list_links:
            self._page_status(response.url, LIST, TOO_MANY_LINKS,
                              f"{len(links)} article links; the first {self.max_list_links} taken")
            links = links[: self.max_list_links]
        unseen = 0
        for url, _text in links:
            key = canonical_url(url)
            if key in self._seen_articles or key in self.known_urls or self._host_blocked(url):
                continue
            if not self.walks.listed_before(start, key):
                unseen += 1
            self._seen_articles.add(key)
            yield scrapy.Request(
                url,
                callback=self.parse_article,
                errback=self.on_error,
                meta={"kind": ARTICLE, "list_url": response.url, "section": start},
            )
        walked = self._list_pages_by_start.setdefault(start, {ListRequest(start).key})
        further = [request for request in page.list_requests() if same_site(request.url, start)]
        if page.section_links:
            # A hub lists nothing itself: absence from it proves nothing (articles stored under
            # the hub before it was read as one are listed by their sub-columns now).
            self._listing_incomplete(start)
            self._hubs.add(start)
            yield from self._sub_sections(page.section_links, start)
        if page.article_links and not self.walks.goes_on(start, unseen):
            # Everything this page lists is known: so is what follows (an until-known walk).
            if self.walks.unread(start, further, walked):
                self._listings[start].complete = False
            return
        page_no = response.meta.get("page_no", 1)
        api_page = response.meta.get("api_page")
        for request in self.walks.to_follow(start, further, walked):
            url = request.url
            if len(walked) >= self.max_list_pages:
                if request.key not in walked:
                    self._listings[start].complete = False  # the section goes on
                    self._page_status(start, LIST, LIST_CAPPED,
                                      f"more list pages than max_list_pages ({self.max_list_pages})"
                                      f", next would be {request.method} {url}")
                break
            if request.key in walked or not same_site(url, start):
                continue
            walked.add(request.key)
            self._section_pages.add(url)
            page_no += 1
            yield self._list_request(request, start=start, page_no=page_no,
                                     api_page=None if api_page is None else api_page + 1)

    def _read_list(self, text: str, response, content_type: str | None) -> ListPage | None:
        """The list a response holds: by ``[sources.list_api]`` for its pages, else found."""
        request = response.meta.get("list_request")
        api_page = response.meta.get("api_page")
        if api_page is None:
            return parse_list_page(
                text,
                response.url,
                article_links_rule=self.rules.get("article_links"),
                next_page_rule=self.rules.get("next_page"),
                content_type=content_type,
                request=request,
            )
        try:
            items, following = read_api_page(text, response.url, self.list_api, api_page)
        except ListApiError as exc:
            start = response.meta["start"]
            self._listing_incomplete(start)
            self.start_failures[start] = str(exc)
            logger.error("%s: %s", self.name, exc)
            return None
        page = ListPage(article_links=[(item.url, item.title) for item in items])
        if following is not None:
            page.api_requests.append(ListRequest(*following))
        return page

    def _sub_sections(self, urls: list[str], start: str):
        """A channel hub's sub-columns: each walked as a section of its own, with its own
        max_list_pages, its own listing; hubs inside hubs only to MAX_HUB_DEPTH."""
        depth = self._hub_depth.get(start, 0)
        if depth >= MAX_HUB_DEPTH:
            return
        for url in urls:
            if url in self._list_pages_by_start or not same_site(url, start):
                continue
            self._list_pages_by_start[url] = {ListRequest(url).key}
            self._section_pages.add(url)
            self._listings[url] = Listing(url)
            self._hub_depth[url] = depth + 1
            yield self.walks.first_request(self._list_request(ListRequest(url), start=url,
                                                              page_no=1))

    async def parse_article(self, response):
        redirected = response.meta.get("redirect_urls") or []
        facts = {"url": response.url, "status": response.status, "headers": response.headers,
                 "redirected_from": redirected, "section_urls": self._section_pages}
        verdict = response_verdict(**facts)
        if verdict.kind == BLOCKED:
            self._back_off(response, verdict.reason)
        if verdict.kind == REFETCH:
            yield scrapy.Request(response.url, callback=self.parse_article,
                                 errback=self.on_error, dont_filter=True,
                                 meta={"kind": ARTICLE, "redirect_urls": redirected})
            return
        if verdict.kind != EXTRACT:
            for observation in self._observe(response, verdict):
                yield observation
            return
        exchange = response.meta.get("warc")
        if exchange is None:
            # Never store an article whose capture is not in the archive.
            logger.error("%s: %s was not archived; article not stored", self.name, response.url)
            self.crawler.stats.inc_value("govarchive/unarchived")
            return
        try:
            article, signature = await self.extraction.extract_with_signature(
                response.body,
                response.url,
                content_type=_content_type(response),
                rules=self.rules,
                timezone=self.source.timezone,
            )
        except NotHTMLError as exc:
            self._page_status(response.url, ARTICLE, NOT_HTML,
                              f"archived, not parsed as an article ({exc})")
            self.crawler.stats.inc_value("govarchive/not_html")
            return
        verdict = response_verdict(**facts, page=article)
        if verdict.kind != ARTICLE_VERDICT:
            if verdict.kind == BLOCKED:
                self._note_blocked(response, verdict.reason)
            for observation in self._observe(response, verdict):
                yield observation
            return
        self.crawler.stats.inc_value("govarchive/articles")
        yield article_item(verdict, article, source=self.name, record_id=exchange.record_id,
                           fetched_at=exchange.fetched_at, signature=signature,
                           section_url=response.meta.get("section"))
        if self.fetch_attachments:
            for attachment in article.attachments:
                if (attachment.url in self._seen_attachments or self._host_blocked(attachment.url)
                        or canonical_url(attachment.url) in self.known_urls):
                    continue
                self._seen_attachments.add(attachment.url)
                yield scrapy.Request(
                    attachment.url,
                    callback=self.parse_attachment,
                    errback=self.on_error,
                    priority=-10,
                    meta={"kind": ATTACHMENT, "download_maxsize": self.max_attachment_size,
                          "download_warnsize": 0},
                )
        for request in self.requisites.requests(article, response.url,
                                                callback=self.parse_attachment,
                                                errback=self.on_error, skip=self._host_blocked):
            yield request

    def parse_attachment(self, response):
        # The archiver has already written it (an attachment or a requisite); nothing to parse.
        if not self._check_blocked(response):
            self.crawler.stats.inc_value(f"govarchive/{response.meta['kind']}s")
        return
        yield  # pragma: no cover - makes this a generator like the other callbacks

    # -- failures ----------------------------------------------------------------------------

    def on_error(self, failure):
        request = failure.request
        kind = request.meta.get("kind", "?")
        # The URL the spider asked for, before any redirect.
        url = (request.meta.get("redirect_urls") or [request.url])[0]
        if failure.check(HostBlocked):
            self._page_status(url, kind, BLOCKED_STATUS, f"not sent: {failure.value}",
                              level=logging.DEBUG)
            self._listing_incomplete(request.meta.get("start") if kind == LIST else None)
            return
        status, reason = failure_status(failure)
        if failure.check(HttpError):
            response = failure.value.response
            if kind == ARTICLE:
                # The callback is not called for errors: the observation goes out from here.
                verdict = response_verdict(url=response.url, status=response.status,
                                           headers=response.headers)
                yield from self._observe(response, verdict)
            if self._check_blocked(response):
                return  # counted as blocked by _back_off
        self.crawler.stats.inc_value(f"govarchive/errors/{kind}")
        self.crawler.stats.inc_value("govarchive/errors")
        if kind == LIST:
            self._page_status(url, kind, status, reason, level=logging.DEBUG)
            self._list_failed_url(request.url, request.meta.get("start"), reason,
                                  first=request.meta.get("page_no") == 1)
        else:
            self._page_status(url, kind, status, reason)

    def _page_status(self, url: str, kind: str, status: str, reason: str,
                     level: int = logging.WARNING) -> None:
        """Count a page that gave nothing to store under its status (crawler.page_status)."""
        self.crawler.stats.inc_value(STATUS_PREFIX + status)
        logger.log(level, "%s: %s %s [%s] %s", self.name, kind, url, status, reason)

    def _list_failed(self, response, reason: str) -> None:
        self._list_failed_url(response.url, response.meta.get("start"), reason,
                              first=response.meta.get("page_no") == 1)

    def _listing_incomplete(self, start: str | None) -> None:
        if start in self._listings:
            self._listings[start].complete = False  # a page unread: absence proves nothing
            self._listings[start].failed = True

    def _list_failed_url(self, url: str, start: str | None, reason: str,
                         first: bool | None = None) -> None:
        self._listing_incomplete(start)
        # The section's first list request failed (with list_api: the API's first page).
        if url == start or (first and start is not None and self.list_api is not None):
            self.start_failures[start] = reason
            logger.error("%s: section page %s %s", self.name, url, reason)
        else:
            logger.warning("%s: list page %s %s", self.name, url, reason)

    def _check_blocked(self, response) -> bool:
        reason = block_reason(response.status, response.headers)
        if reason is None:
            return False
        self._back_off(response, reason)
        return True

    def _back_off(self, response, reason: str) -> None:
        """An anti-bot wall answered: no more requests to its host in this run."""
        host = urlsplit(response.url).hostname or ""
        if host not in self.blocked:
            logger.error("%s: %s is behind an anti-bot wall (%s); backing off from %s",
                         self.name, response.url, reason, host)
        self.blocked[host] = reason
        self.crawler.stats.inc_value("govarchive/blocked")
        if not response.meta.get("_blocked_counted"):
            response.meta["_blocked_counted"] = True
            self._page_status(response.url, response.meta.get("kind", "?"), BLOCKED_STATUS,
                              f"anti-bot wall ({reason})", level=logging.DEBUG)
        if response.meta.get("kind") == LIST:
            start = response.meta.get("start")
            self._listing_incomplete(start)
            if response.url == start:
                self.start_failures[start] = f"blocked by an anti-bot wall ({reason})"

    # -- change tracking -------------------------------------------------------------------

    def _record_listing(self, response, start: str, urls: list[str]) -> None:
        listing = self._listings.setdefault(start, Listing(start))
        exchange = response.meta.get("warc")
        if exchange is not None:
            listing.record_ids.append(exchange.record_id)
            if listing.fetched_at is None or exchange.fetched_at < listing.fetched_at:
                listing.fetched_at = exchange.fetched_at
        listing.urls.extend(urls)
        listing.pages += 1

    def _observe(self, response, verdict: Verdict):
        """The observation of a known article's URL a verdict makes, if it makes one."""
        exchange = response.meta.get("warc")
        if exchange is None or not verdict.is_observation:
            return
        self.crawler.stats.inc_value(f"govarchive/observed/{verdict.kind}")
        yield observation_item(verdict, source=self.name, record_id=exchange.record_id,
                               fetched_at=exchange.fetched_at, tracking=self.source.tracking)

    def _note_blocked(self, response, reason: str) -> None:
        host = urlsplit(response.url).hostname or ""
        self.blocked.setdefault(host, reason)
        self.crawler.stats.inc_value("govarchive/blocked")
        self._page_status(response.url, ARTICLE, BLOCKED_STATUS, reason, level=logging.DEBUG)


def _content_type(response) -> str | None:
    value = response.headers.get(b"Content-Type")
    return value.decode("latin-1") if value else None
