"""Where a page states its publication date: metas, labelled info lines, the headline's
neighbourhood; and which of them to trust when they disagree."""

from __future__ import annotations

import re
from datetime import datetime

from .dates import date_end, find_dates, parse_date, zone
from .page import SegmentSearch

_DATE_METAS = (
    "pubdate",
    "publishdate",
    "firstpublishedtime",
    "article:published_time",
    "datepublished",
    "publishtime",
    "pubtime",
    "publish_date",
    "published_time",
    "releasedate",
    "og:release_date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date.created",
    "dc.date",
    "weibo:article:create_at",
    "article:publish_time",
    "publication_date",
    "og:time",
    "apub:time",
)
# 生成日期: the date a 信息公开 catalogue entry was made (Jiangxi's tables), not a page's
# generation time (页面生成时间, excluded below).
_PRIMARY_LABEL = re.compile(
    r"(?:(?:发布|發佈|發布|发表|發表|公布|公佈|发稿|發稿|刊登|印发|印發|发文|發文)\s*(?:时间|時間|日期|于|於)"
    r"|生成日期)\s*[:：]?"
)
_SECONDARY_WORD = r"(?:时间|時間|日期|成文日期|更新时间|更新時間)\s*[:：]"
_SECONDARY_LABEL = re.compile(r"(?:^|[\s|丨【\[（(])" + _SECONDARY_WORD)
# What every match of a label contains, to find the candidate segments in one search (the
# secondary label itself begins with "line start or a separator", tried at every character).
_LABEL_CORES = {_PRIMARY_LABEL: _PRIMARY_LABEL, _SECONDARY_LABEL: re.compile(_SECONDARY_WORD)}
# Every date find_dates() reads holds two digits in a row, or 年 (and 日).
_MAY_HOLD_DATE = re.compile(r"\d\d|年")
# Longer text is never a date line (see _excluded).
_DATE_LINE_MAX = 300
_LABEL_KEYS = re.compile("[时時期于於]")
# Dates the page did not publish: when it was rendered, visited, or what day it is today.
_NOT_PUBLISHED = re.compile(
    r"页面生成|頁面生成|生成时间|生成時間|更新于|访问|訪問|当前时间|今天是|今日|登录|登錄"
    r"|版权|版權|Copyright|©|ICP|备案|備案|截止|截至|有效期|失效|最后修改"
)


# Hong Kong government press releases (info.gov.hk) end with their issuing stamp:
# "Ends/Tuesday, January 2, 2024" + "Issued at HKT 17:30", or "2024年1月2日（星期二）" +
# "香港時間17時30分". Macao's GCS writes "2024-01-02 17:30" and needs nothing of its own.
_MONTHS = {
    name: i
    for i, names in enumerate(
        ("jan january", "feb february", "mar march", "apr april", "may", "jun june",
         "jul july", "aug august", "sep sept september", "oct october", "nov november",
         "dec december"),
        start=1,
    )
    for name in names.split()
}  # fmt: skip
_ISSUED_EN = re.compile(
    r"Ends\s*/\s*(?:[A-Za-z]+day\s*,\s*)?(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<d>\d{1,2})\s*,\s*"
    r"(?P<y>(?:19|20)\d{2})\s*Issued\s+at\s+HKT\s+(?P<H>\d{1,2})\s*:\s*(?P<M>\d{2})",
    re.IGNORECASE,
)
_ISSUED_ZH = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日\s*"
    r"(?:[（(]\s*(?:星期|週|周)[一二三四五六日天]\s*[)）])?\s*"
    r"(?:香港|澳門|澳门)(?:時間|时间)\s*(?P<H>\d{1,2})\s*[時时:：]\s*(?P<M>\d{1,2})\s*分?"
)
# Departments' releases: "完／星期二，1月2日" + "於HKT 17:30發出" (the year only in the address,
# ".../P2024010200123.htm", when the stamp has none).
_ISSUED_ZH_SHORT = re.compile(
    r"完\s*[/／]\s*(?:(?P<y>(?:19|20)\d{2})\s*年\s*)?(?:(?:星期|週|周)[一二三四五六日天]\s*[，,]?\s*)?"
    r"(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日.{0,16}?於\s*HKT\s*(?P<H>\d{1,2})\s*[:：]\s*"
    r"(?P<M>\d{2})\s*發出"
)
_URL_YEAR = re.compile(r"/P((?:19|20)\d{2})\d{2}|/((?:19|20)\d{2})(?:\d{2})?/")
_ISSUED_KEYS = re.compile(r"HKT|(?:香港|澳門|澳门)(?:時間|时间)")


