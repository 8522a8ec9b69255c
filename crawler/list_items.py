"""What one item of a list holds, whatever its keys are called: its address, its title, its
date.

JSON answers and inline JavaScript arrays give a list as objects. Most name their fields
(``url``, ``linkUrl``, ``DOCPUBURL``; ``title``, ``DOCTITLE``; ``pubDate``); some do not:
keys in pinyin (``lianjie``, ``biaoti``, ``fbsj``) or field ids (TRS ``f_202121500898``).
A field is known by its key, else by the shape of its value.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit, urlunsplit

from govarchive.crawler.extract.page import join_url

_URL_KEY = re.compile(r"(?i)(?:url|link|href|path|uri)$|^(?:url|link|href)")
_NOT_PAGE_KEY = re.compile(r"(?i)pic|img|image|thumb|icon|logo|cover|video|audio|file|attach|"
                           r"photo|banner|avatar|source")
_TITLE_KEY = re.compile(r"(?i)title|subject|headline|^name$|^doc_?name$")
_DATE_KEY = re.compile(r"(?i)date|time|publish|pubtime|created|releas")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".svg", ".css", ".js")
_PAGE_EXTENSION = re.compile(r"(?i)\.(?:s?html?|jspx?|aspx?|php)$")
_DATE_VALUE = re.compile(r"^\s*(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_TITLE_MAX = 150  # longer strings are a summary or the text, not the title a list shows


def _field(item: dict, key_re: re.Pattern) -> str:
    for key, value in item.items():
        if key_re.search(key) and isinstance(value, (str, int, float)) and str(value).strip():
            return str(value).strip()
    return ""


def item_fields(item: dict) -> tuple[str, str, str]:
    """(address, title, date) of one list item, each "" when absent: by the names of its keys,
    else by the shape of its values."""
    href = _url_of(item) or _address_by_shape(item)
    title = item_text(_field(item, _TITLE_KEY)) or _title_by_shape(item, href)
    return href, title, _field(item, _DATE_KEY) or _date_by_shape(item)


def _address_by_shape(item: dict) -> str:
    """A value that is a page's address: absolute or rooted, or a file of a page's kind,
    whose last segment names one page (a number, an extension), not a folder or a picture."""
    for key, value in item.items():
        if not isinstance(value, str) or _NOT_PAGE_KEY.search(key):
            continue
        value = value.strip()
        if not value or len(value) > 1000 or any(c.isspace() for c in value):
            continue
        parts = urlsplit(value)
        last = parts.path.rsplit("/", 1)[-1]
        rooted = parts.scheme in ("http", "https") or value.startswith(("/", "./", "../"))
        if not (rooted or _PAGE_EXTENSION.search(last)) or \
                last.lower().endswith(IMAGE_EXTENSIONS):
            continue
        if _PAGE_EXTENSION.search(last) or any(c.isdigit() for c in last):
            return value
    return ""


def _title_by_shape(item: dict, href: str) -> str:
    """The text most like a title: the most Chinese characters (else the longest), not an
    address, a date or a number, and short enough not to be a summary."""
    best, best_score = "", (0, 0)
    for key, value in item.items():
        if not isinstance(value, str) or _NOT_PAGE_KEY.search(key) or value.strip() == href:
            continue
        text = item_text(value)
        if not 2 <= len(text) <= _TITLE_MAX or _DATE_VALUE.match(text) or \
                not any(c.isalpha() for c in text):
            continue
        if " " not in text and ("/" in text or text.lower().startswith("http")):
            continue  # an address
        score = (len(_CJK.findall(text)), len(text))
        if score > best_score:
            best, best_score = text, score
    return best


def _date_by_shape(item: dict) -> str:
    for value in item.values():
        if isinstance(value, str) and _DATE_VALUE.match(value):
            return value.strip()
    return ""


def _url_of(item: dict) -> str:
    # "url"/"link"/"href" before "path"-like keys (a channel's path sits beside the link).
    keys = sorted(item, key=lambda k: 0 if re.search(r"(?i)url|link|href", k) else 1)
    for key in keys:
        value = item[key]
        if not isinstance(value, str) or not _URL_KEY.search(key) or _NOT_PAGE_KEY.search(key):
            continue
        value = value.strip()
        if value and not value.startswith(("#", "javascript:", "mailto:")) and \
                not urlsplit(value).path.lower().endswith(IMAGE_EXTENSIONS):
            return value
    return ""


def item_text(value: str) -> str:
    """A title as shown: markup (search highlights) and entities gone."""
    return " ".join(unescape(re.sub(r"<[^>]+>", "", value)).split())


def absolute_url(base: str, href: str) -> str | None:
    """``href`` (root-relative, ``//host/…``, ``./``, ``../../``) against ``base``; None
    unless the result is http(s)."""
    joined = join_url(base, href.strip())
    if joined is None:
        return None
    parts = urlsplit(joined)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return urlunsplit(parts._replace(fragment=""))
