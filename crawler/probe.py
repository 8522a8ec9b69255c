"""What ``govarchive sources probe`` reports about a section's list page, from its bytes.

:func:`probe_list_page` reads one list page with the crawl's own code: the charset decision of
:func:`crawler.extract.decode_html`, the article links and further list requests of
:func:`crawler.links.parse_list_page`, the anti-bot checks of :mod:`crawler.blocking` and
:mod:`crawler.verdict`. It adds what a person needs to judge the result: the CMS family and
its evidence (:mod:`crawler.families`), each link's date when the list shows one, a hint
when no link was found, and a ``[[sources]]`` block to paste into govarchive.toml. Fetching
(live mode) is :mod:`crawler.probe_fetch`'s job; it fills in ``robots`` and ``articles``.
"""

from __future__ import annotations

import codecs
import html
import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from lxml import etree
from lxml import html as lxml_html

from govarchive.crawler.blocking import block_reason
from govarchive.crawler.extract import NotHTMLError, decode_html, extract_article
from govarchive.crawler.extract.encoding import check_html, codec_for
from govarchive.crawler.extract.page import join_url
from govarchive.crawler.families import recognise_family
from govarchive.crawler.json_lists import looks_like_json
from govarchive.crawler.links import ListRequest, parse_list_page
from govarchive.crawler.verdict import error_page_reason
from govarchive.crawler.xml_lists import is_xml_type, looks_like_xml_feed

