"""Publication dates as Chinese government pages write them, with their precision.

``2011-04-02 08:30``, ``2011年04月02日``, ``2011/4/2``, ``2007-08-20-23:59:59`` (TRS metas),
Taiwan's ``中華民國107年3月13日`` / ``107年3月13日``, and documents' dates in Chinese numerals,
``二〇一一年四月二日`` (a 成文日期 under a notice's signature). A date without a day is not a date here:
nothing is ever defaulted to the 1st.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from govarchive.times import DEFAULT_TIMEZONE

_TIME = (
    r"(?:[\sT_\-]{0,6}(?P<H>\d{1,2})\s*[:：时時点點]\s*(?P<M>\d{1,2})(?!\d)\s*分?"
    r"(?:\s*[:：]\s*(?P<S>\d{1,2})(?!\d)|\s*(?P<S2>\d{1,2})\s*秒)?)?"
    r"(?P<tz>\s*(?:Z|[+-]\d{2}:?\d{2})(?![\d:]))?"
)
_GREGORIAN = re.compile(
    r"(?<![\d.])(?P<y>(?:19|20)\d{2})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})(?!\d)\s*日?"
    + _TIME
)
# Bare "107年3月13日" is read as an ROC year only in the plausible range (1991..2061).
_ROC = re.compile(
    r"(?:(?:中華民國|中华民国|民國|民国)\s*(?P<ry>\d{1,3})|(?<![\d./\-])(?P<by>(?:[89]\d|1[0-5]\d)))"
    r"\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日" + _TIME
)
# Taiwan's government sites also write the ROC year with dashes or slashes: "113-01-02",
# "113/1/2 09:30" (years 100..150 only: 2011..2061, never a phone number's "02-…").
_ROC_NUMERIC = re.compile(
    r"(?<![\d./\-])(?P<by>1[0-4]\d|150)(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?![\d./\-])"
    + _TIME
)
# US order, as ASP.NET pages print it: "9/17/2004 5:54:13 AM".
_US = re.compile(
    r"(?<![\d/])(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>(?:19|20)\d{2})(?![\d/])"
    r"(?:\s+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?\s*(?P<ampm>[AaPp][Mm])?)?"
)
_HAS_DIGIT_PAIR = re.compile(r"\d{2}")
# Year digit by digit (〇, the circle ○ typed for it, or 零), month and day as numbers
# (十二月, 二十一日).
_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"○": 0, "零": 0, "Ｏ": 0}
_HANZI = re.compile(
    r"(?P<y>[〇○零Ｏ一二三四五六七八九]{4})\s*年\s*(?P<m>十[一二]?|[一二三四五六七八九])\s*月"
    r"\s*(?P<d>[二三]?十[一二三四五六七八九]?|[一二三四五六七八九])\s*日"
)


def _hanzi_number(text: str) -> int:
    """一 .. 九, 十, 十一 .. 十九, 二十 .. 三十一."""
    if "十" not in text:
        return _DIGITS[text]
    tens, _, ones = text.partition("十")
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[ones] if ones else 0)


def _build_hanzi(m: re.Match, tz_name: str) -> tuple[datetime, str] | None:
    year = int("".join(str(_DIGITS[c]) for c in m["y"]))
    if not 1985 <= year <= datetime.now().year + 1:
        return None
    try:
        value = datetime(year, _hanzi_number(m["m"]), _hanzi_number(m["d"]), tzinfo=zone(tz_name))
    except ValueError:
        return None
    return value, "day"


@lru_cache(maxsize=64)
def zone(name: str):
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def _offset(text: str):
    text = text.strip()
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return dt_timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))


def _build(match: re.Match, year: int, tz_name: str) -> tuple[datetime, str] | None:
    month, day = int(match["m"]), int(match["d"])
    hour = minute = second = 0
    precision = "day"
    if match["H"] is not None:
        hour, minute = int(match["H"]), int(match["M"])
        precision = "minute"
        sec = match["S"] or match["S2"]
        if sec is not None:
            second, precision = int(sec), "second"
    if not 1985 <= year <= datetime.now().year + 1:
        return None
    try:
        if match["tz"] and precision != "day":
            value = datetime(year, month, day, hour, minute, second, tzinfo=_offset(match["tz"]))
        else:
            value = datetime(year, month, day, hour, minute, second, tzinfo=zone(tz_name))
    except ValueError:
        if precision == "day":
            return None
        # "2011-04-02 25:61" keeps its day even if the clock part is nonsense.
        try:
            value = datetime(year, month, day, tzinfo=zone(tz_name))
        except ValueError:
            return None
        precision = "day"
    return value, precision


def _build_us(m: re.Match, tz_name: str) -> tuple[datetime, str] | None:
    hour = int(m["H"]) if m["H"] else 0
    if m["ampm"] and m["ampm"].lower() == "pm" and hour < 12:
        hour += 12
    elif m["ampm"] and m["ampm"].lower() == "am" and hour == 12:
        hour = 0
    precision = "second" if m["S"] else "minute" if m["H"] else "day"
    try:
        value = datetime(
            int(m["y"]),
            int(m["m"]),
            int(m["d"]),
            hour,
            int(m["M"] or 0),
            int(m["S"] or 0),
            tzinfo=zone(tz_name),
        )
    except ValueError:
        return None
    if not 1985 <= value.year <= datetime.now().year + 1:
        return None
    return value, precision


def find_dates(text: str, tz_name: str = DEFAULT_TIMEZONE):
    """Yield (position, datetime, precision) for every plausible date in ``text``."""
    if "年" in text and "日" in text:
        for m in _HANZI.finditer(text):
            built = _build_hanzi(m, tz_name)
            if built:
                yield m.start(), built[0], built[1]
    if not _HAS_DIGIT_PAIR.search(text):
        return
    for m in _GREGORIAN.finditer(text):
        built = _build(m, int(m["y"]), tz_name)
        if built:
            yield m.start(), built[0], built[1]
    if "/" in text:
        for m in _US.finditer(text):
            built = _build_us(m, tz_name)
            if built:
                yield m.start(), built[0], built[1]
    if "年" in text:
        for m in _ROC.finditer(text):
            roc_year = int(m["ry"] or m["by"])
            built = _build(m, roc_year + 1911, tz_name)
            if built:
                yield m.start(), built[0], built[1]
    for m in _ROC_NUMERIC.finditer(text):
        built = _build(m, int(m["by"]) + 1911, tz_name)
        if built:
            yield m.start(), built[0], built[1]


def parse_date(text: str, tz_name: str = DEFAULT_TIMEZONE) -> tuple[datetime, str] | None:
    """The first date in ``text`` as (aware datetime, precision), or None."""
    found = min(find_dates(text, tz_name), key=lambda hit: hit[0], default=None)
    return (found[1], found[2]) if found else None


def date_end(text: str, start: int) -> int:
    """Where the date found at ``start`` ends (the weekday test looks right after it)."""
    for pattern in (_GREGORIAN, _ROC, _US, _HANZI, _ROC_NUMERIC):
        m = pattern.match(text, start)
        if m:
            return m.end()
    return start
