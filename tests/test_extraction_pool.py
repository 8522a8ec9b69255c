"""govarchive.crawler.extraction_pool: parsing beside the crawl loop, in processes or inline."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures.process import BrokenProcessPool

import pytest

from govarchive.crawler.extract import NotHTMLError
from govarchive.crawler.extraction_pool import ExtractionWorkers, _send_buffer
from govarchive.storage import article_signature
from govarchive.storage.signatures import NUM_PERM

PAGE = """<html><head><meta charset="utf-8"><title>关于开展防汛检查的通知_首页</title></head>
<body><h1>关于开展防汛检查的通知</h1><div class="info">发布时间：2024-05-06 09:30 来源：应急管理局</div>
<div id="content"><p>为做好今年防汛工作，决定开展一次全面检查，请各单位认真落实。</p>
<p>检查自五月十日开始，至五月底结束，各单位要将检查情况及时上报。</p></div></body></html>
""".encode()


URL = "http://www.example.gov.cn/a/t20240506_{}.htm"
SHORT_PAGE = "<html><body><h1>通知</h1><p>见附件。</p></body></html>".encode()


def extract_each(workers: int, *pages: bytes) -> list:
    """``extract_with_signature`` of each page in turn, each on an event loop of its own (a pool
    outlives the loops that use it)."""
    pool = ExtractionWorkers(workers)
    try:
        return [asyncio.run(pool.extract_with_signature(page, URL.format(n),
                                                content_type="text/html; charset=utf-8"))
                for n, page in enumerate(pages, 1)]
    finally:
        pool.close()


@pytest.mark.parametrize("workers", [0, 1])
def test_extraction_gives_the_same_article_inline_and_in_a_process(workers):
    [(article, _)] = extract_each(workers, PAGE)
    assert article.title == "关于开展防汛检查的通知"
    assert article.origin == "应急管理局"
    assert article.published_at.isoformat() == "2024-05-06T09:30:00+08:00"


@pytest.mark.parametrize("workers", [0, 1])
def test_extraction_signs_the_article_as_ingest_would(workers):
    (article, signature), (short, no_signature) = extract_each(workers, PAGE, SHORT_PAGE)
    assert article.title == "关于开展防汛检查的通知"
    assert len(signature) == NUM_PERM
    assert signature == article_signature(article.title, article.body_text)
    assert short.body_text and no_signature == []


@pytest.mark.parametrize("workers", [0, 1])
def test_an_extraction_error_reaches_the_caller_as_raised(workers):
    pool = ExtractionWorkers(workers)
    try:
        with pytest.raises(NotHTMLError):
            asyncio.run(pool.extract_with_signature(b"%PDF-1.7\n...", "http://www.example.gov.cn/a.pdf",
                                            content_type="application/pdf"))
    finally:
        pool.close()


def parse_numbered_pages_at_once(pool: ExtractionWorkers, count: int, padding: bytes = b""):
    """Page n (its title says 第n次检查, ``padding`` before ``</body>``) for n < count, all
    awaited together on one loop; checks each came back as its own article. Closes the pool."""
    pages = {URL.format(n): PAGE.replace("防汛检查".encode(), f"第{n}次检查".encode())
             .replace(b"</body>", padding + b"</body>") for n in range(count)}

    async def parse_all():
        return await asyncio.gather(*(pool.extract_with_signature(body, url) for url, body in pages.items()))

    try:
        results = asyncio.run(parse_all())
    finally:
        pool.close()
    assert [article.title for article, _ in results] == [
        f"关于开展第{n}次检查的通知" for n in range(count)]


def test_many_pages_at_once_each_get_their_own_article():
    parse_numbered_pages_at_once(ExtractionWorkers(2), 24)


def test_a_dead_worker_fails_its_pages_and_says_so(caplog):
    pool = ExtractionWorkers(1)
    try:
        asyncio.run(pool.extract_with_signature(PAGE, "http://www.example.gov.cn/a/t20240506_1.htm"))
        worker = pool._workers[0]
        worker.process.kill()
        worker.process.join(timeout=10)
        with pytest.raises(BrokenProcessPool):
            asyncio.run(pool.extract_with_signature(PAGE, "http://www.example.gov.cn/a/t20240506_2.htm"))
        with pytest.raises(BrokenProcessPool, match="every extraction worker has died"):
            asyncio.run(pool.extract_with_signature(PAGE, "http://www.example.gov.cn/a/t20240506_3.htm"))
    finally:
        pool.close()
    assert "an extraction worker died" in caplog.text


@pytest.mark.parametrize("budget, most", [(1, ExtractionWorkers.MIN_IN_FLIGHT),
                                          (1 << 20, ExtractionWorkers.IN_FLIGHT)])
def test_pages_queue_for_a_worker_only_while_they_fit_its_socket(budget, most):
    """Beyond the first two, pages wait in a worker's socket only while they fit its send
    buffer (so a send never makes the crawl loop wait); every page is parsed either way."""
    pool = ExtractionWorkers(1)
    worker = pool._workers[0]
    worker.buffer_bytes = budget
    in_flight = []
    send = worker.send

    def counting_send(job, message):
        sent = send(job, message)
        in_flight.append(len(worker.jobs))
        return sent

    worker.send = counting_send
    parse_numbered_pages_at_once(pool, 12, padding=b"<!-- " + b"x" * 40_000 + b" -->")
    assert max(in_flight) == most


def test_finished_workers_exit_without_being_waited_for():
    pool = ExtractionWorkers(1)
    try:
        asyncio.run(pool.extract_with_signature(PAGE, URL.format(1)))
        process = pool._workers[0].process
        pool.finish()  # returns at once; the worker leaves by itself
        process.join(timeout=30)
        assert process.exitcode == 0
        with pytest.raises(RuntimeError, match="have finished"):
            asyncio.run(pool.extract_with_signature(PAGE, URL.format(2)))
    finally:
        pool.close()


def test_a_connection_that_is_not_a_socket_gets_no_send_ahead_budget():
    read_end, write_end = os.pipe()

    class PipeEnd:
        def fileno(self):
            return write_end

    try:
        open_before = len(os.listdir("/proc/self/fd"))
        assert _send_buffer(PipeEnd(), 1 << 20) == 0
        assert len(os.listdir("/proc/self/fd")) == open_before
    finally:
        os.close(read_end)
        os.close(write_end)
