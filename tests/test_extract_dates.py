"""Dates as Chinese government pages write them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from govarchive.crawler.extract.dates import parse_date

SH = "Asia/Shanghai"


@pytest.mark.parametrize(
    "text, expected, precision",
    [
        ("2011-04-02 08:30", (2011, 4, 2, 8, 30, 0), "minute"),
        ("发布时间：2011年04月02日", (2011, 4, 2, 0, 0, 0), "day"),
        ("2011/4/2", (2011, 4, 2, 0, 0, 0), "day"),
        ("2007-08-20-23:59:59", (2007, 8, 20, 23, 59, 59), "second"),
        ("發佈時間：中華民國107年3月13日", (2018, 3, 13, 0, 0, 0), "day"),
        ("107年3月13日", (2018, 3, 13, 0, 0, 0), "day"),
        ("民國99年12月1日 14:05", (2010, 12, 1, 14, 5, 0), "minute"),
        ("2011年4月2日 8时30分", (2011, 4, 2, 8, 30, 0), "minute"),
        ("9/17/2004 5:54:13 PM", (2004, 9, 17, 17, 54, 13), "second"),
        ("二〇一一年四月二日", (2011, 4, 2, 0, 0, 0), "day"),
        ("成文日期：二○二四年十二月三十一日", (2024, 12, 31, 0, 0, 0), "day"),
        ("二〇二三年十月二十日印发", (2023, 10, 20, 0, 0, 0), "day"),
        ("二零一九年九月十一日", (2019, 9, 11, 0, 0, 0), "day"),
    ],
)
def test_formats(text, expected, precision):
    value, prec = parse_date(text, SH)
    assert value.timetuple()[:6] == expected
    assert prec == precision
    assert value.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    "text", ["2011-04", "2011年4月", "2011-13-02", "2011-02-30", "1850-01-02", "页码 20110402",
             "二〇一一年四月", "二〇二三年二月三十日", "一九四九年十月一日", "一一年四月二日"]
)
def test_no_day_no_date(text):
    assert parse_date(text, SH) is None


def test_explicit_offset_is_kept():
    value, prec = parse_date("2019-09-18T06:23:00+09:00", SH)
    assert value.utcoffset() == timedelta(hours=9) and prec == "second"
    value, _ = parse_date("2019-09-18T06:23:00Z", SH)
    assert value.tzinfo == UTC


def test_nonsense_clock_keeps_the_day():
    value, prec = parse_date("2011-04-02 25:70", SH)
    assert (value.date(), prec) == (datetime(2011, 4, 2).date(), "day")


def test_unknown_timezone_falls_back_to_shanghai():
    value, _ = parse_date("2011-04-02", "Not/AZone")
    assert value.utcoffset() == timedelta(hours=8)
