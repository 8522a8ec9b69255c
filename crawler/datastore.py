"""Hanweb JCMS (大汉) lists: records inside a ``<datastore>`` and the data proxy behind them.

A Hanweb column page (``/col/colNNN/index.html``) carries its list as XML inside
``<script type="text/xml"><datastore><recordset><record><![CDATA[<li>…</li>]]></record>…``;
the browser's ``jquery.jpage.js`` paginates it and fetches further records by POST from
``/module/web/jpage/dataproxy.jsp?startrecord=…&endrecord=…&perpage=…`` with the form
``param_<unitid> = {col:1, webid:…, columnid:…, unitid:'…', …}`` the page's script declares.
The proxy answers the same ``<datastore>`` XML, so one reader serves both. A column whose
script names no proxy form is paged by the server as ``index.html?uid=<unit>&pageNum=2``
(the links jpage's pager shows): those pages are asked by GET.

The page's lxml tree drops CDATA, so the records are read from the raw text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from lxml import etree
from lxml import html as lxml_html

from govarchive.crawler.extract.page import join_url

DEFAULT_PROXY = "/module/web/jpage/dataproxy.jsp"
_DATASTORE_RE = re.compile(r"<datastore\b.*?(?:</datastore>|$)", re.S | re.I)
_RECORD_RE = re.compile(r"<record\b[^>]*>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)
_UNIT_RE = re.compile(r"""<div\s+id=["']?(\w+)["']?[^>]*>\s*<script\s+type=["']text/xml["']""",
                      re.I)
_JPAGE_RE = re.compile(r"""\$\(\s*['"]#(\w+)['"]\s*\)\.jpage\(\s*\{(.*?)\}\s*\)""", re.S)
_OBJECT_VAR_RE = r"\b{name}\s*=\s*\{{([^}}]*)\}}"
_JS_PAIR_RE = re.compile(r"""(\w+)\s*:\s*(?:'([^']*)'|"([^"]*)"|([^,}]*))""")
_NEXTGROUP_RE = re.compile(r"<nextgroup>\s*<!\[CDATA\[.*?href=[\"']([^\"']+)", re.S | re.I)
_TOTAL_RE = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.I)
# Form fields the proxy needs; from the ``<nextgroup>`` link when the script names none.
_FORM_FIELDS = ("col", "appid", "webid", "path", "columnid", "sourceContentType", "unitid",
                "webname", "permissiontype")
# More requests than any column needs; the spider stops at max_list_pages long before.
MAX_PROXY_REQUESTS = 1_000


@dataclass
class DatastoreList:
    """The records' links of a Hanweb list and the POSTs that fetch the next records."""

    links: list[tuple[str, str]] = field(default_factory=list)  # (href as written, text)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (url, form)
    # Further pages asked by GET (``index.html?uid=<unit>&pageNum=N``), when no form is known.
    pages: list[str] = field(default_factory=list)


def read_datastore(text: str, url: str, form: dict[str, str] | None = None) -> DatastoreList:
    """Read the datastores of a column page or of a data-proxy answer at ``url``.

    ``form`` is the form a proxy answer was requested with: its next range is asked with it.
    """
    found = DatastoreList()
    if "<datastore" not in text.lower():
        return found
    seen: set[str] = set()
    for unit, block, script_text in _units(text):
        records = _RECORD_RE.findall(block)
        links = [link for record in records if (link := _record_link(record))]
        new = [link for link in links if link[0] not in seen]
        if not new:
            continue  # the same list again (Hanweb prints a PC and a mobile copy)
        seen.update(href for href, _ in new)
        found.links.extend(new)
        requests = _further_requests(script_text, block, unit, url, len(records), form)
        found.requests.extend(requests)
        if not requests and not found.pages and form is None and unit is not None:
            found.pages.extend(_page_number_pages(script_text, block, unit, url, len(records)))
    return found


def _units(text: str):
    """(unit id, datastore text, the script that paginates it) for each datastore."""
    units = list(_UNIT_RE.finditer(text))
    for match in _DATASTORE_RE.finditer(text):
        unit = next((u.group(1) for u in reversed(units) if u.end() <= match.start()), None)
        following = text[match.end(): match.end() + 20_000]
        yield unit, match.group(0), following


def _record_link(record: str) -> tuple[str, str] | None:
    try:
        fragment = lxml_html.fragment_fromstring(record, create_parent="div")
    except (etree.ParserError, ValueError):
        return None
    for anchor in fragment.iter("a"):
        href = (anchor.get("href") or "").strip()
        if href and not href.startswith(("#", "javascript:")):
            text = " ".join(anchor.text_content().split()) or (anchor.get("title") or "").strip()
            return href, text
    return None


