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

import lxml.html
from lxml import etree

from .page import INLINE, drop_tree, join_url, squash, text_of
from .requisites import image_source

_PUNCT = "，。！？；：、“”《》（）,!?;"
_PUNCT_MARK = re.compile(f"[{re.escape(_PUNCT)}]")
_CANDIDATES = 15
# Elements with at most this many characters of text are checked for chrome and info lines.
_SMALL = 400
_LINK_LIST_TAGS = frozenset(
    {"div", "ul", "ol", "table", "tbody", "tr", "td", "dl", "section", "p", "span", "font"}
)
# fmt: off
BLOCK_BREAK = frozenset({
    "p", "div", "br", "li", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "section",
    "article", "blockquote", "pre", "ul", "ol", "dl", "dt", "dd", "center", "td", "th",
    "figure", "figcaption", "header", "footer", "form", "hr",
})
# fmt: on
# Page chrome that must never reach the body (checked on short elements and short lines):
# these Chinese phrases, and "Copyright" or "ICP备" in any case. Two patterns, because an
# alternation whose branches all start with an uncased character compiles with a set of
# first characters, so the regex engine skips ahead in C instead of trying forty branches
# at every character; one cased branch (or IGNORECASE) loses that for the whole pattern.
_CHROME_CJK = re.compile(
    r"打印本页|打印此页|【\s*打印\s*】|【\s*关闭\s*】|关闭窗口|關閉視窗|字体\s*[:：]?\s*[【\[]?\s*大\s*中\s*小|字號\s*[:：]?\s*大"
    r"|扫一扫在手机|扫一扫|手机扫一扫|在手机打开|分享到|分享至|相关稿件|相关链接|相关新闻|相关文章|相關新聞"
    r"|责任编辑|責任編輯|网站标识码|網站標識碼|主办单位|主辦單位|承办单位|版权所有|版權所有"
    r"|当前位置|當前位置|您的位置|您现在的位置|收藏本页|加入收藏|返回顶部|上一篇|下一篇|我要纠错|浏览次数|瀏覽次數"
    r"|【\s*字[体號号]|视力保护色|网站地图|政府网站找错|請繼續往下閱讀|请继续往下阅读|載點"
)
_CHROME_LATIN = re.compile(r"ICP备|Copyright", re.IGNORECASE)


def is_chrome(text: str) -> bool:
    """Whether ``text`` holds a phrase of page chrome."""
    if _CHROME_CJK.search(text):
        return True
    # Both Latin phrases hold a "c", and ignoring case only "C" and "c" match it.
    return ("c" in text or "C" in text) and _CHROME_LATIN.search(text) is not None


# Labels of the article's info line. A bare 时间/日期 does not count on its own: notices
# carry "会议时间：..." lines in their text.
_INFO_LABEL = re.compile(
    r"(?:来源|來源|发布|發佈|發布|作者|编辑|編輯|浏览|瀏覽|点击|點擊|閱讀|阅读|字号|字號)[^:：]{0,3}[:：]"
)
_TIME_LABEL = re.compile(r"(?:时间|時間|日期)\s*[:：]")
_DATE_HINT = re.compile(r"\d{4}\s*[-/.年]\s*\d{1,2}|\d{2,3}年\d{1,2}月")


def _punct(text: str) -> int:
    # One regex pass in C: counting each mark with str.count costs a call and a scan per
    # mark, str.translate with a deletion table a dict lookup per character.
    return len(_PUNCT_MARK.findall(text))


def _block_of(el):
    while el is not None and el.tag in INLINE:
        el = el.getparent()
    return el


def block_weights(segments) -> dict:
    """Weight per element, from the page's text segments (link text earns nothing)."""
    # Each holder's text is measured in one piece: fewer calls than one per segment.
    texts_of: dict = {}
    for seg in segments:
        if seg.in_link:
            continue
        holder = _block_of(seg.element)
        if holder is None:
            continue
        texts = texts_of.get(holder)
        if texts is None:
            texts_of[holder] = [seg.text]
        else:
            texts.append(seg.text)
    weight: dict = {}
    for holder, texts in texts_of.items():
        text = texts[0] if len(texts) == 1 else "".join(texts)
        chars = len(text) - text.count(" ")
        punct = _punct(text)
        w = chars + 5.0 * punct if punct else (chars * 0.3 if chars >= 30 else 0.0)
        if w <= 0:
            continue
        weight[holder] = weight.get(holder, 0.0) + w
        parent = holder.getparent()
        if parent is not None:
            weight[parent] = weight.get(parent, 0.0) + w
            grand = parent.getparent()
            if grand is not None:
                weight[grand] = weight.get(grand, 0.0) + w / 2
    return weight


