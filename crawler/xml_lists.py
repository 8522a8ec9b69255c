"""List feeds answered as XML: RSS and Atom, and the item lists of list APIs.

Some sections print no list: their script asks an XML one (www.news.gov.hk's
``/jsp/customSortNewsArticle.jsp`` answers ``<items><item><title>…</title>
<generateHtmlPath>/chi/2024/05/20240507/….html</generateHtmlPath></item>…``), and some sections
are offered as RSS. Each ``<item>`` (``<entry>`` in Atom) is one article; its children are
read as a JSON item's fields are (:func:`crawler.list_items.item_fields`): the title, and the
child naming an address (``<link>``, ``<url>``, ``…Path``, ``…Url``; Atom's ``<link href>``).

Hanweb's ``<datastore>`` answers are XML too; :mod:`crawler.datastore` reads those.
"""

from __future__ import annotations

import re

from lxml import etree

from govarchive.crawler.list_items import absolute_url, item_fields
from govarchive.crawler.list_links import NON_PAGE_EXTENSIONS

_ITEM_RE = re.compile(r"<(?:[\w-]+:)?(?:item|entry)(?=[\s>/])", re.IGNORECASE)
_NOT_A_FEED_RE = re.compile(r"<(?:html|body|datastore)\b", re.IGNORECASE)
_DECLARATION_RE = re.compile(r"^\s*<\?xml[^>]*>")
_PARSER = etree.XMLParser(recover=True, huge_tree=True, resolve_entities=False, no_network=True)
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
        fields: dict[str, str] = {}
        for child in item:
            if isinstance(child.tag, str):
                value = child.get("href") or " ".join((child.text or "").split())
                fields.setdefault(etree.QName(child).localname, value)
        href, title, _date = item_fields(fields)
        target = absolute_url(url, href) if href else None
        if target and target.lower().endswith(NON_PAGE_EXTENSIONS):
            target = None  # a thumbnail or a file, not the article
        if target:
            links.append((target, title))
        if len(links) >= MAX_FEED_ITEMS:
            break
    return links

