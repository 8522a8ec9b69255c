"""``crawler.middlewares.ChallengeGuard``: after a challenge, nothing more goes to that host."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from govarchive.crawler.middlewares import ChallengeGuard, HostBlocked


def test_requests_to_a_challenging_host_are_held_back():
    crawler = get_crawler()
    crawler.spider = SimpleNamespace(blocked={})
    guard = ChallengeGuard.from_crawler(crawler)
    revisit = Request("https://www.example.gov.cn/202403/content_1.htm")
    assert guard.process_request(revisit) is None  # nothing blocked yet
    crawler.spider.blocked["www.example.gov.cn"] = "412 (Ruishu)"
    with pytest.raises(HostBlocked, match="anti-bot wall"):
        guard.process_request(revisit)
    assert guard.process_request(Request("https://other.gov.cn/a.htm")) is None
    assert crawler.stats.get_value("govarchive/held_back") == 1


def test_a_challenge_redirect_is_not_followed():
    crawler = get_crawler()
    crawler.spider = SimpleNamespace(blocked={})
    guard = ChallengeGuard.from_crawler(crawler)
    request = Request("https://www.example.gov.cn/")
    answer = Response(request.url, status=307, request=request,
                      headers={"Location": "/?wzws_cid=1", "Set-Cookie": "wzws_cid=abc; path=/"})
    assert guard.process_response(request, answer) is answer
    assert request.meta["dont_redirect"] is True
