"""Finding article links and pagination on a section's list page.

Chinese government CMSes (TRS WCM, Hanweb/大汉, Ucap, Jiathis-era portals) give their articles
URLs of a recognisable shape (``t20110402_123.htm``, ``content_711039.htm``,
``art_1621004_30332664.html``, dated folders). A list page also carries the same kind of links
in its header, navigation and "相关链接" boxes, so the default finder keeps only the links of the
*main list*: the container holding the most article-shaped links, plus any other container
nearly as full (sections that split their list into columns).

Pagination comes from ``下一页``/next links, from ``index_N.htm`` siblings and from the TRS
script ``createPageHTML(countPage, currentPage, "index", "htm")``, which writes the page links
only when JavaScript runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urldefrag, urlencode, urlsplit

from lxml import etree
from lxml import html as lxml_html

from govarchive.crawler.api_pages import FORM_TYPE, ApiCall
from govarchive.crawler.datastore import read_datastore
from govarchive.crawler.extract.page import flatten_deep_nesting, join_url
from govarchive.crawler.json_lists import fragment_links, looks_like_json, read_json_list
from govarchive.crawler.script_lists import script_list_calls
from govarchive.crawler.selectors import compile_rule

# Path shapes of article pages on common Chinese government CMSes.
ARTICLE_URL_PATTERNS = [
    r"/t\d{8}_\d+\.s?html?$",                       # TRS WCM: t20110402_123.htm
    r"/content_\d+\.s?html?$",                      # www.gov.cn: content_711039.htm
    r"/art_\d+_\d+\.s?html?$",                      # Hanweb: art_1621004_30332664.html
    r"/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html$",
    r"/(?:19|20)\d{2}-?\d{2}(?:-?\d{2})?/[^/?#]+\.s?html?$",  # dated folder: /202403/xxx.htm, /2024-03/05/...
    r"/(?:19|20)\d{2}/\d{1,2}(?:/\d{1,2})?/[^/?#]+\.s?html?$",  # /2024/03/05/xxx.html
    r"/c\d+/(?:19|20)\d{2}-\d{2}-\d{2}/\d+\.s?html?$",        # people.cn style, also used by some gov sites
    r"/(?:art|article|content|detail|info|news|show|view)[a-z_]*\.(?:jsp|aspx?|php|do|action)\?.*\b(?:id|ID|Id|articleId|infoid|contentId)=",
    r"/\d{5,}\.s?html?$",                           # numeric ids: /1234567.shtml
]
_ARTICLE_URL_RE = re.compile("|".join(f"(?:{p})" for p in ARTICLE_URL_PATTERNS))

# Container ids/classes that hold site chrome rather than the section's list.
_CHROME_RE = re.compile(
    r"(?:^|[-_\s])(?:nav|navbar|menu|header|head|top|footer|foot|bottom|friend|links?|yqlj|xglj|"
    r"related|sidebar|side|banner|breadcrumb|crumb|position|location|share)(?:$|[-_\s\d])",
    re.IGNORECASE,
)
_CHROME_TAGS = {"header", "nav", "footer", "aside"}
_LIST_ITEM_TAGS = {"li", "tr", "dd", "dt", "p"}

_NEXT_TEXTS = {"下一页", "下页", "下一頁", "下頁", "next", "next page", "›", ">", "»", ">>", "后页", "後頁"}
_PAGE_FILE_RE = re.compile(r"^(?P<stem>[A-Za-z]+)(?:_(?P<n>\d+))?\.(?P<ext>s?html?)$")
_CREATE_PAGE_RE = re.compile(r"createPageHTML\s*\(([^)]*)\)")
_JS_VAR_RE = r"\b(?:var\s+|let\s+|const\s+)?{name}\s*=\s*(\d+)"
# huge_tree: libxml2 otherwise drops whatever is nested deeper than 256 levels.
_PARSER = lxml_html.HTMLParser(huge_tree=True)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
# More list pages than any section has; the spider stops at max_list_pages long before.
MAX_SCRIPT_PAGES = 10_000
_QUOTED_RE = re.compile(r"""^\s*['"]([^'"]*)['"]\s*$""")

NON_PAGE_EXTENSIONS = (
    ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".wps", ".ofd", ".zip", ".rar", ".jpg", ".jpeg",
    ".png", ".gif", ".mp4", ".mp3", ".et", ".ppt", ".pptx", ".txt", ".7z",
)


def looks_like_article_url(url: str) -> bool:
    """True when a URL has the shape of an article page on a common government CMS."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return False
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return bool(_ARTICLE_URL_RE.search(target))


