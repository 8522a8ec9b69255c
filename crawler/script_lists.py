"""List APIs a shell page names in its script: the request the browser makes for the list.

A section page that prints no list of its own fetches it: Hanweb JPaaS pages carry
``<script src="…/unitbuild.js" url="/api-gateway/jpaas-publish-server/front/page/build/unit"
queryData="{'webId':'…','pageId':'…',…}">`` (the script GETs the URL with those parameters),
www.gov.cn columns call ``$.ajax({url: "./ZUIXINZHENGCE.json"})``, 集约化 and single-page
apps ``$.post``/``fetch``/``axios`` a list endpoint with ``{pageNo: 1, pageSize: 20, …}``.
Any of these shapes is recognised: an element naming a URL with its query data, or an
XHR/ajax/fetch call naming a literal URL, with its method, data and content type. Only calls
that look like a list are kept: a ``.json`` file, or parameters holding a page number or
how many items to answer (``pageSize``, ``rows``, ``returnCnt``);
visit counters and weather widgets are not asked.
"""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from govarchive.crawler.api_pages import (
    FORM_TYPE,
    JSON_TYPE,
    OFFSET_NAMES,
    PAGE_NAMES,
    ApiCall,
    js_object,
)
from govarchive.crawler.list_items import absolute_url

_CALL_RE = re.compile(
    r"(?P<fn>\$\.ajax|jQuery\.ajax|\$\.(?:get|post|getJSON)|jQuery\.(?:get|post|getJSON)|"
    r"axios(?:\.(?:get|post))?|\bfetch)\s*\(", re.IGNORECASE)
_STRING_RE = re.compile(r"""\s*(['"`])((?:(?!\1)[^\\\n]|\\.)*)\1""")
_KEY_RE = r"""(?:^|[,{{\s])["']?{name}["']?\s*:\s*"""
_QUERY_DATA_TAG_RE = re.compile(r"<[a-z]+\b[^>]*\bquerydata\s*=[^>]*>", re.IGNORECASE)
_ATTR_RE = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_LIST_TAG_RE = re.compile(r"列表|分页|list|内容", re.IGNORECASE)
_IDENT_RE = re.compile(r"\s*([A-Za-z_$][\w$]*)\s*(?=[,)])")
_VAR_RE = r"""\b(?:var|let|const)\s+{name}\s*=\s*(['"])([^'"\n]*)\1"""
_MAX_CALLS = 20


def script_list_calls(text: str, url: str) -> list[ApiCall]:
    """The list requests ``text`` (a page at ``url``) makes from its script, in page order."""
    calls: list[ApiCall] = []
    lowered = text.lower()
    if "querydata" in lowered:
        calls.extend(_query_data_elements(text, url))
    for match in _CALL_RE.finditer(text):
        call = _script_call(text, match, url)
        if call is not None:
            calls.append(call)
        if len(calls) >= _MAX_CALLS:
            break
    unique: list[ApiCall] = []
    for call in calls:
        if call not in unique:
            unique.append(call)
    return unique


def _query_data_elements(text: str, url: str) -> list[ApiCall]:
    """``<script url="…" queryData="{…}">`` (JPaaS unitbuild): a GET of the URL with the data."""
    calls = []
    for tag in _QUERY_DATA_TAG_RE.finditer(text):
        attrs = {k.lower(): unescape(a or b) for k, a, b in _ATTR_RE.findall(tag.group(0))}
        target = attrs.get("url") or attrs.get("uniturl") or attrs.get("data-url")
        data = js_object(attrs.get("querydata") or "")
        if not target or not data:
            continue
        absolute = absolute_url(url, target)
        if absolute:
            calls.append((data, ApiCall(_with_query(absolute, data), "GET")))
    # A page can build several units (a 热点 box beside the list): the list's unit says so in
    # its tag (信息列表, 分页列表, 当前栏目_list, 内容区域), when one does.
    listed = [call for data, call in calls if _LIST_TAG_RE.search(data.get("tagId", ""))]
    return listed or [call for _data, call in calls]


def _script_call(text: str, match: re.Match, page_url: str) -> ApiCall | None:
    fn = match.group("fn").lower()
    rest = match.end()
    options = ""
    literal = _STRING_RE.match(text, rest) or _IDENT_RE.match(text, rest)
    if literal:  # $.get('u', data) / fetch('u', {…}) / $.ajax('u', {…}) / $.getJSON(jsonUrl)
        target = literal.group(2) if literal.re is _STRING_RE else _variable(text, literal.group(1))
        if target is None:
            return None
        after = text[literal.end():literal.end() + 3].lstrip()
        if after.startswith("+"):
            return None  # a URL put together at run time
        tail = text[literal.end():].lstrip()
        if tail.startswith(","):
            start = literal.end() + text[literal.end():].index(",") + 1
            options = _balanced_value(text, start)
    else:
        options = _balanced_value(text, rest)
        if not options.startswith("{"):
            return None
        target = _string_member(options, "url")
        if target is None:
            name = _IDENT_RE.match(_member(options, "url") + ",")
            target = _variable(text, name.group(1)) if name else None
        if target is None:
            return None
    method = "POST" if fn.endswith("post") else "GET"
    declared = _string_member(options, "type") or _string_member(options, "method")
    if declared:
        method = declared.upper()
    if method not in ("GET", "POST"):
        return None
    data_text = options if fn.endswith(("get", "post", "getjson")) and options.startswith("{") \
        else _member(options, "data") or _member(options, "params") or _member(options, "body")
    content_type = (_string_member(options, "contentType")
                    or _string_member(options, "Content-Type") or "")
    as_json = "json" in content_type.lower() or data_text.startswith("JSON.stringify")
    data = _data(data_text)
    if data_text.startswith("{"):
        data = _with_variables(data_text, data, text)
    absolute = absolute_url(page_url, target) if target else None
    if not absolute or not _looks_like_list(absolute, data):
        return None
    if method == "GET":
        return ApiCall(_with_query(absolute, data), "GET")
    if as_json:
        return ApiCall(absolute, "POST", _json_body(data_text, data), JSON_TYPE)
    return ApiCall(absolute, "POST", urlencode(data), FORM_TYPE)


