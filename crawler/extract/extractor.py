"""extract_article: decode, parse once, then read every field from the same tree."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from functools import lru_cache
from urllib.parse import unquote, urlsplit

import lxml.html
from lxml import etree

from govarchive.times import DEFAULT_TIMEZONE

from ..selectors import compile_rule as _compile_rule
from . import body as body_mod
from .bylines import find_byline
from .dates import parse_date
from .encoding import MAX_BYTES, check_html, decode_html
from .fields import (
    find_author,
    find_doc_number,
    find_origin,
    find_section,
    label_lines,
)
from .model import Article, Attachment
from .page import join_url, meta_map, parse_document, squash, text_of, text_segments
from .published import published_date, published_from_url
from .requisites import body_images, page_requisites
from .title import find_title

# A source's rules are the same on every page of a crawl: compile each once.
compile_rule = lru_cache(maxsize=512)(_compile_rule)

# Document formats government pages attach (ceb: the Chinese e-government e-book format).
ATTACHMENT_EXTENSIONS = frozenset(
    [
        "pdf",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "wps",
        "et",
        "ofd",
        "ceb",
        "zip",
        "rar",
        "7z",
        "ppt",
        "pptx",
        "csv",
    ]
)
# A cheap test first: an href without one of these cannot have an attachment's extension
# (percent escapes and the tabs or newlines urlsplit drops could hide one: those go on to
# the full parse).
_MAY_BE_ATTACHMENT = re.compile(
    r"[%\t\r\n]|\.(?:" + "|".join(sorted(ATTACHMENT_EXTENSIONS)) + ")", re.IGNORECASE
)
_STRIP_LABEL = re.compile(r"^\s*[^:：]{1,8}[:：]\s*")
# Our extractor's body is "weak" below this many characters; then readability is asked too.
_WEAK_BODY = 60


def extract_article(
    body: bytes,
    url: str,
    *,
    content_type: str | None = None,
    rules: Mapping[str, str | None] | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> Article:
    """Read an article out of raw response bytes.

    Raises NotHTMLError when the bytes are not an HTML page; nothing else for any input bytes.
    """
    if isinstance(body, str):
        raise TypeError("extract_article takes the response bytes, not text")
    body = bytes(body)
    check_html(body, content_type)
    truncated = len(body) > MAX_BYTES
    if truncated:
        body = body[:MAX_BYTES]
    text, codec = decode_html(body, content_type)
    root = parse_document(text)
    rules = {k: v for k, v in (rules or {}).items() if v}
    metas = meta_map(root)
    segments = text_segments(root)

    container = anchor = _rule_container(root, rules.get("body"))
    if container is None:
        container, anchor = body_mod.best_block(root, segments)
    if container is None:
        container = anchor = root.find("body") if root.find("body") is not None else root

    title, title_el = find_title(root, metas, anchor, segments)
    ruled_title = _rule_text(root, rules.get("title"))
    if ruled_title:
        title = ruled_title
    cleaned = body_mod.clean_body(container, title=title, base_url=url)
    body_text = body_mod.render_text(cleaned)
    if len(body_text) < _WEAK_BODY and not rules.get("body"):
        cleaned, body_text = _second_opinion(text, cleaned, body_text, title, url)

    title_index = _title_index(segments, title_el, title)
    published = None
    ruled_date = _rule_text(root, rules.get("published"))
    if ruled_date:
        published = parse_date(ruled_date, timezone)
    if published is None:
        published = published_date(
            metas,
            segments,
            title_index,
            timezone,
            _end_index(segments, anchor),
            url,
        )
    if published is None and body_text:
        published = published_from_url(url, timezone, segments, title_index)

    lines = label_lines(segments)
    near = _headline_lines(title_index, len(segments))
    byline = find_byline(body_text) or _byline_under_headline(segments, near)
    stylesheets, page_resources = page_requisites(root, text, url)
    origin = _strip_label(_rule_text(root, rules.get("origin"))) or find_origin(
        lines, byline, near
    )
    author = _strip_label(_rule_text(root, rules.get("author"))) or find_author(
        lines, metas, body_text, byline, near, origin
    )

    return Article(
        url=url,
        title=title,
        published_at=published[0] if published else None,
        published_precision=published[1] if published else None,
        origin=origin,
        author=author,
        section=find_section(root, lines),
        doc_number=find_doc_number(lines, body_text),
        body_text=body_text,
        body_html=lxml.html.tostring(cleaned, encoding="unicode", method="html"),
        attachments=_attachments(_article_scope(anchor, title_el), url),
        images=body_images(cleaned),
        stylesheets=stylesheets,
        page_resources=page_resources,
        encoding=codec,
        truncated=truncated,
    )


def _rule_container(root, rule: str | None):
    if not rule:
        return None
    found = [n for n in compile_rule(rule).select(root) if isinstance(n, etree._Element)]
    if not found:
        return None
    if len(found) == 1:
        return found[0]
    wrapper = etree.Element("div")
    for node in found:
        wrapper.append(copy.deepcopy(node))
    return wrapper


def _rule_text(root, rule: str | None) -> str | None:
    if not rule:
        return None
    parts = []
    for node in compile_rule(rule).select(root):
        parts.append(text_of(node) if isinstance(node, etree._Element) else str(node))
    text = squash(" ".join(parts))
    return text or None


def _strip_label(text: str | None) -> str | None:
    if not text:
        return None
    return _STRIP_LABEL.sub("", text).strip() or None


def _second_opinion(text, cleaned, body_text, title, url):
    other = body_mod.readability_body(text)
    if other is None:
        return cleaned, body_text
    other = body_mod.clean_body(other, title=title, base_url=url)
    other_text = body_mod.render_text(other)
    if len(other_text) > max(2 * len(body_text), _WEAK_BODY // 2):
        return other, other_text
    return cleaned, body_text


def _title_index(segments, element, title: str | None) -> int | None:
    """Where the headline is in the text order: its element, else a text that is the title."""
    if element is not None:
        inside = set(element.iter())
        for i, seg in enumerate(segments):
            if seg.element in inside:
                return i
    if title:
        key = "".join(title.split())
        for i, seg in enumerate(segments):
            text = "".join(seg.text.split())
            if key in text and len(text) <= len(key) + 20:
                return i
    return None


def _headline_lines(title_index: int | None, count: int) -> range:
    """The headline's own lines and the info line under it."""
    if title_index is None:
        return range(0)
    return range(title_index, min(count, title_index + 10))


