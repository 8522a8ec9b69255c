"""The article's headline: never the <title> with its site suffix, never the info line."""

from __future__ import annotations

import re

from .body import is_chrome
from .page import squash, squash_cjk, text_of

_TITLE_METAS = ("articletitle", "og:title", "twitter:title", "headline")
_TITLE_SPLIT = re.compile(r"\s*(?:_|\||｜|—{1,2}|--|-\s| -|·|::)\s*")
_TITLE_CLASS = re.compile(r"title|biaoti|bt\b|headline|tit\b|heading", re.IGNORECASE)
_HEADINGS = ("h1", "h2", "h3", "h4", "h5")
# Where the info line starts inside a box that holds the headline too: its labels, its share
# and print widgets, or a date with a time of day.
_INFO_START = re.compile(
    r"(?:来源|來源|信息来源|发布时间|发布日期|發佈時間|發布時間|发布机构|时间|時間|日期|作者|编辑|編輯"
    r"|浏览|瀏覽|点击|點擊|阅读|閱讀|字号|字號)\s*[:：]"
    r"|分享到|分享至|【\s*(?:字体|字號|打印|关闭)|打印本页|(?<!\d)\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}"
    r"\s*日?\s*\d{1,2}\s*[:：]\s*\d{2}"
)
# A bare date left at the end once the info line is cut: "标题 2019-06-15".
_TRAILING_DATE = re.compile(
    r"\s+\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?\s*(?:星期[一二三四五六日天])?$"
)
# A heading above the text, when the <title> says nothing about the page ("中标公告详细页面"):
# at most this many characters of other text between it and the text.
_HEADLINE_GAP = 300


def cut_info(text: str) -> str:
    """``text`` without an info line (dateline, 来源, 分享到...) that shares its box."""
    m = _INFO_START.search(text, 4)
    if m:
        text = text[: m.start()].rstrip(" ：:|丨")
    return _TRAILING_DATE.sub("", text).rstrip(" ：:|丨") if len(text) > 12 else text


def _candidates(root) -> list:
    found = []
    for el in root.iter(
        "h1", "h2", "h3", "h4", "h5", "p", "div", "td", "span", "strong", "font", "b"
    ):
        tag = el.tag
        if tag not in _HEADINGS:
            cls, id_ = el.get("class"), el.get("id")
            if cls is None and id_ is None:  # most elements: no string to search
                continue
            if not _TITLE_CLASS.search((cls or "") + " " + (id_ or "")):
                continue
        text = squash(text_of(el))
        if 4 <= len(text) <= 400:
            # cut before the squash: the gap between the headline and its dateline counts
            text = squash_cjk(cut_info(text))
            if 4 <= len(text) <= 200:
                found.append((el, text))
    return found


