"""Reading a list page's pagination: which further list pages a section has, the next first.

Government list pages paginate in many ways, most of them visible only when JavaScript runs:

* a real ``下一页``/next ``<a>`` (ASP.NET ``Index_2.aspx``, pseudo-static ``news-list-x-2.html``);
* numbered pages linked from a pager or a hidden page list, in either direction
  (``index_1.html``... or ``index_7_198.html`` down to ``index_7_1.html``; read by
  :mod:`crawler.page_numbers`);
* TRS ``createPageHTML(count, current, "index", "html")`` (page k is ``index_{k-1}``), also when
  the arguments are variables and the function is defined inline;
* hand-written pagers printed by ``document.write("<a href=\\"index_"+nextPage+".shtml\\">")``
  and jQuery pagination plugins whose callback builds ``'index_'+i+'.html'``;
* ``javascript:gotoCurrentPage('2')`` links and ``<select onchange="gotoCurrentPage(...)">``
  whose URL is only inside the function's ``location = "Column.shtml?p5=28&p7=" + pageNo``.

Page counts come from the page: a hostile one may claim billions, so at most
:data:`MAX_SCRIPT_PAGES` pages are derived from one page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from govarchive.crawler.page_numbers import PAGE_EXTENSIONS, is_number, numbered_siblings

# More list pages than any section has; the spider stops at max_list_pages long before.
MAX_SCRIPT_PAGES = 10_000
# Pagers are small inline scripts; a bigger one is a library pasted into the page.
MAX_PAGER_SCRIPT = 64_000

NEXT_TEXTS = {"下一页", "下页", "下一頁", "下頁", "next", "next page", "›", ">", "»", ">>", "后页",
              "後頁", "下一页>", "下一页>>", "下一页»", "[下一页]"}
# A next link's words once arrows, brackets and spaces are dropped: 下一頁 », Next ›, [下一页].
_NEXT_WORDS = {"下一页", "下页", "下一頁", "下頁", "后页", "後頁", "后一页", "後一頁", "next",
               "nextpage"}
_NEXT_DECORATION = re.compile(r"[\s\[\]()（）<>«»‹›＞＜→→>]+|&gt;|&raquo;")


def is_next_label(text: str) -> bool:
    """Whether a link's text or title names the next page (下一頁 », Next ›, >>, ...)."""
    label = " ".join(text.split()).lower()
    return label in NEXT_TEXTS or _NEXT_DECORATION.sub("", label) in _NEXT_WORDS


_CREATE_PAGE_RE = re.compile(r"createPageHTML\s*\(([^)]*)\)")
_JS_NUMBER_VAR = r"\b(?:var\s+|let\s+|const\s+)?{name}\s*=\s*(\d+)(?![\w.])"
_JS_STRING_VAR = re.compile(
    r"""\b(?:var|let|const)\s+([A-Za-z_$][\w$]*)\s*=\s*(["'])([^"'\\\n]*)\2""")
_QUOTED_RE = re.compile(r"""^\s*['"]([^'"]*)['"]\s*$""")
_LITERAL = r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'"""
_ADJACENT_LITERALS = re.compile(rf"({_LITERAL})\s*\+\s*({_LITERAL})")
# A page address built around one variable: "index_" + nextPage + ".shtml".
_TEMPLATE_RE = re.compile(
    rf"({_LITERAL})\s*\+\s*\(?\s*([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\s*(?:([+-])\s*(\d+)\s*)?"
    rf"\)?\s*\+\s*({_LITERAL})")
_COUNT_NAMES = ("countPage", "pageCount", "nPageCount", "totalPage", "totalPages", "pagecount",
                "page_count", "totalpage", "pageTotal", "maxPage", "allPage",
                "totalPageNum", "pages")
# Records and records a page, when a plugin counts those (laypage: count, limit).
_RECORD_NAMES = ("count", "total", "totalRecord", "totalCount", "recordCount", "totalRecords")
_PER_PAGE_NAMES = ("limit", "pageSize", "perPage", "perpage", "rows", "pagesize")
# A callback's page number named so counts from 1 (obj.curr, currPage, num == 1 ? ...).
_ONE_BASED_VARIABLES = {"curr", "currpage", "curpage", "pageno", "pagenum", "num", "page"}
_CURRENT_NAMES = ("currentPage", "nPageIndex", "nCurrIndex", "curPage", "currPage", "pageIndex",
                  "current", "cur")
