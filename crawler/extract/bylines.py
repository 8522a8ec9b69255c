"""News agencies' and newspapers' bylines at the head of the text: who wrote it, for whom.

``（中央社記者邱俊欽桃園8日電）``, ``新华社北京3月5日电（记者张三、李四）``, ``〔記者陳嘉寧／台北報導〕``,
``【聯合報／記者王小明／台北即時報導】``, ``本报讯（记者 张三）``, ``香港文匯報訊（記者 李四）``,
``【大公報訊】記者李四報道：``.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Byline(NamedTuple):
    origin: str | None
    author: str | None


_REPORTER = r"(?:记者|記者|通讯员|通訊員|編譯|编译|特派员|特派員)"
_DAY_WIRE = r"\d{1,2}\s*日\s*(?:專|专|綜合|综合)?\s*(?:電|电)"
# 中央社 / 新华社 style: the agency, reporters, place and day in one parenthesis.
_AGENCY_PAREN = re.compile(
    r"^[（(]\s*(?P<org>[^()（）\s]{2,8}?社)\s*(?:" + _REPORTER + r"\s*(?P<who>[^()（）]{2,40}?)"
    r"|[^()（）\d]{0,8}?)" + _DAY_WIRE + r"\s*[)）]"
)
# 新华社北京3月5日电（记者张三、李四）: the dateline first, the reporters after it.
_DATELINE_THEN_PAREN = re.compile(
    r"^(?P<org>[^\s（(，,。]{2,10}?(?:社|网|網|报|報|台))[^\s（(，,。]{0,12}?\d{1,2}\s*月?\s*"
    + _DAY_WIRE
    + r"(?:\s*[（(]\s*"
    + _REPORTER
    + r"\s*(?P<who>[^()（）]{2,40}?)\s*[)）])?"
)
# 〔記者陳嘉寧／台北報導〕 and 【聯合報／記者王小明／台北即時報導】.
_SLASHED = re.compile(
    r"^[〔【\[［（(]\s*(?:(?P<org>[^〔〕【】()（）／/\s]{2,10}?)\s*[／/]\s*)?"
    r"(?P<pre>[^〔〕【】()（）／/\s]{0,8}?)"
    + _REPORTER
    + r"\s*(?P<who>[^〔〕【】()（）／/]{2,40}?)\s*[／/][^〔〕【】()（）]{0,16}?(?:報導|报道|報道)"
    r"\s*[〕】\]］)）]"
)
# 中央社記者邱俊欽桃園8日電 opening a paragraph without its parentheses.
_AGENCY_BARE = re.compile(
    r"^(?P<org>[^()（）\s\d]{2,8}?社)" + _REPORTER + r"\s*(?P<who>[^()（）\d\s]{2,40}?)"
    + _DAY_WIRE
)
# 本报讯（记者 张三） / 香港文匯報訊（記者 李四）: the paper's wire, the reporters.
_WIRE_THEN_PAREN = re.compile(
    r"^(?P<org>[^\s（(，,。]{2,12}?)\s*(?:快讯|快訊|专讯|專訊|讯|訊)\s*[（(]\s*"
    + _REPORTER
    + r"\s*(?P<who>[^()（）]{2,40}?)\s*[)）]"
)
# 【明報專訊】 and 【大公報訊】記者李四報道：
_BRACKET_WIRE = re.compile(
    r"^【\s*(?P<org>[^【】\s]{2,10}?)\s*(?:專訊|专讯|訊|讯)\s*】\s*(?:"
    + _REPORTER
    + r"\s*(?P<who>[^\s：:，,（()）]{2,12}?)\s*(?:報道|报道|報導)\s*[：:])?"
)
# 聯合報 記者陳嘉寧／桃園機場報導 and 記者林悅／南市報導: no brackets, the line is the byline.
_PLAIN_SLASHED = re.compile(
    r"^(?:(?P<org>[^\s／/\d（(【〔]{2,10}?)\s*[／/]?\s*)?" + _REPORTER
    + r"\s*(?P<who>[^／/\d（()）]{2,30}?)\s*[／/][^／/]{0,16}?(?:報導|报道|報道)$"
)  # fmt: skip
# A dateline the page put in the same line: "2019-03-18 23:59聯合報 記者…".
_LEADING_STAMP = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?\s*")
# Words next to the names that are no names: "（记者陈智 整合）".
_ROLES = frozenset(
    "整合 综合 綜合 报道 報導 報道 摄影 攝影 摄 攝 实习生 實習生 通讯员 通訊員 编译 編譯".split()
)
# Places a 中央社 byline puts between the reporters and the day (邱俊欽桃園8日電).
_PLACES = str.split(
    "台北 臺北 新北 桃園 台中 臺中 台南 臺南 高雄 基隆 新竹 苗栗 彰化 南投 雲林 嘉義 屏東 宜蘭 花蓮 "
    "台東 臺東 澎湖 金門 馬祖 連江 香港 澳門 北京 上海 東京 首爾 華盛頓 紐約 洛杉磯 舊金山 倫敦 巴黎 "
    "柏林 布魯塞爾 莫斯科 新加坡 曼谷 雅加達 吉隆坡 馬尼拉 河內 雪梨 日內瓦 維也納 多倫多 溫哥華"
)
_PLACE_END = re.compile("(?:" + "|".join(sorted(_PLACES, key=len, reverse=True)) + ")$")
# A line of its own naming the reporters, at the head or the foot of the text: "□ 本报记者 葛灵丹".
_REPORTER_LINE = re.compile(
    r"^[□■◎●\s]*(?:本报|本報|本台|本网|本網|(?P<org>[^\s\d:：，,。()（）]{2,8}?(?:报|報|网|網|社|台|新闻|新聞)))?"
    + _REPORTER + r"\s*(?P<who>[^\s\d:：()（）].{1,30})$"
)
# 石佳/中国青年报: the writer, then the paper the article comes from (portals reposting it).
_WRITER_PAPER = re.compile(
    r"^(?P<who>[\u4e00-\u9fff·]{2,4}(?:[、，,\s][\u4e00-\u9fff·]{2,4}){0,3})\s*[/／]\s*"
    r"(?P<org>[\u4e00-\u9fff]{2,10}(?:报|報|网|網|社|台|杂志|雜誌|周刊|週刊))$"
)
_NAME_SPLIT = re.compile(r"\s*[、，,及和與与]\s*|\s+")
_NOT_NAME = re.compile(r"\d|[。！？；;，,：:“”\"]")
_NOT_ORIGIN = {"本报", "本報", "本网", "本網", "本刊", "本台"}


def find_byline(body_text: str) -> Byline | None:
    """The byline that opens the text (its first lines), or a reporters' line at its head or
    foot; None when there is none."""
    head = body_text.lstrip()[:160]
    # each of the first lines on its own: a long photo caption can come first
    for line in body_text.lstrip().split("\n", 3)[:3]:
        line = line.strip()[:200]
        m = _AGENCY_PAREN.match(line) or _AGENCY_BARE.match(line)
        if m:
            return _byline(m["org"], _strip_place(m["who"]) if m["who"] else None)
        for pattern in (_DATELINE_THEN_PAREN, _SLASHED, _WIRE_THEN_PAREN, _BRACKET_WIRE):
            m = pattern.match(line)
            if m:
                org = m["org"]
                if pattern is _SLASHED and not org:
                    org = m["pre"] or None  # 〔自由時報記者…／…報導〕
                return _byline(org, _names(m["who"]) if m["who"] else None)
        if len(line) <= 60:
            line = _LEADING_STAMP.sub("", line)
            m = _PLAIN_SLASHED.match(line) or _WRITER_PAPER.match(line)
            if m:
                return _byline(m["org"], _names(m["who"]))
    lines = [line.strip() for line in head.split("\n")[:2]]
    lines += [line.strip() for line in body_text.rstrip()[-120:].split("\n")[-3:]]
    for line in lines:
        m = _REPORTER_LINE.match(line)
        if m:
            return _byline(m["org"], _names(m["who"]))
    return None


# The day a paper's wire carries in its name: "长江网10月4日讯" is 长江网's.
_WIRE_DAY = re.compile(r"\d{1,2}\s*月\s*\d{1,2}\s*日$")


def _byline(org: str | None, who: str | None) -> Byline | None:
    if org:
        org = _WIRE_DAY.sub("", org).strip() or None
    if org in _NOT_ORIGIN:
        org = None
    if org is None and who is None:
        return None
    return Byline(org, who)


# What follows the names: "马俊峰/文 受访者供图", "彭冲 山东冠县报道".
_AFTER_NAMES = re.compile(r"\s*[/／]\s*(?:文|图|圖|摄|攝).*$|\s+\S{1,8}(?:报道|報導|報道)$")


def _names(text: str) -> str | None:
    text = _AFTER_NAMES.sub("", text.strip())
    names = [n for n in _NAME_SPLIT.split(text) if n and n not in _ROLES]
    if not names or any(len(n) > 12 or _NOT_NAME.search(n) for n in names):
        return None
    return "、".join(names)


def _strip_place(text: str) -> str | None:
    """邱俊欽桃園 -> 邱俊欽; 王明、李華台北 -> 王明、李華 (the place is not a name)."""
    text = text.strip()
    m = _PLACE_END.search(text)
    if m:
        text = text[: m.start()]
    else:
        # an unlisted place: names have two to three characters, places two or more
        last = _NAME_SPLIT.split(text)[-1]
        if len(last) >= 5:
            text = text[: len(text) - len(last) + 3]
        elif len(last) == 4:
            text = text[: len(text) - 2]
    return _names(text)
