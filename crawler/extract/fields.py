"""Origin, author, breadcrumb and document number, from markup and labels."""

from __future__ import annotations

import re
from typing import NamedTuple

from .bylines import Byline
from .page import Segment, SegmentSearch, squash, text_of


class _Label(NamedTuple):
    """A label kind: the label, a part of it that is fast to find, and the characters a line
    must hold to be read at all (a cheap filter before the regexes run).

    ``core`` is what every match of ``pattern`` contains, minus the "line start or a
    separator" that leads the label: it begins with literal characters, which the regex
    engine scans for in C, while the label itself is tried at every character.
    """

    pattern: re.Pattern
    core: re.Pattern
    keys: re.Pattern


_LABEL_START = r"(?:^|[\s|丨【\[（(])\s*"
_ORIGIN_WORD = r"(?:来源|來源|稿源|出处|出處)\s*(?:于|於)?\s*[:：]"
_ORIGIN = _Label(
    re.compile(_LABEL_START + r"(?:信息|文章|稿件|新闻|消息|内容)?" + _ORIGIN_WORD),
    re.compile(_ORIGIN_WORD),
    re.compile("[源处處]"),
)
# 信息公开 tables name the publishing body instead of a 来源.
_PUBLISHER_WORD = r"(?:发布|發佈|發布)\s*(?:机构|機構|单位|單位|部门|部門)\s*[:：]"
_PUBLISHER = _Label(
    re.compile(_LABEL_START + _PUBLISHER_WORD),
    re.compile(_PUBLISHER_WORD),
    re.compile("[构構位门門]"),
)
_AUTHOR_KEYS = re.compile("[者稿文记記编編审发發]")
_REPORTER_WORD = r"(?:记者|記者|通讯员|通訊員)\s*[:：]"
_EDITOR_WORD = r"(?:责任编辑|責任編輯|责编|責編|编辑|編輯|审核|發佈人|发布人|发布者)\s*[:：]"
_AUTHOR_LABELS = (
    _Label(
        re.compile(
            _LABEL_START
            + r"(?:(?:作\s*者|撰\s*[稿文])\s*[:：]|作者\s+|文\s*[/／]\s*(?:[图圖](?=\s))?)"
        ),
        re.compile(r"作\s*者|撰\s*[稿文]|文\s*[/／]"),
        _AUTHOR_KEYS,
    ),
    _Label(re.compile(_LABEL_START + _REPORTER_WORD), re.compile(_REPORTER_WORD), _AUTHOR_KEYS),
    _Label(re.compile(_LABEL_START + _EDITOR_WORD), re.compile(_EDITOR_WORD), _AUTHOR_KEYS),
)
_DOC_LABELS = (
    re.compile(r"(?:发文字号|發文字號|文\s*号|文\s*號)\s*[:：]"),
    re.compile(r"(?:索\s*引\s*号|索\s*引\s*號)\s*[:：]"),
)
_DOC_NUMBER = re.compile(
    r"^[\u4e00-\u9fa5]{1,14}\s*[〔\[［【(（]\s*(?:19|20)\d{2}\s*[〕\]］】)）]\s*第?\s*\d{1,5}\s*号$"
)
# A value ends where the next label ("XX：" after a space), a separator or a wide gap begins
# ("记者" only with its colon: "本报记者 张三" is a value).
_VALUE_END = re.compile(
    r"\s{2,}|\s(?=[^\s:：]{1,6}[:：])|[|丨【】\[\]]|(?:记者|記者)\s*[:：]"
    r"|(?:责任编辑|責任編輯|发布|發佈|發布|来源|來源|作者|編輯|编辑|浏览|瀏覽|点击|點擊|阅读|閱讀|时间|時間|日期|字号|字體|字体|打印)\s*[:：]?"
)
_BAD_VALUE = re.compile(
    r"纠错|打印|关闭|分享|收藏|字体|字號|\d{4}[-/.年]\d{1,2}|javascript|https?:|[=<>\"{}]",
    re.IGNORECASE,
)
_WEAK_META_AUTHOR = re.compile(
    r"网|網|政府|委员会|委員會|办公|辦公|\.|http|www|admin|cms|system", re.IGNORECASE
)
# A meta Author naming a body, not a person (CMSs fill it with the site's owner).
_BODY_SUFFIX = re.compile(
    r"(?:社|局|部|委|厅|廳|办|辦|院|署|会|會|处|處|司|中心|站|所|报|報|台|府|室|科|组|組)$"
)
# An author is a name: never a number, a user id, or a note about the text.
_NOT_AN_AUTHOR = re.compile(
    r"\d|_|@|本文|删减|刪減|删节|刪節|转载|轉載|原文|来源|來源|责任|責任|详见|詳見|字数|字數"
    r"|administrator|admin|unknown|匿名|佚名|未知|不详|不詳|暂无|暫無|网络整理|網絡整理|網路整理"
    r"|(?:记者|記者|通讯员|通訊員|编辑|編輯)$",
    re.IGNORECASE,
)
# Words around a name in an author line: "信报记者 蔡雪婧", "姚峰 上海报道".
_AUTHOR_PREFIX = re.compile(r"^\S{0,8}?(?:记者|記者|通讯员|通訊員)\s*(?=\S)")
_AUTHOR_SUFFIX = re.compile(r"(?:\s+\S{1,6}(?:报道|報導|報道)|\s*(?:发自|發自)\S{1,8})$")
# Where a source's name ends inside its value: "人民网-文化频道 原创稿" (a space next to Chinese).
_WORD_GAP = re.compile(r"(?<=[\u4e00-\u9fff])\s|\s(?=[\u4e00-\u9fff])")
_TRAILING_NAME = re.compile(
    r"[（(]\s*(?:(?:责任编辑|責任編輯|编辑|編輯|作者|记者|記者|来源|來源)\s*[:：]?\s*)?"
    r"([^()（）\d:：,，。]{2,24}?)\s*[)）]\s*$"
)
_NOT_A_NAME = re.compile(
    r"^(?:完|未完|待续|待續|图|圖|全文完|本文完|附件|注|摄|攝|图片|圖片)$|[。！？]|供图|摄影"
    r"|^(?:图|圖|摄|攝|照片|影像|视频|視頻|影片)\s*[/／]|翻攝|翻摄|截圖|截图|資料照|资料照"
    # a note on the text ("原题为《…》", "实习生某某对此文亦有贡献"), a wire's acronym ("BBC")
    r"|[《》“”]|原题|原標題|原标题|贡献|貢獻|此文|^[A-Z]{2,6}$"
)
# A CMS account's id after the editor's name: "杜硕_NB12556".
_USER_ID = re.compile(r"(?<=[\u4e00-\u9fff])_[A-Za-z]{0,6}\d{2,}$")
# A credit before the names: "（文/图 张三 李四）", "（文／李四）".
_CREDIT = re.compile(
    r"^(?:文\s*[/／]\s*(?:图|圖)|(?:图|圖)\s*[/／]\s*文|文字?\s*[/／])\s*[:：]?\s*"
)