def find_title(root, metas: dict[str, str], anchor=None, segments=()):
    """(title, element): the article's own headline.

    ``anchor`` is the body text's element and ``segments`` the page's text: when neither the
    metas nor the <title> name a heading of the page, and the <title> names no text of the
    page at all, the heading right above the text is the headline.
    """
    head_title = squash_cjk(root.findtext(".//title") or "")
    candidates = _candidates(root)
    # TRS and similar CMSs state the headline itself; og:title often carries the site name.
    trusted = squash_cjk(metas.get("articletitle", ""))
    social = [squash_cjk(metas[k]) for k in _TITLE_METAS[1:] if metas.get(k)]
    for meta in ([trusted] if trusted else []) + social:
        for el, text in candidates:
            if text == meta:
                return meta, el
    if trusted:
        return trusted, None
    reference = head_title or (social[0] if social else "")
    pieces = [p for p in _TITLE_SPLIT.split(reference) if p]
    lead = pieces[0].rstrip(".…") if pieces else ""
    inside = longer = None
    # the site's name after the headline: "新闻动态--某某学会官网" names no headline "某某学会"
    site_parts = pieces[1:]
    for el, text in candidates:
        if reference and text in reference:
            if any(text in part for part in site_parts) and text not in lead:
                continue
            if inside is None or len(text) > len(inside[1]):
                inside = (el, text)
        elif (
            len(lead) >= 8
            and text.startswith(lead)
            and (longer is None or len(text) < len(longer[1]))
        ):
            # the <title> holds a cut-off headline; of several boxes the tightest is the headline
            longer = (el, text)
    # a site name in a logo <h1> is also part of the <title>: too short to be the headline
    for best in (inside, longer):
        if best and (
            len(best[1]) >= 0.4 * len(reference) or best[1] == lead or len(best[1]) >= len(lead)
        ):
            return best[1], best[0]
    for el, text in candidates:
        # an <h1> that shares most of its characters with the <title> is the headline
        if el.tag == "h1" and (not lead or _overlap(text, lead) >= 0.5):
            return text, el
    if not lead or not _on_page(segments, lead) or _section_name(segments, lead):
        # a <title> that names no text of the page ("中标公告详细页面"), or only a section or
        # the site ("新闻动态--某某学会官网"), says nothing of the article
        above = _headline_above(root, candidates, anchor)
        if above is not None:
            return above[1], above[0]
    if pieces and "-" in pieces[0] and not _on_page(segments, pieces[0]):
        # "中华人民共和国监察法-纪检": the headline and its section, joined by a bare hyphen
        head = pieces[0].rsplit("-", 1)[0].strip()
        if len(head) >= 4 and _stands_alone(segments, head):
            return head, None
    return (pieces[0], None) if pieces else (None, None)


# A <title> this short that never stands alone outside a link is a section's or a site's name.
_SECTION_NAME_MAX = 8


# <title>s CMS templates fill with a page kind or the site's name: "正文", "详细页面",
# "某某市人民政府门户网站".
_GENERIC_TITLE = re.compile(
    r"^(?:正文|详情|詳情|详细|詳細|内容|內容|正文内容|文章|新闻|新聞|信息|无标题文档|無標題文件|untitled"
    r"|document)$|(?:详细页面?|詳細頁面?|详情页|詳情頁|内容页|內容頁|文章页|正文页)$"
    r"|(?:人民政府|政府网|政府網|门户网站|門戶網站|官方网站|官方網站|官网|官網|信息网|資訊網|网站|網站)$",
    re.IGNORECASE,
)


def _section_name(segments, lead: str) -> bool:
    if _GENERIC_TITLE.search(lead):
        return True
    return len(lead) <= _SECTION_NAME_MAX and not _stands_alone(segments, lead)


def _stands_alone(segments, text: str) -> bool:
    """Whether ``text`` is the whole text of a segment outside a link."""
    key = "".join(text.split())
    return any(not seg.in_link and "".join(seg.text.split()) == key for seg in segments)


def _on_page(segments, text: str) -> bool:
    """Whether the page's text holds ``text`` (spaces aside)."""
    key = "".join(text.split())
    return key in "".join(seg.text for seg in segments).replace(" ", "")


def _overlap(a: str, b: str) -> float:
    shorter, longer = sorted((a, b), key=len)
    return sum(ch in longer for ch in shorter) / max(1, len(shorter))


_WORD_CHAR = re.compile(r"[\u4e00-\u9fffA-Za-z]")


def _may_be_headline(text: str) -> bool:
    """Words, not a date, a counter or a widget's label."""
    return (
        6 <= len(text) <= 120
        and len(_WORD_CHAR.findall(text)) >= max(4, len(text) // 2)
        and not is_chrome(text)
    )


def _headline_above(root, candidates: list, anchor):
    """The last heading before the body text, with little text in between."""
    if anchor is None or not candidates:
        return None
    chosen = None
    gap = 0
    wanted = {el: text for el, text in candidates if _may_be_headline(text)}
    ancestors = set(anchor.iterancestors())
    for el in root.iter():
        if el is anchor:
            break
        if el in wanted and el not in ancestors:
            chosen, gap = (el, wanted[el]), 0
        elif (
            chosen is not None
            and el.text
            and not el.text.isspace()
            and chosen[0] not in el.iterancestors()
        ):
            gap += len(el.text.strip())
    return chosen if chosen is not None and gap <= _HEADLINE_GAP else None
