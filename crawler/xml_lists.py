"""List feeds answered as XML: RSS and Atom, and the item lists of list APIs.

Some sections print no list: their script asks an XML one (www.news.gov.hk's
``/jsp/customSortNewsArticle.jsp`` answers ``<items><item><title>…</title>
<generateHtmlPath>/chi/2024/05/20240507/….html</generateHtmlPath></item>…``), and some sections
are offered as RSS. Each ``<item>`` (``<entry>`` in Atom) is one article: its title and the
first child naming an address (``<link>``, ``<url>``, ``…Path``, ``…Url``).

Hanweb's ``<datastore>`` answers are XML too; :mod:`crawler.datastore` reads those.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from lxml import etree

from govarchive.crawler.extract.page import join_url
from govarchive.crawler.list_links import NON_PAGE_EXTENSIONS

_ITEM_RE = re.compile(r"<(?:[\w-]+:)?(?:item|entry)(?=[\s>/])", re.IGNORECASE)
_NOT_A_FEED_RE = re.compile(r"<(?:html|body|datastore)\b", re.IGNORECASE)
_DECLARATION_RE = re.compile(r"^\s*<\?xml[^>]*>")
_PARSER = etree.XMLParser(recover=True, huge_tree=True, resolve_entities=False, no_network=True)
_TITLE_NAMES = ("title", "name", "subject", "doctitle", "headline")
_URL_NAME_RE = re.compile(r"^(?:link|url|href|.*(?:url|path|link))$", re.IGNORECASE)
MAX_FEED_ITEMS = 10_000


def is_xml_type(content_type: str | None) -> bool:
    """A content type naming XML (text/xml, application/rss+xml, …), not XHTML."""
    mime = (content_type or "").split(";")[0].strip().lower()
    return "xml" in mime and "html" not in mime


def looks_like_xml_feed(text: str, content_type: str | None = None) -> bool:
    """An XML document (no HTML page) holding ``<item>`` or ``<entry>`` elements."""
    head = (text or "").lstrip("\ufeff \t\r\n")[:1]
    if head != "<" or _NOT_A_FEED_RE.search(text[:5000]):
        return False
    return bool(_ITEM_RE.search(text)) and (
        "xml" in (content_type or "").lower() or text.lstrip("\ufeff \t\r\n")[:5] == "<?xml"
        or re.match(r"\s*<(?:rss|feed|items|list|result|data|response)\b", text.lstrip("\ufeff"),
                    re.IGNORECASE) is not None)


def read_xml_feed(text: str, url: str) -> list[tuple[str, str]]:
    """The (absolute URL, title) of each item of an XML list feed at ``url``, in order."""
    try:
        root = etree.fromstring(_DECLARATION_RE.sub("", text, count=1).encode("utf-8"),
                                parser=_PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return []
    if root is None:
        return []
    links: list[tuple[str, str]] = []
    for item in root.iter():
        if not isinstance(item.tag, str) or etree.QName(item).localname.lower() not in (
                "item", "entry"):
            continue
        title, target = "", None
        for child in item:
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child).localname
            value = " ".join((child.text or "").split())
            if not title and name.lower() in _TITLE_NAMES:
                title = value
            if target is None and _URL_NAME_RE.match(name):
                href = child.get("href") or value  # Atom: <link href="…"/>
                if (href.startswith(("/", "http://", "https://", "./", "../"))
                        and not href.lower().endswith(NON_PAGE_EXTENSIONS)):  # a thumbnail
                    target = _absolute(url, href)
        if target:
            links.append((target, title))
        if len(links) >= MAX_FEED_ITEMS:
            break
    return links


def _absolute(base: str, href: str) -> str | None:
    joined = join_url(base, href.strip())
    parts = urlsplit(joined) if joined else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return urlunsplit(parts._replace(fragment=""))