_CRUMB_LABEL = re.compile(
    r"(?:当前位置|當前位置|您的位置|你的位置|您现在的位置|您現在的位置|所在位置|现在位置|你现在的位置)\s*[:：]?"
)
_CRUMB_SPLIT = re.compile(r"\s*(?:>>|>|›|»|→|＞|/|\\|＞＞)\s*")
_CRUMB_CLASS = re.compile(
    r"crumb|bread|position|location|dqwz|weizhi|curpos|nav-?path|place", re.IGNORECASE
)
# Font-size and print widgets often share the breadcrumb's line.
_CRUMB_TAIL = re.compile(r"[|丨【]|\s(?=字号|字號|字体|字體|打印|分享|浏览|瀏覽)")
_CRUMB_DROP = {"正文", "详情", "詳情", "内容", "內容", "正文内容", "文章", ""}


# A label of its own ("访问量：", "发布日期："): the value before it was left empty.
_NEXT_LABEL = re.compile(r"[^\s:：]{1,8}\s*[:：]")


def _value_after(segments: list[Segment], i: int, start: int, one_word: bool) -> str | None:
    rest = segments[i].text[start:].lstrip(" :：")
    if not rest and i + 1 < len(segments) and segments[i + 1].element is not segments[i].element:
        rest = segments[i + 1].text.lstrip(" :：")
        if _NEXT_LABEL.match(rest):
            return None  # an empty "来源：" and the info line's next label ("访问量：")
    if not rest:
        return None
    m = _VALUE_END.search(rest)
    value = rest[: m.start()] if m else rest
    if one_word:
        value = _WORD_GAP.split(value.strip(), 1)[0]
    value = value.strip(" ：:，,;；.。)）")
    if not value or len(value) > 40 or _BAD_VALUE.search(value):
        return None
    return value


