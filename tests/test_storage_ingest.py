"""Ingest, change detection and the export record, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from govarchive.storage import ArticleIn, Store, article_signature
from tests.builders import T0, FakeCrawl, article_fields

URL = "https://www.gov.cn/xinwen/2026-03/01/content_1.htm"

EXPORT_KEYS = [
    "id",
    "source",
    "url",
    "urls",
    "title",
    "published_at",
    "published_precision",
    "origin",
    "author",
    "section",
    "doc_number",
    "body_text",
    "attachments",
    "images",
    "status",
    "first_seen",
    "last_seen",
    "last_changed",
    "duplicates",
    "versions",
]


ARTICLE = {
    "title": "国务院召开常务会议",
    "published_at": "2026-03-01T09:30:00+08:00",
    "published_precision": "minute",
    "origin": "新华社",
    "author": "周暹",
    "section": ["首页", "新闻", "要闻"],
    "doc_number": None,
    "body_text": "会议听取了汇报。\n会议强调，要抓好落实。",
    "body_html": "<p>会议听取了汇报。</p><p>会议强调，要抓好落实。</p>",
    "attachments": [{"url": "https://www.gov.cn/files/a.pdf", "name": "附件1"}],
}


def fields(**overrides):
    return article_fields(**{**ARTICLE, **overrides})


@pytest.fixture
def crawl(store):
    return FakeCrawl(store, source="govcn-yaowen", fields=ARTICLE)


def test_new_article_gets_version_one(store, crawl):
    result, capture = crawl.article(URL, T0)
    assert (result.new_articles, result.new_versions, result.unchanged) == (1, 0, 0)
    record = store.get_article(result.article_ids[0])
    assert [v["n"] for v in record["versions"]] == [1]
    assert record["versions"][0]["changed"] == []
    assert record["versions"][0]["warc"] == {
        "file": capture.warc_file,
        "offset": capture.warc_offset,
        "length": capture.warc_length,
    }
    assert record["first_seen"] == record["last_seen"] == record["last_changed"] == T0.isoformat()


def test_same_content_adds_no_version_but_moves_last_seen(store, crawl):
    first, _ = crawl.article(URL, T0)
    later = T0 + timedelta(hours=3)
    again, _ = crawl.article(URL, later)
    assert (again.new_articles, again.new_versions, again.unchanged) == (0, 0, 1)
    assert again.article_ids == first.article_ids
    record = store.get_article(first.article_ids[0])
    assert len(record["versions"]) == 1
    assert record["last_seen"] == later.isoformat()
    assert record["last_changed"] == T0.isoformat()


def test_changed_body_adds_version_two(store, crawl):
    first, _ = crawl.article(URL, T0)
    later = T0 + timedelta(days=1)
    second, capture = crawl.article(URL, later, body_text="会议听取了汇报。\n会议决定，延期举行。")
    assert (second.new_articles, second.new_versions) == (0, 1)
    record = store.get_article(first.article_ids[0])
    assert [(v["n"], v["changed"]) for v in record["versions"]] == [(1, []), (2, ["body_text"])]
    assert record["body_text"].endswith("延期举行。")
    assert record["last_changed"] == later.isoformat()
    assert record["versions"][1]["warc"] == {
        "file": capture.warc_file,
        "offset": capture.warc_offset,
        "length": capture.warc_length,
    }


def test_several_changed_fields_are_listed_in_field_order(store, crawl):
    first, _ = crawl.article(URL, T0)
    crawl.article(URL, T0 + timedelta(hours=1), body_text="会议听取了汇报。\n会议强调，要抓紧落实。",
                  title="新标题", attachments=[])
    versions = store.get_article(first.article_ids[0])["versions"]
    assert versions[1]["changed"] == ["title", "body_text", "attachments"]


def test_whitespace_only_change_adds_no_version(store, crawl):
    first, _ = crawl.article(URL, T0)
    spaced = "  会议听取了汇报。  \n\n\u3000会议强调，要抓好落实。\u00a0"
    again, _ = crawl.article(URL, T0 + timedelta(hours=1), body_text=spaced,
                             title=" 国务院召开常务会议\n")
    assert (again.new_versions, again.unchanged) == (0, 1)
    assert len(store.get_article(first.article_ids[0])["versions"]) == 1


def test_reverting_content_is_a_new_version(store, crawl):
    first, _ = crawl.article(URL, T0)
    crawl.article(URL, T0 + timedelta(hours=1), title="改过的标题")
    crawl.article(URL, T0 + timedelta(hours=2))
    versions = store.get_article(first.article_ids[0])["versions"]
    assert [(v["n"], v["changed"]) for v in versions] == [(1, []), (2, ["title"]), (3, ["title"])]
    assert versions[0]["content_hash"] == versions[2]["content_hash"] != versions[1]["content_hash"]


def test_article_found_by_any_of_its_urls(store, crawl):
    moved = URL.replace("content_1", "content_1_moved")
    first, _ = crawl.article(URL, T0)
    second, _ = crawl.article(moved, T0 + timedelta(hours=1), urls=[moved, URL])
    assert second.article_ids == first.article_ids
    assert (second.new_articles, second.unchanged) == (0, 1)
    record = store.get_article(first.article_ids[0])
    assert record["url"] == URL
    assert record["urls"] == [URL, moved]


def test_one_batch_with_the_same_article_twice(store, crawl):
    captures = [crawl.capture(URL, T0), crawl.capture(URL, T0 + timedelta(minutes=5))]
    articles = [
        ArticleIn("govcn-yaowen", URL, [URL], captures[0].record_id, T0, fields()),
        ArticleIn(
            "govcn-yaowen",
            URL,
            [URL],
            captures[1].record_id,
            captures[1].fetched_at,
            fields(title="更正"),
        ),
    ]
    result = store.ingest(captures, articles)
    assert (result.new_articles, result.new_versions, result.article_ids) == (1, 1, [1])
    assert [v["changed"] for v in store.get_article(1)["versions"]] == [[], ["title"]]


def test_captures_already_stored_are_skipped(store, crawl):
    capture = crawl.capture(URL, T0)
    article = ArticleIn("govcn-yaowen", URL, [URL], capture.record_id, T0, fields())
    store.ingest([capture], [article])
    result = store.ingest([capture], [article])
    assert (result.new_articles, result.unchanged) == (0, 1)


def test_article_may_refer_to_a_capture_stored_earlier(store, crawl):
    capture = crawl.capture(URL, T0)
    assert store.ingest([capture], []).article_ids == []
    article = ArticleIn("govcn-yaowen", URL, [URL], capture.record_id, T0, fields())
    result = store.ingest([], [article])
    assert result.new_articles == 1
    assert store.get_article(result.article_ids[0])["versions"][0]["warc"]["offset"] == (
        capture.warc_offset
    )


def test_article_without_its_capture_is_refused(store):
    article = ArticleIn("govcn-yaowen", URL, [URL], "<urn:uuid:missing>", T0, fields())
    with pytest.raises(ValueError, match="urn:uuid:missing"):
        store.ingest([], [article])
    assert list(store.iter_export()) == []


def test_export_record_has_the_contract_shape(store, crawl):
    run_id = store.start_run(["govcn-yaowen"])
    result, capture = crawl.article(URL, T0, run_id=run_id)
    (record,) = list(store.iter_export())
    assert list(record) == EXPORT_KEYS
    assert record == {
        "id": result.article_ids[0],
        "source": "govcn-yaowen",
        "url": URL,
        "urls": [URL],
        "title": "国务院召开常务会议",
        "published_at": "2026-03-01T09:30:00+08:00",
        "published_precision": "minute",
        "origin": "新华社",
        "author": "周暹",
        "section": ["首页", "新闻", "要闻"],
        "doc_number": None,
        "body_text": "会议听取了汇报。\n会议强调，要抓好落实。",
        "attachments": [{"url": "https://www.gov.cn/files/a.pdf", "name": "附件1"}],
        "images": [],
        "status": "live",
        "first_seen": "2026-03-01T08:00:00+00:00",
        "last_seen": "2026-03-01T08:00:00+00:00",
        "last_changed": "2026-03-01T08:00:00+00:00",
        "duplicates": [],
        "versions": [
            {
                "n": 1,
                "captured_at": "2026-03-01T08:00:00+00:00",
                "content_hash": record["versions"][0]["content_hash"],
                "changed": [],
                "warc": {
                    "file": capture.warc_file,
                    "offset": capture.warc_offset,
                    "length": capture.warc_length,
                },
            }
        ],
    }
    assert record["versions"][0]["content_hash"].startswith("sha256:")
    assert len(record["versions"][0]["content_hash"]) == len("sha256:") + 64
    assert json.loads(json.dumps(record, ensure_ascii=False)) == record
    assert store.get_article(record["id"]) == record
    assert store.get_article(record["id"] + 1000) is None


def test_published_at_keeps_its_offset_when_given_a_datetime(store, crawl):
    beijing = timezone(timedelta(hours=8))
    result, _ = crawl.article(URL, T0, published_at=datetime(2011, 4, 2, 8, 30, tzinfo=beijing))
    assert store.get_article(result.article_ids[0])["published_at"] == "2011-04-02T08:30:00+08:00"


def test_export_filters_by_source_and_since(store, crawl):
    crawl.article(URL, T0, source="govcn-yaowen")
    other = URL.replace("content_1", "content_2")
    crawl.article(other, T0 + timedelta(days=2), source="govcn-difang")
    assert [r["url"] for r in store.iter_export(source="govcn-difang")] == [other]
    assert [r["url"] for r in store.iter_export(since=T0 + timedelta(days=1))] == [other]
    assert [r["url"] for r in store.iter_export(since=(T0 + timedelta(days=1)).date())] == [other]
    assert len(list(store.iter_export())) == 2
    assert list(store.iter_export(source="nope")) == []


def test_export_streams_many_articles_in_id_order(store, crawl):
    captures, articles = [], []
    for i in range(450):  # more than one chunk of the export's cursor
        url = f"https://www.gov.cn/zhengce/content_{i}.htm"
        capture = crawl.capture(url, T0)
        captures.append(capture)
        articles.append(
            ArticleIn("govcn-zhengce", url, [url], capture.record_id, T0, fields(title=f"文件{i}"))
        )
    result = store.ingest(captures, articles)
    assert result.new_articles == 450
    exported = list(store.iter_export())
    assert [r["id"] for r in exported] == sorted(result.article_ids)
    assert all(len(r["versions"]) == 1 and r["urls"] == [r["url"]] for r in exported)
    assert [r["title"] for r in exported[:2]] == ["文件0", "文件1"]


def test_runs_are_listed_newest_first_with_contract_keys(database_url):
    ticks = iter(T0 + timedelta(minutes=m) for m in range(100))
    with Store(database_url, clock=lambda: next(ticks)) as store:
        store.migrate()
        first = store.start_run(["govcn-yaowen"])
        store.finish_run(
            first,
            status="ok",
            counts={"requests": 12, "new_articles": 3, "bytes_archived": 4096},
            error=None,
        )
        second = store.start_run(["govcn-difang"])
        runs = store.list_runs()
        assert [r["id"] for r in runs] == [second, first]
        assert list(runs[1]) == [
            "id",
            "source",
            "status",
            "scheduled_for",
            "started_at",
            "finished_at",
            "requests",
            "new_articles",
            "new_versions",
            "removed",
            "bytes_archived",
            "error",
            "node",
        ]
        assert runs[1] == {
            "id": first,
            "source": "govcn-yaowen",
            "status": "ok",
            "scheduled_for": None,
            "started_at": T0.isoformat(),
            "finished_at": (T0 + timedelta(minutes=1)).isoformat(),
            "requests": 12,
            "new_articles": 3,
            "new_versions": 0,
            "removed": 0,
            "bytes_archived": 4096,
            "error": None,
            "node": None,
        }
        assert runs[0]["status"] == "running" and runs[0]["finished_at"] is None
        assert [r["id"] for r in store.list_runs(source="govcn-difang")] == [second]
        assert [r["id"] for r in store.list_runs(limit=1)] == [second]
        with pytest.raises(ValueError, match="status"):
            store.finish_run(second, status="done", counts={}, error=None)
        with pytest.raises(ValueError, match="no run"):
            store.finish_run(9999, status="failed", counts={}, error="boom")


MIRROR_BODY = ("北京市发展改革委出台优化营商环境若干措施，进一步优化办事流程，切实减轻企业和群众负担。"
               "今年计划完成一百二十个项目，确保各项任务落到实处。")
OTHER_BODY = ("上海市住房城乡建设管理委启动城市更新试点工作，计划完成三千五百个项目，"
              "及时回应群众关切，做好政策解读和宣传引导。")


def test_near_duplicates_are_linked_within_a_batch_and_across_batches(store, crawl):
    urls = [f"https://www.gov.cn/lianbo/content_{n}.htm" for n in range(5)]
    captures = [crawl.capture(url, T0 + timedelta(minutes=n)) for n, url in enumerate(urls)]
    bodies = [MIRROR_BODY, MIRROR_BODY + "\n责任编辑：周暹", OTHER_BODY, MIRROR_BODY]
    articles = [
        ArticleIn("govcn", url, [url], capture.record_id, capture.fetched_at,
                  fields(title=f"标题{n}", body_text=body))
        for n, (url, capture, body) in enumerate(zip(urls, captures, bodies, strict=False))
    ]
    # The last two are the same article fetched twice: its first content was a mirror, its
    # final one is not, and only the final one counts.
    articles.append(ArticleIn("govcn", urls[3], [urls[3]], captures[4].record_id,
                              captures[4].fetched_at, fields(title="标题3", body_text=OTHER_BODY)))
    result = store.ingest(captures, articles)
    first, second, other, changed = result.article_ids
    assert store.get_article(first)["duplicates"] == [second]
    assert store.get_article(other)["duplicates"] == [changed]

    later = crawl.capture("https://big5.gov.cn/lianbo/content_0.htm", T0 + timedelta(hours=1))
    mirror = ArticleIn("big5", later.url, [later.url], later.record_id, later.fetched_at,
                       fields(title="標題0", body_text=MIRROR_BODY))
    mirror_id = store.ingest([later], [mirror]).article_ids[0]
    assert store.get_article(first)["duplicates"] == [second, mirror_id]
    assert store.get_article(mirror_id)["duplicates"] == [first, second]


def test_signatures_given_with_the_articles_link_as_computed_ones(store, crawl):
    urls = [f"https://www.gov.cn/lianbo/content_{n}.htm" for n in range(3)]
    captures = [crawl.capture(url, T0 + timedelta(minutes=n)) for n, url in enumerate(urls)]
    articles = [
        ArticleIn("govcn", url, [url], capture.record_id, capture.fetched_at,
                  fields(title=f"标题{n}", body_text=MIRROR_BODY),
                  signature=article_signature(f"标题{n}", MIRROR_BODY))
        for n, (url, capture) in enumerate(zip(urls, captures, strict=True))
    ]
    # [] says "too short to have a signature": that article is never linked.
    articles[2].signature = []
    first, second, unsigned = store.ingest(captures, articles).article_ids
    assert store.get_article(first)["duplicates"] == [second]
    assert store.get_article(unsigned)["duplicates"] == []
