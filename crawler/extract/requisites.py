"""What a page needs to be seen as it was: the pictures of its body, its stylesheets, and the
rest of its images, scripts and icons (fetched by :mod:`crawler.requisites`).

Government CMSs often lazy-load pictures: ``src`` holds a spinner or a 1x1 GIF, and the picture
is in ``data-src`` (or ``data-original``, ``original-src``, ...), which a script swaps in. The
lazy attribute, when present, is the picture.
"""

from __future__ import annotations

import re

from w3lib.url import safe_url_string

from .model import Image
from .page import join_url, squash

# Where lazy-loading scripts keep the real picture, most common first.
LAZY_SOURCES = ("data-src", "data-original", "original-src", "data-original-src",
                "data-lazy-src")
_SCRIPT_SRC = re.compile(r"""<script\b[^>]*?\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""",
                         re.IGNORECASE)


def image_source(img) -> str | None:
    """The picture an ``<img>`` shows once its page's scripts ran (as written, not joined)."""
    for name in LAZY_SOURCES:
        value = (img.get(name) or "").strip()
        if value and not value.startswith(("data:", "javascript:")):
            return value
    value = (img.get("src") or "").strip()
    return value or None


def _fetchable(url: str | None) -> bool:
    return bool(url) and url.startswith(("http://", "https://"))


def fetch_spelling(url: str) -> str | None:
    """``url`` percent-escaped as Scrapy requests it and the archive records it; None when it
    is no URL (``http://[::1`` in a page)."""
    try:
        return safe_url_string(url)
    except ValueError:
        return None


def body_images(cleaned) -> list[Image]:
    """The pictures of a cleaned body (its ``src`` already absolute), first occurrence kept,
    each URL spelt as it is fetched and archived (percent-escaped, as Scrapy sends it)."""
    found: dict[str, Image] = {}
    for img in cleaned.iter("img"):
        src = img.get("src")
        if not _fetchable(src):
            continue
        url = fetch_spelling(src)
        if url is not None and url not in found:
            found[url] = Image(url, squash(img.get("alt") or img.get("title") or ""))
    return list(found.values())


def page_requisites(root, text: str, base_url: str) -> tuple[list[str], list[str]]:
    """(the page's stylesheets, its other images, scripts and icons) as absolute URLs.

    ``root`` is the parsed page (scripts are gone from it, so their ``src`` is read from
    ``text``)."""
    stylesheets: dict[str, None] = {}
    others: dict[str, None] = {}
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        href = (link.get("href") or "").strip()
        if not href:
            continue
        if "stylesheet" in rel:
            stylesheets[join_url(base_url, href) or ""] = None
        elif "icon" in rel or "apple-touch-icon" in rel:
            others[join_url(base_url, href) or ""] = None
    for img in root.iter("img"):
        src = image_source(img)
        if src:
            others[join_url(base_url, src) or ""] = None
    for match in _SCRIPT_SRC.finditer(text):
        src = next(group for group in match.groups() if group is not None).strip()
        if src:
            others[join_url(base_url, src) or ""] = None
    return ([url for url in stylesheets if _fetchable(url)],
            [url for url in others if _fetchable(url) and url not in stylesheets])