# Characters every document number label contains: a cheap filter before the regex runs.
_DOC_KEYS = re.compile("[号號]")
# Longer text is an article's sentence, not a "来源：" line.
_LABEL_LINE_MAX = 200


def label_lines(segments: list[Segment]) -> SegmentSearch:
    """Where labelled values are looked for: the page's short text segments."""
    return SegmentSearch(segments, _LABEL_LINE_MAX)


def labelled_value(
    lines: SegmentSearch, label: _Label, one_word: bool = False, check=None
) -> str | None:
    """The first value after ``label`` (that ``check`` accepts, and made by it)."""
    segments = lines.segments
    for i in lines.candidates(label.core):
        text = segments[i].text
        if len(text) > _LABEL_LINE_MAX or not label.keys.search(text):
            continue
        if one_word and _in_disclaimer(segments, i):
            continue
        for m in label.pattern.finditer(text):
            value = _value_after(segments, i, m.end(), one_word)
            if value and check is not None:
                value = check(value)
            if value:
                return value
    return None


# A footer's reprint notice: "凡本网注明“文章来源：某某网站”的作品……".
_DISCLAIMER = re.compile(r"版权|版權|免责|免責|凡本|注明|註明|声明|聲明|Copyright|©", re.IGNORECASE)


# The labels of an info line: "来源：某某 时间：… 作者：" under a "版权声明" heading is the
# article's own info line, not a reprint notice.
_INFO_LABELS = re.compile(r"(?:来源|來源|时间|時間|日期|作者|编辑|編輯)\s*[:：]")


def _in_disclaimer(segments: list[Segment], i: int) -> bool:
    text = segments[i].text
    if _DISCLAIMER.search(text):
        return True
    if i == 0 or len(_INFO_LABELS.findall(text)) >= 2:
        return False
    return bool(_DISCLAIMER.search(segments[i - 1].text[-30:] + text))


def find_origin(
    lines: SegmentSearch, byline: Byline | None = None, near: range = range(0)
) -> str | None:
    """The 来源 the page shows, else its 发布机构, else a news byline's agency, else a box
    marked as the source next to the headline; None when the page shows none (a meta
    ContentSource is not shown: CMSs fill it with the site's owner)."""
    return (
        labelled_value(lines, _ORIGIN, one_word=True)
        or labelled_value(lines, _PUBLISHER, one_word=True)
        or (byline.origin if byline else None)
        or marked_value(lines.segments, near, _SOURCE_CLASS, _origin_like)
    )


def find_author(
    lines: SegmentSearch,
    metas: dict[str, str],
    body_text: str,
    byline: Byline | None = None,
    near: range = range(0),
    origin: str | None = None,
) -> str | None:
    for label in _AUTHOR_LABELS[:2]:
        value = labelled_value(lines, label, check=clean_author)
        if value:
            return value
    if byline and byline.author and clean_author(byline.author):
        return clean_author(byline.author)
    meta = metas.get("author") or metas.get("article:author")
    if meta and _person_like(meta) and meta != origin:  # a portal's meta names the source
        return meta
    marked = marked_value(lines.segments, near, _AUTHOR_CLASS, clean_author)
    if marked:
        return marked
    trailing = trailing_name(body_text)
    if trailing:
        return trailing
    return labelled_value(lines, _AUTHOR_LABELS[2], check=_editor_name)


# The account an editor logged in with ("责任编辑：biaoffeng"): no name.
_ACCOUNT = re.compile(r"^[a-z][a-z0-9_.\-]{2,}$")


def _editor_name(value: str) -> str | None:
    return None if _ACCOUNT.match(value.strip()) else clean_author(value)


# Info-line boxes that say what they hold by their class: <div class="author"><a>谢明俊</a>,
# <span class="source">中时</span> (no label in the text).
_AUTHOR_CLASS = re.compile(r"^(?:author|author-?name|writer|reporter|byline)$", re.IGNORECASE)
# (Macao's GCS names the issuing department in a "dept" box.)
_SOURCE_CLASS = re.compile(
    r"^(?:source|source-?name|origin|article-?source|dept|department|publisher)$", re.IGNORECASE
)


