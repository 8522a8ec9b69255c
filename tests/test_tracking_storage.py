"""Change tracking in the store: versions, reverts, the shrink guard, removals, moves,
cross-posts, mirrors, list-page presence, and rebuilding it all from captures.

Runs on SQLite and (with GOVARCHIVE_TEST_DATABASE_URL) PostgreSQL.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta

import pytest

from govarchive.storage import Store
from tests.builders import T0, FakeCrawl, RaceAt, ingest_in_parallel

SITE = "https://www.gov.cn/lianbo/difang"
START = f"{SITE}/index.htm"
URL = f"{SITE}/202603/content_1.htm"
BODY = ("北京市人民政府办公厅印发《关于进一步优化营商环境的若干措施》。"
        "措施提出，要深化“放管服”改革，持续提升政务服务水平，"
        "推动更多事项网上办、掌上办、就近办。")
TRADITIONAL_BODY = ("北京市人民政府辦公廳印發《關於進一步優化營商環境的若干措施》。"
                    "措施提出，要深化「放管服」改革，持續提升政務服務水平，"
                    "推動更多事項網上辦、掌上辦、就近辦。")
HOUR = timedelta(hours=1)


ARTICLE = {
    "title": "北京优化营商环境",
    "published_at": "2026-03-01T09:30:00+08:00",
    "published_precision": "minute",
    "origin": "北京日报",
    "author": "周暹",
    "section": ["首页", "地方政务"],
    "doc_number": None,
    "body_text": BODY,
    "body_html": f"<p>{BODY}</p>",
    "attachments": [{"url": f"{SITE}/files/a.pdf", "name": "附件1"}],
}


@pytest.fixture
def crawl(store):
    return FakeCrawl(store, source="govcn", fields=ARTICLE)


def _only(store: Store) -> dict:
    (record,) = list(store.iter_export())
    return record


def _changes(record: dict) -> list[tuple]:
    return [(v["n"], v["changed"], v.get("revert_of")) for v in record["versions"]]


def _events(store: Store, article_id: int) -> list[str]:
    timeline = store.article_history(article_id)["timeline"]
    return [e["kind"] for e in timeline if e["type"] == "event"]


def test_cosmetic_changes_never_make_a_version(store, crawl):
    crawl.article(URL, T0)
    crawl.article(URL, T0 + HOUR, body_text=BODY.replace("。", "。\n\u3000 ") + " 访问量：1,234次")
    crawl.article(URL, T0 + 2 * HOUR, body_text=BODY + "页面生成时间：2026-03-01 10:00:01 【打印本页】",
                  title=" 北京优化营商环境 浏览次数: 88")
    record = _only(store)
    assert _changes(record) == [(1, [], None)]
    assert record["last_seen"] == (T0 + 2 * HOUR).isoformat()


@pytest.mark.parametrize("field, value", [
    ("title", "北京进一步优化营商环境"),
    ("published_at", "2026-03-02T09:30:00+08:00"),
    ("origin", "首都之窗"),
    ("author", "李华"),
    ("doc_number", "京政办发〔2026〕3号"),
    ("body_text", BODY + "各区要抓好落实。"),
    ("attachments", [{"url": f"{SITE}/files/b.pdf", "name": "附件2"}]),
])
def test_each_field_edit_is_a_version_naming_that_field(store, crawl, field, value):
    crawl.article(URL, T0)
    fetched = crawl.article(URL, T0 + HOUR, **{field: value})
    assert fetched.result.new_versions == 1
    record = _only(store)
    assert _changes(record) == [(1, [], None), (2, [field], None)]
    diff = store.article_diff(record["id"])
    assert diff["changed"] == [field] and (diff["from"], diff["to"]) == (1, 2)


def test_character_level_diff_of_a_chinese_body(store, crawl):
    article_id = crawl.article(URL, T0).article_id
    crawl.article(URL, T0 + HOUR, body_text=BODY.replace("持续提升", "大力提升"))
    diff = store.article_diff(article_id, 1, 2)
    ops = [op for op in diff["fields"]["body_text"] if op[0] != "equal"]
    assert ops == [["delete", "持续"], ["insert", "大力"]]


def test_a_then_b_then_a_is_a_revert_of_b(store, crawl):
    crawl.article(URL, T0)
    crawl.article(URL, T0 + HOUR, title="标题改了")
    crawl.article(URL, T0 + 2 * HOUR)
    record = _only(store)
    assert _changes(record) == [(1, [], None), (2, ["title"], None), (3, ["title"], 2)]
    assert record["versions"][2]["content_hash"] == record["versions"][0]["content_hash"]


def test_a_shrunken_body_needs_a_second_fetch_to_agree(store, crawl):
    crawl.article(URL, T0)
    stub = BODY[:20]
    assert crawl.article(URL, T0 + HOUR, body_text=stub).result.new_versions == 0
    assert crawl.article(URL, T0 + 2 * HOUR).result.new_versions == 0  # back to normal: a glitch
    assert crawl.article(URL, T0 + 3 * HOUR, body_text="").result.new_versions == 0
    assert crawl.article(URL, T0 + 4 * HOUR, body_text="").result.new_versions == 1  # confirmed
    record = _only(store)
    assert _changes(record) == [(1, [], None), (2, ["body_text"], None)]
    assert record["versions"][1]["captured_at"] == (T0 + 4 * HOUR).isoformat()


def test_removal_needs_confirmations_spread_over_the_interval(store, crawl):
    article_id = crawl.article(URL, T0).article_id
    crawl.observe(URL, T0 + HOUR, "gone")
    crawl.observe(URL, T0 + 2 * HOUR, "gone")  # two gone fetches, but within 24h
    assert _only(store)["status"] == "live"
    result = crawl.observe(URL, T0 + 26 * HOUR, "gone")
    assert result.removed == 1
    assert _only(store)["status"] == "removed"
    assert _events(store, article_id) == ["gone", "gone", "gone", "removed"]
    back = crawl.article(URL, T0 + 30 * HOUR)
    assert back.result.restored == 1 and _only(store)["status"] == "live"
    assert _events(store, article_id)[-1] == "restored"


def test_per_source_policy_and_a_success_resets_the_count(store, crawl):
    crawl.article(URL, T0)
    policy = {"confirmations": 3, "min_interval": timedelta(hours=2)}
    crawl.observe(URL, T0 + HOUR, "gone", **policy)
    crawl.observe(URL, T0 + 2 * HOUR, "gone", **policy)
    crawl.article(URL, T0 + 3 * HOUR)  # came back in between
    crawl.observe(URL, T0 + 4 * HOUR, "gone", **policy)
    crawl.observe(URL, T0 + 5 * HOUR, "gone", **policy)
    assert _only(store)["status"] == "live"
    crawl.observe(URL, T0 + 7 * HOUR, "gone", **policy)
    assert _only(store)["status"] == "removed"


def test_blocked_fetches_never_count_as_gone(store, crawl):
    article_id = crawl.article(URL, T0).article_id
    for hours, status in ((30, 412), (60, 521), (90, 307)):
        crawl.observe(URL, T0 + hours * HOUR, "blocked", status=status)
    assert _only(store)["status"] == "live"
    assert _events(store, article_id) == ["blocked", "blocked", "blocked"]


def test_not_modified_counts_as_seen(store, crawl):
    crawl.article(URL, T0)
    crawl.observe(URL, T0 + HOUR, "gone")
    crawl.observe(URL, T0 + 30 * HOUR, "not_modified", status=304)
    crawl.observe(URL, T0 + 31 * HOUR, "gone")
    record = _only(store)
    assert record["status"] == "live" and record["last_seen"] == (T0 + 30 * HOUR).isoformat()


def test_a_moved_article_keeps_its_history_and_its_old_url_going_away_is_harmless(store, crawl):
    moved = f"{SITE}/202603/content_1_new.htm"
    crawl.article(URL, T0)
    crawl.article(moved, T0 + HOUR, urls=[URL, moved])  # a 301 from the old URL
    crawl.observe(URL, T0 + 2 * HOUR, "gone")
    crawl.observe(URL, T0 + 30 * HOUR, "gone")
    record = _only(store)
    assert record["urls"] == [URL, moved] and record["status"] == "live"
    assert len(record["versions"]) == 1


def test_cross_post_and_url_twins_are_one_article(store, crawl):
    other = "https://www.gov.cn/yaowen/202603/content_9.htm"
    crawl.article(URL, T0)
    crawl.article(other, T0 + HOUR)  # same content in another section
    crawl.article("HTTPS://WWW.GOV.CN:443/yaowen/202603/content_9.htm#top", T0 + 2 * HOUR)
    another = {"title": "另一篇", "body_text": "另一篇文章。" * 20}
    crawl.article("https://www.gov.cn/lianbo/difang/202603/index.htm", T0 + 3 * HOUR,
                  **another)
    crawl.article("https://www.gov.cn/lianbo/difang/202603/", T0 + 4 * HOUR, **another)
    records = list(store.iter_export())
    assert [r["urls"] for r in records] == [
        [URL, other], ["https://www.gov.cn/lianbo/difang/202603/"]]
    assert [len(r["versions"]) for r in records] == [1, 1]


def test_a_traditional_mirror_is_a_linked_duplicate_not_the_same_article(store, crawl):
    first = crawl.article(URL, T0).article_id
    mirror_url = "https://big5.gov.cn/gate/big5/www.gov.cn/lianbo/difang/content_1.htm"
    mirror = crawl.article(mirror_url, T0 + HOUR, source="big5", title="北京優化營商環境",
                           body_text=TRADITIONAL_BODY).article_id
    unrelated = crawl.article(f"{SITE}/202603/content_2.htm", T0 + HOUR, title="春耕",
                              body_text="各地抓好春耕备耕工作，保障粮食安全。" * 4)
    assert mirror != first
    records = {r["id"]: r for r in store.iter_export()}
    assert records[first]["duplicates"] == [mirror]
    assert records[mirror]["duplicates"] == [first]
    assert records[unrelated.article_id]["duplicates"] == []
    assert len(records[first]["versions"]) == len(records[mirror]["versions"]) == 1
    # An edit that makes them differ unlinks them.
    crawl.article(mirror_url, T0 + 2 * HOUR, source="big5", title="北京優化營商環境",
                  body_text="完全不同的內容。" * 12)
    assert store.get_article(first)["duplicates"] == []


def test_dropping_out_of_the_list_pages_is_delisted_then_relisted(store, crawl):
    other = f"{SITE}/202603/content_2.htm"
    first = crawl.article(URL, T0).article_id
    crawl.article(other, T0, title="春耕", body_text="各地抓好春耕备耕工作。" * 8)
    crawl.listing(START, T0 + HOUR, [URL, other])
    crawl.listing(START, T0 + 2 * HOUR, [other])
    crawl.listing(START, T0 + 3 * HOUR, [URL, other])
    assert _events(store, first) == ["delisted", "relisted"]
    assert _only_status(store) == {"live"}


def test_a_partial_walk_delists_only_articles_newer_than_the_oldest_listed(store, crawl):
    old = crawl.article(URL, T0, published_at="2020-01-01T09:00:00+08:00").article_id
    new_url = f"{SITE}/202603/content_3.htm"
    new = crawl.article(new_url, T0, published_at="2026-03-02T09:00:00+08:00",
                        body_text="新文章内容。" * 10).article_id
    mid_url = f"{SITE}/202603/content_4.htm"
    crawl.article(mid_url, T0, published_at="2025-01-01T09:00:00+08:00",
                  body_text="中间文章内容。" * 10)
    crawl.listing(START, T0 + HOUR, [URL, new_url, mid_url], complete=False)
    crawl.listing(START, T0 + 2 * HOUR, [mid_url], complete=False)
    assert _events(store, new) == ["delisted"]
    assert _events(store, old) == []


def test_an_article_stored_with_its_section_is_tracked_by_that_sections_listing(store, crawl):
    """The crawl gives a new article the section whose list pages linked it; that section's
    later listings delist and relist it as if a listing had tagged it, other sections' not."""
    start, other_start = f"{SITE}/index.htm", f"{SITE}/tzgg/index.htm"
    first = crawl.article(URL, T0, section_url=start).article_id
    elsewhere = crawl.article(f"{SITE}/tzgg/content_5.htm", T0, section_url=other_start,
                              title="通知公告", body_text="关于开展检查的通知。" * 8).article_id
    crawl.listing(start, T0 + HOUR, [f"{SITE}/202603/content_9.htm"])
    crawl.listing(start, T0 + 2 * HOUR, [URL])
    assert _events(store, first) == ["delisted", "relisted"]
    assert _events(store, elsewhere) == []


