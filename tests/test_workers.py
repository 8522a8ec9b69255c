"""govarchive.crawler.workers: parsing and storing beside the crawl loop, in processes or inline."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime

import pytest

from govarchive.crawler.extract import NotHTMLError
from govarchive.crawler.workers import ExtractionWorkers, IngestWorker, _send_buffer
from govarchive.storage import ArticleIn, CaptureIn, Store, article_signature
from govarchive.storage.signatures import NUM_PERM

PAGE = """<html><head><meta charset="utf-8"><title>关于开展防汛检查的通知_首页</title></head>
<body><h1>关于开展防汛检查的通知</h1><div class="info">发布时间：2024-05-06 09:30 来源：应急管理局</div>
<div id="content"><p>为做好今年防汛工作，决定开展一次全面检查，请各单位认真落实。</p>
<p>检查自五月十日开始，至五月底结束，各单位要将检查情况及时上报。</p></div></body></html>
""".encode()


URL = "http://www.example.gov.cn/a/t20240506_{}.htm"
SHORT_PAGE = "<html><body><h1>通知</h1><p>见附件。</p></body></html>".encode()


def extract_each(workers: int, *pages: bytes) -> list:
    """``extract_signed`` of each page in turn, each on an event loop of its own (a pool
    outlives the loops that use it)."""
    pool = ExtractionWorkers(workers)
    try:
        return [asyncio.run(pool.extract_signed(page, URL.format(n),
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


@pytest.mark.parametrize("in_process", [False, True])
def test_ingest_batches_are_stored_in_order(database_url, in_process):
    store = Store(database_url)
    store.migrate()
    url = "http://www.example.gov.cn/a/t20240506_1.htm"
    fields = {"title": "关于开展防汛检查的通知", "published_at": None, "published_precision": None,
              "origin": None, "author": None, "section": [], "doc_number": None,
              "body_text": "为做好今年防汛工作，决定开展一次全面检查，请各单位认真落实。",
              "body_html": "", "attachments": [], "images": []}
    batches = []
    for n, body in enumerate(["第一稿：" + fields["body_text"], "第二稿：" + fields["body_text"]]):
        record_id = f"<urn:uuid:00000000-0000-0000-0000-00000000000{n}>"
        when = datetime(2024, 5, 6, 1 + n, tzinfo=UTC)
        capture = CaptureIn(record_id=record_id, url=url, fetched_at=when, status=200,
                            content_type="text/html", payload_digest=f"sha1:{n}",
                            warc_file="x.warc.gz", warc_offset=n * 1000, warc_length=1000)
        article = ArticleIn(source="s", url=url, urls=[url], capture_record_id=record_id,
                            fetched_at=when, fields={**fields, "body_text": body})
        batches.append(([capture], [article]))
    worker = IngestWorker(database_url, in_process=in_process)
    try:
        futures = [worker.submit(captures, articles, None) for captures, articles in batches]
        results = [f.result(timeout=60) for f in futures]
    finally:
        worker.close()
    assert [(r.new_articles, r.new_versions) for r in results] == [(1, 0), (0, 1)]
    record = next(store.iter_export())
    assert [v["n"] for v in record["versions"]] == [1, 2]
    assert record["body_text"].startswith("第二稿")
    store.close()


@pytest.mark.parametrize("workers", [0, 1])
def test_an_extraction_error_reaches_the_caller_as_raised(workers):
    pool = ExtractionWorkers(workers)
    try:
        with pytest.raises(NotHTMLError):
            asyncio.run(pool.extract_signed(b"%PDF-1.7\n...", "http://www.example.gov.cn/a.pdf",
                                            content_type="application/pdf"))
    finally:
        pool.close()


def parse_numbered_pages_at_once(pool: ExtractionWorkers, count: int, padding: bytes = b""):
    """Page n (its title says 第n次检查, ``padding`` before ``</body>``) for n < count, all
    awaited together on one loop; checks each came back as its own article. Closes the pool."""
    pages = {URL.format(n): PAGE.replace("防汛检查".encode(), f"第{n}次检查".encode())
             .replace(b"</body>", padding + b"</body>") for n in range(count)}

    async def parse_all():
        return await asyncio.gather(*(pool.extract_signed(body, url) for url, body in pages.items()))

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
        asyncio.run(pool.extract_signed(PAGE, "http://www.example.gov.cn/a/t20240506_1.htm"))
        worker = pool._workers[0]
        worker.process.kill()
        worker.process.join(timeout=10)
        with pytest.raises(BrokenProcessPool):
            asyncio.run(pool.extract_signed(PAGE, "http://www.example.gov.cn/a/t20240506_2.htm"))
        with pytest.raises(BrokenProcessPool, match="every extraction worker has died"):
            asyncio.run(pool.extract_signed(PAGE, "http://www.example.gov.cn/a/t20240506_3.htm"))
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
        asyncio.run(pool.extract_signed(PAGE, URL.format(1)))
        process = pool._workers[0].process
        pool.finish()  # returns at once; the worker leaves by itself
        process.join(timeout=30)
        assert process.exitcode == 0
        with pytest.raises(RuntimeError, match="have finished"):
            asyncio.run(pool.extract_signed(PAGE, URL.format(2)))
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
