"""The archiver writes revisit records for answers to revisit requests (no network: responses
are handed to the extension as Scrapy's downloader would)."""

from __future__ import annotations

from datetime import UTC, datetime

from scrapy import Request
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler
from warcio.archiveiterator import ArchiveIterator

from govarchive.crawler.archiving import WarcArchiver
from govarchive.crawler.revisit import REVISIT_META, payload_digest
from govarchive.crawler.verdict import classify_answer, error_page_reason, is_home_or_section
from govarchive.storage.revisits import RevisitTarget

URL = "http://www.gov.cn/lianbo/difang/202403/content_1.htm"
BODY = "<html><body><h1>通知</h1><p>正文</p></body></html>".encode()
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _target(digest: str | None = None) -> RevisitTarget:
    return RevisitTarget(1, URL, '"e1"', None, digest or payload_digest(BODY),
                         "<urn:uuid:11111111-1111-1111-1111-111111111111>", T0, URL)


def _archive(tmp_path, answers):
    crawler = get_crawler(settings_dict={"GOVARCHIVE_ARCHIVE_DIR": str(tmp_path)})
    crawler.stats.open_spider()
    archiver = WarcArchiver.from_crawler(crawler)
    exchanges = []
    for request, response in answers:
        archiver.response_downloaded(response, request, None)
        exchanges.append(request.meta.get("warc"))
    archiver.writer.close()
    (path,) = tmp_path.glob("*.warc.gz")
    with path.open("rb") as f:
        records = [r.rec_headers for r in ArchiveIterator(f)]
    return exchanges, [h for h in records if h.get_header("WARC-Type") != "request"]


def _request(target, url=URL):
    meta = {REVISIT_META: target} if target is not None else {}
    return Request(url, headers={"If-None-Match": '"e1"'}, meta=meta)


def test_304_and_identical_payload_become_revisit_records(tmp_path):
    target = _target()
    answers = [
        (_request(target), Response(URL, status=304, headers={"ETag": '"e1"'})),
        (_request(target), HtmlResponse(URL, status=200, body=BODY)),
        (_request(target), HtmlResponse(URL, status=200, body=BODY + b"<!-- changed -->")),
        (_request(None), HtmlResponse(URL, status=200, body=BODY)),
    ]
    exchanges, records = _archive(tmp_path, answers)
    assert [e.record_type for e in exchanges] == ["revisit", "revisit", "response", "response"]
    types = [(h.get_header("WARC-Type"), (h.get_header("WARC-Profile") or "").rsplit("/", 1)[-1])
             for h in records[1:]]
    assert types == [("revisit", "server-not-modified"), ("revisit", "identical-payload-digest"),
                     ("response", ""), ("response", "")]
    identical = records[2]
    assert identical.get_header("WARC-Refers-To") == target.refers_to
    assert identical.get_header("WARC-Refers-To-Target-URI") == URL
    assert identical.get_header("WARC-Payload-Digest") == payload_digest(BODY)
    assert all(e.bytes_written < 1500 for e in exchanges[:2])


def test_a_redirected_revisit_is_archived_in_full(tmp_path):
    moved = URL.replace("content_1", "content_2")
    exchanges, _ = _archive(tmp_path, [(_request(_target(), moved),
                                        HtmlResponse(moved, status=200, body=BODY))])
    assert exchanges[0].record_type == "response"


def test_gone_blocked_and_transient_answers():
    from scrapy.http.headers import Headers

    assert classify_answer(404, Headers()) == ("gone", "answered 404")
    assert classify_answer(410, Headers()) == ("gone", "answered 410")
    assert classify_answer(412, Headers())[0] == "blocked"
    assert classify_answer(521, Headers())[0] == "blocked"
    assert classify_answer(307, Headers({"Set-Cookie": "wzws_cid=1; Path=/"}))[0] == "blocked"
    assert classify_answer(500, Headers()) is None
    assert classify_answer(503, Headers()) is None
    assert error_page_reason("页面不存在", "您访问的页面不存在！返回首页")[0] == "gone"
    assert error_page_reason("安全验证", "请输入验证码后继续访问")[0] == "blocked"
    long_article = "本文介绍了错误码404的含义。" + "政务服务。" * 100
    assert error_page_reason("网站建设规范", long_article) is None
    sections = ["http://www.gov.cn/lianbo/difang/index.htm"]
    assert is_home_or_section("http://www.gov.cn/", sections)
    assert is_home_or_section("http://www.gov.cn/lianbo/difang/", sections)
    assert not is_home_or_section("http://www.gov.cn/lianbo/difang/content_2.htm", sections)
