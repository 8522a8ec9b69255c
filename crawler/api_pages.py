"""Where a list API request carries its page number, and the request for the next page.

The next page is asked by the same request with its page number moved on: the number is a
query or body parameter (``pageNo``, ``page``, ``pageIndex``, ``currentPage``, ...; ``start``/
``offset`` count records), possibly inside a JSON-valued parameter (JPaaS ``paramJson``) or in
a static JSON file's path (``data_itemId=915,pageIndex=1,pageSize=18.json``). The walk stops
at the total the answer gives (pages, or records over the page size), at a short or empty
page, and after :data:`MAX_API_PAGES`. A JPaaS answer names its next page in the pager of its
list HTML (``unitUrl``, ``queryData``, ``pageNo``, ``rows``, ``count``).

Pure functions over requests and answers, shared by :mod:`crawler.json_lists` (answers),
:mod:`crawler.script_lists` (a shell's first request) and :mod:`crawler.list_api`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from html import unescape
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from govarchive.crawler.extract.page import join_url

# More pages than any section has; the spider stops at max_list_pages long before.
MAX_API_PAGES = 10_000

FORM_TYPE = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"
PAGE_NAMES = ("pageno", "page", "pageindex", "currentpage", "pagenum", "curpage", "page_no",
              "pagenumber", "pn", "cpage", "nowpage", "page_index", "current")
OFFSET_NAMES = ("start", "offset", "startindex", "startrecord", "from", "begin")
_SIZE_NAMES = ("pagesize", "rows", "size", "limit", "perpage", "page_size", "pagecount_size",
               "length", "num", "count_per_page")
_TOTAL_PAGE_NAMES = ("totalpage", "totalpages", "pagecount", "pages", "totalpagenum",
                     "total_page", "total_pages", "pagetotal", "page_count", "maxpage")
_TOTAL_NAMES = ("total", "totalcount", "totalrecord", "totalrecords", "recordcount", "count",
                "totalnum", "totalelements", "totalsize", "total_count", "totalrow", "rowcount")
# The JPaaS pager inside an answer's HTML: the unit URL, its query and where the list stands.
_PAGER_RE = re.compile(r"<[a-z]+\b[^>]*\bunitUrl\s*=\s*[\"'][^\"']+[\"'][^>]*>",
                       re.IGNORECASE | re.DOTALL)
_ATTR_RE = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.DOTALL)


class ApiCall(NamedTuple):
    """A list request (``crawler.links.ListRequest`` is built from it)."""

    url: str
    method: str = "GET"
    body: str | None = None
    content_type: str | None = None



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


def find_pager(fragments: list[str]) -> _Pager | None:
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