_TEXT_LEN = etree.XPath("string-length(normalize-space(.))")


def _link_density(el) -> float:
    total = _TEXT_LEN(el)
    if not total:
        return 1.0
    linked = sum(_TEXT_LEN(a) for a in el.iter("a"))
    return min(1.0, linked / total)


def _depth(el) -> int:
    return sum(1 for _ in el.iterancestors())


def best_block(root, segments):
    """(body, anchor): the article text's element (maybe a wrapper of merged siblings) and
    the element of the page it was found at; (None, None) for a page without text."""
    weight = block_weights(segments)
    if not weight:
        return None, None
    # Link density is only worth measuring for the heaviest few candidates.
    top = sorted(weight.items(), key=lambda kv: kv[1], reverse=True)[:_CANDIDATES]
    scored = []
    high = 0.0
    for el, w in top:
        # A score is at most its weight, and the weights come in decreasing order: once
        # one is below the best score so far, no candidate left can win.
        if w < high:
            break
        if el.tag in ("html", "head"):
            continue
        score = w * (1.0 - _link_density(el)) ** 2
        scored.append((score, _depth(el), el))
        high = max(high, score)
    if not scored:
        return None, None
    # a wrapper never beats its content on a tie: the deeper element wins
    best_score, _, best = max(scored, key=lambda t: (t[0], t[1]))
    if best_score <= 0:
        return None, None
    if best_score < _WEAK_SCORE:
        hinted = _hinted_text(root, best)
        if hinted is not None:
            return hinted, hinted
    if best.tag == "body":
        return best, best
    kept = _merge_siblings(best, best_score, weight)
    if len(kept) == 1:
        return kept[0], best
    wrapper = etree.Element("div")
    for sib in kept:
        wrapper.append(copy.deepcopy(sib))
    for sib in wrapper:
        sib.tail = None
    return wrapper, best


# The containers CMSs name for the article text. Asked only when the density winner is weak:
# a pasted Word table of short cells carries no punctuation, and a footer disclaimer then
# outweighs it.
_TEXT_HINT = re.compile(
    r"TRS_Editor|TRS_UEDITOR|UCAP-CONTENT|\bzoom\b|\bzwnr\b"
    r"|(?:article|wenzhang|zhengwen|detail|news)[-_]?(?:content|body|text|con)\b",
    re.IGNORECASE,
)
_WEAK_SCORE = 600.0
_HINTED_MIN_CHARS = 150


def _hinted_text(root, best):
    """The first element named as the article text, with text and few links, that is
    neither inside nor around the density winner; None when there is none."""
    around_best = set(best.iterancestors())
    for el in root.iter("div", "td", "section", "article"):
        names = el.get("id"), el.get("class")
        if names == (None, None) or not _TEXT_HINT.search(f"{names[0]} {names[1]}"):
            continue
        if el is best or el in around_best or best in el.iterancestors():
            continue
        if _TEXT_LEN(el) >= _HINTED_MIN_CHARS and _link_density(el) < 0.2:
            return el
    return None


def _merge_siblings(best, best_score: float, weight: dict) -> list:
    """The best block plus its siblings that continue the article, in document order."""
    level = best
    # climb single-child wrappers (tr > td, div > div) to the level where siblings live
    while (parent := level.getparent()) is not None and parent.tag not in ("body", "html"):
        if sum(1 for child in parent if isinstance(child.tag, str)) > 1:
            break
        level = parent
    parent = level.getparent()
    if parent is None:
        return [best]
    kept = {level}
    for sib in parent:
        if sib is level or not isinstance(sib.tag, str) or sib not in weight:
            continue
        if weight[sib] < 0.25 * best_score:
            continue  # a score is at most its weight: no need to measure the links
        density = _link_density(sib)
        if density < 0.3 and weight[sib] * (1.0 - density) ** 2 >= 0.25 * best_score:
            kept.add(sib)
    # tables right after the text (lists of names, figures, schedules) carry no punctuation
    for sib in level.itersiblings():
        if sib in kept or not isinstance(sib.tag, str):
            continue
        if not _is_data_table(sib):
            break
        kept.add(sib)
    ordered = [sib for sib in parent if sib in kept]
    return [best] if ordered == [level] and level is best else ordered


