"""The article body: our own text-and-punctuation-density extractor.

Every text node is credited to its nearest block element (inline tags are transparent).
A block's weight is its non-link character count, with text that carries no punctuation
discounted: navigation, labels and footers are short and unpunctuated, while articles
are long runs of "，。". A block passes its weight to its parent in full and to its
grandparent by half; the winner is the element with the largest weight times
(1 - link density). Siblings that look like more of the same article are merged in.
"""

from __future__ import annotations

import copy
import re
from urllib.parse import urljoin

import lxml.html
from lxml import etree

from .page import INLINE, drop_tree, squash, text_of

_PUNCT = "，。！？；：、“”《》（）,!?;"
_PUNCT_DEL = str.maketrans("", "", _PUNCT)
_WS_DEL = str.maketrans("", "", " \t\r\n\u3000\xa0\u200b")
BLOCK_BREAK = frozenset({"p", "div", "br", "li", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
                         "section", "article", "blockquote", "pre", "ul", "ol", "dl", "dt", "dd",
                         "center", "td", "th", "figure", "figcaption", "header", "footer", "form", "hr"})
# Page chrome that must never reach the body (checked on short elements and short lines).
CHROME = re.compile(
    r"打印本页|打印此页|【\s*打印\s*】|【\s*关闭\s*】|关闭窗口|關閉視窗|字体\s*[:：]?\s*[【\[]?\s*大\s*中\s*小|字號\s*[:：]?\s*大"
    r"|扫一扫在手机|扫一扫|手机扫一扫|在手机打开|分享到|分享至|相关稿件|相关链接|相关新闻|相关文章|相關新聞"
    r"|责任编辑|責任編輯|网站标识码|網站標識碼|主办单位|主辦單位|承办单位|ICP备|版权所有|版權所有|Copyright"
    r"|当前位置|當前位置|您的位置|您现在的位置|收藏本页|加入收藏|返回顶部|上一篇|下一篇|我要纠错|浏览次数|瀏覽次數"
    r"|【\s*字[体號号]|视力保护色|网站地图|政府网站找错", re.I)
_INFO_LABEL = re.compile(r"(来源|來源|发布|發佈|發布|作者|编辑|編輯|浏览|瀏覽|点击|閱讀|阅读|时间|時間|日期|字号)\s*[:：]")
_DATE_HINT = re.compile(r"\d{4}\s*[-/.年]\s*\d{1,2}|\d{2,3}年\d{1,2}月")


def _chars(text: str) -> int:
    return len(text.translate(_WS_DEL))


def _punct(text: str) -> int:
    return len(text) - len(text.translate(_PUNCT_DEL))


def _block_of(el):
    while el is not None and el.tag in INLINE:
        el = el.getparent()
    return el


def score_blocks(container) -> tuple[dict, dict, dict]:
    """(weight, text_chars, link_chars) per element, from one post-order walk."""
    weight: dict = {}
    total: dict = {}
    links: dict = {}
    direct_chars: dict = {}
    direct_punct: dict = {}
    link_depth = 0
    for event, el in etree.iterwalk(container, events=("start", "end")):
        if not isinstance(el.tag, str):
            continue
        if event == "start":
            if el.tag == "a":
                link_depth += 1
            texts = [el.text] if el.text else []
            # tails of children belong to this element; counted at "start" for simplicity
            texts.extend(child.tail for child in el if child.tail)
            n = 0
            for t in texts:
                c = _chars(t)
                n += c
                if c and link_depth == 0:
                    holder = _block_of(el)
                    if holder is not None:
                        direct_chars[holder] = direct_chars.get(holder, 0) + c
                        direct_punct[holder] = direct_punct.get(holder, 0) + _punct(t)
            total[el] = total.get(el, 0) + n
            if link_depth:
                links[el] = links.get(el, 0) + n
            continue
        if el.tag == "a":
            link_depth -= 1
        parent = el.getparent()
        if parent is not None and el is not container:
            total[parent] = total.get(parent, 0) + total.get(el, 0)
            links[parent] = links.get(parent, 0) + links.get(el, 0)
    for holder, chars in direct_chars.items():
        punct = direct_punct.get(holder, 0)
        if punct == 0:
            w = chars * 0.3 if chars >= 30 else 0.0
        else:
            w = chars + 5.0 * punct
        if w <= 0:
            continue
        weight[holder] = weight.get(holder, 0.0) + w
        parent = holder.getparent()
        if parent is not None:
            weight[parent] = weight.get(parent, 0.0) + w
            grand = parent.getparent()
            if grand is not None:
                weight[grand] = weight.get(grand, 0.0) + w / 2
    return weight, total, links


