"""Channel hubs: pages that preview several sub-columns, each block with a "more" (更多) link.

A channel landing page (``/zdgz/``) shows a few recent articles of each sub-column under the
sub-column's title and a "more" link to its list. Read as one list it would give a handful of
articles per sub-column and no pagination; the crawler instead walks each sub-column as a list
of its own. A page is a hub when at least :data:`MIN_BLOCKS` separate blocks each hold article
links and exactly one "more" link to a page of the same site that is not an article.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from govarchive.crawler.list_links import (
    NON_PAGE_EXTENSIONS,
    is_chrome,
    looks_like_article_url,
    site_key,
)

MIN_BLOCKS = 3
MAX_BLOCKS = 200  # more than any channel shows; a link farm is not a hub
_MORE_WORDS = {"更多", "more", "查看更多", "更多信息", "更多内容", "更多新闻", "进入栏目", "查看全部"}
_MORE_CANDIDATES = (
    "//a[contains(., '更多') or contains(translate(., 'MORE', 'more'), 'more')"
    " or contains(., '进入栏目') or contains(., '查看全部') or normalize-space(.) = ''"
    " or contains(translate(concat(@class, ' ', @id, ' ', ../@class, ' ', ../@id), 'MORE', 'more'),"
    " 'more')]")
_MORE_CLASS = re.compile(r"(?:^|[-_\s])more(?:$|[-_\s\d])", re.IGNORECASE)


def find_hub_blocks(doc, absolute, page_url: str) -> tuple[list[str], list]:
    """(the sub-column lists in page order, the blocks previewing them), or ([], []) when the
    page is not a hub."""
    page_site = site_key(urlsplit(page_url).hostname or "")
    mores = []
    # XPath picks the few candidates cheaply (a list page may hold 100,000 links).
    for anchor in doc.xpath(_MORE_CANDIDATES):
        if not _is_more(anchor):
            continue
        target = absolute(anchor.get("href"))
        if (not target or target == page_url or looks_like_article_url(target)
                or target.lower().endswith(NON_PAGE_EXTENSIONS)
                or site_key(urlsplit(target).hostname or "") != page_site):
            continue
        if any(is_chrome(node) for node in anchor.iterancestors()):
            continue
        mores.append((anchor, target))
    if not MIN_BLOCKS <= len(mores) <= MAX_BLOCKS:
        return [], []
    # How many more-links each element holds: a block is the highest ancestor holding one.
    holding: dict[object, int] = {}
    for anchor, _target in mores:
        for node in anchor.iterancestors():
            holding[node] = holding.get(node, 0) + 1
    more_anchors = {anchor for anchor, _t in mores}
    sections, blocks = [], []
    for anchor, target in mores:
        block = None
        for node in anchor.iterancestors():
            if holding[node] > 1:
                break
            block = node
        if block is None or block in blocks:
            continue
        if not any(looks_like_article_url(url) for a in block.iter("a")
                   if a not in more_anchors and (url := absolute(a.get("href")))):
            continue
        blocks.append(block)
        if target not in sections:
            sections.append(target)
    if len(blocks) < MIN_BLOCKS:
        return [], []
    # Most of the page's article links are previews in the blocks; otherwise the page has a
    # list of its own and the blocks are boxes beside it.
    inside = outside = 0
    block_set = set(blocks)
    for anchor in doc.iter("a"):
        url = absolute(anchor.get("href"))
        if not url or not looks_like_article_url(url):
            continue
        if any(node in block_set for node in anchor.iterancestors()):
            inside += 1
        elif not any(is_chrome(node) for node in anchor.iterancestors()):
            outside += 1
    if inside <= outside:
        return [], []
    return sections, blocks


def _is_more(anchor) -> bool:
    """更多 / more / 查看更多 (with any arrows or brackets), or an empty or arrow-only link
    marked "more" by its class or its parent's, or a "more" image."""
    text = " ".join(anchor.text_content().split())
    core = re.sub(r"[\W_]+", "", text).lower()
    if core in _MORE_WORDS:
        return True
    parent = anchor.getparent()
    marked = any(_MORE_CLASS.search(f"{el.get('class') or ''} {el.get('id') or ''}")
                 for el in (anchor, parent) if el is not None)
    if marked and not core:
        return True
    img = anchor.find(".//img")
    return not core and img is not None and "more" in (img.get("src") or "").lower()