def _is_data_table(el) -> bool:
    if el.tag != "table" and el.find(".//table") is None:
        return False
    text = squash(text_of(el))
    if len(text) < 40 or is_chrome(text):
        return False
    return _link_density(el) < 0.1


def clean_body(el, *, title: str | None, base_url: str):
    """A copy of ``el`` without chrome, title and info lines, with absolute links."""
    el = copy.deepcopy(el)
    el.tail = None
    title_key = squash(title or "")
    # Text lengths bottom-up first, so only small elements ever have their text joined,
    # and from their children's: lxml makes a new string on every read of .text and .tail.
    # Link counts and linked lengths are only kept where they are not zero.
    sizes: dict = {}
    linked: dict = {}
    n_links: dict = {}
    small_text: dict = {}  # what text_of() would give, for elements of at most _SMALL chars
    for _, node in etree.iterwalk(el, events=("end",)):
        tag = node.tag
        if tag.__class__ is not str:
            continue
        text = node.text or ""
        size = len(text)
        link = count = 0
        if len(node):
            pieces = [text]
            for child in node:
                tail = child.tail or ""
                size += sizes.get(child, 0) + len(tail)
                link += linked.get(child, 0)
                count += n_links.get(child, 0)
                # like itertext(): no text of a comment or a processing instruction, its tail
                pieces.append(small_text.get(child, ""))
                pieces.append(tail)
            if size <= _SMALL:
                text = "".join(pieces)
        if size <= _SMALL:
            small_text[node] = text
        sizes[node] = size
        if tag == "a":
            link = size
            count += 1
        if link:
            linked[node] = link
        if count:
            n_links[node] = count
    whole = sizes.get(el, 0) or 1
    doomed = []
    # pre-order walk that does not descend into what it has already condemned
    stack = [child for child in reversed(el) if isinstance(child.tag, str)]
    while stack:
        node = stack.pop()
        size = sizes[node]
        if (
            n_links.get(node, 0) >= 3
            and node.tag in _LINK_LIST_TAGS
            and size < whole / 2
            and linked.get(node, 0) > 0.6 * size
        ):
            # lists of links (related articles, ads, pagers) inside the body block
            doomed.append(node)
            continue
        if size <= _SMALL:
            text = squash(small_text[node])
            if (
                text
                and len(text) <= 150
                and ((title_key and text == title_key) or is_chrome(text) or _is_info_line(text))
            ):
                doomed.append(node)
                continue
        if len(node):
            stack.extend(child for child in reversed(node) if isinstance(child.tag, str))
    for node in doomed:
        drop_tree(node)
    for a in el.iter("a"):
        href = a.get("href")
        if href and not href.startswith(("javascript:", "#", "mailto:")):
            a.set("href", join_url(base_url, href.strip()) or href)
    for img in el.iter("img"):
        src = image_source(img)
        if src:
            img.set("src", join_url(base_url, src) or src)
    return el


def _is_info_line(text: str) -> bool:
    if len(text) > 120:
        return False
    labels = len(_INFO_LABEL.findall(text))
    if labels >= 2:
        return True
    if labels == 1 and len(text) < 80:
        return bool(_DATE_HINT.search(text) or _TIME_LABEL.search(text))
    return False


# The news-wire end mark under Hong Kong government press releases ("Ends/..." or "完", the
# issuing time, then "NNNN"): nothing of the release follows it.
_WIRE_END = "NNNN"


# A line that is only a share button's word.
_SHARE_WORDS = frozenset(
    "分享 facebook Facebook LINE Line Twitter Weibo 微信 微博 QQ空间 複製連結 复制链接 列印 打印"
    .split()
)


def render_text(el) -> str:
    """Text with a newline at every block boundary, one paragraph a line."""
    parts: list[str] = []
    append = parts.append
    # lxml makes a new string on every read of .tag, .text and .tail: each is read once
    for event, node in etree.iterwalk(el, events=("start", "end")):
        tag = node.tag
        if tag.__class__ is not str:
            continue
        if event == "start":
            if tag in BLOCK_BREAK:
                append("\n")
            text = node.text
            if text:
                append(text)
        else:
            if tag in BLOCK_BREAK:
                append("\n")
            tail = node.tail
            if tail and node is not el:
                append(tail)
    lines = []
    for line in "".join(parts).split("\n"):
        if not line or line.isspace():  # most: the gaps between two block boundaries
            continue
        line = squash(line)
        if line == _WIRE_END and lines:
            break  # the end of a wire release: archive and index links follow
        if not (len(line) < 40 and is_chrome(line)) and line not in _SHARE_WORDS:
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