def _issued_stamp(segments, url: str = "") -> tuple[datetime, str] | None:
    """The issuing stamp at the end of a Hong Kong (or Macao) government press release."""
    lines = SegmentSearch(segments, 120)
    for i in lines.candidates(_ISSUED_KEYS):
        around = " ".join(seg.text for seg in segments[max(0, i - 3) : i + 1])
        m = _ISSUED_EN.search(around)
        month = _MONTHS.get(m["mon"].lower()) if m else None
        if m is None:
            m = _ISSUED_ZH.search(around) or _ISSUED_ZH_SHORT.search(around)
            month = int(m["m"]) if m else None
        if m is None or month is None:
            continue
        year = m["y"]
        if year is None:
            in_url = _URL_YEAR.search(url)
            year = (in_url[1] or in_url[2]) if in_url else None
        if year is None:
            continue
        zone_name = "Asia/Macau" if "澳" in m.group(0) else "Asia/Hong_Kong"
        try:
            when = datetime(int(year), month, int(m["d"]), int(m["H"]), int(m["M"]),
                            tzinfo=zone(zone_name))  # fmt: skip
        except ValueError:
            continue
        return when, "minute"
    return None


# The day a CMS wrote into the article's address: TRS "/202401/t20240102_123.html", gov.cn
# "/2024-01/02/content_…", Hanweb "/art/2024/1/2/art_…", "/20240102/…", DedeCMS and PHPCMS
# "/2024/0102/…" (Henan: "/2024/01-02/…"). A month alone ("/202401/") is no date.
_URL_DATES = (
    re.compile(r"/t((?:19|20)\d{2})(\d{2})(\d{2})_\d+"),
    re.compile(r"/((?:19|20)\d{2})-(\d{1,2})/(\d{1,2})/"),
    re.compile(r"/art/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})/art_"),
    re.compile(r"/((?:19|20)\d{2})(\d{2})(\d{2})/"),
    re.compile(r"/((?:19|20)\d{2})(\d{2})/(\d{2})/"),
    re.compile(r"/((?:19|20)\d{2})/(\d{2})-?(\d{2})/"),
)


_YEAR_MONTH = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})(?!\d)")


def published_from_url(
    url: str, tz_name: str, segments=(), title_index: int | None = None
) -> tuple[datetime, str] | None:
    """The day in the article's URL, for a page that shows no date of its own: never when the
    headline's lines show another month ("2015年3月" under it, the URL of another day)."""
    path = url.split("?", 1)[0].split("#", 1)[0]
    for pattern in _URL_DATES:
        m = pattern.search(path)
        if m:
            try:
                value = datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=zone(tz_name))
            except ValueError:
                continue
            if not 1985 <= value.year <= datetime.now().year + 1:
                continue
            shown = _shown_months(segments, title_index)
            if shown and (value.year, value.month) not in shown:
                return None
            return value, "day"
    return None


def _shown_months(segments, title_index: int | None) -> set[tuple[int, int]]:
    months = set()
    for i in _window(title_index, len(segments)):
        if segments[i].in_link or _excluded(segments, i):
            continue
        for m in _YEAR_MONTH.finditer(segments[i].text):
            months.add((int(m[1]), int(m[2])))
    return months


def published_from_metas(metas: dict[str, str], tz_name: str) -> tuple[datetime, str] | None:
    for key in _DATE_METAS:
        value = metas.get(key)
        if value:
            found = parse_date(value, tz_name)
            if found:
                return found
    return None


