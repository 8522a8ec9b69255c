"""What one response means for an article: the one decision the crawl and a rebuild share.

:func:`response_verdict` is pure: it takes what is known of an answer (status, headers, where
it was fetched, the redirects on the way, the section's list pages and, once the page has been
extracted, its title and text) and returns a :class:`Verdict`. The spider
(:mod:`crawler.spider`) asks it about each article response, ``govarchive replay reparse``
(:mod:`crawler.reparse`) about each archived capture, so a rebuild reads the archive as the
crawl read the network. The builders below turn a verdict into what each of them hands on.

A *gone* page (404/410, a redirect to the home or section page, an error page) is told from a
*blocked* one (anti-bot challenge, captcha page); transient failures (5xx, timeouts) are
neither.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from govarchive.crawler.blocking import block_reason
from govarchive.crawler.extract import Article
from govarchive.crawler.items import ArticleItem, ObservationItem
from govarchive.crawler.links import site_key
from govarchive.storage import ArticleIn, ObservationIn, canonical_url

# Observations: the fetch of a known article's URL produced no article (storage.tracking).
BLOCKED = "blocked"
GONE = "gone"
NOT_MODIFIED = "not_modified"
OBSERVATIONS = frozenset({BLOCKED, GONE, NOT_MODIFIED})
# The rest: what the caller does next.
ARTICLE = "article"  # store the extracted page
EXTRACT = "extract"  # extract the page, then ask again with it
REDIRECT = "redirect"  # the page is where the Location header points
REFETCH = "refetch"  # fetch the final URL again, unconditionally
ERROR = "error"  # transient or not telling: nothing to record about the article

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})  # what Scrapy's RedirectMiddleware follows
GONE_STATUSES = frozenset({404, 410})
# The home page of a site, however it is spelled.
_HOME_PATHS = frozenset({"", "/", "/index.htm", "/index.html", "/index.shtml", "/default.htm"})
_ERROR_PHRASES = re.compile(
    r"页面不存在|您访问的页面不存在|你访问的页面不存在|页面未找到|找不到(?:该|您要访问的)?页面|"
    r"页面已删除|信息已删除|文章已删除|该信息不存在|内容不存在|已被删除|无法找到该页|"
    r"\b404\b|Not Found|页面找不到"
)
_CAPTCHA_PHRASES = re.compile(r"验证码|人机验证|安全验证|请完成验证|访问验证")
# An error page says little; a real article that merely mentions "404" says much more.
ERROR_PAGE_MAX_CHARS = 300


@dataclass(frozen=True)
class Verdict:
    """What a response means for the article it was fetched as."""

    kind: str  # one of the names above
    url: str  # the article URL it is about (a gone redirect: where the redirect started)
    reason: str | None = None
    urls: tuple[str, ...] = ()  # ARTICLE: every URL on the way to it, redirects first

    @property
    def is_observation(self) -> bool:
        return self.kind in OBSERVATIONS


def response_verdict(*, url: str, status: int, headers, redirected_from: Sequence[str] = (),
                     section_urls: Collection[str] = (), page: Article | None = None) -> Verdict:
    """The verdict on an answer for ``url`` (the final URL, after ``redirected_from``).

    ``headers`` is read by :func:`crawler.blocking.block_reason` (a Scrapy ``Headers``, or any
    mapping with ``get``/``getlist``). ``section_urls`` are the list pages of the section the
    article belongs to. Without ``page`` a 2xx answer gets EXTRACT; with the extracted page it
    gets ARTICLE, or an observation when the page is an error or captcha page.
    """
    answer = classify_answer(status, headers)
    if answer is not None:
        return Verdict(answer[0], url, answer[1])
    if status in REDIRECT_STATUSES:
        return Verdict(REDIRECT, url, f"answered {status}")
    if status == 304:
        if redirected_from:
            # A revisit was redirected and its validators matched the page at the new URL (a
            # move): that page is fetched unconditionally, so the article gains the new URL.
            return Verdict(REFETCH, url, "304")
        return Verdict(NOT_MODIFIED, url, "304")
    if not 200 <= status < 300:
        return Verdict(ERROR, url, f"answered {status}")
    if redirected_from and is_home_or_section(url, section_urls):
        # Sites "delete" a page by sending its readers to the home or section page.
        return Verdict(GONE, redirected_from[0], f"redirected to {url}")
    if page is None:
        return Verdict(EXTRACT, url)
    error_page = error_page_reason(page.title, page.body_text)
    if error_page is not None:
        return Verdict(error_page[0], url, error_page[1])
    return Verdict(ARTICLE, url, urls=tuple(dict.fromkeys([*redirected_from, url])))


def classify_answer(status: int, headers) -> tuple[str, str] | None:
    """``("blocked", reason)``, ``("gone", reason)`` for a non-200 answer, or None (transient
    or not telling)."""
    reason = block_reason(status, headers)
    if reason is not None:
        return BLOCKED, reason
    if status in GONE_STATUSES:
        return GONE, f"answered {status}"
    return None


def error_page_reason(title: str | None, body_text: str | None) -> tuple[str, str] | None:
    """A page that answered 200 but is a captcha (blocked) or an error page (gone)."""
    text = f"{title or ''}\n{body_text or ''}"
    if len("".join((body_text or "").split())) > ERROR_PAGE_MAX_CHARS:
        return None
    if _CAPTCHA_PHRASES.search(text):
        return BLOCKED, "captcha page"
    match = _ERROR_PHRASES.search(text)
    if match:
        return GONE, f"error page ({match.group(0)})"
    return None


def is_home_or_section(final_url: str, section_urls: Collection[str]) -> bool:
    """Whether a redirect landed on the site's home page or one of the section's list pages."""
    path = urlsplit(final_url).path
    if path.lower() in _HOME_PATHS:
        return True
    canonical = canonical_url(final_url)
    return any(canonical == canonical_url(u) for u in section_urls)


def same_site(url: str, start: str) -> bool:
    """Whether ``url`` is on the site of the section page ``start`` (a list page to follow)."""
    return site_key(urlsplit(url).hostname or "") == site_key(urlsplit(start).hostname or "")


# -- what the crawl and the rebuild hand on -----------------------------------------------------

def article_item(verdict: Verdict, article: Article, *, source: str, record_id: str,
                 fetched_at: datetime, signature: list[int] | None = None,
                 section_url: str | None = None) -> ArticleItem:
    """The spider's item for an ARTICLE verdict."""
    return ArticleItem(source=source, url=verdict.url, urls=list(verdict.urls),
                       record_id=record_id, fetched_at=fetched_at, fields=article.to_record(),
                       signature=signature, section_url=section_url)


