"""govarchive.crawler.ingest_worker: storing beside the crawl loop, in a process or inline."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from govarchive.crawler.ingest_worker import IngestWorker
from govarchive.storage import ArticleIn, CaptureIn, Store


@pytest.mark.parametrize("separate_process", [False, True])
def test_ingest_batches_are_stored_in_order(database_url, separate_process):
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
    worker = IngestWorker(database_url, separate_process=separate_process)
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