def site_key(host: str) -> str:
    """The registrable part of a host name, so www.gov.cn and sousuo.gov.cn count as one site."""
    host = host.lower().rstrip(".")
    labels = host.split(".")
    if len(labels) <= 2 or all(label.isdigit() for label in labels):
        return host
    if len(labels[-1]) == 2 and labels[-2] in {"gov", "com", "edu", "org", "net", "ac"}:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


@dataclass(frozen=True)
class ListRequest:
    """One further request for a section's list: a GET page, a POSTed form, a JSON API call."""

    url: str
    method: str = "GET"
    body: str | None = None  # as sent: form-urlencoded or JSON text
    content_type: str | None = None  # of the body

    def to_json(self) -> dict:
        return {"method": self.method, "url": self.url, "body": self.body}

    @property
    def key(self) -> tuple[str, str, str | None]:
        """What tells two list requests apart: a JSON API asks every page at one URL."""
        return (self.method.upper(), self.url, self.body or None)


@dataclass
class ListPage:
    """What a list page offers: article links (with their link text) and further list pages.

    A further list page asked by POST (a Hanweb data proxy) is in ``next_pages`` like the
    others (its URL carries the record range, so it names one answer) and in ``forms``, which
    gives the form fields to post. A list asked from an API (a shell page's XHR, the next
    page of a JSON answer) is in ``api_requests``, before the others.
    """

    article_links: list[tuple[str, str]] = field(default_factory=list)
    next_pages: list[str] = field(default_factory=list)
    forms: dict[str, dict[str, str]] = field(default_factory=dict)
    api_requests: list[ListRequest] = field(default_factory=list)

    def list_requests(self) -> list[ListRequest]:
        """The further list requests, the next page first."""
        requests = list(self.api_requests)
        for url in self.next_pages:
            form = self.forms.get(url)
            if form is None:
                requests.append(ListRequest(url))
            else:
                requests.append(ListRequest(url, "POST", urlencode(form),
                                            "application/x-www-form-urlencoded"))
        return requests


def parse_list_page(
    text: str,
    url: str,
    *,
    article_links_rule: str | None = None,
    next_page_rule: str | None = None,
    form: dict[str, str] | None = None,
    content_type: str | None = None,
    request: ListRequest | None = None,
) -> ListPage:
    """Read a decoded list page; ``url`` is its address (after redirects), ``form`` the form
    it was posted with (a data-proxy answer), ``content_type`` the response's and
    ``request`` the list request that asked it (a POST's body: the next page of an API is
    the same request with the page number moved on).

    A JSON answer (by its content type or its first character) is read by
    :mod:`crawler.json_lists`; a page that shows no article link but names its list API in
    its script gives that request first in :meth:`ListPage.list_requests`."""
    if form is None and request is not None and request.body and \
            (request.content_type or FORM_TYPE).startswith(FORM_TYPE):
        form = dict(parse_qsl(request.body, keep_blank_values=True))
    json_hint = _json_type(content_type) or (text or "").lstrip("\ufeff \t\r\n")[:1] in ("{", "[")
    if json_hint and looks_like_json((text or "").encode("utf-8"), content_type):
        return _json_list_page(text, url, request, article_links_rule)
    # lxml refuses a str that declares its encoding: XHTML list pages start with one.
    text = _XML_DECLARATION.sub("", text or "", count=1)
    try:
        doc = lxml_html.document_fromstring(flatten_deep_nesting(text) or "<html></html>",
                                            parser=_PARSER)
    except (etree.ParserError, ValueError):
        return ListPage()  # nothing lxml can read: no links (a comment, whitespace, ...)
    base = _base_url(doc, url)
    page = ListPage()
    datastore = read_datastore(text, url, form)
    if datastore.links and not article_links_rule:
        # The records are the column's list by construction: no need to guess the container.
        page.article_links = _unique(
            (target, link_text) for href, link_text in datastore.links
            if (target := _absolute(base, href)) and target != url
        )
    else:
        page.article_links = _article_links(doc, base, url, article_links_rule)
    page.next_pages = _next_pages(doc, text, base, url, next_page_rule)
    if not next_page_rule:
        for target, fields in datastore.requests:
            if target not in page.next_pages and target != url:
                page.next_pages.append(target)
                page.forms[target] = fields
    if not page.article_links and not datastore.links:
        # A shell: the browser asks the list from an API its script names.
        page.api_requests = [ListRequest(*call) for call in script_list_calls(text, url)]
    return page


