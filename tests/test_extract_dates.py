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
        ("發布日期：113-01-02", (2024, 1, 2, 0, 0, 0), "day"),
        ("更新日期：113/1/2 09:30", (2024, 1, 2, 9, 30, 0), "minute"),
    ],
)
def test_formats(text, expected, precision):
    value, prec = parse_date(text, SH)
    assert value.timetuple()[:6] == expected
    assert prec == precision
    assert value.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    "text", ["2011-04", "2011年4月", "2011-13-02", "2011-02-30", "1850-01-02", "页码 20110402",
             "二〇一一年四月", "二〇二三年二月三十日", "一九四九年十月一日", "一一年四月二日",
             "電話：02-2345-6789", "113-1-2-3"]
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


# The date the page shows against its metas (issue section 4): short invented pages.

from govarchive.crawler.extract import extract_article

URL = "https://www.example.gov.cn/art/2020/1/2/art_1_1.html"
_TEXT = (
    "<div class='zw'><p>为进一步做好春季农业生产工作，市农业农村局近日召开专题会议，部署春耕备耕各项任务。"
    "会议要求，各地要抓好种子、化肥等农资供应，确保不误农时。</p><p>会议强调，要加强农技服务，"
    "组织技术人员深入田间地头，帮助农户解决实际困难。</p></div>"
)


def _published(info: str, metas: str = "", header: str = "", url: str = URL):
    html = (
        f"<html><head><meta charset='utf-8'><title>部署春耕备耕工作_某某市</title>{metas}</head><body>"
        f"{header}<h1>部署春耕备耕工作</h1>{info}{_TEXT}</body></html>"
    )
    art = extract_article(html.encode("utf-8"), url)
    return (art.published_at.isoformat() if art.published_at else None), art.published_precision


@pytest.mark.parametrize(
    "info, metas, expected",
    [
        # the info line's minutes are kept: no midnight "day" from a day-only meta
        ("<div class='info'>2019年06月15日08:18 来源：某某日报</div>",
         "<meta name='PubDate' content='2019-06-15'>", ("2019-06-15T08:18:00+08:00", "minute")),
        ("<div class='info'><span>2019-06-15 08:18:09</span><span>来源：某某日报</span></div>",
         "<meta name='publishdate' content='2019-06-15'>", ("2019-06-15T08:18:09+08:00", "second")),
        # a meta re-stamped by a CMS migration years later loses to the shown date
        ("<div class='info'>发布时间：2020-01-02 17:11</div>",
         "<meta name='PubDate' content='2023-05-16 12:34:05'>", ("2020-01-02T17:11:00+08:00", "minute")),
        ("<table><tr><td>发布机构：某某市统计局</td><td>发文日期：2023-04-18</td></tr></table>",
         "<meta name='PubDate' content='2023-05-16 12:34:05'>", ("2023-04-18T00:00:00+08:00", "day")),
        ("<div class='info'><span>2020-01-02 17:11</span> <span>来源：某某日报</span></div>",
         "<meta name='PubDate' content='2023-05-16 12:34:05'>", ("2020-01-02T17:11:00+08:00", "minute")),
        # a date under the headline without a label or a source beside it defers to the meta
        ("<p class='info'>2020-01-02</p>",
         "<meta name='PubDate' content='2020-01-03 09:00'>", ("2020-01-03T09:00:00+08:00", "minute")),
        # a 信息公开 table's 生成日期 (the catalogue entry's date) against a re-stamped meta
        ("<table><tr><td>索 引 号：</td><td>014742224A/2023-0043406</td><td>生成日期：</td>"
         "<td>2023-05-11</td></tr></table>",
         "<meta name='PubDate' content='2023-08-16 10:33:59'>",
         ("2023-05-11T00:00:00+08:00", "day")),
        # a date in a box marked as the date, under the headline, keeps its own minutes
        ("<div class='top-bar'><span class='date'>2019年10月23日 09:05</span>"
         "<a class='source' href='/'>某某网</a></div>",
         "<meta property='article:published_time' content='2019-10-23T09:10:42+08:00'>",
         ("2019-10-23T09:05:00+08:00", "minute")),
        # ... and a meta of that very minute lends its seconds
        ("<div class='top-bar'><span class='date'>2019年10月23日 09:10</span></div>",
         "<meta property='article:published_time' content='2019-10-23T09:10:42+08:00'>",
         ("2019-10-23T09:10:42+08:00", "second")),
        # the page shows no date: a portal's own meta names, not a date quoted in the text
        ("", "<meta name='apub:time' content='2019-9-7 21:30:50'>",
         ("2019-09-07T21:30:50+08:00", "second")),
        # a meta of the same day lends its time of day to a shown day
        ("<div class='info'>发布时间：2026/08/27 来源：某某司</div>",
         "<meta name='PubDate' content='2026-08-27 14:28:41'>", ("2026-08-27T14:28:41+08:00", "second")),
        # "06/02/2022" read month first is the meta's 6 February read the other way
        ("<div class='info'>发表时间：06/02/2022 - 13:48</div>",
         "<meta name='PubDate' content='2022-02-06 13:48'>", ("2022-02-06T13:48:00+08:00", "minute")),
    ],
)
def test_shown_date_against_meta(info, metas, expected):
    assert _published(info, metas) == expected


