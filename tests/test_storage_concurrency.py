"""Two writers ingesting the same article at once: one article, one version, no errors.

Each thread has a Store of its own (its own engine and connections), as two crawl processes
would. On PostgreSQL a barrier makes both transactions look the article up before either
writes, so the second one must hit the unique constraint and retry; on SQLite writers queue
on the database's write lock instead.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from govarchive.storage import ArticleIn, CaptureIn, Store

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
URL = "https://www.gov.cn/xinwen/content_1.htm"


def _batch(record_id: str, when: datetime, body: str):
    capture = CaptureIn(
        record_id,
        URL,
        when,
        200,
        "text/html",
        f"sha1:{record_id}",
        "a.warc.gz",
        len(record_id) * 100,
        100,
    )
    fields = {
        "title": "标题",
        "published_at": "2026-03-01T09:30:00+08:00",
        "published_precision": "minute",
        "section": ["要闻"],
        "body_text": body,
        "body_html": f"<p>{body}</p>",
        "attachments": [],
    }
    return [capture], [ArticleIn("govcn", URL, [URL], record_id, when, fields)]


class RaceAt:
    """Holds each participating thread at its first statement starting with ``prefix``
    until both have arrived there (PostgreSQL only: SQLite serialises writers at BEGIN)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.barrier = threading.Barrier(2, timeout=20)
        self.waited: set[int] = set()

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        me = threading.get_ident()
        if (
            conn.dialect.name == "postgresql"
            and statement.startswith(self.prefix)
            and me not in self.waited
        ):
            self.waited.add(me)
            self.barrier.wait()

    def __enter__(self):
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc_info) -> None:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", self)


def _ingest_in_parallel(database_url: str, batches, race: RaceAt):
    stores = [Store(database_url) for _ in batches]
    try:
        for store in stores:
            store.list_runs()  # schema check done before the race starts
        with race, ThreadPoolExecutor(len(batches)) as pool:
            futures = [pool.submit(s.ingest, *b) for s, b in zip(stores, batches, strict=True)]
            return [f.result(timeout=60) for f in futures]
    finally:
        for store in stores:
            store.close()


@pytest.fixture
def store(database_url):
    with Store(database_url) as store:
        store.migrate()
        # A brand-new source is inserted by whichever writer comes first and the other waits
        # for it, which would keep the race below from happening at all.
        store.set_sources({"govcn": "中国政府网"})
        yield store


def _assert_raced_and_retried(race: RaceAt, caplog) -> None:
    if race.waited:  # PostgreSQL: both got past the lookup, so one of them must have retried
        assert not race.barrier.broken and len(race.waited) == 2
        assert any("retrying" in r.getMessage() for r in caplog.records)


def test_concurrent_first_ingest_creates_one_article(store, database_url, caplog):
    caplog.set_level(logging.INFO, logger="govarchive.storage")
    batches = [_batch("<urn:uuid:a>", T0, "正文"), _batch("<urn:uuid:b>", T0, "正文")]
    race = RaceAt("INSERT INTO articles")
    results = _ingest_in_parallel(database_url, batches, race)
    assert sorted((r.new_articles, r.unchanged) for r in results) == [(0, 1), (1, 0)]
    assert results[0].article_ids == results[1].article_ids
    (record,) = list(store.iter_export())
    assert len(record["versions"]) == 1
    assert record["urls"] == [URL]
    _assert_raced_and_retried(race, caplog)


def test_concurrent_change_creates_one_new_version(store, database_url, caplog):
    caplog.set_level(logging.INFO, logger="govarchive.storage")
    store.ingest(*_batch("<urn:uuid:first>", T0, "旧正文"))
    later = T0 + timedelta(hours=1)
    batches = [_batch("<urn:uuid:a>", later, "新正文"), _batch("<urn:uuid:b>", later, "新正文")]
    race = RaceAt("INSERT INTO article_versions")
    results = _ingest_in_parallel(database_url, batches, race)
    assert sorted((r.new_versions, r.unchanged) for r in results) == [(0, 1), (1, 0)]
    (record,) = list(store.iter_export())
    assert [(v["n"], v["changed"]) for v in record["versions"]] == [(1, []), (2, ["body_text"])]
    _assert_raced_and_retried(race, caplog)


def test_many_concurrent_batches_all_land(store, database_url):
    # Writers that overlap for a while must queue (SQLite) or retry (PostgreSQL), never fail.
    def batches_for(worker: int):
        return [
            _batch(f"<urn:uuid:{worker}-{i}>", T0 + timedelta(minutes=i), f"正文{i // 2}")
            for i in range(10)
        ]

    def run(worker: int):
        with Store(database_url) as own:
            return [own.ingest(*b) for b in batches_for(worker)]

    with ThreadPoolExecutor(2) as pool:
        results = [r for rs in pool.map(run, [1, 2]) for r in rs]
    assert sum(r.new_articles for r in results) == 1
    (record,) = list(store.iter_export())
    bodies = [v["n"] for v in record["versions"]]
    assert bodies == list(range(1, len(bodies) + 1))
    assert record["body_text"] == "正文4"


def test_concurrent_writers_that_read_first_do_not_fail(store, database_url):
    # start_run looks sources up before inserting them: on SQLite a plain BEGIN would let
    # both writers take a read snapshot and then fail with "database is locked" on upgrade.
    def run(worker: int):
        with Store(database_url) as own:
            return [own.start_run([f"src-{worker}-{i}", "shared"]) for i in range(40)]

    with ThreadPoolExecutor(2) as pool:
        run_ids = [i for ids in pool.map(run, [1, 2]) for i in ids]
    assert len(set(run_ids)) == 80
    assert len(store.list_runs(source="shared", limit=100)) == 80