def _only_status(store: Store) -> set[str]:
    return {r["status"] for r in store.iter_export()}


def _state(store: Store) -> list[dict]:
    """Every article with its timeline, ids replaced by urls (a rebuild renumbers)."""
    records = list(store.iter_export())
    url_of = {r["id"]: r["url"] for r in records}
    state = []
    for record in records:
        timeline = store.article_history(record["id"])["timeline"]
        state.append({**record, "id": None, "timeline": timeline,
                      "duplicates": sorted(url_of[d] for d in record["duplicates"])})
    return sorted(state, key=lambda r: r["url"])


def test_rebuilt_from_captures_in_capture_order_equals_the_crawled_state(store, crawl):
    moved = f"{SITE}/202603/content_1_new.htm"
    mirror_url = "https://big5.gov.cn/gate/big5/www.gov.cn/lianbo/difang/content_1.htm"
    crawl.article(URL, T0)
    crawl.article(mirror_url, T0, source="big5", title="北京優化營商環境",
                  body_text=TRADITIONAL_BODY)
    crawl.listing(START, T0 + HOUR / 2, [URL])
    crawl.article(URL, T0 + HOUR, title="改")
    crawl.article(URL, T0 + 2 * HOUR, body_text="")
    crawl.article(URL, T0 + 3 * HOUR, body_text="")
    crawl.article(URL, T0 + 4 * HOUR)
    crawl.observe(URL, T0 + 5 * HOUR, "blocked", status=412)
    crawl.observe(URL, T0 + 6 * HOUR, "gone")
    crawl.observe(URL, T0 + 40 * HOUR, "gone")
    crawl.article(moved, T0 + 50 * HOUR, urls=[URL, moved])
    crawl.listing(START, T0 + 51 * HOUR, [])
    crawled = _state(store)
    # The mirror, and v1, v2 (title), v3 (empty body, confirmed), v4 (revert of v3).
    assert [len(r["versions"]) for r in crawled] == [1, 4]

    # Throw the derived state away, keep the captures, and feed the same inputs again one by
    # one in capture order, each batch's inputs listed in a different order: the same state.
    store.reset_derived()
    rng = random.Random(4)
    for captures, articles, observations, listings in crawl.calls:
        rng.shuffle(captures)
        store.ingest(captures, articles, observations=observations, listings=listings)
    assert _state(store) == crawled


