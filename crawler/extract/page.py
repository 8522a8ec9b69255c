"""One parse of the page, cleaned once, and its text in document order."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from .model import NotHTMLError

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
# Old CMS templates close the document mid-page (a stray </html> or </body>) and carry on.
_STRAY_END = re.compile(r"</(?:[hH][tT][mM][lL]|[bB][oO][dD][yY])\s*>")
# Never text: scripts, styles, form widgets and embedded media.
_DROP_TAGS = ("script", "style", "noscript", "template", "select", "textarea", "iframe",
              "object", "embed", "svg", "canvas", "audio", "video", "map", "button")  # fmt: skip
_HIDDEN = etree.XPath("//*[contains(translate(@style, ' ', ''), 'display:none')]")
_TEXT_LEN = etree.XPath("string-length(.)")
# Plain etree elements: lxml.html's element classes cost a Python lookup per node.
_PARSER = etree.HTMLParser(
    remove_comments=True, remove_pis=True, huge_tree=True, default_doctype=False
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
    # finditer and join: several times faster than re.sub on large pages
    parts, last = [], 0
    for m in _STRAY_END.finditer(text):
        parts.append(text[last : m.start()])
        last = m.end()
    parts.append(text[last:])
    return "".join(parts)


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
    try:
        root = etree.fromstring(text, _PARSER)
    except (etree.ParserError, ValueError) as exc:
        raise NotHTMLError(f"unparsable as HTML: {exc}") from exc
    if root is None or not isinstance(root.tag, str):
        raise NotHTMLError("no document element")
    etree.strip_elements(root, *_DROP_TAGS, with_tail=False)
    for el in _HIDDEN(root):
        # Hidden boxes hold menus, share widgets and QR codes, rarely the article itself.
        if el.getparent() is not None and _TEXT_LEN(el) < 500:
            drop_tree(el)
    return root


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
    link_depth = 0
    for event, el in etree.iterwalk(body, events=("start", "end")):
        if not isinstance(el.tag, str):
            continue
        if event == "start":
            if el.tag == "a":
                link_depth += 1
            if el.text and not el.text.isspace() and el.tag != "title":
                out.append(Segment(el, squash(el.text), link_depth > 0))
        else:
            if el.tag == "a":
                link_depth -= 1
            if el is not body and el.tail and not el.tail.isspace():
                out.append(Segment(el.getparent(), squash(el.tail), link_depth > 0))
    return out


def meta_map(root: etree._Element) -> dict[str, str]:
    """<meta name|property|itemprop=... content=...> keyed by lower-cased name (first wins)."""
    metas: dict[str, str] = {}
    for meta in root.iter("meta"):
        key = meta.get("name") or meta.get("property") or meta.get("itemprop")
        content = meta.get("content")
        if key and content and content.strip():
            metas.setdefault(key.strip().lower(), squash(content))
    return metas
