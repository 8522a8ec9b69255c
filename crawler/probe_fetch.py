"""Live mode of ``govarchive sources probe``: fetch a section page and its first articles.

A one-shot Scrapy crawl with the crawl's own downloader stack (robots.txt, user agent, delay,
private-address guard, challenge and redirect guards), but no archiver and no pipeline:
nothing is written to the archive or the database. The list page is read by
:func:`crawler.probe.probe_list_page`, the articles by :func:`crawler.extract.extract_article`
under the verdict of :func:`crawler.verdict.response_verdict`, as the spider reads them.
Scrapy's reactor runs once per process: :func:`run_probe` can be called once per process.
"""

from __future__ import annotations

import logging

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError

from govarchive.crawler.blocking import block_reason
from govarchive.crawler.extract import NotHTMLError, extract_article
from govarchive.crawler.page_status import failure_status
from govarchive.crawler.probe import ProbeReport, probe_list_page
from govarchive.crawler.verdict import ARTICLE, EXTRACT, response_verdict

# Scrapy's RobotsTxtMiddleware refuses a request with exactly this message.
_ROBOTS_REFUSAL = "Forbidden by robots.txt"
# Pages followed from the section's page to its list: a redirect stub to a shell to its API.
MAX_FOLLOWED = 2


def probe_settings(base: dict) -> dict:
    """The crawl's Scrapy settings (:func:`crawler.run.scrapy_settings`) without anything
    that writes: no WARC archiver, no progress line, no store pipeline."""
    settings = dict(base)
    settings["EXTENSIONS"] = {}
    settings["ITEM_PIPELINES"] = {}
    for key in ("GOVARCHIVE_CRAWL_RESOURCES", "GOVARCHIVE_WARC_PREFIX"):
        settings.pop(key, None)
    # One list page and a few articles: no retry storm, no wait beyond the configured delay.
    settings["AUTOTHROTTLE_ENABLED"] = False
    return settings