def article_in(verdict: Verdict, article: Article, *, source: str, capture_record_id: str,
               fetched_at: datetime) -> ArticleIn:
    """What a rebuild stores for an ARTICLE verdict."""
    fields = {k: v for k, v in article.to_record().items() if k != "url"}
    return ArticleIn(source=source, url=verdict.url, urls=list(verdict.urls),
                     capture_record_id=capture_record_id, fetched_at=fetched_at, fields=fields)


def observation_item(verdict: Verdict, *, source: str, record_id: str, fetched_at: datetime,
                     tracking) -> ObservationItem:
    """The spider's item for an observation verdict; ``tracking`` is the source's
    ``[sources.tracking]`` (its removal policy)."""
    return ObservationItem(source=source, url=verdict.url, record_id=record_id,
                           fetched_at=fetched_at, kind=verdict.kind, reason=verdict.reason,
                           confirmations=tracking.removal_confirmations,
                           min_interval=tracking.removal_min_interval)


def observation_in(verdict: Verdict, *, source: str, capture_record_id: str,
                   fetched_at: datetime, tracking) -> ObservationIn:
    """What a rebuild stores for an observation verdict (``tracking`` as above)."""
    return ObservationIn(source=source, url=verdict.url, capture_record_id=capture_record_id,
                         fetched_at=fetched_at, kind=verdict.kind, reason=verdict.reason,
                         confirmations=tracking.removal_confirmations,
                         min_interval=tracking.removal_min_interval)