_TOTAL_TEXT_RE = re.compile(r"共\s*(\d+)\s*页")
_JS_CALL_HREF = re.compile(
    r"""^\s*(?:javascript\s*:\s*)?([A-Za-z_$][\w$]*)\s*\(\s*['"]?(\d+)['"]?\s*\)""")
_JS_CALL_ONCHANGE = re.compile(r"([A-Za-z_$][\w$]*)\s*\(\s*this\.(?:value|options)")
_LOCATION_SET = re.compile(
    r"(?:location(?:\.href)?\s*=|location\.(?:replace|assign)\s*\(|window\.open\s*\()\s*([^;\n]+)")

Resolve = Callable[[str], "str | None"]


def script_texts(doc) -> list[str]:
    """The inline scripts of a page, ``//`` comment lines dropped (commented-out pagers)."""
    texts = []
    for script in doc.iter("script"):
        if script.get("src") or (script.get("type") or "").lower() in ("text/xml", "text/html"):
            continue
        body = script.text or ""
        if body.strip() and len(body) <= MAX_PAGER_SCRIPT:
            texts.append("\n".join(line for line in body.splitlines()
                                   if not line.lstrip().startswith("//")))
    return texts


def find_next_pages(doc, scripts: list[str], absolute: Resolve, page_url: str) -> list[str]:
    """Every further list page the page shows or its scripts would show, the next page first."""
    functions = _page_functions(scripts)
    first: list[str] = []
    for anchor in doc.iter("a"):
        if (is_next_label(anchor.text_content()) or is_next_label(anchor.get("title") or "")
                or "next" in (anchor.get("rel") or "").lower().split()):
            target = _href_target(anchor, functions, absolute)
            if target:
                first.append(target)
    # <link rel="next" href="…/page/2/"> in the head (WordPress and other CMSes).
    first.extend(target for link in doc.iter("link")
                 if "next" in (link.get("rel") or "").lower().split()
                 and (target := absolute(link.get("href"))))
    rest: list[str] = []
    rest.extend(_trs_script_pages(scripts, absolute, page_url))
    rest.extend(_template_pages(scripts, doc, absolute, page_url))
    rest.extend(_js_call_pages(doc, functions, absolute, page_url))
    rest.extend(numbered_siblings(doc, absolute, page_url, first))
    rest = _unique(rest, page_url)
    # The script pagers list every page from the next one on; the next-link comes first.
    return _unique([*first, *rest], page_url)


def _unique(urls: Iterable[str], page_url: str) -> list[str]:
    seen = {page_url}
    out = []
    for url in urls:
        if url and url not in seen:
            seen.add(url)
            out.append(url)
    return out