def _excluded(segments, i: int) -> bool:
    """Page-generation times, copyright years, "今天是：" and dates in the text right after it."""
    text = segments[i].text
    if len(text) > _DATE_LINE_MAX or _NOT_PUBLISHED.search(text):
        return True
    return i > 0 and bool(_NOT_PUBLISHED.search(segments[i - 1].text[-12:]))


def _labelled(
    lines: SegmentSearch, span: range, tz_name: str, label: re.Pattern
) -> tuple[datetime, str] | None:
    segments = lines.segments
    for i in lines.candidates(_LABEL_CORES[label], span):
        text = segments[i].text
        if not _LABEL_KEYS.search(text) or _excluded(segments, i):
            continue
        m = label.search(text)
        if not m:
            continue
        found = parse_date(text[m.end() :], tz_name)
        if found is None and not text[m.end() :].strip() and i + 1 < len(segments):
            found = parse_date(segments[i + 1].text[:60], tz_name)
        if found:
            return found
    return None


def _weekday_widget(segments, i: int, end: int) -> bool:
    """A header's "2023年10月11日 星期三": the day the page was viewed, not the article's."""
    after = segments[i].text[end : end + 8]
    if not after.strip() and i + 1 < len(segments):
        after = segments[i + 1].text[:8]
    return bool(_WEEKDAY.match(after))


_WEEKDAY = re.compile(r"\s*[(（]?\s*(?:星期|礼拜|禮拜|周|週)[一二三四五六日天]")


def _first_unlinked(
    lines: SegmentSearch, span: range, tz_name: str, info_line: bool = False
) -> tuple[datetime, str] | None:
    """The first date not in a link; with ``info_line``, only on a line that also names the
    source or the author ("2019年06月15日08:18 来源：某某日报"), in its own text or a neighbour's."""
    segments = lines.segments
    for i in lines.candidates(_MAY_HOLD_DATE, span):
        if segments[i].in_link or _excluded(segments, i):
            continue
        if info_line and not _on_info_line(segments, i):
            continue
        text = segments[i].text
        hits = sorted(find_dates(text, tz_name), key=lambda hit: hit[0])
        for start, value, precision in hits:
            end = date_end(text, start)
            if not _weekday_widget(segments, i, end):
                return value, precision
    return None


_INFO_WORDS = re.compile(
    r"(?:来源|來源|作者|编辑|編輯|浏览|瀏覽|点击|點擊|阅读|閱讀|字号|字號)\s*[:：]"
)


def _on_info_line(segments, i: int) -> bool:
    """Next to a 来源 or 作者 label, or in a box the page marks as the date ("span.date")."""
    around = segments[max(0, i - 1) : i + 2]
    if any(_INFO_WORDS.search(seg.text) for seg in around if len(seg.text) <= _INFO_LINE_MAX):
        return True
    el = segments[i].element
    return len(segments[i].text) <= 40 and any(
        _DATE_CLASS.search(c) for c in (el.get("class") or "").split()
    )


# A box whose class says it holds the article's date or time.
_DATE_CLASS = re.compile(r"^(?:date|time|pub-?time|pub-?date|publish-?(?:time|date)|post-?time"
                         r"|article-?(?:time|date)|h-time|pages-date|info-?time)$", re.IGNORECASE)


_INFO_LINE_MAX = 120


def _same_day_finer(
    kept: tuple[datetime, str], other: tuple[datetime, str] | None
) -> tuple[datetime, str]:
    """``other`` when it is the same calendar day as ``kept`` and says more: a time of day for
    a day, seconds for the same minute (a shown "09:05" never becomes a meta's "09:10:42")."""
    if other is None or _RANK[other[1]] <= _RANK[kept[1]]:
        return kept
    seen = other[0].astimezone(kept[0].tzinfo)
    if seen.date() != kept[0].date():
        return kept
    if kept[1] != "day" and (seen.hour, seen.minute) != (kept[0].hour, kept[0].minute):
        return kept
    return other