def _json_type(content_type: str | None) -> bool:
    return "json" in (content_type or "").lower()


def _json_list_page(text: str, url: str, request: ListRequest | None,
                    article_links_rule: str | None) -> ListPage:
    """A JSON list answer: its items (or the list HTML inside it) and the next page's request."""
    asked = request or ListRequest(url)
    found = read_json_list(text, ApiCall(url, asked.method, asked.body, asked.content_type))
    page = ListPage()
    links = [(item.url, item.title) for item in found.items]
    for fragment in found.html_fragments:
        if article_links_rule:
            links.extend(parse_list_page(fragment, url,
                                         article_links_rule=article_links_rule).article_links)
        else:
            links.extend(fragment_links(fragment, url))
    page.article_links = _unique(link for link in links if link[0] != url)
    if found.next_call is not None:
        page.api_requests.append(ListRequest(*found.next_call))
    return page


def _base_url(doc, url: str) -> str:
    for href in doc.xpath("//base/@href"):
        joined = join_url(url, href.strip()) if href.strip() else None
        if joined:
            return joined
    return url


def _absolute(base: str, href: str | None) -> str | None:
    if not href:
        return None
    href = href.strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
        return None
    joined = join_url(base, href)
    if joined is None:
        return None
    absolute, _ = urldefrag(joined)
    if urlsplit(absolute).scheme not in ("http", "https"):
        return None
    return absolute


def _anchor_text(anchor) -> str:
    text = " ".join(anchor.text_content().split())
    return text or (anchor.get("title") or "").strip()