def _variable(text: str, name: str) -> str | None:
    """The string a page's script assigns to ``name`` (``var jsonUrl = "./LIST.json"``)."""
    match = re.search(_VAR_RE.format(name=re.escape(name)), text)
    return match.group(2) if match else None


# How many items to answer, in list APIs with no page number (news.gov.hk: returnCnt=100).
_COUNT_NAMES = ("pagesize", "page_size", "perpage", "per_page", "rows", "limit", "returncnt",
                "returncount")
_IDENT_MEMBER_RE = re.compile(r"""(?:^|[,{\s])["']?([A-Za-z_$][\w$]*)["']?\s*:\s*"""
                              r"""([A-Za-z_$][\w$]*)\s*(?=[,}])""")
_MEMBER_KEY_RE = re.compile(r"""(?:^|[,{\s])["']?([A-Za-z_$][\w$]*)["']?\s*:""")


def _with_variables(data_text: str, data: dict[str, str], page: str) -> dict[str, str]:
    """The members whose value is a variable the page assigns a string (``category: cat``
    after ``var cat = "finance"``), in their place among the others."""
    found = {key: value for key, name in _IDENT_MEMBER_RE.findall(data_text)
             if key not in data and name not in ("true", "false", "null", "undefined")
             and (value := _variable(page, name)) is not None}
    if not found:
        return data
    position: dict[str, int] = {}
    for key in _MEMBER_KEY_RE.findall(data_text):
        position.setdefault(key, len(position))  # a repeated key keeps its first place, as in JS
    merged = {**data, **found}
    return dict(sorted(merged.items(), key=lambda item: position.get(item[0], len(position))))


def _looks_like_list(url: str, data: dict[str, str]) -> bool:
    path = urlsplit(url).path.lower()
    if path.endswith(".json"):
        return True
    names = {k.lower() for k in data} | {k.lower() for k, _ in parse_qsl(urlsplit(url).query)}
    return bool(names & set(PAGE_NAMES + OFFSET_NAMES + _COUNT_NAMES))


def _data(text: str) -> dict[str, str]:
    text = text.strip()
    if text.startswith("JSON.stringify"):
        text = text[len("JSON.stringify"):].strip().strip("()")
    if text.startswith("{"):
        return js_object(text)
    literal = _STRING_RE.match(text)
    if literal:
        return dict(parse_qsl(literal.group(2), keep_blank_values=True))
    return {}


def _json_body(text: str, data: dict[str, str]) -> str:
    """The JSON body as the browser would send it: numbers stay numbers."""
    inner = text.strip()
    if inner.startswith("JSON.stringify"):
        inner = inner[len("JSON.stringify"):].strip().strip("()")
    values: dict[str, object] = {}
    for key, value in data.items():
        quoted = re.search(_KEY_RE.format(name=re.escape(key)) + r"""['"]""", inner)
        if not quoted and re.fullmatch(r"-?\d+", value):
            values[key] = int(value)
        elif not quoted and value in ("true", "false", "null"):
            values[key] = json.loads(value)
        else:
            values[key] = value
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def _member(options: str, name: str) -> str:
    """The text of member ``name`` of an object literal (balanced), or ''."""
    match = re.search(_KEY_RE.format(name=re.escape(name)), options)
    if not match:
        return ""
    return _balanced_value(options, match.end())


def _string_member(options: str, name: str) -> str | None:
    value = _member(options, name)
    literal = _STRING_RE.match(value) if value else None
    return literal.group(2) if literal else None


def _balanced_value(text: str, start: int) -> str:
    """The expression starting at ``start`` up to the ``,`` or closing bracket that ends it."""
    depth, quote, i = 0, "", start
    while i < len(text) and text[i].isspace():
        i += 1
    begin = i
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
        elif ch in "({[":
            depth += 1
        elif ch in ")}]":
            if depth == 0:
                break
            depth -= 1
            if depth == 0 and text[begin] in "({[":
                i += 1
                break
        elif ch in ",;" and depth == 0:
            break
        i += 1
        if i - begin > 20_000:
            break
    return text[begin:i].strip()


def _with_query(url: str, data: dict[str, str]) -> str:
    if not data:
        return url
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True) + list(data.items())
    return urlunsplit(parts._replace(query=urlencode(pairs)))