def test_header_date_widget_is_never_the_articles_date():
    header = "<div class='top'><span>2023年10月11日 星期三</span> <a href='/'>首页</a></div>"
    # (an address without a day: the page's only date would otherwise be the URL's)
    assert _published("", header=header, url="https://www.example.gov.cn/zwdt/1.html") == (
        None, None
    )
    widget = "<div class='top'>2023年10月11日</div><div class='top'>星期三</div>"
    assert _published("<p class='info'>( 2022-04-26)</p>", header=widget) == (
        "2022-04-26T00:00:00+08:00", "day"
    )


@pytest.mark.parametrize(
    "stamp, expected",
    [
        ("<div>Ends/Tuesday, January 2, 2024</div><div>Issued at HKT 17:30</div><div>NNNN</div>",
         "2024-01-02T17:30:00+08:00"),
        ("<p>完</p><p>2024年1月2日（星期二）</p><p>香港時間17時30分</p><p>NNNN</p>",
         "2024-01-02T17:30:00+08:00"),
        # a department's stamp without the year: the release's address has it
        ("<p>完／星期二，1月2日</p><p>於HKT 17:30發出</p><p>NNNN</p>", "2024-01-02T17:30:00+08:00"),
    ],
)
def test_hong_kong_press_release_issuing_stamp(stamp, expected):
    # the weekday after the day is the release's, not a header widget's
    html = (
        "<html><head><meta charset='utf-8'><title>Cleansing campaign starts</title></head><body>"
        "<span id='PRHeadline'>Cleansing campaign starts</span><span id='pressrelease'>"
        "<p>The Food and Environmental Hygiene Department today (January 2) launched a"
        " territory-wide cleansing campaign to improve environmental hygiene in public places"
        " across all districts.</p><p>Members of the public are urged to keep their homes"
        " clean and dispose of refuse properly.</p>" + stamp + "</span>"
        "<a href='/gia/general/today.htm'>Today's Press Releases</a> "
        "<a href='/gia/general/ctoday.htm'>Archives</a></body></html>"
    )
    url = "https://www.example.gov.hk/gia/general/202401/02/P2024010200123.htm"
    art = extract_article(html.encode("utf-8"), url)
    assert art.published_at.isoformat() == expected
    assert art.published_precision == "minute"
    assert "NNNN" not in art.body_text and "Archives" not in art.body_text


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://www.example.gov.cn/zwgk/202401/t20240102_123.html", "2024-01-02T00:00:00+08:00"),
        ("https://www.example.gov.cn/xinwen/2024-01/02/content_5.htm", "2024-01-02T00:00:00+08:00"),
        ("https://www.example.gov.cn/art/2024/1/2/art_12_345.html", "2024-01-02T00:00:00+08:00"),
        ("https://www.example.gov.cn/a/zwdt/2024/0102/1234.html", "2024-01-02T00:00:00+08:00"),
        ("https://www.example.gov.cn/2024/01-02/2876543.html", "2024-01-02T00:00:00+08:00"),
        ("https://www.example.gov.cn/zwdt/202401/abc123.html", None),  # a month is no date
        ("https://www.example.gov.cn/zwdt/2024/1399/abc.html", None),
    ],
)
def test_day_in_the_address_when_the_page_shows_none(url, expected):
    html = (
        "<html><head><meta charset='utf-8'><title>部署春耕备耕工作_某某市</title></head><body>"
        f"<h1>部署春耕备耕工作</h1>{_TEXT}</body></html>"
    )
    art = extract_article(html.encode("utf-8"), url)
    assert (art.published_at.isoformat() if art.published_at else None) == expected
    assert art.published_precision == ("day" if expected else None)


def test_shown_date_and_firstpublishedtime_win_over_the_address():
    shown = _published(
        "<div class='info'>发布日期：2021/3/4 9:05</div>",
        url="https://www.example.gov.cn/zwgk/202401/t20240102_123.html",
    )
    assert shown == ("2021-03-04T09:05:00+08:00", "minute")
    meta = _published(
        "", metas="<meta name='firstpublishedtime' content='2021-03-04-09:05:00'>",
        url="https://www.example.gov.cn/zwgk/202401/t20240102_123.html",
    )
    assert meta == ("2021-03-04T09:05:00+08:00", "second")