def test_a_whole_run_in_one_batch_equals_one_fetch_per_batch(store, crawl, tmp_path):
    crawl.article(URL, T0)
    crawl.article(URL, T0 + HOUR, title="改")
    crawl.article(URL, T0 + 2 * HOUR)
    crawl.observe(URL, T0 + 3 * HOUR, "gone")
    crawl.observe(URL, T0 + 30 * HOUR, "gone")
    expected = _state(store)
    with Store(f"sqlite:///{tmp_path / 'one-batch.db'}") as other:
        other.migrate()
        captures = [c for call in crawl.calls for c in call[0]]
        articles = [a for call in crawl.calls for a in call[1]]
        observations = [o for call in crawl.calls for o in call[2]]
        other.ingest(captures[::-1], articles[::-1], observations=observations[::-1])
        assert _state(other) == expected


def test_revisit_targets_by_age_with_validators(store, crawl):
    now = T0 + 2 * HOUR
    steps = ((timedelta(hours=3), None), (timedelta(days=1), HOUR), (timedelta(days=7),
                                                                        timedelta(hours=6)))
    fresh = crawl.article(URL, T0, published_at=T0.isoformat()).article_id
    crawl.article(f"{SITE}/202603/content_5.htm", T0, published_at="2026-02-27T08:00:00+00:00",
                  body_text="一周内的文章。" * 10)
    due = store.revisit_targets("govcn", steps=steps, mode="due", now=now)
    assert [t.article_id for t in due] == [fresh]
    assert due[0].url == URL and due[0].payload_digest == "sha1:D1"
    assert due[0].refers_to == "<urn:uuid:00000000-0000-0000-0000-000000000001>"
    assert len(store.revisit_targets("govcn", steps=steps, mode="all", now=now)) == 2
    assert store.revisit_targets("govcn", steps=steps, mode="none", now=now) == []
    later = store.revisit_targets("govcn", steps=steps, mode="due", now=T0 + 8 * HOUR)
    assert len(later) == 2
    # The budget keeps the most overdue: the fresh one was due 7 hours ago, the other 2.
    budgeted = store.revisit_targets("govcn", steps=steps, mode="due", budget=1,
                                     now=T0 + 8 * HOUR)
    assert [t.article_id for t in budgeted] == [fresh]


def test_two_processes_ingesting_the_same_edit_make_one_version(store, crawl, database_url,
                                                                caplog):
    caplog.set_level(logging.INFO, logger="govarchive.storage")
    crawl.article(URL, T0)
    mirror_url = "https://big5.gov.cn/gate/big5/www.gov.cn/lianbo/difang/content_1.htm"
    crawl.article(mirror_url, T0, source="big5", title="北京優化營商環境",
                  body_text=TRADITIONAL_BODY)
    batches = [crawl.batch(URL, T0 + HOUR, body_text=BODY + "各区要抓好落实。") for _ in "ab"]
    results = ingest_in_parallel(database_url, batches, RaceAt("INSERT INTO article_versions"))
    assert sorted((r.new_versions, r.unchanged) for r in results) == [(0, 1), (1, 0)]
    records = {r["url"]: r for r in store.iter_export()}
    assert [v["changed"] for v in records[URL]["versions"]] == [[], ["body_text"]]
    assert records[URL]["duplicates"] == [records[mirror_url]["id"]]
