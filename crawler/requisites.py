"""Page requisites: the pictures and stylesheets an article needs to be replayed as it was.

``[crawl] requisites`` says how much of a page is fetched with it:

``"none"``
    nothing but the page.
``"body"`` (the default)
    the images inside the article body, and the page's stylesheets: on the article's own site
    (:func:`crawler.verdict.same_site`, so ``www.gov.cn`` and ``images.gov.cn`` are one
    site), for a picture hosted anywhere else is not the agency's.
``"page"``
    also every other image, script and icon of the page, on any host.

Each URL is requested once per run (a stylesheet is shared by every page of a site), after
the article and at low priority, through the same downloader as pages: robots.txt, the
per-host delay and concurrency, the private-address guard and the anti-bot back-off all
apply. A download is cut at ``max_attachment_size`` (the attachments' cap). The archiver writes
every answer; one already in the archive (``storage.Store.requisite_targets``) is requested
conditionally, and its answer is archived as a revisit record when it is a 304 or carries the
payload archived before (:func:`crawler.revisit.revisit_profile`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import scrapy

from govarchive.crawler.extract.requisites import fetch_spelling
from govarchive.crawler.revisit import REVISIT_META, conditional_headers
from govarchive.crawler.verdict import same_site

REQUISITE = "requisite"  # request.meta["kind"]
REQUISITE_MODES = ("body", "page", "none")
PRIORITY = -10  # with attachments: after every page of the crawl that is already known


def wanted_urls(article, page_url: str, mode: str) -> list[str]:
    """The requisites of an extracted ``article`` (a ``crawler.extract.Article``) that
    ``mode`` fetches, body images first."""
    if mode == "none":
        return []
    urls = [image.url for image in article.images] + list(article.stylesheets)
    if mode == "body":
        urls = [url for url in urls if same_site(url, page_url)]
    else:
        urls += article.page_resources
    return list(dict.fromkeys(urls))


class Requisites:
    """Which requisites a spider requests, once each in its run."""

    def __init__(self, mode: str, max_size: int, targets: Mapping | None = None) -> None:
        if mode not in REQUISITE_MODES:
            raise ValueError(f"requisites {mode!r}: expected one of {', '.join(REQUISITE_MODES)}")
        self.mode = mode
        self.max_size = max_size
        # {URL: storage.revisits.RevisitTarget} of requisites archived by earlier runs.
        self.targets = targets if targets is not None else {}
        self.seen: set[str] = set()

    def requests(self, article, page_url: str, *, callback, errback,
                 skip: Callable[[str], bool]) -> Iterator[scrapy.Request]:
        """Requests for the requisites of ``article`` not yet requested in this run (nor
        refused by ``skip``, e.g. a host behind an anti-bot wall)."""
        for url in wanted_urls(article, page_url, self.mode):
            # The spelling Scrapy sends and the archive records (percent-escaped).
            url = fetch_spelling(url)
            if url is None or url in self.seen or skip(url):
                continue
            self.seen.add(url)
            meta = {"kind": REQUISITE, "download_maxsize": self.max_size,
                    "download_warnsize": 0}
            headers = {}
            target = self.targets.get(url)
            if target is not None and target.refers_to is not None:
                meta[REVISIT_META] = target
                meta["handle_httpstatus_list"] = [304]
                headers = conditional_headers(target)
            yield scrapy.Request(url, callback=callback, errback=errback, priority=PRIORITY,
                                 headers=headers, meta=meta)
