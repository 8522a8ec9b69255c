"""Numbered pages of a list: the pager's links to other pages of the same list, in order.

A list's other pages are files beside it (``index_2.html``, ``Index_2.aspx``,
``news-list-x-2.html``, ``index_9_198.html`` counting down to ``index_9_1.html``) or its own
address with another page number in the query (``list.jsp?cid=3&page=2``), linked from a pager,
a hidden page list or a ``<select>`` of page addresses. The page labels (``2``, ``3``...) give the
reading order when the pager shows them; the link order otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

PAGE_EXTENSIONS = r"s?html?|aspx?|php|jsp"
_PAGE_FILE_RE = re.compile(
    rf"^(?P<stem>.+?)(?:(?P<sep>[_-])(?P<n>\d+))?\.(?P<ext>{PAGE_EXTENSIONS})$", re.IGNORECASE)
_DIGITS = re.compile(r"[0-9]{1,12}")

Resolve = Callable[[str], "str | None"]


def is_number(text: str) -> bool:
    """ASCII digits only (str.isdigit also takes ² and ١, which int() refuses)."""
    return bool(_DIGITS.fullmatch(text))


def numbered_siblings(doc, absolute: Resolve, page_url: str, next_links: list[str]) -> list[str]:
    """Numbered pages of the same list (pager links, a hidden page list, a select of page
    addresses): files beside the page (``index_2.html``, ``news-list-x-2.html``,
    ``index_9_198.html``) or the page's own address with another page number in its query
    (``list.jsp?cid=3&page=2``), in reading order after the current page."""
    here = urlsplit(page_url)
    folder = here.path.rpartition("/")[0] + "/"
    resolved = []
    for element in [*doc.iter("a"), *doc.iter("option")]:
        target = absolute(element.get("href" if element.tag == "a" else "value") or "")
        # Only addresses in the page's folder can be its pages: labels read for those alone.
        if target and urlsplit(target).path.startswith(folder):
            label = " ".join(element.text_content().split())
            resolved.append((target, int(label) if is_number(label) else None))
    if here.query:
        return _query_siblings(here, resolved)
    queried = _first_page_query_siblings(here, resolved) or _path_page_siblings(doc, here,
                                                                                 resolved)
    if queried:
        return queried
    folder, _, name = here.path.rpartition("/")
    current = _PAGE_FILE_RE.match(name or "index.html")
    if current is None:
        return []
    ext = current.group("ext")
    readings = [(current.group("stem").lower(),
                 int(current.group("n")) if current.group("n") else None)]
    if current.group("n"):  # list-12.html: 12 may be the column, list-12-2.html its page 2
        readings.insert(0, (name.rsplit(".", 1)[0].lower(), None))
    for stem, current_n in readings:
        found: list[tuple[int, int | None, str]] = []  # (number, label, url), document order
        for target, label in resolved:
            there = urlsplit(target)
            if there.netloc != here.netloc or there.query:
                continue
            t_folder, _, t_name = there.path.rpartition("/")
            match = _PAGE_FILE_RE.match(t_name)
            if t_folder != folder or not match or not match.group("n"):
                continue
            t_stem = match.group("stem").lower()
            # index_7_198.html is a page of index.html (a column number between).
            if t_stem == stem or re.fullmatch(re.escape(stem) + r"[_-]\d+", t_stem):
                found.append((int(match.group("n")), label, target))
        if found:
            return _in_reading_order(doc, found, current_n,
                                     any(url.endswith(f"2.{ext}") for url in next_links))
    return []


def _query_siblings(here, resolved) -> list[str]:
    """Links to the page's own path whose query differs from the page's in one number: a page
    parameter the first page lacks (``?p5=28`` → ``&p7=2``), or one it has, when the pager shows
    page numbers (other values of a column id are sub-columns, named in words)."""
    mine = dict(parse_qsl(here.query, keep_blank_values=True))
    by_key: dict[str, list[tuple[int, int | None, str]]] = {}
    for target, label in resolved:
        there = urlsplit(target)
        if there.netloc != here.netloc or there.path != here.path or not there.query:
            continue
        theirs = dict(parse_qsl(there.query, keep_blank_values=True))
        changed = [k for k, v in theirs.items() if mine.get(k) != v]
        if len(changed) != 1 or any(k not in theirs for k in mine):
            continue
        key = changed[0]
        if not is_number(theirs[key]) or (key in mine and label is None):
            continue
        by_key.setdefault(key, []).append((int(theirs[key]), label, target))
    if not by_key:
        return []
    key = max(by_key, key=lambda k: len(by_key[k]))
    current = mine.get(key, "")
    return _in_reading_order(None, by_key[key], int(current) if is_number(current) else None,
                             False)


# Query parameters that number a list's pages (pageNum, page, p, pageIndex, curPage, pn...).
_PAGE_KEY = re.compile(r"(?i)^(?:p|pg|pn|cpage|page|page_?no|page_?num(?:ber)?|page_?index|pageidx|"
                       r"cur(?:r|rent)?_?page|nowpage)$")  # not pageSize, pageId, pageCount


def _first_page_query_siblings(here, resolved) -> list[str]:
    """A first page without a query whose pager asks its own path with one: ``index.html`` →
    ``index.html?uid=5678&pageNum=2`` (Hanweb), ``list.php`` → ``list.php?page=2``. The page
    parameter is named like one and is the only one that changes between the pager's links."""
    by_key: dict[tuple[str, tuple], list[tuple[int, int | None, str]]] = {}
    for target, label in resolved:
        there = urlsplit(target)
        if there.netloc != here.netloc or there.path != here.path or not there.query:
            continue
        theirs = parse_qsl(there.query, keep_blank_values=True)
        for key, value in theirs:
            if _PAGE_KEY.match(key) and is_number(value):
                rest = tuple(sorted((k, v) for k, v in theirs if k != key))
                by_key.setdefault((key, rest), []).append((int(value), label, target))
    if not by_key:
        return []
    found = max(by_key.values(), key=len)
    return _in_reading_order(None, found, None, any(n == 2 for n, _l, _u in found))


