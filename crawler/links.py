"""Reading a section's list page: its article links, further list pages, sub-columns.

:func:`parse_list_page` is the one entry (the spider and ``replay reparse`` call it; it is pure,
so the archive rebuilds the same listings). The work is split by job:
:mod:`crawler.list_links` finds the main list (decoys left out, script-printed lists rendered),
:mod:`crawler.pagers` every kind of pagination (:mod:`crawler.page_numbers` the numbered
page links), :mod:`crawler.redirect_stubs` entries that only
redirect, :mod:`crawler.hubs` channel pages previewing sub-columns, and
:mod:`crawler.datastore` Hanweb JCMS datastores, :mod:`crawler.xml_lists` XML item feeds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urldefrag, urlencode, urlsplit

from lxml import etree
from lxml import html as lxml_html

from govarchive.crawler.api_pages import FORM_TYPE, ApiCall
from govarchive.crawler.datastore import read_datastore
from govarchive.crawler.extract.page import flatten_deep_nesting, join_url
from govarchive.crawler.hubs import find_hub_blocks
from govarchive.crawler.json_lists import (
    JSONP_START,
    fragment_links,
    looks_like_json,
    read_json_list,
)
from govarchive.crawler.list_links import (
    ARTICLE_URL_PATTERNS,
    NON_PAGE_EXTENSIONS,
    find_article_links,
    give_handler_links_their_address,
    looks_like_article_url,
    render_script_lists,
    site_key,
    unique_links,
)
from govarchive.crawler.pagers import MAX_SCRIPT_PAGES, find_next_pages, script_texts
from govarchive.crawler.postbacks import page_key, postback_pages
from govarchive.crawler.redirect_stubs import framed_list, redirect_target
from govarchive.crawler.script_lists import script_list_calls
from govarchive.crawler.selectors import compile_rule
from govarchive.crawler.xml_lists import looks_like_xml_feed, read_xml_feed

__all__ = ["ARTICLE_URL_PATTERNS", "MAX_SCRIPT_PAGES", "NON_PAGE_EXTENSIONS", "ListPage",
           "ListRequest", "looks_like_article_url", "parse_list_page", "site_key"]

# huge_tree: libxml2 otherwise drops whatever is nested deeper than 256 levels.
_PARSER = lxml_html.HTMLParser(huge_tree=True)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
# An included header that closes the document (a re-serialised page, a bad template): libxml2
# would drop everything after it, the list included.
_EARLY_END = re.compile(r"</(?:body|html)\s*>", re.IGNORECASE)


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
        """What tells two list requests apart: a JSON API asks every page at one URL; an
        ASP.NET postback's state fields change with every answer and name no page."""
        return (self.method.upper(), self.url, page_key(self.body) or None)