def marked_value(segments: list[Segment], near: range, marker: re.Pattern, check) -> str | None:
    """The text of a box next to the headline whose class is ``marker`` (or whose parent's
    is: the name is often a link inside it)."""
    for i in near:
        seg = segments[i]
        el = seg.element
        for box in (el, el.getparent()):
            if box is None:
                continue
            classes = (box.get("class") or "").split()
            if any(marker.match(c) for c in classes):
                text = squash(text_of(box))
                if 2 <= len(text) <= 20 and not _NEXT_LABEL.match(text):
                    value = check(text)
                    if value:
                        return value
                break
    return None


def _origin_like(value: str) -> str | None:
    """A source's name: words, no date, no number, no widget."""
    if _BAD_VALUE.search(value) or re.search(r"\d", value):
        return None
    return value


def clean_author(value: str) -> str | None:
    """The name in an author line ("信报记者 蔡雪婧" -> 蔡雪婧), or None for what is no name."""
    value = _USER_ID.sub("", _CREDIT.sub("", value.strip()))
    value = _AUTHOR_SUFFIX.sub("", _AUTHOR_PREFIX.sub("", value)).strip()
    if len(value) < 2 or _NOT_AN_AUTHOR.search(value):
        return None
    return value


def _person_like(meta: str) -> bool:
    if len(meta) > 20 or _WEAK_META_AUTHOR.search(meta) or clean_author(meta) != meta:
        return False
    return not any(_BODY_SUFFIX.search(name) for name in re.split(r"[\s,，、;；]+", meta) if name)


def trailing_name(body_text: str) -> str | None:
    """The "（周暹）" that closes many government articles: the editor or the contributing unit."""
    lines = body_text.rstrip().split("\n")
    for line in reversed(lines[-2:]):
        m = _TRAILING_NAME.search(line)
        if m:
            name = squash(m.group(1))
            if not _NOT_A_NAME.search(name) and clean_author(name):
                return clean_author(name)
    return None


def find_section(root, lines: SegmentSearch) -> list[str]:
    for i in lines.candidates(_CRUMB_LABEL):
        seg = lines.segments[i]
        m = _CRUMB_LABEL.search(seg.text)
        if m and len(seg.text) < 200:
            crumbs = _crumbs_around(seg.element)
            if crumbs:
                return crumbs
    for el in root.iter("div", "p", "span", "td", "ul", "ol", "nav"):
        cls = (el.get("class") or "") + " " + (el.get("id") or "")
        if _CRUMB_CLASS.search(cls):
            crumbs = _crumbs_of(el)
            if len(crumbs) >= 2:
                return crumbs
    return []


def _crumbs_around(el) -> list[str]:
    node = el
    for _ in range(4):
        if node is None:
            return []
        crumbs = _crumbs_of(node)
        if len(crumbs) >= 2:
            return crumbs
        node = node.getparent()
    return []


def _crumbs_of(el) -> list[str]:
    text = squash(text_of(el))
    if len(text) > 300:
        return []
    m = _CRUMB_LABEL.search(text)
    if m:
        text = text[m.end() :]
    items = [_CRUMB_TAIL.split(p, 1)[0].strip() for p in _CRUMB_SPLIT.split(text)]
    items = [p for p in items if p]
    anchors = [squash(text_of(a)) for a in el.iter("a")]
    anchors = [a for a in anchors if a and not _CRUMB_LABEL.search(a)]
    if len(items) < 2 and len(anchors) >= 2:
        items = anchors
    while items and items[-1] in _CRUMB_DROP:
        items.pop()
    if any(len(p) > 40 for p in items):
        return []
    return items


def find_doc_number(lines: SegmentSearch, body_text: str) -> str | None:
    segments = lines.segments
    for label in _DOC_LABELS:
        for i in lines.candidates(label):
            text = segments[i].text
            if len(text) > _LABEL_LINE_MAX or not _DOC_KEYS.search(text):
                continue
            m = label.search(text)
            if m:
                value = _doc_value(segments, i, m.end())
                if value:
                    return value
    for line in body_text.split("\n")[:6]:
        if _DOC_NUMBER.match(line.strip()):
            return line.strip()
    return None


def _doc_value(segments: list[Segment], i: int, start: int) -> str | None:
    rest = segments[i].text[start:].strip(" :：")
    if not rest and i + 1 < len(segments):
        rest = segments[i + 1].text.strip(" :：")
    value = re.split(r"\s{2,}|\s(?=[\u4e00-\u9fa5]{2,6}\s*[:：])", rest)[0].strip() if rest else ""
    return value if 2 <= len(value) <= 60 else None