def _final(el, weight, total, links) -> float:
    t = total.get(el, 0)
    if not t:
        return 0.0
    density = links.get(el, 0) / t
    return weight.get(el, 0.0) * (1.0 - density) ** 2


def best_block(root):
    """(body, anchor): the article text's element (maybe a wrapper of merged siblings) and
    the element of the page it was found at; (None, None) for a page without text."""
    body = root.find("body")
    if body is None:
        body = root
    weight, total, links = score_blocks(body)
    best, best_score = None, 0.0
    # post-order (children first) with a strict ">" so a wrapper never beats its content on a tie
    for el in _post_order(body):
        s = _final(el, weight, total, links)
        if s > best_score:
            best, best_score = el, s
    if best is None:
        return None, None
    parent = best.getparent()
    if parent is None or best.tag in ("body", "html"):
        return best, best
    kept = [best]
    for sib in parent:
        if sib is best or not isinstance(sib.tag, str):
            continue
        t = total.get(sib, 0)
        s = _final(sib, weight, total, links)
        if t and links.get(sib, 0) / t < 0.3 and s >= 0.25 * best_score:
            kept.append(sib)
    if len(kept) == 1:
        return best, best
    wrapper = etree.Element("div")
    for sib in parent:
        if any(sib is k for k in kept):
            wrapper.append(copy.deepcopy(sib))
    for sib in wrapper:
        sib.tail = None
    return wrapper, best


def _post_order(body):
    for event, el in etree.iterwalk(body, events=("end",)):
        if isinstance(el.tag, str):
            yield el


def clean_body(el, *, title: str | None, base_url: str):
    """A copy of ``el`` without chrome, title and info lines, with absolute links."""
    el = copy.deepcopy(el)
    el.tail = None
    title_key = squash(title or "")
    # Text lengths bottom-up first, so only small elements ever have their text joined.
    sizes: dict = {}
    for node in _post_order(el):
        size = len(node.text or "")
        for child in node:
            size += sizes.get(child, 0) + len(child.tail or "")
        sizes[node] = size
    doomed = []
    skip_inside = None
    for node in el.iterdescendants():
        if not isinstance(node.tag, str) or sizes.get(node, 0) > 400:
            continue
        if skip_inside is not None and _is_inside(node, skip_inside):
            continue
        text = squash(text_of(node))
        if not text or len(text) > 150:
            continue
        if (title_key and text == title_key) or CHROME.search(text) or _is_info_line(text):
            doomed.append(node)
            skip_inside = node
    for node in doomed:
        drop_tree(node)
    for a in el.iter("a"):
        href = a.get("href")
        if href and not href.startswith(("javascript:", "#", "mailto:")):
            a.set("href", urljoin(base_url, href.strip()))
    for img in el.iter("img"):
        src = img.get("src") or img.get("data-src") or img.get("data-original")
        if src:
            img.set("src", urljoin(base_url, src.strip()))
    return el


def _is_inside(node, ancestor) -> bool:
    parent = node.getparent()
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.getparent()
    return False


def _is_info_line(text: str) -> bool:
    if len(text) > 120:
        return False
    labels = len(_INFO_LABEL.findall(text))
    return labels >= 2 or (labels == 1 and bool(_DATE_HINT.search(text)) and len(text) < 60)


def render_text(el) -> str:
    """Text with a newline at every block boundary, one paragraph a line."""
    parts: list[str] = []
    for event, node in etree.iterwalk(el, events=("start", "end")):
        if not isinstance(node.tag, str):
            continue
        if event == "start":
            if node.tag in BLOCK_BREAK:
                parts.append("\n")
            if node.text:
                parts.append(node.text)
        else:
            if node.tag in BLOCK_BREAK:
                parts.append("\n")
            if node is not el and node.tail:
                parts.append(node.tail)
    lines = []
    for line in "".join(parts).split("\n"):
        line = squash(line)
        if line and not (len(line) < 40 and CHROME.search(line)):
            lines.append(line)
    return "\n".join(lines)


def readability_body(text: str):
    """readability-lxml's opinion, as an element (the second opinion on weak pages)."""
    try:
        from readability import Document
    except ImportError:
        return None
    try:
        html = Document(text).summary(html_partial=True)
        return lxml.html.fragment_fromstring(html, create_parent="div")
    except Exception:  # noqa: BLE001 - a second opinion that fails is simply not taken
        return None