def _article_links(doc, base: str, page_url: str, rule: str | None) -> list[tuple[str, str]]:
    if rule:
        anchors = [el for el in compile_rule(rule).select(doc) if isinstance(el.tag, str)]
        found = []
        for el in anchors:
            anchor = el if el.tag == "a" else next(iter(el.iter("a")), None)
            if anchor is not None:
                target = _absolute(base, anchor.get("href"))
                if target:
                    found.append((target, _anchor_text(anchor)))
        return _unique(found)

    page_site = site_key(urlsplit(page_url).hostname or "")
    groups: dict[object, list[tuple[str, str]]] = {}
    order: list[object] = []
    for anchor in doc.iter("a"):
        target = _absolute(base, anchor.get("href"))
        if not target or target == page_url or not looks_like_article_url(target):
            continue
        if site_key(urlsplit(target).hostname or "") != page_site:
            continue
        container = _list_container(anchor)
        if container is None:
            continue
        if container not in groups:
            groups[container] = []
            order.append(container)
        groups[container].append((target, _anchor_text(anchor)))
    if not groups:
        return []
    best = max(len(links) for links in groups.values())
    # Columns of one list are about as full as each other; a sidebar box is much smaller.
    threshold = max(2, best // 2) if best > 2 else best
    found: list[tuple[str, str]] = []
    for container in order:
        if len(groups[container]) >= threshold:
            found.extend(groups[container])
    return _unique(found)


def _list_container(anchor):
    """The element whose children repeat the list items, or None inside page chrome."""
    item = None
    node = anchor
    while node is not None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in _CHROME_TAGS:
            return None
        marker = f"{node.get('id') or ''} {node.get('class') or ''}".strip()
        if marker and _CHROME_RE.search(marker):
            return None
        if item is None and tag in _LIST_ITEM_TAGS:
            item = node
        node = node.getparent()
    if item is not None:
        parent = item.getparent()
        if parent is not None and parent.tag == "tbody":
            parent = parent.getparent()
        return parent
    # Lists made of bare <a>/<div> rows: group by the anchor's grandparent.
    parent = anchor.getparent()
    return parent.getparent() if parent is not None and parent.getparent() is not None else parent


def _unique(links: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[str] = set()
    out = []
    for target, text in links:
        if target not in seen:
            seen.add(target)
            out.append((target, text))
    return out


def _next_pages(doc, text: str, base: str, page_url: str, rule: str | None) -> list[str]:
    pages: list[str] = []
    if rule:
        for el in compile_rule(rule).select(doc):
            if isinstance(el, str):
                target = _absolute(base, el)
            elif isinstance(el.tag, str):
                anchor = el if el.tag == "a" else next(iter(el.iter("a")), None)
                target = _absolute(base, anchor.get("href")) if anchor is not None else None
            else:
                target = None
            if target:
                pages.append(target)
        return _unique_urls(pages, page_url)

    for anchor in doc.iter("a"):
        label = " ".join(anchor.text_content().split()).lower()
        if label in _NEXT_TEXTS or (anchor.get("title") or "").strip() in _NEXT_TEXTS:
            target = _absolute(base, anchor.get("href"))
            if target and not target.lower().endswith(NON_PAGE_EXTENSIONS):
                pages.append(target)
    pages.extend(_trs_script_pages(text, base))
    pages.extend(_numbered_siblings(doc, base, page_url))
    return _unique_urls(pages, page_url)


def _unique_urls(urls: Iterable[str], page_url: str) -> list[str]:
    seen = {page_url}
    out = []
    for target in urls:
        if target not in seen:
            seen.add(target)
            out.append(target)
    return out


def _trs_script_pages(text: str, base: str) -> list[str]:
    """Pages written by TRS's ``createPageHTML(countPage, currentPage, prefix, ext)``."""
    if "createPageHTML" not in text:
        return []
    pages: list[str] = []
    for match in _CREATE_PAGE_RE.finditer(text):
        args = [a.strip() for a in match.group(1).split(",")]
        numbers: list[int] = []
        strings: list[str] = []
        for arg in args:
            quoted = _QUOTED_RE.match(arg)
            if quoted:
                strings.append(quoted.group(1))
            elif arg.isdigit():
                numbers.append(int(arg))
            elif re.fullmatch(r"[A-Za-z_$][\w$]*", arg):
                value = re.search(_JS_VAR_RE.format(name=re.escape(arg)), text)
                if value:
                    numbers.append(int(value.group(1)))
        # Some sites pass an element id first: the page prefix and extension are the last two
        # quoted arguments; count and current page are the first two numbers.
        if len(numbers) < 2 or len(strings) < 2:
            continue
        count, current = numbers[0], numbers[1]
        prefix, ext = strings[-2], strings[-1]
        if not prefix or not re.fullmatch(r"[A-Za-z0-9]+", ext):
            continue
        # The page count comes from the page's script: a hostile one may claim billions.
        for n in range(current + 1, min(count, current + 1 + MAX_SCRIPT_PAGES)):
            joined = join_url(base, f"{prefix}_{n}.{ext}")
            if joined:
                pages.append(joined)
    return pages


def _numbered_siblings(doc, base: str, page_url: str) -> list[str]:
    """Links to ``index_N.htm`` pages in the same folder as an ``index[_N].htm`` page, in order."""
    here = urlsplit(page_url)
    folder, _, name = here.path.rpartition("/")
    current = _PAGE_FILE_RE.match(name or "index.htm")
    if current is None:
        return []
    stem = current.group("stem")
    current_n = int(current.group("n") or 0)
    numbered: dict[int, str] = {}
    for href in doc.xpath("//a/@href"):
        target = _absolute(base, href)
        if not target:
            continue
        there = urlsplit(target)
        if there.netloc != here.netloc or there.query:
            continue
        t_folder, _, t_name = there.path.rpartition("/")
        match = _PAGE_FILE_RE.match(t_name)
        if t_folder != folder or not match or match.group("stem") != stem or not match.group("n"):
            continue
        n = int(match.group("n"))
        if n > current_n:
            numbered[n] = target
    return [numbered[n] for n in sorted(numbered)]
