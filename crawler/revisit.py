"""Fetching known articles again, and reading what a fetch of a known article says.

Revisit requests are conditional (``If-None-Match`` / ``If-Modified-Since`` from the last
capture of the URL). The archiver asks :func:`revisit_profile` whether an answer is a revisit:
a 304 is archived as a *server-not-modified* revisit record, a 200 whose payload digest equals
the last capture's as an *identical-payload-digest* one (headers only, referring to the
earlier record), so an unchanged recrawl costs a few hundred bytes a page.

:func:`classify_answer` and :func:`error_page_reason` tell a *gone* page (404/410, a redirect
to the home or section page, an error-like page) from a *blocked* one (anti-bot challenge,
captcha page); the spider (and a rebuild from the archive) turns them into
``storage.tracking.ObservationIn``. Transient failures (5xx, timeouts) are neither.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from govarchive.crawler.blocking import block_reason
from govarchive.storage import canonical_url

# request.meta key of a revisit request: its storage.revisits.RevisitTarget.
REVISIT_META = "govarchive_revisit"
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


@dataclass
class ObservationItem:
    """A fetch of an article URL that produced no article (see storage.tracking)."""

    source: str
    url: str
    record_id: str | None
    fetched_at: datetime
    kind: str  # "gone" | "blocked" | "not_modified"
    reason: str | None = None
    confirmations: int = 2  # the source's removal policy ([sources.tracking])
    min_interval: timedelta = timedelta(hours=24)


@dataclass
class Listing:
    """What one section's list pages showed during this run."""

    start_url: str
    fetched_at: datetime | None = None
    urls: list[str] = field(default_factory=list)
    record_ids: list[str] = field(default_factory=list)
    complete: bool = True


def payload_digest(body: bytes) -> str:
    """The WARC-Payload-Digest of ``body`` as the writer records it (``sha1:BASE32``)."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def conditional_headers(target) -> dict[str, str]:
    headers = {}
    if target.etag:
        headers["If-None-Match"] = target.etag
    if target.last_modified:
        headers["If-Modified-Since"] = target.last_modified
    return headers


def revisit_profile(target, status: int, url: str, body: bytes, truncated: bool) -> str | None:
    """Which revisit record (if any) archives this answer to a revisit request for ``target``
    (a ``storage.revisits.RevisitTarget``)."""
    if target is None or target.refers_to is None or url != target.url:
        return None
    if status == 304:
        return "server-not-modified"
    if (status == 200 and not truncated and target.payload_digest
            and payload_digest(body) == target.payload_digest):
        return "identical-payload-digest"
    return None


def is_home_or_section(final_url: str, section_urls) -> bool:
    """Whether a redirect landed on the site's home page or one of the section's list pages."""
    path = urlsplit(final_url).path
    if path.lower() in _HOME_PATHS:
        return True
    canonical = canonical_url(final_url)
    return any(canonical == canonical_url(u) for u in section_urls)


def classify_answer(status: int, headers) -> tuple[str, str] | None:
    """``("blocked", reason)``, ``("gone", reason)`` for a non-200 answer, or None (transient
    or not telling)."""
    reason = block_reason(status, headers)
    if reason is not None:
        return "blocked", reason
    if status in GONE_STATUSES:
        return "gone", f"answered {status}"
    return None


def error_page_reason(title: str | None, body_text: str | None) -> tuple[str, str] | None:
    """A page that answered 200 but is a captcha (blocked) or an error page (gone)."""
    text = f"{title or ''}\n{body_text or ''}"
    if len("".join((body_text or "").split())) > ERROR_PAGE_MAX_CHARS:
        return None
    if _CAPTCHA_PHRASES.search(text):
        return "blocked", "captcha page"
    match = _ERROR_PHRASES.search(text)
    if match:
        return "gone", f"error page ({match.group(0)})"
    return None
