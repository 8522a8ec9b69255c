"""Section lists delivered as JSON: reading an answer, and the request for the next page.

Many government sites no longer print their lists in the page: www.gov.cn columns render
``ZUIXINZHENGCE.json``-style files (an array of ``{TITLE, URL, DOCRELPUBTIME}``), Hanweb JPaaS
(浙江/国家部委集约化 platforms) answers ``/api-gateway/jpaas-publish-server/front/page/build/unit``
with the list's HTML inside ``{"data": {"html": "<li>…"}}``, 开普云/ucms and other 集约化
endpoints answer ``{"data": {"list": [{"title", "url", …}], "total": …}}``. Without knowing
the site, the list is the array whose objects carry a URL-like and a title-like field (the
fullest such array), or else the HTML fragments held in string values.

The next page is asked by the same request with its page number moved on: the number is a
query or body parameter (``pageNo``, ``page``, ``pageIndex``, ``currentPage``, ...; ``start``/
``offset`` count records), possibly inside a JSON-valued parameter (JPaaS ``paramJson``). The
walk stops at the total the answer gives (pages, or records over the page size), at a short or
empty page, and after :data:`MAX_API_PAGES`.

Pure functions over text: the spider and ``replay reparse`` read a capture the same way.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from html import unescape
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from lxml import etree
from lxml import html as lxml_html

from govarchive.crawler.extract import decode_html
from govarchive.crawler.extract.encoding import check_html
from govarchive.crawler.extract.page import join_url

# More pages than any section has; the spider stops at max_list_pages long before.
MAX_API_PAGES = 10_000
# How deep into an answer the list and its totals are looked for.
_MAX_DEPTH = 8

JSON_TYPES = ("application/json", "text/json", "application/javascript", "text/javascript",
              "application/x-javascript")
FORM_TYPE = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"

_URL_KEY = re.compile(r"(?i)(?:url|link|href|path|uri)$|^(?:url|link|href)")
_NOT_PAGE_KEY = re.compile(r"(?i)pic|img|image|thumb|icon|logo|cover|video|audio|file|attach|"
                           r"photo|banner|avatar|source")
_TITLE_KEY = re.compile(r"(?i)title|subject|headline|^name$|^doc_?name$")
_DATE_KEY = re.compile(r"(?i)date|time|publish|pubtime|created|releas")
PAGE_NAMES = ("pageno", "page", "pageindex", "currentpage", "pagenum", "curpage", "page_no",
               "pagenumber", "pn", "cpage", "nowpage", "page_index", "current")
OFFSET_NAMES = ("start", "offset", "startindex", "startrecord", "from", "begin")
_SIZE_NAMES = ("pagesize", "rows", "size", "limit", "perpage", "page_size", "pagecount_size",
               "length", "num", "count_per_page")
_TOTAL_PAGE_NAMES = ("totalpage", "totalpages", "pagecount", "pages", "totalpagenum",
                     "total_page", "total_pages", "pagetotal", "page_count", "maxpage")
_TOTAL_NAMES = ("total", "totalcount", "totalrecord", "totalrecords", "recordcount", "count",
                "totalnum", "totalelements", "totalsize", "total_count", "totalrow", "rowcount")
_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".svg", ".css", ".js")
# The JPaaS pager inside an answer's HTML: the unit URL, its query and where the list stands.
_PAGER_RE = re.compile(r"<[a-z]+\b[^>]*\bunitUrl\s*=\s*[\"'][^\"']+[\"'][^>]*>", re.IGNORECASE | re.DOTALL)
_ATTR_RE = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.DOTALL)
_ITEM_TAGS = ("li", "tr", "dd", "dt")


class ApiCall(NamedTuple):
    """A list request (``crawler.links.ListRequest`` is built from it)."""

    url: str
    method: str = "GET"
    body: str | None = None
    content_type: str | None = None


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
    return head[:1] in (b"{", b"[") and _parses(body)


def _jsonp_start(head: bytes) -> bool:
    return bool(re.match(rb"[\w$.]+\s*\(\s*[\[{]", head))


def _parses(body: bytes) -> bool:
    try:
        json.loads(body.decode("utf-8-sig"))
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
    pager = _pager(found.html_fragments)
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
        score = sum(1 for item in array if _url_of(item) and _field(item, _TITLE_KEY))
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


def _field(item: dict, key_re: re.Pattern) -> str:
    for key, value in item.items():
        if key_re.search(key) and isinstance(value, (str, int, float)) and str(value).strip():
            return str(value).strip()
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
                not urlsplit(value).path.lower().endswith(_IMAGE_EXTENSIONS):
            return value
    return ""


def _items(array: list[dict], base: str) -> list[JsonItem]:
    items, seen = [], set()
    for item in array:
        href = _url_of(item)
        url = absolute_url(base, href) if href else None
        if not url or url in seen:
            continue
        seen.add(url)
        items.append(JsonItem(url, _text(_field(item, _TITLE_KEY)), _field(item, _DATE_KEY)))
    return items


def _text(value: str) -> str:
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
        if not url or url == base or urlsplit(url).path.lower().endswith(_IMAGE_EXTENSIONS):
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


def answer_totals(data: Any) -> dict[str, int]:
    """Total pages, total records and page size, wherever the answer gives them (shallowest
    first)."""
    found: dict[str, int] = {}
    queue = [(data, 0)]
    while queue:
        value, depth = queue.pop(0)
        if depth > 3 or not isinstance(value, dict):
            continue
        for key, v in value.items():
            name = key.lower()
            number = _int(v)
            if number is not None:
                for kind, names in (("pages", _TOTAL_PAGE_NAMES), ("records", _TOTAL_NAMES),
                                    ("size", _SIZE_NAMES)):
                    if name in names and kind not in found:
                        found[kind] = number
            elif isinstance(v, dict):
                queue.append((v, depth + 1))
    return found


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


# -- the next page --------------------------------------------------------------------------


@dataclass
class _Pager:
    url: str
    query: dict[str, str]
    page: int
    size: int
    records: int | None


def _pager(fragments: list[str]) -> _Pager | None:
    """A JPaaS pager in the answer's HTML (``unitUrl``, ``queryData``, ``pageNo``, ``rows``,
    ``count``): how the browser asks the next page when the request did not name one."""
    for fragment in fragments:
        match = _PAGER_RE.search(fragment)
        if not match:
            continue
        attrs = {k.lower(): unescape(a if a else b) for k, a, b in _ATTR_RE.findall(match.group(0))}
        query = js_object(attrs.get("querydata", ""))
        page, size = _int(attrs.get("pageno")), _int(attrs.get("rows"))
        if query and page and size:
            return _Pager(attrs["uniturl"], query, page, size, _int(attrs.get("count")))
    return None


def next_page_call(call: ApiCall, shown: int, totals: dict[str, int],
                   pager: _Pager | None = None) -> tuple[ApiCall | None, int | None]:
    """The request for the page after the one ``call`` asked (None at the end), and the
    number of pages when the answer tells it."""
    size = totals.get("size")
    records = totals.get("records")
    place = _find_page_param(call)
    if place is None and pager is not None:
        size, records = pager.size, pager.records if pager.records is not None else records
        pages = math.ceil(records / size) if records is not None and size else None
        if shown == 0 or (pages is not None and pager.page >= pages) or shown < size:
            return None, pages
        query = {**pager.query,
                 "paramJson": _compact({"pageNo": pager.page + 1, "pageSize": size})}
        url = join_url(call.url, pager.url) or call.url
        return ApiCall(_with_query(url, query), "GET"), pages
    if place is None:
        return None, totals.get("pages")
    size = size or place.size
    pages = totals.get("pages")
    if pages is None and records is not None and size:
        pages = math.ceil(records / size)
    if shown == 0 or (size and shown < size):
        return None, pages
    if place.offset:
        step = size or shown
        if records is not None and place.value + step >= records:
            return None, pages
        following = place.value + step
    else:
        # Pages counted from 0 when the walk started at 0 (pageIndex=0).
        last = pages - 1 if (pages is not None and place.zero_based) else pages
        if last is not None and place.value >= last:
            return None, pages
        following = place.value + 1
    if following > MAX_API_PAGES * (step if place.offset else 1):
        return None, pages
    return place.replace(following), pages


@dataclass
class _PageParam:
    """Where a request carries its page number, and how to write another one there."""

    call: ApiCall
    where: str  # "query" | "form" | "json"
    key: str
    value: int
    offset: bool
    nested: str | None = None  # a parameter whose value is JSON holding the page number
    size: int | None = None
    zero_based: bool = False

    def replace(self, number: int) -> ApiCall:
        call = self.call
        if self.where == "query":
            parts = urlsplit(call.url)
            pairs = [(k, self._set(k, v, number)) for k, v in parse_qsl(parts.query,
                                                                           keep_blank_values=True)]
            return call._replace(url=urlunsplit(parts._replace(query=urlencode(pairs))))
        if self.where == "form":
            pairs = [(k, self._set(k, v, number))
                     for k, v in parse_qsl(call.body or "", keep_blank_values=True)]
            return call._replace(body=urlencode(pairs))
        if self.where == "path":  # .../data_itemId=915,pageIndex=2,pageSize=18.json
            parts = urlsplit(call.url)
            path = re.sub(rf"(?<=[_,;/&]){re.escape(self.key)}=\d+", f"{self.key}={number}",
                          parts.path, count=1)
            return call._replace(url=urlunsplit(parts._replace(path=path)))
        body = json.loads(call.body or "{}")
        _set_json(body, self.key, number)
        return call._replace(body=_compact(body))

    def _set(self, key: str, value: str, number: int) -> str:
        if self.nested is not None and key == self.nested:
            inner = json.loads(value)
            _set_json(inner, self.key, number)
            return _compact(inner)
        if self.nested is None and key == self.key:
            return str(number)
        return value


def _set_json(obj: dict, key: str, number: int) -> None:
    old = obj.get(key)
    obj[key] = str(number) if isinstance(old, str) else number


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _find_page_param(call: ApiCall) -> _PageParam | None:
    sources: list[tuple[str, list[tuple[str, str]] | dict]] = [
        ("query", parse_qsl(urlsplit(call.url).query, keep_blank_values=True))]
    if call.body:
        if _is_json_body(call):
            try:
                body = json.loads(call.body)
            except ValueError:
                body = None
            if isinstance(body, dict):
                sources.append(("json", body))
        else:
            sources.append(("form", parse_qsl(call.body, keep_blank_values=True)))
    # Static JSON files name their page in the path: data_itemId=915,pageIndex=1,pageSize=18.json
    path_pairs = re.findall(r"(?<=[_,;/&])([A-Za-z_]+)=(\d+)", urlsplit(call.url).path)
    sources.append(("path", path_pairs))
    for where, values in sources:
        pairs = list(values.items()) if isinstance(values, dict) else values
        found = _page_in(call, where, pairs, None)
        if found:
            return found
        for key, value in pairs:  # a JSON-valued parameter: JPaaS paramJson={"pageNo":2,...}
            if isinstance(value, str) and value.strip().startswith("{"):
                try:
                    inner = json.loads(value)
                except ValueError:
                    continue
                if isinstance(inner, dict):
                    found = _page_in(call, where, list(inner.items()), key)
                    if found:
                        return found
    return None  # no page number: one answer is the whole list


def _page_in(call: ApiCall, where: str, pairs, nested: str | None) -> _PageParam | None:
    lowered = {str(k).lower(): (k, v) for k, v in pairs}
    size = next((n for name in _SIZE_NAMES if name in lowered
                 and (n := _int(lowered[name][1])) is not None), None)
    for names, offset in ((PAGE_NAMES, False), (OFFSET_NAMES, True)):
        for name in names:
            if name in lowered:
                key, value = lowered[name]
                number = _int(value)
                if number is not None:
                    return _PageParam(call, where, key, number, offset, nested, size,
                                      zero_based=number == 0)
    return None


def _is_json_body(call: ApiCall) -> bool:
    if call.content_type:
        return "json" in call.content_type.lower()
    return (call.body or "").lstrip()[:1] in ("{", "[")


def _with_query(url: str, query: dict[str, str]) -> str:
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True) + list(query.items())
    return urlunsplit(parts._replace(query=urlencode(pairs)))


# -- JavaScript object literals -------------------------------------------------------------

_JS_PAIR_RE = re.compile(
    r"""["']?([\w$-]+)["']?\s*:\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|"""
    r"""(-?\d+(?:\.\d+)?|true|false|null)\b|([\w$.]+(?:\([^()]*\))?))""")


def js_object(text: str) -> dict[str, str]:
    """The literal members of a JavaScript object ``{a: 1, 'b': "x"}`` (flat) as strings.

    Members whose value is an expression (a variable, a call) are left out, except page
    numbers, which start at 1 (the first page the browser asks)."""
    text = text.strip()
    text = text.removeprefix("{")
    text = text.removesuffix("}")
    values: dict[str, str] = {}
    for key, single, double, literal, expression in _JS_PAIR_RE.findall(text):
        if single or double or (not literal and not expression and key):
            values[key] = single or double
        elif literal:
            values[key] = literal
        elif key.lower() in PAGE_NAMES:
            values[key] = "1"
    return values
