"""SectionSpider's callbacks on their own: what a list page and an article page hand on."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace

import scrapy
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from govarchive.crawler.items import ArticleItem
from govarchive.crawler.spider import SectionSpider
from govarchive.settings import SourceSettings

SITE = "http://www.example.gov.cn"
START = f"{SITE}/xxgk/tzgg/index.htm"
ARTICLE = f"{SITE}/xxgk/tzgg/202405/t20240506_123.htm"
LIST_PAGE = """<html><head><meta charset="utf-8"><title>通知公告</title></head><body>
<ul class="list"><li><a href="./202405/t20240506_123.htm">关于开展防汛检查的通知</a>
<span>2024-05-06</span></li></ul></body></html>""".encode()
ARTICLE_PAGE = """<html><head><meta charset="utf-8"><title>关于开展防汛检查的通知</title></head>
<body><h1>关于开展防汛检查的通知</h1><div class="info">发布时间：2024-05-06 09:30 来源：应急管理局</div>
<div id="content"><p>为做好今年防汛工作，决定开展一次全面检查，请各单位认真落实。</p>
<p>检查自五月十日开始，至五月底结束，各单位要将检查情况及时上报。</p></div></body></html>
""".encode()


def archived(url: str, body: bytes, request: scrapy.Request) -> HtmlResponse:
    """A response as the spider gets it: its WARC exchange in ``meta["warc"]``."""
    request.meta["warc"] = SimpleNamespace(record_id=f"<urn:test:{url}>",
                                           fetched_at=datetime(2024, 5, 6, 2, tzinfo=UTC))
    return HtmlResponse(url, body=body, request=request,
                        headers={"Content-Type": "text/html; charset=utf-8"})


def test_an_article_item_carries_the_section_whose_list_page_linked_it():
    crawler = get_crawler(SectionSpider, {"GOVARCHIVE_EXTRACT_WORKERS": 0})
    spider = crawler._create_spider(
        source=SourceSettings(name="example", start_urls=[START]), attachments=False)
    list_request = spider._list_request(START, start=START, page_no=1)
    [article_request] = [r for r in spider.parse_list(archived(START, LIST_PAGE, list_request))
                         if r.url == ARTICLE]

    async def parse_article():
        response = archived(ARTICLE, ARTICLE_PAGE, article_request)
        return [item async for item in spider.parse_article(response)]

    [item] = asyncio.run(parse_article())
    assert isinstance(item, ArticleItem)
    assert item.fields["title"] == "关于开展防汛检查的通知"
    assert item.section_url == START
