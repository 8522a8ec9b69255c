"""Two writers ingesting the same article at once: one article, one version, no errors.

Each thread has a Store of its own (its own engine and connections), as two crawl processes
would. On PostgreSQL a barrier makes both transactions look the article up before either
writes, so the second one must hit the unique constraint and retry; on SQLite writers queue
on the database's write lock instead.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from govarchive.storage import Store
from tests.builders import T0, FakeCrawl, RaceAt, ingest_in_parallel

URL = "https://www.gov.cn/xinwen/content_1.htm"
ARTICLE = {"title": "标题", "published_at": "2026-03-01T09:30:00+08:00",
           "published_precision": "minute", "section": ["要闻"]}


@pytest.fixture
def crawl(store):
    return FakeCrawl(store, source="govcn", fields=ARTICLE)


def _batch(crawl: FakeCrawl, when, body: str):
    return crawl.batch(URL, when, body_text=body, body_html=f"<p>{body}</p>")


@pytest.fixture(autouse=True)
def source_known(store):
    # A brand-new source is inserted by whichever writer comes first and the other waits
    # for it, which would keep the race below from happening at all.
    store.set_sources({"govcn": "中国政府网"})


def _assert_raced_and_retried(race: RaceAt, caplog) -> None:
    if race.waited:  # PostgreSQL: both got past the lookup, so one of them must have retried
        assert not race.barrier.broken and len(race.waited) == 2
        assert any("retrying" in r.getMessage() for r in caplog.records)


def test_concurrent_first_ingest_creates_one_article(store, crawl, database_url, caplog):
    caplog.set_level(logging.INFO, logger="govarchive.storage")
    batches = [_batch(crawl, T0, "正文"), _batch(crawl, T0, "正文")]
    race = RaceAt("INSERT INTO articles")
    results = ingest_in_parallel(database_url, batches, race)
    assert sorted((r.new_articles, r.unchanged) for r in results) == [(0, 1), (1, 0)]
    assert results[0].article_ids == results[1].article_ids
    (record,) = list(store.iter_export())
    assert len(record["versions"]) == 1
    assert record["urls"] == [URL]
    _assert_raced_and_retried(race, caplog)


def test_concurrent_change_creates_one_new_version(store, crawl, database_url, caplog):
    caplog.set_level(logging.INFO, logger="govarchive.storage")
    store.ingest(*_batch(crawl, T0, "旧正文"))
    later = T0 + timedelta(hours=1)
    batches = [_batch(crawl, later, "新正文"), _batch(crawl, later, "新正文")]
    race = RaceAt("INSERT INTO article_versions")
    results = ingest_in_parallel(database_url, batches, race)
    assert sorted((r.new_versions, r.unchanged) for r in results) == [(0, 1), (1, 0)]
    (record,) = list(store.iter_export())
    assert [(v["n"], v["changed"]) for v in record["versions"]] == [(1, []), (2, ["body_text"])]
    _assert_raced_and_retried(race, caplog)


def test_many_concurrent_batches_all_land(store, crawl, database_url):
    # Writers that overlap for a while must queue (SQLite) or retry (PostgreSQL), never fail.
    batches_for = {
        worker: [_batch(crawl, T0 + timedelta(minutes=i), f"正文{i // 2}") for i in range(10)]
        for worker in (1, 2)
    }

    def run(worker: int):
        with Store(database_url) as own:
            return [own.ingest(*b) for b in batches_for[worker]]

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