def _js_object(body: str) -> dict[str, str]:
    values = {}
    for name, single, double, bare in _JS_PAIR_RE.findall(body):
        values[name] = single or double or bare.strip()
    return values


def _further_requests(script: str, block: str, unit: str | None, url: str, held: int,
                      form: dict[str, str] | None) -> list[tuple[str, dict[str, str]]]:
    here = urlsplit(url)
    asked = dict(parse_qsl(here.query))
    if form is not None or "startrecord" in asked:
        return _next_range(url, asked, held, form, block)
    options = _jpage_options(script, unit)
    form = _script_form(script, options.get("ajaxParam")) or _nextgroup_form(block)
    if not form:
        return []
    proxy = join_url(url, options.get("proxyUrl") or DEFAULT_PROXY)
    per_page = _int(options.get("perPage"), 15)
    span = per_page * _int(options.get("groupSize"), 3)
    total = _int(options.get("totalRecord"), 0)
    if not proxy or held <= 0 or (total and held >= total):
        return []
    requests = []
    start = held + 1
    last = total or held + span  # no total: ask once, then each full answer asks the next
    while start <= last and len(requests) < MAX_PROXY_REQUESTS:
        requests.append((_range_url(proxy, start, start + span - 1, per_page), form))
        start += span
    return requests


_PAGE_NUM = "pageNum"


def _page_number_pages(script: str, block: str, unit: str, url: str, held: int) -> list[str]:
    """``index.html?uid=<unit>&pageNum=N`` after the current page, up to the last page when the
    total is known (the next one only, when a full page gives no total)."""
    here = urlsplit(url)
    asked = dict(parse_qsl(here.query))
    if "startrecord" in asked or held <= 0:
        return []
    options = _jpage_options(script, unit)
    if _script_form(script, options.get("ajaxParam")) or _nextgroup_form(block):
        return []  # the proxy serves the further records
    current = _int(asked.get(_PAGE_NUM), 1) if asked.get("uid") in (None, unit) else 1
    per_page = _int(options.get("perPage"), 0)
    total = _int(options.get("totalRecord"), 0)
    if not total and (found := _TOTAL_RE.search(block)):
        total = int(found.group(1))
    if total:
        last = -(-total // (per_page or held))
    elif per_page and held >= per_page:
        last = current + 1
    else:
        return []
    last = min(last, current + MAX_PROXY_REQUESTS)
    return [urlunsplit(here._replace(query=urlencode({"uid": unit, _PAGE_NUM: n}), fragment=""))
            for n in range(current + 1, last + 1)]


def _next_range(url: str, asked: dict[str, str], held: int, form, block: str):
    """The range after a proxy answer's, when it came back full (and short of the total)."""
    if form is None:
        form = {}
    start, end = _int(asked.get("startrecord"), 0), _int(asked.get("endrecord"), 0)
    per_page = _int(asked.get("perpage"), 15)
    span = end - start + 1
    total = _TOTAL_RE.search(block)
    if start <= 0 or span <= 0 or held < span or (total and end >= int(total.group(1))):
        return []
    proxy = urlunsplit(urlsplit(url)._replace(query="", fragment=""))
    return [(_range_url(proxy, end + 1, end + span, per_page), form)]


def _range_url(proxy: str, start: int, end: int, per_page: int) -> str:
    query = urlencode({"startrecord": start, "endrecord": end, "perpage": per_page})
    return f"{proxy}?{query}"


def _jpage_options(script: str, unit: str | None) -> dict[str, str]:
    """The options of the unit's ``jpage({...})`` call; the one reading the datastore wins."""
    calls = [m for m in _JPAGE_RE.finditer(script) if unit is None or m.group(1) == unit]
    if not calls:
        return {}
    chosen = next((c for c in calls if "dataStore" in c.group(2)), calls[-1])
    return _js_object(chosen.group(2))


def _script_form(script: str, variable: str | None) -> dict[str, str]:
    if not variable or not re.fullmatch(r"[A-Za-z_$][\w$]*", variable):
        return {}
    match = re.search(_OBJECT_VAR_RE.format(name=re.escape(variable)), script)
    return _js_object(match.group(1)) if match else {}


def _nextgroup_form(block: str) -> dict[str, str]:
    match = _NEXTGROUP_RE.search(block)
    if not match:
        return {}
    query = dict(parse_qsl(urlsplit(match.group(1).replace("&amp;", "&")).query))
    form = {name: query[name] for name in _FORM_FIELDS if name in query}
    return form if "columnid" in form else {}


def _int(value: str | None, default: int) -> int:
    try:
        return int(str(value).strip().strip("'\""))
    except (TypeError, ValueError):
        return default