_DATE_RE = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_HTTP_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([a-zA-Z0-9_.:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(r"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]{2,30})""",
                           re.IGNORECASE)
_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_CDATA_RE = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.DOTALL)
# Scripts that anti-bot walls answer with instead of the page (Jiasule, Ruishu, wzws).
_CHALLENGE_SCRIPT_RE = re.compile(r"__jsl_clearance|__jsluid|\$_ts\s*=|wzws_cid|_WZWS",
                                  re.IGNORECASE)
_CHALLENGE_MAX_TEXT = 2000  # a challenge page is a script and a line or two, never a list
_SLUG_RE = re.compile(r"[^a-z0-9]+")


@dataclass
class ListLink:
    url: str
    title: str
    date: str | None = None  # YYYY-MM-DD as the list shows it

    def to_json(self) -> dict:
        return {"url": self.url, "title": self.title, "date": self.date}


@dataclass
class ProbeReport:
    """One probe of a section page. ``robots`` and ``articles`` are filled in live mode."""

    url: str  # the page's address (after redirects, live)
    requested_url: str | None = None
    status: int | None = None
    family: str = "unknown"
    family_evidence: list[str] = field(default_factory=list)
    charset: str | None = None
    charset_reason: str = ""
    title: str | None = None
    links: list[ListLink] = field(default_factory=list)
    list_requests: list[ListRequest] = field(default_factory=list)
    redirect_to: str | None = None
    framed_list: str | None = None  # the frame the page shows its list in
    section_links: list[str] = field(default_factory=list)
    # A shell page's list comes from these requests (the API its script names).
    shell_requests: list[ListRequest] = field(default_factory=list)
    not_html: str | None = None
    json_feed: bool = False  # the answer is JSON (a list API), read as a feed
    blocked: str | None = None
    error: str | None = None  # the page could not be read at all (live: refused, 404, ...)
    robots: dict = field(default_factory=lambda: {"allowed": None,
                                                  "detail": "not checked: a saved page"})
    articles: list[dict] | None = None
    rules: dict[str, str] = field(default_factory=dict)
    # Live: the page this one leads to (its redirect's target, its list API's answer), read
    # as the crawl reads it next.
    followed: ProbeReport | None = None
    followed_by: ListRequest | None = None  # the request that fetched ``followed``

    @property
    def found(self) -> bool:
        return bool(self.links)

    @property
    def listing(self) -> ProbeReport:
        """The report whose links are the section's list: the last page followed."""
        return self.followed.listing if self.followed is not None else self

    def lead(self) -> ListRequest | None:
        """The request the crawl makes next for a page that lists nothing itself: a redirect
        stub's target, its frame, a shell's list API; for a hub, its first sub-column (the
        crawl walks each as a section of its own)."""
        if self.links or self.blocked or self.error:
            return None
        if self.redirect_to or self.framed_list:
            return ListRequest(self.redirect_to or self.framed_list)
        if self.shell_requests:
            return self.shell_requests[0]
        return ListRequest(self.section_links[0]) if self.section_links else None

    @property
    def walkable(self) -> bool:
        """Whether the crawl can walk the section from here: links, or a page that leads to
        them (a redirect stub, a channel hub's sub-columns, a shell's list API); live, where
        the lead was followed, what it led to."""
        if self.followed is not None:
            return self.followed.walkable
        return bool(self.links or self.redirect_to or self.framed_list or self.section_links
                    or self.shell_requests)

    def hint(self) -> str | None:
        """What to try when no article link was found."""
        if self.followed is not None:
            return self.followed.hint()
        if self.links:
            return None
        if self.blocked:
            return ("an anti-bot wall answered instead of the page: govarchive does not get "
                    "past it; try another section of the site, or a mirror")
        if self.error:
            return None
        if self.json_feed:
            return ("no article link found in this JSON answer: check that it is the list "
                    "request the section's page makes (its answer names the articles)")
        if self.not_html:
            return (f"the page is not HTML ({self.not_html}): give the address of the "
                    "section's list page")
        if self.redirect_to:
            return (f"the page only redirects to {self.redirect_to}: the crawl follows it; "
                    "probe that address to see its list")
        if self.framed_list:
            return (f"the page shows its list in a frame from {self.framed_list}: the crawl "
                    "reads it there; probe that address to see its list")
        if self.section_links:
            return (f"the page is a channel hub: the crawl walks its {len(self.section_links)} "
                    f"sub-columns as sections of their own; probe one ({self.section_links[0]},"
                    " ...) to see its list")
        if self.shell_requests:
            first = self.shell_requests[0]
            return (f"the page's list is loaded by its script from {first.method} {first.url}:"
                    " the crawl asks it; save that answer and probe it with --url to see "
                    "the links")
        tried = (f" (rules.article_links {self.rules['article_links']!r} matched no link)"
                 if self.rules.get("article_links") else "")
        return ("no article link found" + tried + ": if the list is in the HTML, name its "
                "links with a selector, e.g. --article-links \"ul.list li a\" (then "
                "rules.article_links in the source); if the browser loads the list by script "
                "(XHR/JSON), find that request in the browser's network tab and give it as "
                "list_api")

    def to_json(self, *, followed: bool = False) -> dict:
        """The ``--json`` object (``followed``: of a page another one led to, without what
        only the section's own page has: robots, articles, hint and source block)."""
        page = {
            "url": self.url,
            "requested_url": self.requested_url or self.url,
            "status": self.status,
            "family": self.family,
            "family_evidence": self.family_evidence,
            "charset": self.charset,
            "charset_reason": self.charset_reason,
            "title": self.title,
            "article_links": [link.url for link in self.links],
            "article_link_details": [link.to_json() for link in self.links],
            "list_requests": [request.to_json() for request in self.list_requests],
            "redirect_to": self.redirect_to,
            "framed_list": self.framed_list,
            "section_links": self.section_links,
            "blocked": self.blocked,
            "not_html": self.not_html,
            "json_feed": self.json_feed,
            "error": self.error,
            "followed": (None if self.followed is None else
                         {**self.followed_by.to_json(),
                          "answer": self.followed.to_json(followed=True)}),
        }
        if followed:
            return page
        return {**page, "robots": self.robots, "articles": self.articles, "hint": self.hint(),
                "source": source_block(self)}


def probe_list_page(body: bytes, url: str, *, content_type: str | None = None,
                    status: int | None = None, headers=None, rules: dict[str, str] | None = None,
                    request: ListRequest | None = None) -> ProbeReport:
    """Read a section page's response as the crawl would and report what it found.

    ``headers`` is a Scrapy ``Headers`` (live) or None (a saved page); ``rules`` the
    ``article_links``/``next_page`` selectors to try; ``request`` the list request that
    asked the page, when another page led to it (an API's next page moves its page number).
    """
    rules = {k: v for k, v in (rules or {}).items() if v}
    report = ProbeReport(url=url, status=status, rules=rules)
    if headers is not None and status is not None:
        report.blocked = block_reason(status, headers)
    try:
        check_html(body, content_type)
    except NotHTMLError as exc:
        report.not_html = str(exc)
    text, codec = decode_html(body, content_type) if body.strip() else ("", "utf-8")
    report.charset = codec
    report.charset_reason = charset_reason(body, content_type, codec)
    header_map = _header_map(headers)
    family = recognise_family(text, url, header_map)
    report.family, report.family_evidence = family.name, family.evidence
    if report.blocked:
        return report
    # A JSON list feed is not HTML; parse_list_page reads feeds too, so it is asked anyway.
    if report.not_html:
        report.json_feed = looks_like_json(body, content_type)
        if not report.json_feed and not (is_xml_type(content_type)
                                         and looks_like_xml_feed(text, content_type)):
            return report
    page = parse_list_page(text, url, article_links_rule=rules.get("article_links"),
                           next_page_rule=rules.get("next_page"), content_type=content_type,
                           request=request)
    dates = _link_dates(text, url)
    report.links = [ListLink(link, " ".join(title.split()), dates.get(link))
                    for link, title in page.article_links]
    report.list_requests = page.list_requests()
    report.redirect_to = page.redirect_to
    report.framed_list = page.framed_list
    report.section_links = list(page.section_links)
    report.shell_requests = list(page.api_requests) if not page.article_links else []
    if not report.not_html:
        try:
            article = extract_article(body, url, content_type=content_type)
        except NotHTMLError:
            article = None
        if article is not None:
            report.title = page_title(text) or article.title
            report.blocked = challenge_reason(text, article.title, article.body_text)
    return report


def charset_reason(body: bytes, content_type: str | None, codec: str) -> str:
    """Why the page was read with ``codec``, in a few words."""
    header = _HTTP_CHARSET.search(content_type or "")
    meta = _META_CHARSET.search(body[:16384].decode("latin-1"))
    declared = [(f"Content-Type charset={header.group(1)}", header.group(1)) if header else None,
                (f"<meta charset={meta.group(1)}>", meta.group(1)) if meta else None]
    declared = [d for d in declared if d]
    for where, label in declared:
        if codec_for(label) == codec:
            same = "" if _codec_name(label) == _codec_name(codec) else (
                f" (read as {codec}, which covers it)")
            return f"declared by {where}{same}; the bytes decode cleanly"
    if declared:
        wheres = " and ".join(where for where, _ in declared)
        return f"{wheres} does not fit the bytes; detected {codec} from the bytes"
    return f"no charset declared; detected {codec} from the bytes"


def _codec_name(label: str) -> str:
    try:
        return codecs.lookup(label).name
    except LookupError:
        return label.lower()


def page_title(text: str) -> str | None:
    """The page's <title>, whitespace folded."""
    match = _TITLE_RE.search(text)
    title = " ".join(html.unescape(match.group(1)).split()) if match else ""
    return title or None


def challenge_reason(text: str, title: str | None, body_text: str) -> str | None:
    """Why a 200 answer is an anti-bot challenge or captcha page rather than the list."""
    verdict = error_page_reason(title, body_text)
    if verdict is not None and verdict[0] == "blocked":
        return verdict[1]
    if len(body_text) < _CHALLENGE_MAX_TEXT and _CHALLENGE_SCRIPT_RE.search(text):
        return "challenge script (cookie-setting JavaScript instead of the page)"
    return None


def _header_map(headers) -> dict[str, str]:
    if headers is None:
        return {}
    found = {}
    for name, values in headers.items():
        key = (name.decode("latin-1") if isinstance(name, bytes) else name).lower()
        value = values[-1] if isinstance(values, list) and values else values
        found[key] = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return found


def _link_dates(text: str, url: str) -> dict[str, str]:
    """Each link's date as its list item shows it (YYYY-MM-DD), by the link's URL."""
    dates: dict[str, str] = {}
    # Hanweb keeps its records in CDATA, which the page's tree drops.
    fragments = [text, *(m.group(1) for m in _CDATA_RE.finditer(text))] if "CDATA" in text \
        else [text]
    for fragment in fragments:
        try:
            doc = lxml_html.document_fromstring(fragment or "<html></html>")
        except (etree.ParserError, ValueError):
            continue
        for anchor in doc.iter("a"):
            href = (anchor.get("href") or "").strip()
            target = join_url(url, href) if href else None
            if not target or target in dates:
                continue
            date = _item_date(anchor)
            if date:
                dates[target] = date
    return dates


def _item_date(anchor) -> str | None:
    node = anchor
    for _ in range(3):  # the anchor, its list item, the item's row: no further
        if node is None:
            return None
        text = " ".join(node.text_content().split())
        match = _DATE_RE.search(text)
        if match:
            y, m, d = match.groups()
            return f"{y}-{int(m):02d}-{int(d):02d}"
        if node.tag in ("li", "tr", "dd", "dl"):
            return None
        node = node.getparent()
    return None


# ---- the [[sources]] block ----------------------------------------------------------------------

def source_name(url: str) -> str:
    """A source name ([a-z0-9-]) from the section's address: host without www/gov.cn, then
    the path's folders, e.g. www.ndrc.gov.cn/xxgk/zcfb/tz/ -> ndrc-xxgk-zcfb-tz."""
    parts = urlsplit(url)
    host = (parts.hostname or "section").lower()
    labels = [label for label in host.split(".") if label not in ("www", "gov", "cn", "com",
                                                                 "org", "net", "hk", "mo", "tw")]
    if not labels:  # www.gov.cn
        labels = ["".join(label for label in host.split(".") if label != "www")]
    folders = [p for p in parts.path.lower().split("/") if p]
    if folders and "." in folders[-1]:
        stem = folders.pop().rsplit(".", 1)[0]
        if stem not in ("index", "default", "home", "list"):
            folders.append(stem)
    name = "-".join(_SLUG_RE.sub("-", x).strip("-") for x in [*labels, *folders[-3:]] if x)
    return name.strip("-")[:60].strip("-") or "section"


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # JSON escapes are valid TOML escapes


def source_block(report: ProbeReport) -> str:
    """A ``[[sources]]`` table for this section, ready to paste into govarchive.toml."""
    start = report.requested_url or report.url
    title = (report.title or "").strip() or source_name(start)
    listing = report.listing
    lines = [
        f"# {report.family}; sources probe found {len(listing.links)} article links"
        + (f" and {len(listing.list_requests)} further list requests" if listing.list_requests
           else "")
        + ("" if listing is report else f" at {listing.url}"),
        "[[sources]]",
        f"name = {_toml_string(source_name(start))}",
        f"title = {_toml_string(title[:80])}",
        f"start_urls = [{_toml_string(start)}]",
        'schedule = "every 6h"',
        "max_list_pages = 5",
    ]
    if report.rules:
        lines.append("[sources.rules]")
        lines += [f"{k} = {_toml_string(v)}" for k, v in sorted(report.rules.items())]
    elif not report.walkable and not report.blocked:
        lines += ["# no article link was found: name them, e.g.",
                  "# [sources.rules]", '# article_links = "ul.list li a"',
                  "# or, for a list the browser loads by script, the request it makes (list_api)"]
    return "\n".join(lines)