class ProbeSpider(scrapy.Spider):
    """Fetches one section page, then its first ``articles`` article links. A page that
    lists nothing itself but leads to its list (a redirect stub, a shell whose script asks a
    list API) is followed as the crawl follows it, and the articles come from that list."""

    name = "probe"

    def __init__(self, url: str, articles: int = 3, rules: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        self.url, self.article_count, self.rules = url, articles, rules or {}
        self.report: ProbeReport | None = None
        self.blocked: dict[str, str] = {}  # read by crawler.middlewares.ChallengeGuard
        self._records: dict[str, dict] = {}

    async def start(self):
        yield scrapy.Request(self.url, callback=self.parse_list, errback=self.list_failed,
                             meta={"kind": "list"})

    def parse_list(self, response):
        content_type = _content_type(response)
        report = probe_list_page(response.body, response.url, content_type=content_type,
                                 status=response.status, headers=response.headers,
                                 rules=self.rules, request=response.meta.get("lead"))
        self._add(report, response.request)
        lead = report.lead()
        if lead is not None and response.meta.get("followed", 0) < MAX_FOLLOWED:
            yield scrapy.Request(lead.url, method=lead.method,
                                 body=(lead.body or "").encode("utf-8") or None,
                                 headers=({"Content-Type": lead.content_type
                                           or "application/x-www-form-urlencoded"}
                                          if lead.method == "POST" else None),
                                 callback=self.parse_list, errback=self.list_failed,
                                 meta={"kind": "list", "lead": lead,
                                       "followed": response.meta.get("followed", 0) + 1})
            return
        for link in report.links[: self.article_count]:
            yield scrapy.Request(link.url, callback=self.parse_article, errback=self.article_failed,
                                 meta={"kind": "article", "list_url": response.url})

    def _add(self, report: ProbeReport, request) -> None:
        """The section page's report, or the report of a page it led to (``request``)."""
        if self.report is None:
            report.requested_url = self.url
            report.articles = []
            self.report = report
            return
        last = self.report
        while last.followed is not None:
            last = last.followed
        last.followed, last.followed_by = report, request.meta["lead"]

    def list_failed(self, failure):
        url = failure.request.url
        report = ProbeReport(url=url, requested_url=url)
        report.robots = {"allowed": True, "detail": ""}  # filled in by run_probe
        if failure.check(IgnoreRequest) and str(failure.value) == _ROBOTS_REFUSAL:
            report.robots = {"allowed": False,
                             "detail": f"robots.txt disallows {url} for this user agent"}
            report.error = "not fetched: robots.txt disallows it"
        elif failure.check(HttpError):
            response = failure.value.response
            report.url, report.status = response.url, response.status
            report.blocked = block_reason(response.status, response.headers)
            report.error = (f"blocked by an anti-bot wall ({report.blocked})" if report.blocked
                            else f"answered HTTP {response.status}")
        else:
            report.error = failure_status(failure)[1] if not failure.check(IgnoreRequest) \
                else str(failure.value)
        self._add(report, failure.request)

    def parse_article(self, response):
        facts = {"url": response.url, "status": response.status, "headers": response.headers,
                 "redirected_from": response.meta.get("redirect_urls") or [],
                 "section_urls": {response.meta["list_url"], self.url}}
        verdict = response_verdict(**facts)
        record: dict = {"url": response.url, "status": response.status}
        if verdict.kind == EXTRACT:
            try:
                article = extract_article(response.body, response.url,
                                          content_type=_content_type(response))
            except NotHTMLError as exc:
                record["error"] = f"not an HTML page ({exc})"
            else:
                verdict = response_verdict(**facts, page=article)
                record.update(article.to_record())
                record["body_length"] = len(article.body_text)
                if verdict.kind != ARTICLE:
                    record["error"] = f"{verdict.kind}: {verdict.reason}"
        else:
            record["error"] = f"{verdict.kind}: {verdict.reason or response.status}"
        self._records[_first_url(response.request)] = record

    def article_failed(self, failure):
        request = failure.request
        if failure.check(IgnoreRequest):
            reason = ("robots.txt disallows it" if str(failure.value) == _ROBOTS_REFUSAL
                      else str(failure.value))
        elif failure.check(HttpError):
            response = failure.value.response
            why = block_reason(response.status, response.headers)
            reason = f"blocked ({why})" if why else f"answered HTTP {response.status}"
        else:
            reason = failure_status(failure)[1]
        self._records[_first_url(request)] = {"url": request.url, "error": reason}

    def finished_report(self) -> ProbeReport:
        report = self.report or ProbeReport(url=self.url, requested_url=self.url,
                                            error="the page was not fetched (see the log)")
        if report.articles is not None:
            report.articles = [self._records[link.url] for link in report.listing.links
                               if link.url in self._records]
        return report


def _first_url(request) -> str:
    return (request.meta.get("redirect_urls") or [request.url])[0]


def _content_type(response) -> str | None:
    value = response.headers.get(b"Content-Type")
    return value.decode("latin-1") if value else None


def robots_verdict(stats: dict, obey: bool, report: ProbeReport) -> dict:
    """robots.txt's verdict on the section page, from the crawl's stats (Scrapy's
    RobotsTxtMiddleware fetched and applied it)."""
    if not obey:
        return {"allowed": None, "detail": "not checked: obey_robots = false in [crawl]"}
    if report.robots.get("allowed") is False:
        return report.robots
    answered = sorted(k.rsplit("/", 1)[1] for k in stats
                      if k.startswith("robotstxt/response_status_count/"))
    if not answered:
        if stats.get("robotstxt/exception_count") or any(
                k.startswith("robotstxt/exception_count/") for k in stats):
            return {"allowed": True, "detail": "robots.txt could not be fetched: everything "
                                               "allowed (as the crawl treats it)"}
        return {"allowed": None, "detail": "robots.txt was not fetched"}
    status = answered[0]
    if status.startswith("2"):
        return {"allowed": True, "detail": "robots.txt allows the section page"}
    return {"allowed": True, "detail": f"no robots.txt (HTTP {status}): everything allowed"}


def run_probe(base_settings: dict, url: str, *, articles: int = 3,
              rules: dict | None = None, verbose: bool = False) -> ProbeReport:
    """Probe ``url`` live; ``base_settings`` are the crawl's Scrapy settings."""
    settings = probe_settings(base_settings)
    process = CrawlerProcess(settings)
    if not verbose:
        logging.getLogger("scrapy.downloadermiddlewares.robotstxt").setLevel(logging.CRITICAL)
        logging.getLogger("tldextract").setLevel(logging.CRITICAL)
    crawler = process.create_crawler(ProbeSpider)
    process.crawl(crawler, url=url, articles=articles, rules=rules)
    process.start()
    spider = crawler.spider
    report = spider.finished_report()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    report.robots = robots_verdict(stats, settings.get("ROBOTSTXT_OBEY", True), report)
    return report
