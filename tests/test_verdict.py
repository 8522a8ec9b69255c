"""govarchive.crawler.verdict: what one response means for an article, decided without Scrapy
requests or I/O, for the crawl and the rebuild alike."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from scrapy.http import Headers

from govarchive.crawler.extract import Article
from govarchive.crawler.verdict import (
    ARTICLE,
    BLOCKED,
    ERROR,
    EXTRACT,
    GONE,
    NOT_MODIFIED,
    REDIRECT,
    REFETCH,
    Verdict,
    article_in,
    article_item,
    observation_in,
    observation_item,
    response_verdict,
    same_site,
)

SITE = "http://www.gov.cn"
SECTION = SITE + "/lianbo/difang/"
URL = SECTION + "202403/content_1.htm"
MOVED = SECTION + "202403/content_2.htm"
LONG_TEXT = "为做好今年防汛工作，决定开展一次全面检查，请各单位认真落实。" * 20


def _page(title: str | None, body_text: str) -> Article:
    return Article(url=URL, title=title, published_at=None, published_precision=None,
                   origin=None, author=None, section=[], doc_number=None, body_text=body_text,
                   body_html="", attachments=[], images=[], encoding="utf-8", truncated=False)


ARTICLE_PAGE = _page("关于开展防汛检查的通知", LONG_TEXT)

# (what is known of the answer, the verdict expected)
CASES = {
    "ruishu challenge": ({"status": 412}, Verdict(BLOCKED, URL, "ruishu-412")),
    "challenge cookie on a redirect": (
        {"status": 307, "headers": Headers({"Set-Cookie": "wzws_cid=1; Path=/"})},
        Verdict(BLOCKED, URL, "challenge-cookie-307")),
    "404": ({"status": 404}, Verdict(GONE, URL, "answered 404")),
    "410 after a redirect is about the final URL": (
        {"status": 410, "redirected_from": [MOVED]}, Verdict(GONE, URL, "answered 410")),
    "an ordinary redirect": ({"status": 301}, Verdict(REDIRECT, URL, "answered 301")),
    "304": ({"status": 304}, Verdict(NOT_MODIFIED, URL, "304")),
    "304 at the end of a redirect": (
        {"status": 304, "redirected_from": [MOVED]}, Verdict(REFETCH, URL, "304")),
    "5xx is transient": ({"status": 503}, Verdict(ERROR, URL, "answered 503")),
    "redirected to the home page": (
        {"url": SITE + "/index.htm", "redirected_from": [URL]},
        Verdict(GONE, URL, f"redirected to {SITE}/index.htm")),
    "redirected to a list page of the section": (
        {"url": SECTION + "index_1.htm", "redirected_from": [URL],
         "section_urls": {SECTION, SECTION + "index_1.htm"}},
        Verdict(GONE, URL, f"redirected to {SECTION}index_1.htm")),
    "a list page's URL without a redirect is no verdict on it": (
        {"url": SITE + "/index.htm"}, Verdict(EXTRACT, SITE + "/index.htm")),
    "a 200 before extraction": ({}, Verdict(EXTRACT, URL)),
    "an error page": (
        {"page": _page("页面不存在", "您访问的页面不存在！返回首页")},
        Verdict(GONE, URL, "error page (页面不存在)")),
    "a captcha page": (
        {"page": _page("安全验证", "请输入验证码后继续访问")},
        Verdict(BLOCKED, URL, "captcha page")),
    "an article that mentions 404": (
        {"page": _page("网站建设规范", "出现404错误时" + LONG_TEXT)},
        Verdict(ARTICLE, URL, urls=(URL,))),
    "an article reached through redirects": (
        {"redirected_from": [MOVED, URL], "page": ARTICLE_PAGE},
        Verdict(ARTICLE, URL, urls=(MOVED, URL))),
}


@pytest.mark.parametrize("facts, expected", CASES.values(), ids=CASES.keys())
def test_each_kind_of_answer_gets_its_verdict(facts, expected):
    known = {"url": URL, "status": 200, "headers": Headers(), **facts}
    assert response_verdict(**known) == expected


def test_only_gone_blocked_and_not_modified_are_observations():
    observed = {kind for kind in (ARTICLE, BLOCKED, ERROR, EXTRACT, GONE, NOT_MODIFIED,
                                  REDIRECT, REFETCH) if Verdict(kind, URL).is_observation}
    assert observed == {BLOCKED, GONE, NOT_MODIFIED}


def test_a_verdict_cannot_be_changed_by_whoever_acts_on_it():
    verdict = Verdict(GONE, URL, "answered 404")
    with pytest.raises(FrozenInstanceError):
        verdict.kind = ARTICLE
    assert replace(verdict, kind=ARTICLE).kind == ARTICLE and verdict.kind == GONE


def test_next_pages_are_followed_on_the_same_site_only():
    beijing = "http://www.beijing.gov.cn/ywdt/"
    assert same_site("http://zhengce.beijing.gov.cn/list_2.htm", beijing)
    assert not same_site("http://www.tianjin.gov.cn/list_2.htm", beijing)


def test_the_crawl_and_the_rebuild_hand_on_the_same_article():
    verdict = response_verdict(url=URL, status=200, headers=Headers(), redirected_from=[MOVED],
                               page=ARTICLE_PAGE)
    when = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    item = article_item(verdict, ARTICLE_PAGE, source="govcn", record_id="<urn:uuid:1>",
                        fetched_at=when, signature=[1, 2], section_url=SECTION)
    stored = article_in(verdict, ARTICLE_PAGE, source="govcn", capture_record_id="<urn:uuid:1>",
                        fetched_at=when)
    assert (item.url, item.urls, item.signature, item.section_url) == (
        URL, [MOVED, URL], [1, 2], SECTION)
    assert (stored.url, stored.urls, stored.capture_record_id) == (URL, [MOVED, URL],
                                                                    "<urn:uuid:1>")
    assert item.fields["title"] == stored.fields["title"] == "关于开展防汛检查的通知"
    assert {k: v for k, v in item.fields.items() if k != "url"} == stored.fields


def test_an_observation_carries_the_sources_removal_policy():
    tracking = SimpleNamespace(removal_confirmations=3, removal_min_interval=timedelta(hours=6))
    verdict = response_verdict(url=SITE + "/", status=200, headers=Headers(),
                               redirected_from=[URL])
    when = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    item = observation_item(verdict, source="govcn", record_id="<urn:uuid:2>", fetched_at=when,
                            tracking=tracking)
    stored = observation_in(verdict, source="govcn", capture_record_id="<urn:uuid:2>",
                            fetched_at=when, tracking=tracking)
    for made in (item, stored):
        assert (made.url, made.kind, made.reason) == (URL, GONE, f"redirected to {SITE}/")
        assert (made.confirmations, made.min_interval) == (3, timedelta(hours=6))