@dataclass
class ListPage:
    """What a list page offers: article links (with their link text) and further list pages.

    A further list page asked by POST (a Hanweb data proxy) is in ``next_pages`` like the
    others (its URL carries the record range, so it names one answer) and in ``forms``, which
    gives the form fields to post. A list asked from an API (a shell page's XHR, the next
    page of a JSON answer) is in ``api_requests``, before the others. A hub's sub-columns are
    in ``section_links``; its previews are not article links (the sub-columns list them).
    """

    article_links: list[tuple[str, str]] = field(default_factory=list)
    next_pages: list[str] = field(default_factory=list)
    forms: dict[str, dict[str, str]] = field(default_factory=dict)
    api_requests: list[ListRequest] = field(default_factory=list)
    # A channel hub's sub-column lists, each a list of its own (not pages of this one).
    section_links: list[str] = field(default_factory=list)
    # Where a redirect-stub entry sends the browser (also the first of next_pages).
    redirect_to: str | None = None
    # The frame a page that lists nothing itself shows its list in (also the first of
    # next_pages).
    framed_list: str | None = None
    # An ASP.NET pager's further pages, posted back to the page (crawler.postbacks).
    postbacks: list[ListRequest] = field(default_factory=list)

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
        return requests + self.postbacks


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
    :mod:`crawler.json_lists`, an XML feed of items (RSS, Atom, a list API's XML) by
    :mod:`crawler.xml_lists`; a page that shows no article link but names its list API in
    its script gives that request first in :meth:`ListPage.list_requests`."""
    if form is None and request is not None and request.body and \
            (request.content_type or FORM_TYPE).startswith(FORM_TYPE):
        form = dict(parse_qsl(request.body, keep_blank_values=True))
    head = (text or "")[:512].lstrip("\ufeff \t\r\n")
    json_hint = _json_type(content_type) or head[:1] in ("{", "[") or JSONP_START.match(head)
    if json_hint and looks_like_json((text or "").encode("utf-8"), content_type):
        return _json_list_page(text, url, request, article_links_rule)
    if not article_links_rule and looks_like_xml_feed(text or "", content_type):
        # An RSS/Atom feed or a list API's XML items (not Hanweb's datastore, read below).
        return ListPage(article_links=unique_links(
            link for link in read_xml_feed(text, url) if link[0] != url))
    # lxml refuses a str that declares its encoding: XHTML list pages start with one.
    text = _XML_DECLARATION.sub("", text or "", count=1)
    try:
        doc = lxml_html.document_fromstring(
            _EARLY_END.sub("", flatten_deep_nesting(text)) or "<html></html>", parser=_PARSER)
    except (etree.ParserError, ValueError):
        return ListPage()  # nothing lxml can read: no links (a comment, whitespace, ...)
    base = _base_url(doc, url)

    resolved: dict[str | None, str | None] = {}

    def absolute(href: str | None) -> str | None:
        # The list finder and the pager readers look at the same links: resolve each once.
        if href not in resolved:
            resolved[href] = _absolute(base, href)
        return resolved[href]

    page = ListPage()
    give_handler_links_their_address(doc)
    scripts = script_texts(doc)
    datastore = read_datastore(text, url, form)
    if datastore.links and not article_links_rule:
        # The records are the column's list by construction: no need to guess the container.
        page.article_links = unique_links(
            (target, link_text) for href, link_text in datastore.links
            if (target := absolute(href)) and target != url
        )
    else:
        hub_blocks: list = []
        if not article_links_rule:
            page.section_links, hub_blocks = find_hub_blocks(doc, absolute, url)
            render_script_lists(doc)
        page.article_links = find_article_links(doc, absolute, url, article_links_rule,
                                                excluded=frozenset(hub_blocks))
    if next_page_rule:
        page.next_pages = _rule_pages(doc, absolute, url, next_page_rule)
    else:
        page.next_pages = find_next_pages(doc, scripts, absolute, url)
        if page.section_links:  # a hub's "»" leads to a sub-column, not to a page of its own
            page.next_pages = [p for p in page.next_pages if p not in page.section_links]
        if not page.article_links and not page.section_links:
            page.redirect_to = redirect_target(doc, scripts, absolute)
            if not page.redirect_to and not datastore.requests:
                page.framed_list = framed_list(doc, absolute, url)
            lead = page.redirect_to or page.framed_list
            if lead and lead != url:
                page.next_pages = [lead, *(p for p in page.next_pages if p != lead)]
        for target, fields in datastore.requests:
            if target not in page.next_pages and target != url:
                page.next_pages.append(target)
                page.forms[target] = fields
        for target in datastore.pages:
            if (target := absolute(target)) and target not in page.next_pages and target != url:
                page.next_pages.append(target)
        page.postbacks = [ListRequest(target, "POST", body, FORM_TYPE)
                          for target, body in postback_pages(doc, absolute, url, form)]
    if not page.article_links and not datastore.links and not page.section_links:
        # A shell: the browser asks the list from an API its script names.
        page.api_requests = [ListRequest(*call) for call in script_list_calls(text, url)]
    return page


def _json_type(content_type: str | None) -> bool:
    return any(word in (content_type or "").lower() for word in ("json", "javascript"))



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
    page.article_links = unique_links(link for link in links if link[0] != url)
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


def _rule_pages(doc, absolute, page_url: str, rule: str) -> list[str]:
    pages: list[str] = []
    for el in compile_rule(rule).select(doc):
        if isinstance(el, str):
            target = absolute(el)
        elif isinstance(el.tag, str):
            anchor = el if el.tag == "a" else next(iter(el.iter("a")), None)
            target = absolute(anchor.get("href")) if anchor is not None else None
        else:
            target = None
        if target and target != page_url and target not in pages:
            pages.append(target)
    return pages