def _byline_under_headline(segments, near: range):
    """A byline between the headline and the text, when the text block left it out."""
    for i in near:
        if segments[i].in_link:
            continue
        # its own line, or its line with the next boxes (a reporter's name is often a link)
        for text in (segments[i].text, "".join(seg.text for seg in segments[i : i + 3])):
            found = find_byline(text)
            if found:
                return found
    return None


def _end_index(segments, anchor) -> int | None:
    inside = set(anchor.iter())
    for i in range(len(segments) - 1, -1, -1):
        if segments[i].element in inside:
            return i + 1
    return None


_FOOTER = re.compile(r"主办单位|主辦單位|版权所有|版權所有|ICP备|网站标识码|網站標識碼")


def _article_scope(container, title_el) -> list:
    """Where attachment links live: the article's wrapper and the blocks that follow it."""
    wrapper = container
    if title_el is not None:
        around_text = set(container.iterancestors())
        for ancestor in title_el.iterancestors():
            if ancestor.tag in ("body", "html"):
                break
            if ancestor in around_text:
                wrapper = ancestor
                break
    elif container.getparent() is not None and container.getparent().tag not in ("body", "html"):
        wrapper = container.getparent()
    roots = [wrapper]
    # "附件：" lists usually follow the text as a sibling block; the page footer does not count
    for sibling in wrapper.itersiblings():
        if len(roots) > 3 or _FOOTER.search(text_of(sibling)):
            break
        roots.append(sibling)
    return roots


def _extension(href: str) -> str:
    try:
        path = unquote(urlsplit(href).path)
    except ValueError:  # not a URL (e.g. an unclosed "[" in the host)
        return ""
    return path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""


def _attachments(roots: list, base_url: str) -> list[Attachment]:
    seen: set[str] = set()
    found: list[Attachment] = []
    for a in (a for root in roots for a in root.iter("a")):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        if not _MAY_BE_ATTACHMENT.search(href) or _extension(href) not in ATTACHMENT_EXTENSIONS:
            continue
        absolute = join_url(base_url, href)
        if absolute is None or absolute in seen:
            continue
        seen.add(absolute)
        name = squash(text_of(a)) or (a.get("title") or "").strip()
        found.append(
            Attachment(
                url=absolute, name=name or unquote(urlsplit(absolute).path.rsplit("/", 1)[-1])
            )
        )
    return found
