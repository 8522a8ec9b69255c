"""Section lists delivered as JSON: reading an answer, and the request for the next page.

Many government sites no longer print their lists in the page: www.gov.cn columns render
``ZUIXINZHENGCE.json``-style files (an array of ``{TITLE, URL, DOCRELPUBTIME}``), Hanweb JPaaS
(浙江/国家部委集约化 platforms) answers ``/api-gateway/jpaas-publish-server/front/page/build/unit``
with the list's HTML inside ``{"data": {"html": "<li>…"}}``, 开普云/ucms and other 集约化
endpoints answer ``{"data": {"list": [{"title", "url", …}], "total": …}}``. Without knowing
the site, the list is the array whose objects carry a URL-like and a title-like field (the
fullest such array), or else the HTML fragments held in string values. A field is known by
its key (``url``, ``linkUrl``, ``DOCTITLE``, …) or, when no key says it (keys in pinyin such as
``lianjie``/``biaoti``, or a TRS field id ``f_202121500898``), by the shape of its value.

The request for the next page comes from :mod:`crawler.api_pages`.

Pure functions over text: the spider and ``replay reparse`` read a capture the same way.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from lxml import etree
from lxml import html as lxml_html

from govarchive.crawler.api_pages import ApiCall, answer_totals, find_pager, next_page_call
from govarchive.crawler.extract import decode_html
from govarchive.crawler.extract.encoding import check_html
from govarchive.crawler.list_items import IMAGE_EXTENSIONS, absolute_url, item_fields
from govarchive.crawler.xml_lists import is_xml_type, looks_like_xml_feed

# How deep into an answer the list is looked for.
_MAX_DEPTH = 8

JSON_TYPES = ("application/json", "text/json", "application/javascript", "text/javascript",
              "application/x-javascript")
_ITEM_TAGS = ("li", "tr", "dd", "dt")

@dataclass
class JsonItem:
    url: str
    title: str = ""
    date: str = ""


@dataclass
class JsonList:
    """What a JSON list answer holds."""

    items: list[JsonItem] = field(default_factory=list)
    html_fragments: list[str] = field(default_factory=list)  # list HTML inside string values
    next_call: ApiCall | None = None
    total_pages: int | None = None

    @property
    def count(self) -> int:
        return len(self.items)


# -- telling JSON from HTML ------------------------------------------------------------------


def looks_like_json(body: bytes, content_type: str | None = None) -> bool:
    """True when a list answer is JSON (by its content type, or by its first character)."""
    mime = (content_type or "").split(";")[0].strip().lower()
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if mime in JSON_TYPES or mime.endswith("+json"):
        return head[:1] in (b"{", b"[") or _jsonp_start(head)
    return (head[:1] in (b"{", b"[") or _jsonp_start(head)) and _parses(body)


# A JSONP answer: callback({...}) or jQuery123_456([...]).
JSONP_START = re.compile(r"[\w$.]+\s*\(\s*[\[{]")


def _jsonp_start(head: bytes) -> bool:
    return bool(JSONP_START.match(head.decode("latin-1")))


def _parses(body: bytes) -> bool:
    try:
        load_json(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return False
    return True


def decode_list_body(body: bytes, content_type: str | None) -> tuple[str, bool]:
    """(text, is_json) of a list response; ``NotHTMLError`` for binary data or garbage.

    JSON is UTF-8 (RFC 8259); an answer in another encoding is decoded as HTML would be.
    """
    if looks_like_json(body, content_type):
        try:
            return body.decode("utf-8-sig"), True
        except UnicodeDecodeError:
            text, _codec = decode_html(body, "text/html")
            return text, True
    if is_xml_type(content_type):  # an XML list feed (RSS, a list API's items) is read too
        text, _codec = decode_html(body, content_type)
        if looks_like_xml_feed(text, content_type):
            return text, False
    check_html(body, content_type)
    text, _codec = decode_html(body, content_type)
    return text, False


def load_json(text: str) -> Any:
    """The value of a JSON (or JSONP ``callback({...})``) text; ValueError when it is neither."""
    text = text.strip().lstrip("\ufeff")
    try:
        return json.loads(text)
    except ValueError:
        match = re.match(r"^[\w$.]+\s*\((.*)\)\s*;?\s*$", text, re.DOTALL)
        if not match:
            raise
        return json.loads(match.group(1))


# -- reading an answer ----------------------------------------------------------------------


def read_json_list(text: str, call: ApiCall) -> JsonList:
    """Read a JSON list answer to ``call`` (its URL is the base for relative links)."""
    try:
        data = load_json(text)
    except ValueError:
        return JsonList()
    found = JsonList()
    best = _best_array(data)
    if best:
        found.items = _items(best, call.url)
    else:
        found.html_fragments = [s for s in _strings(data, 0) if "<a" in s.lower() and "href" in s]
    totals = answer_totals(data)
    pager = find_pager(found.html_fragments)
    if pager is not None:  # the list HTML's pager tells the totals the JSON does not
        totals.setdefault("size", pager.size)
        if pager.records is not None:
            totals.setdefault("records", pager.records)
    shown = found.count or _fragment_links(found.html_fragments)
    found.next_call, found.total_pages = next_page_call(call, shown, totals, pager)
    return found


def _best_array(data: Any) -> list[dict] | None:
    """The array of objects with the most items carrying a URL-like and a title-like field."""
    best, best_score = None, 0
    for array in _arrays(data, 0):
        score = sum(1 for item in array if all(item_fields(item)[:2]))
        if score > best_score:
            best, best_score = array, score
    return best


def _arrays(value: Any, depth: int):
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, list):
        objects = [v for v in value if isinstance(v, dict)]
        if objects:
            yield objects
        for v in value:
            yield from _arrays(v, depth + 1)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _arrays(v, depth + 1)


def _strings(value: Any, depth: int):
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, depth + 1)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v, depth + 1)


def _items(array: list[dict], base: str) -> list[JsonItem]:
    items, seen = [], set()
    for item in array:
        href, title, date = item_fields(item)
        url = absolute_url(base, href) if href else None
        if not url or url in seen:
            continue
        seen.add(url)
        items.append(JsonItem(url, title, date))
    return items


def fragment_links(fragment: str, base: str) -> list[tuple[str, str]]:
    """The list's links in an HTML fragment an API answered: the anchors of its repeated items
    (the fullest group of ``li``/``tr``/``dd`` siblings, and any group nearly as full).

    The fragment is the list by construction, so a link need not have an article's URL shape
    (JPaaS articles are ``/col/colN/art/2026/art_<hex>.html``); pager buttons and styles, which
    sit outside the items, are left out."""
    try:
        doc = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return []
    groups: dict[object, list[tuple[str, str]]] = {}
    for anchor in doc.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        url = absolute_url(base, href)
        if not url or url == base or urlsplit(url).path.lower().endswith(IMAGE_EXTENSIONS):
            continue
        item = next((el for el in anchor.iterancestors() if el.tag in _ITEM_TAGS), None)
        if item is None:
            continue
        text = " ".join(anchor.text_content().split())
        title = (anchor.get("title") or "").strip()
        if title and title.startswith(text.rstrip(".…")):
            text = title  # the item shows its title cut short ("…关于印发《…》的通...")
        groups.setdefault(item.getparent(), []).append((url, text))
    if not groups:
        return []
    best = max(len(links) for links in groups.values())
    threshold = max(2, best // 2) if best > 2 else best
    found, seen = [], set()
    for links in groups.values():
        if len(links) >= threshold:
            for url, text in links:
                if url not in seen:
                    seen.add(url)
                    found.append((url, text))
    return found


def _fragment_links(fragments: list[str]) -> int:
    return sum(len(re.findall(r"<a\b[^>]*\bhref", f, re.IGNORECASE)) for f in fragments)


