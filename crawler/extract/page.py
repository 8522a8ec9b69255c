"""One parse of the page, cleaned once, and its text in document order."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from urllib.parse import urljoin, urlsplit

from lxml import etree

from .model import NotHTMLError

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
# Old CMS templates close the document mid-page (a stray </html> or </body>) and carry on.
_STRAY_END = re.compile(r"</(?:[hH][tT][mM][lL]|[bB][oO][dD][yY])\s*>")
# Never text: scripts, styles, form widgets and embedded media.
# "xml": Word's <xml><o:DocumentProperties> pasted into the text (Author=Administrator).
_DROP_TAGS = ("script", "style", "noscript", "template", "select", "textarea", "iframe",
              "object", "embed", "svg", "canvas", "audio", "video", "map", "button",
              "xml")  # fmt: skip
# Every style attribute (its owner is its getparent()): selecting the hidden elements with
# an XPath predicate costs libxml2 more than testing the few values here.
_STYLES = etree.XPath("//@style")
_TEXT_LEN = etree.XPath("string-length(.)")
# Plain etree elements: lxml.html's element classes cost a Python lookup per node.
_PARSER = etree.HTMLParser(
    remove_comments=True, remove_pis=True, huge_tree=True, default_doctype=False
)
_UTF8_PARSER = etree.HTMLParser(
    remove_comments=True, remove_pis=True, huge_tree=True, default_doctype=False, encoding="utf-8"
)

INLINE = frozenset(
    {
        "a",
        "span",
        "font",
        "strong",
        "b",
        "em",
        "i",
        "u",
        "sub",
        "sup",
        "small",
        "big",
        "label",
        "abbr",
        "cite",
        "code",
        "s",
        "strike",
        "ins",
        "del",
        "mark",
        "q",
        "tt",
        "var",
    }
)


def _has_stray_end(text: str) -> bool:
    """Markup after the first </html> or </body> (one search; the copy only when needed)."""
    first = _STRAY_END.search(text)
    return first is not None and bool(_STRAY_END.sub("", text[first.start() :]).strip())


def _drop_end_tags(text: str) -> str:
    # finditer and join: re.sub is slower on large pages
    parts, last = [], 0
    for m in _STRAY_END.finditer(text):
        parts.append(text[last : m.start()])
        last = m.end()
    parts.append(text[last:])
    return "".join(parts)


# libxml2 stops building the tree at a few hundred levels (fewer without huge_tree) and drops
# what lies deeper; tags nested past this depth are dropped first, so their text stays.
MAX_NESTING = 200
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)\b[^>]*?(/?)>")
# Never dropped and not counted: tags without content, tags whose end tag may be left out,
# and the tags whose meaning the extractor and the list finder read (links, lists, headings).
_UNNESTED = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "thead", "tbody",
    "tfoot", "colgroup", "rt", "rp", "optgroup", "html", "head", "body", "a", "ul", "ol",
    "dl", "table", "h1", "h2", "h3", "h4", "h5", "h6", "title", "script", "style", "iframe",
})


def flatten_deep_nesting(text: str, max_depth: int = MAX_NESTING) -> str:
    """``text`` with the start and end tags nested deeper than ``max_depth`` removed."""
    if text.count("<") <= max_depth:
        return text
    depth, deepest, spans = 0, 0, []
    for m in _TAG.finditer(text):
        if m.group(3) or m.group(2).lower() in _UNNESTED:
            continue
        closing = bool(m.group(1))
        if not closing:
            depth += 1
            deepest = max(deepest, depth)
        if depth > max_depth:
            spans.append((m.start(), m.end()))
        if closing:
            depth = max(0, depth - 1)
    if deepest <= max_depth:
        return text
    parts, last = [], 0
    for start, end in spans:
        parts.append(text[last:start])
        last = end
    parts.append(text[last:])
    return "".join(parts)


def join_url(base: str, href: str) -> str | None:
    """``href`` made absolute against ``base``, or None when either is no URL at all (a page
    can hold ``http://[::1`` in an href, and urllib raises ValueError on it)."""
    try:
        joined = urljoin(base, href)
        urlsplit(joined)
    except ValueError:
        return None
    return joined


def parse_document(text: str) -> etree._Element:
    """Parse once; scripts, styles, comments and hidden bits are gone afterwards."""
    # Old CMS templates close the document mid-page and carry on; libxml2 would drop the rest.
    declaration = _XML_DECL.match(text)
    if declaration:
        text = text[declaration.end() :]
    if _has_stray_end(text):
        text = _drop_end_tags(text)
    if not text.strip():
        raise NotHTMLError("empty document")
    text = flatten_deep_nesting(text)
    try:
        root = _parse(text)
    except (etree.ParserError, ValueError) as exc:
        raise NotHTMLError(f"unparsable as HTML: {exc}") from exc
    if root is None or not isinstance(root.tag, str):
        raise NotHTMLError("no document element")
    etree.strip_elements(root, *_DROP_TAGS, with_tail=False)
    hidden = [style.getparent() for style in _STYLES(root) if _is_hidden(style)]
    for el in hidden:
        # Hidden boxes hold menus, share widgets and QR codes, rarely the article itself.
        if el.getparent() is not None and _TEXT_LEN(el) < 500:
            drop_tree(el)
    return root


def _is_hidden(style: str) -> bool:
    return "display:none" in style.replace(" ", "")


def _parse(text: str) -> etree._Element:
    # libxml2 reads UTF-8 natively: the text encoded to UTF-8 (in C) parses faster than the
    # UTF-16 or UCS-4 buffer lxml hands over for a str, into the same tree. A str starting
    # with an XML declaration goes as it is, for lxml refuses it (ValueError), and so does
    # one with a lone surrogate, which UTF-8 cannot hold.
    if not text.startswith("<?xml"):
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            pass
        else:
            return etree.fromstring(data, _UTF8_PARSER)
    return etree.fromstring(text, _PARSER)


def text_of(el) -> str:
    return "".join(el.itertext())


def drop_tree(el) -> None:
    """Remove ``el`` and its children but keep the text that follows it."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def squash(text: str) -> str:
    """Whitespace runs (including ideographic spaces and nbsp) to one space, trimmed."""
    return " ".join(text.split())


_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])\s+|\s+(?=[{_CJK}])")


def squash_cjk(text: str) -> str:
    """Like squash, but line breaks next to Chinese characters leave no space (titles)."""
    return _CJK_GAP.sub("", squash(text))


@dataclass(slots=True)
class Segment:
    element: etree._Element  # the element whose text this is
    text: str  # whitespace-squashed
    in_link: bool


def text_segments(root: etree._Element) -> list[Segment]:
    """Every non-blank text node of <body> in document order, with its owner."""
    body = root.find("body")
    if body is None:
        body = root
    out: list[Segment] = []
    append = out.append
    link_depth = 0
    # lxml makes a new string on every read of .tag, .text and .tail: each is read once
    for event, el in etree.iterwalk(body, events=("start", "end")):
        tag = el.tag
        if tag.__class__ is not str:
            continue
        if event == "start":
            if tag == "a":
                link_depth += 1
            text = el.text
            if text and not text.isspace() and tag != "title":
                append(Segment(el, " ".join(text.split()), link_depth > 0))
        else:
            if tag == "a":
                link_depth -= 1
            tail = el.tail
            if tail and not tail.isspace() and el is not body:
                append(Segment(el.getparent(), " ".join(tail.split()), link_depth > 0))
    return out


class SegmentSearch:
    """The page's text segments of at most ``max_len`` characters, joined into one string.

    Finding the segments a pattern matches is then one search in C over the page instead of
    one call per segment: most of the page never matches, and a call costs more than the
    scan of a short text.
    """

    def __init__(self, segments: list[Segment], max_len: int):
        self.segments = segments
        texts = [seg.text if len(seg.text) <= max_len else "" for seg in segments]
        self._joined = "\n".join(texts)
        # where each segment's text ends in the joined text, its newline included
        self._ends = list(accumulate(len(text) + 1 for text in texts))

    def candidates(self, pattern: re.Pattern, span: range | None = None) -> Iterator[int]:
        """Indices, ascending, of the segments (of ``span``) that may hold a match.

        Every short segment ``pattern`` matches is among them, provided the pattern has no
        anchor or lookaround; others may be too (a match can run across a segment's end,
        as \\s matches the newline), so each candidate is still tested on its own text.
        """
        joined, ends = self._joined, self._ends
        first, stop = (0, len(ends)) if span is None else (span.start, span.stop)
        pos = ends[first - 1] if first > 0 else 0
        while first < stop and (m := pattern.search(joined, pos)) is not None:
            i = bisect_right(ends, m.start())
            if i >= stop:
                return
            yield i
            pos = ends[i]


def meta_map(root: etree._Element) -> dict[str, str]:
    """<meta name|property|itemprop=... content=...> keyed by lower-cased name (first wins)."""
    metas: dict[str, str] = {}
    for meta in root.iter("meta"):
        key = meta.get("name") or meta.get("property") or meta.get("itemprop")
        content = meta.get("content")
        if key and content and content.strip():
            metas.setdefault(key.strip().lower(), squash(content))
    return metas