_RANK = {"day": 0, "minute": 1, "second": 2}


def _swapped(shown: datetime, meta: datetime) -> bool:
    """The shown date is the meta's with day and month exchanged (an ambiguous a/b/yyyy)."""
    other = meta.astimezone(shown.tzinfo)
    return (
        (shown.year, shown.month, shown.day)
        == (other.year, other.day, other.month)
        != (other.year, other.month, other.day)
    )


def published_date(
    metas: dict[str, str],
    segments,
    title_index: int | None,
    tz_name: str,
    body_end: int | None = None,
    url: str = "",
) -> tuple[datetime, str] | None:
    """The article's publication date, in order of trust.

    0. A Hong Kong or Macao press release's issuing stamp ("Issued at HKT 17:30").
    1. The date the info line shows with a publishing label (发布时间/发布日期/发文日期, or a
       plain 时间/日期 next to the headline). A meta PubDate that disagrees loses: CMS
       migrations and republishing re-stamp the meta, sometimes years later. One on the same
       day only lends its time of day when the page shows none.
    2. An unlabelled date on the info line under the headline (next to its 来源 or 作者), the
       same way.
    3. The meta PubDate; an unlabelled date next to the headline on the same day lends its
       time of day (metas often hold only the day).
    Without a meta, the page's dates in the order of published_from_segments.
    """
    issued = _issued_stamp(segments, url)
    if issued is not None:
        return issued
    meta = published_from_metas(metas, tz_name)
    if meta is None:
        return published_from_segments(segments, title_index, tz_name, body_end)
    count = len(segments)
    above_end = range(body_end if body_end is not None else count)
    window = _window(title_index, count)
    lines = SegmentSearch(segments, _DATE_LINE_MAX)
    for span, label in ((window, _PRIMARY_LABEL), (above_end, _PRIMARY_LABEL),
                        (window, _SECONDARY_LABEL)):  # fmt: skip
        shown = _labelled(lines, span, tz_name, label)
        if shown:
            if _swapped(shown[0], meta[0]):
                return meta  # "06/02/2022": day and month read in the other order
            return _same_day_finer(shown, meta)
    near = _first_unlinked(lines, _near(title_index, count), tz_name, info_line=True)
    if near is not None and not _swapped(near[0], meta[0]):
        return _same_day_finer(near, meta)
    return _same_day_finer(meta, _first_unlinked(lines, _near(title_index, count), tz_name))


def _window(title_index: int | None, count: int) -> range:
    if title_index is None:
        return range(0)
    return range(max(0, title_index - 6), min(count, title_index + 40))


def _near(title_index: int | None, count: int) -> range:
    """The headline's own lines: where an info line without labels sits."""
    if title_index is None:
        return range(0)
    return range(max(0, title_index - 2), min(count, title_index + 8))


def published_from_segments(
    segments, title_index: int | None, tz_name: str, body_end: int | None = None
) -> tuple[datetime, str] | None:
    """The info line's date, in order of trust.

    A "发布时间/发布日期" label near the headline, then anywhere above the end of the article
    (信息公开 tables sit above the headline and also hold 成文日期); then a plain 时间/日期 label
    or any date near the headline; then labelled anywhere. Unlabelled dates below the article
    belong to comments, related links and footers, so they are never taken.
    """
    count = len(segments)
    above_end = range(body_end if body_end is not None else count)
    window = _window(title_index, count)
    steps = (
        (window, _PRIMARY_LABEL),
        (above_end, _PRIMARY_LABEL),
        (window, _SECONDARY_LABEL),
        (window, None),
        (range(count), _PRIMARY_LABEL),
        (range(count), _SECONDARY_LABEL),
        (above_end, None),
    )
    lines = SegmentSearch(segments, _DATE_LINE_MAX)
    for span, label in steps:
        if label is None:
            found = _first_unlinked(lines, span, tz_name)
        else:
            found = _labelled(lines, span, tz_name, label)
        if found:
            return found
    return None