_PATH_PAGE_RE = re.compile(r"^(?P<base>.*?/)(?:page/(?P<n>\d{1,6})/?)?$", re.IGNORECASE)


def _path_page_siblings(doc, here, resolved) -> list[str]:
    """Pages numbered as a path segment (WordPress and its kin): ``/zh-hant/news/`` →
    ``/zh-hant/news/page/2/``, and from ``/news/page/3/`` the pages after 3."""
    current = _PATH_PAGE_RE.match(here.path)
    if current is None:
        return []
    base = current.group("base")
    page_re = re.compile(re.escape(base) + r"page/(\d{1,6})/?$", re.IGNORECASE)
    found = []
    for target, label in resolved:
        there = urlsplit(target)
        match = page_re.match(there.path)
        if match and there.netloc == here.netloc and not there.query:
            found.append((int(match.group(1)), label, target))
    if not found:
        return []
    current_n = int(current.group("n")) if current.group("n") else None
    return _in_reading_order(doc, found, current_n, any(n == 2 for n, _l, _u in found))


def _in_reading_order(doc, found, current_n: int | None, next_is_two: bool) -> list[str]:
    labelled = [item for item in found if item[1] is not None]
    if len(labelled) >= 2:
        current_label = _current_label(doc, current_n)
        if current_n is not None:
            # Labels and file numbers run together (label - n constant) or against each other
            # (label + n constant: reverse numbering): the current page's label follows.
            differences = {label - n for n, label, _url in labelled}
            sums = {label + n for n, label, _url in labelled}
            if len(differences) == 1:
                current_label = current_n + differences.pop()
            elif len(sums) == 1:
                current_label = sums.pop() - current_n
        ordered = sorted({label: url for _n, label, url in labelled}.items())
        later = [url for label, url in ordered if label > current_label]
        # An unlabelled link beyond the numbered window (尾页) is a later page too.
        top = max(n for n, _label, _url in labelled)
        beyond = [url for n, label, url in found if label is None and n > top
                  and (current_n is None or n > current_n)]
        return [*later, *beyond]
    numbers = [n for n, _label, _url in found]
    descending = len(numbers) >= 2 and numbers[0] > numbers[-1]
    if current_n is None:
        # Page 1 under a second name (news-list-x-1.html next to news-list-x.html).
        chosen = [(n, url) for n, _label, url in found if not (next_is_two and n == 1)]
    elif descending:
        chosen = [(n, url) for n, _label, url in found if n < current_n]
    else:
        chosen = [(n, url) for n, _label, url in found if n > current_n]
    chosen = sorted(set(chosen), key=lambda item: -item[0] if descending else item[0])
    return [url for _n, url in chosen]


def _current_label(doc, current_n: int | None) -> int:
    """The page number the pager marks as the current one (1 on an unnumbered first page)."""
    for element in [] if doc is None else doc.xpath("//*[contains(concat(' ', normalize-space(@class), ' '), ' current ')"
                             " or contains(concat(' ', normalize-space(@class), ' '), ' active ')"
                             " or contains(concat(' ', normalize-space(@class), ' '), ' cur ')]"):
        label = " ".join(element.text_content().split())
        if is_number(label):
            return int(label)
    return 1 if current_n is None else current_n