def _unescape(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def _collapse(script: str) -> str:
    """``"index" + "_"`` → ``"index_"``, and string variables replaced by their value."""
    strings: dict[str, str] = {}
    for name, _quote, value in _JS_STRING_VAR.findall(script):
        strings.setdefault(name, value)
    for name, value in strings.items():
        # Only where it is concatenated (sPageName + "_", "x" + sPageExt) or passed on.
        name_re = re.escape(name)
        script = re.sub(rf"(?<![\w$.\"'])\b{name_re}\b(?=\s*[+,)])|(?<=\+)\s*{name_re}\b(?![\w$])"
                        rf"|(?<=[(,])\s*{name_re}\b(?=\s*[,)])", f'"{value}"', script)
    for _ in range(20):
        collapsed = _ADJACENT_LITERALS.sub(
            lambda m: '"' + (_unescape(m.group(1)) + _unescape(m.group(2))).replace('"', '\\"')
            + '"', script)
        if collapsed == script:
            break
        script = collapsed
    return script


def _number(script: str, names: Iterable[str]) -> int | None:
    for name in names:
        match = re.search(_JS_NUMBER_VAR.format(name=re.escape(name)), script)
        if match:
            return int(match.group(1))
        match = re.search(rf"\b{re.escape(name)}\s*:\s*(\d+)", script)  # an options object
        if match:
            return int(match.group(1))
    return None


def _trs_script_pages(scripts: list[str], absolute: Resolve, page_url: str) -> list[str]:
    """Pages written by TRS's ``createPageHTML(countPage, currentPage, prefix, ext)``."""
    pages: list[str] = []
    for raw in scripts:
        if "createPageHTML" not in raw:
            continue
        script = _collapse(raw)
        for match in _CREATE_PAGE_RE.finditer(script):
            numbers: list[int] = []
            strings: list[str] = []
            for arg in (a.strip() for a in match.group(1).split(",")):
                quoted = _QUOTED_RE.match(arg)
                if quoted:
                    strings.append(quoted.group(1))
                elif is_number(arg):
                    numbers.append(int(arg))
                elif re.fullmatch(r"[A-Za-z_$][\w$]*", arg):
                    value = _number("\n".join(scripts), [arg])
                    if value is not None:
                        numbers.append(value)
            # Some sites pass an element id first: prefix and extension are the last two
            # quoted arguments; count and current page the first two numbers.
            if len(numbers) < 2 or len(strings) < 2:
                continue
            count, current = numbers[0], numbers[1]
            prefix, ext = strings[-2], strings[-1]
            if not prefix or not re.fullmatch(r"[A-Za-z0-9]+", ext):
                continue
            current = max(current, _number_in_url(page_url, f"{prefix}_", f".{ext}") or 0)
            pages.extend(_series(absolute, f"{prefix}_", f".{ext}", current + 1, count - 1))
    return pages


def _series(absolute: Resolve, prefix: str, suffix: str, first: int, last: int) -> list[str]:
    last = min(last, first + MAX_SCRIPT_PAGES - 1)
    return [url for n in range(first, last + 1) if (url := absolute(f"{prefix}{n}{suffix}"))]


def _number_in_url(page_url: str, prefix: str, suffix: str) -> int | None:
    name = page_url.split("?", 1)[0].rsplit("/", 1)[-1]
    match = re.fullmatch(re.escape(prefix.rsplit("/", 1)[-1]) + r"(\d+)" + re.escape(suffix), name)
    return int(match.group(1)) if match else None


def _url_part(prefix_literal: str, suffix_literal: str) -> tuple[str, str] | None:
    """The address around the number: ``<a href="index_`` … ``.shtml" …`` → ("index_", ".shtml")."""
    prefix = _unescape(prefix_literal)
    suffix = _unescape(suffix_literal)
    prefix = re.split(r"""href\s*=\s*["']?|["'\s=(]""", prefix)[-1]
    suffix_match = re.match(rf"^([\w./-]*?\.(?:{PAGE_EXTENSIONS}))(?=$|[\"'\s?#>)])", suffix,
                            re.IGNORECASE)
    if not suffix_match or not re.fullmatch(r"[\w./-]*[_-]|[\w./-]*[?&][\w]+=", prefix):
        return None
    return prefix, suffix_match.group(1)


def _template_pages(scripts: list[str], doc, absolute: Resolve, page_url: str) -> list[str]:
    """Hand-written pagers and pagination-plugin callbacks building ``prefix + n + suffix``."""
    pages: list[str] = []
    shown = _TOTAL_TEXT_RE.search(" ".join(doc.text_content().split()))
    for raw in scripts:
        if "+" not in raw or "createPageHTML" in raw:
            continue
        count = _number(raw, _COUNT_NAMES) or (int(shown.group(1)) if shown else None)
        if count is None:
            records, per_page = _number(raw, _RECORD_NAMES), _number(raw, _PER_PAGE_NAMES)
            if records is not None and per_page:
                count = -(-records // per_page)
        if count is None:
            continue
        script = _collapse(raw)
        templates = []  # ((prefix, suffix), variable, offset)
        for found in _TEMPLATE_RE.finditer(script):
            part = _url_part(found.group(1), found.group(5))
            if part:
                offset = int(found.group(4) or 0) * (-1 if found.group(3) == "-" else 1)
                templates.append((part, found.group(2), offset))
        if not templates:
            continue
        chosen = None
        # TRS numbering (page k is file k-1, the first page unnumbered): the template whose
        # number is the current page + 1, as a variable (nextPage = currentPage + 1) or inline.
        for part, variable, offset in templates:
            derived = re.search(rf"\b{re.escape(variable)}\s*=\s*([A-Za-z_$][\w$]*)\s*\+\s*1\b",
                                script)
            base = _number(script, [derived.group(1)]) if derived else None
            if base is None and offset == 1:
                base = _number(script, [variable])
            if base is not None:
                chosen = (part, base)
                break
        if chosen is None:
            (prefix, suffix), variable, offset = templates[0]
            # A callback that sends page 1 to the bare name numbers its pages from 1; the file
            # of page p is p + offset ('index_' + (p - 1) + '.html').
            one_based = (re.search(r"==\s*['\"]?1['\"]?\s*[)?]", script) is not None
                         or variable.rsplit(".", 1)[-1].lower() in _ONE_BASED_VARIABLES)
            first = 1 if one_based else 0
            current = max(first, _number(script, _CURRENT_NAMES) or 0)
            in_url = _number_in_url(page_url, prefix, suffix)
            if in_url is not None:
                current = max(current, in_url - offset)
            last = min(count - 1 + first, current + MAX_SCRIPT_PAGES)
            pages.extend(url for p in range(current + 1, last + 1) if p + offset > 0
                         and (url := absolute(f"{prefix}{p + offset}{suffix}")))
            continue
        (prefix, suffix), current = chosen
        current = max(current, _number_in_url(page_url, prefix, suffix) or 0)
        pages.extend(_series(absolute, prefix, suffix, current + 1, count - 1))
    return pages


def _page_functions(scripts: list[str]) -> dict[str, tuple[str, str]]:
    """``function go(n) { … location = "Column.shtml?p5=28&p7=" + n }`` → {go: (prefix, suffix)}."""
    functions: dict[str, tuple[str, str]] = {}
    for raw in scripts:
        if "function" not in raw or "location" not in raw:
            continue
        script = _collapse(raw)
        for match in re.finditer(r"function\s+([A-Za-z_$][\w$]*)\s*\(\s*([A-Za-z_$][\w$]*)\s*\)",
                                 script):
            name, param = match.groups()
            body = script[match.end(): match.end() + 1500]
            end = body.find("function ")
            body = body if end < 0 else body[:end]
            for assigned in _LOCATION_SET.finditer(body):
                expression = assigned.group(1)
                parts = re.fullmatch(
                    rf"\s*({_LITERAL})\s*\+\s*{re.escape(param)}\s*(?:\+\s*({_LITERAL}))?\s*\)?\s*",
                    expression)
                if parts:
                    suffix = _unescape(parts.group(2)) if parts.group(2) else ""
                    functions[name] = (_unescape(parts.group(1)), suffix)
                    break
    return functions


def _js_call(anchor) -> re.Match | None:
    """``href="javascript:go('3')"`` or ``href="javascript:;" onclick="go(3)"``."""
    href = anchor.get("href") or ""
    if href.strip().lower().startswith("javascript:") or not href.strip() or href.strip() == "#":
        return _JS_CALL_HREF.match(href) or _JS_CALL_HREF.match(anchor.get("onclick") or "")
    return None


def _href_target(anchor, functions: dict[str, tuple[str, str]], absolute: Resolve) -> str | None:
    call = _js_call(anchor)
    if call:
        template = functions.get(call.group(1))
        return absolute(f"{template[0]}{call.group(2)}{template[1]}") if template else None
    return absolute(anchor.get("href"))


def _js_call_pages(doc, functions: dict[str, tuple[str, str]], absolute: Resolve,
                   page_url: str) -> list[str]:
    """Pages named by ``javascript:go('3')`` links and ``<select onchange="go(this.value)">``."""
    if not functions:
        return []
    numbers: dict[str, set[int]] = {}
    for anchor in doc.iter("a"):
        call = _js_call(anchor)
        if call and call.group(1) in functions:
            numbers.setdefault(call.group(1), set()).add(int(call.group(2)))
    for select in doc.iter("select"):
        call = _JS_CALL_ONCHANGE.search(select.get("onchange") or "")
        if call and call.group(1) in functions:
            for option in select.iter("option"):
                value = (option.get("value") or "").strip()
                if is_number(value):
                    numbers.setdefault(call.group(1), set()).add(int(value))
    pages: list[str] = []
    for name, found in numbers.items():
        prefix, suffix = functions[name]
        current = _current_in_query(page_url, prefix, suffix)
        later = sorted(n for n in found if n > current)[:MAX_SCRIPT_PAGES]
        pages.extend(url for n in later if (url := absolute(f"{prefix}{n}{suffix}")))
    return pages


def _current_in_query(page_url: str, prefix: str, suffix: str) -> int:
    key = prefix.rsplit("?", 1)[-1].rsplit("&", 1)[-1]
    if key.endswith("="):
        match = re.search(rf"[?&]{re.escape(key)}(\d+)", page_url)
        if match:
            return int(match.group(1))
    return _number_in_url(page_url, prefix, suffix) or 1
