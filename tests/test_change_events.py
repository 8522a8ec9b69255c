"""Change events (``storage.changes``): one per change, written by ``Store.ingest``, read with
``Store.list_changes``; on both backends, through ``FakeCrawl``."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
import sqlalchemy as sa

from govarchive.storage import SearchQueryError
from govarchive.storage.models import ChangeEvent, Delivery
from tests.builders import T0, FakeCrawl

HOUR = timedelta(hours=1)
URL = "https://www.gov.cn/lianbo/difang/202603/content_1.htm"
MOVED_TO = "https://www.gov.cn/lianbo/difang/202603/content_101.htm"
OTHER = "https://www.gov.cn/lianbo/difang/202603/content_2.htm"
START = "https://www.gov.cn/lianbo/difang/index.htm"
BODY = ("各地区、各部门要加强组织领导，明确责任分工，办理时限不超过二十分钟，"
        "确保各项便民措施落到实处，切实提高群众满意度。")
OTHER_BODY = "防汛抗旱指挥部发布通知，要求沿江各地做好汛期值守，严格落实二十四小时带班制度。"


@pytest.fixture
def crawl(store):
    return FakeCrawl(store, source="govcn", fields={"title": "关于便民服务的通知", "body_text": BODY})


def _rows(store) -> list[dict]:
    """The change_events rows as stored, oldest first."""
    engine = store._engine
    with engine.connect() as conn:
        table = ChangeEvent.__table__
        return [dict(r) for r in conn.execute(sa.select(table).order_by(table.c.id)).mappings()]


def _kinds(store, **filters) -> list[str]:
    return [e["kind"] for e in store.list_changes(**filters)]


def test_a_new_article_is_one_new_event(store, crawl):
    first = crawl.article(URL, T0, run_id=None)
    (event,) = store.list_changes()
    assert event == {
        "id": event["id"], "kind": "new", "at": T0.isoformat(), "source": "govcn",
        "source_title": None, "article_id": first.article_id, "url": URL,
        "title": "关于便民服务的通知", "version": 1, "changed": [], "summary": None,
        "detail": None, "status": "live", "pending_removal": False,
    }
    (row,) = _rows(store)
    assert row["fanned_out_at"] is None and row["capture_id"] is not None
    assert store.change_event(event["id"]) == event
    assert store.change_event(event["id"] + 1) is None


def test_an_edit_is_one_event_with_its_changed_fields_and_summary(store, crawl):
    crawl.article(URL, T0)
    run_id = store.start_run(["govcn"])
    crawl.article(URL, T0 + HOUR, run_id=run_id, title="关于便民服务的通知（修订）",
                  body_text=BODY.replace("二十", "十五"))
    newest = store.list_changes()[0]
    assert (newest["kind"], newest["version"], newest["changed"]) == (
        "edited", 2, ["title", "body_text"])
    assert newest["summary"] == "标题: + （修订）; 正文: 二十 → 十五"
    assert newest["title"] == "关于便民服务的通知（修订）"
    assert newest["at"] == (T0 + HOUR).isoformat()
    assert _rows(store)[-1]["run_id"] == run_id


def test_cosmetic_changes_make_no_event_and_a_revert_is_an_edit(store, crawl):
    crawl.article(URL, T0)
    chrome = " 浏览次数：5321 页面生成时间：2026-03-01 08:00:00"
    crawl.article(URL, T0 + HOUR, body_text="\u3000" + BODY + chrome)
    assert _kinds(store) == ["new"]
    crawl.article(URL, T0 + 2 * HOUR, body_text=BODY.replace("二十", "十五"))
    crawl.article(URL, T0 + 3 * HOUR)
    events = store.list_changes()
    assert [(e["kind"], e["version"]) for e in events] == [("edited", 3), ("edited", 2),
                                                            ("new", 1)]
    assert events[0]["summary"] == "正文: 十五 → 二十"


def test_removal_restoration_and_pending_removal(store, crawl):
    article_id = crawl.article(URL, T0).article_id
    policy = {"confirmations": 2, "min_interval": timedelta(0)}
    crawl.observe(URL, T0 + HOUR, "gone", reason="answered 404", **policy)
    (new,) = store.list_changes()
    assert (new["status"], new["pending_removal"]) == ("live", True)
    crawl.observe(URL, T0 + 2 * HOUR, "gone", reason="answered 404", **policy)
    crawl.observe(URL, T0 + 3 * HOUR, "gone", reason="answered 404", **policy)
    removed, new = store.list_changes()
    assert (removed["kind"], removed["detail"], removed["url"]) == ("removed", "answered 404", URL)
    assert removed["at"] == (T0 + 2 * HOUR).isoformat()
    assert [(e["status"], e["pending_removal"]) for e in (removed, new)] == [("removed", False)] * 2
    crawl.article(URL, T0 + 4 * HOUR)
    restored = store.list_changes()[0]
    assert (restored["kind"], restored["article_id"], restored["version"]) == (
        "restored", article_id, None)
    assert (restored["status"], restored["pending_removal"]) == ("live", False)
    assert _kinds(store) == ["restored", "removed", "new"]


def test_a_304_brings_a_removed_article_back_too(store, crawl):
    crawl.article(URL, T0)
    crawl.observe(URL, T0 + HOUR, "gone", confirmations=1, min_interval=timedelta(0))
    crawl.observe(URL, T0 + 2 * HOUR, "not_modified", status=304)
    assert _kinds(store) == ["restored", "removed", "new"]


def test_a_delisting_is_one_event(store, crawl):
    crawl.article(URL, T0, section_url=START)
    crawl.article(OTHER, T0, section_url=START, title="防汛通知", body_text=OTHER_BODY)
    crawl.listing(START, T0 + HOUR, [URL, OTHER])
    assert _kinds(store) == ["new", "new"]
    crawl.listing(START, T0 + 2 * HOUR, [OTHER], complete=False)  # part of the section only
    crawl.listing(START, T0 + 3 * HOUR, [OTHER])
    crawl.listing(START, T0 + 4 * HOUR, [OTHER])
    delisted = store.list_changes()[0]
    assert (delisted["kind"], delisted["url"], delisted["at"]) == (
        "delisted", URL, (T0 + 3 * HOUR).isoformat())
    assert _kinds(store) == ["delisted", "new", "new"]


def test_a_redirect_to_a_new_url_is_a_move_and_a_first_redirect_is_not(store, crawl):
    article_id = crawl.article(URL, T0).article_id
    crawl.article(MOVED_TO, T0 + HOUR, urls=[URL, MOVED_TO])
    moved = store.list_changes()[0]
    assert (moved["kind"], moved["article_id"], moved["url"], moved["detail"]) == (
        "moved", article_id, MOVED_TO, URL)
    crawl.article(URL, T0 + 2 * HOUR)  # an URL it had: no move
    crawl.article(MOVED_TO, T0 + 3 * HOUR)
    assert _kinds(store) == ["moved", "new"]
    # An article first found through a redirect is new, and only new.
    crawl.article(OTHER + "?new", T0 + 4 * HOUR, urls=[OTHER, OTHER + "?new"],
                  body_text=OTHER_BODY)
    assert _kinds(store) == ["new", "moved", "new"]


def test_the_same_content_at_another_url_is_a_move_but_a_mirror_is_not(store, crawl):
    article_id = crawl.article(URL, T0).article_id
    crawl.article(MOVED_TO, T0 + HOUR)
    moved = store.list_changes()[0]
    assert (moved["kind"], moved["article_id"], moved["detail"]) == ("moved", article_id, URL)
    # A near-identical copy is a new article of its own, linked as a duplicate.
    crawl.article(OTHER, T0 + 2 * HOUR, body_text=BODY + "（转载）")
    assert _kinds(store) == ["new", "moved", "new"]


def test_an_edit_at_a_new_url_is_an_edit_and_a_move(store, crawl):
    crawl.article(URL, T0)
    crawl.article(MOVED_TO, T0 + HOUR, urls=[URL, MOVED_TO], body_text=BODY + "特此通知。")
    moved, edited = store.list_changes()[:2]
    assert (moved["kind"], moved["summary"], moved["detail"]) == ("moved", None, URL)
    assert (edited["kind"], edited["summary"]) == ("edited", "正文: + 特此通知。")


def test_events_of_one_batch_follow_the_fetch_order(store, crawl):
    captures, articles = [], []
    for when, url, body in ((T0 + HOUR, URL, BODY.replace("二十", "十五")), (T0, URL, BODY),
                            (T0 + 2 * HOUR, OTHER, OTHER_BODY)):
        c, a = crawl.batch(url, when, body_text=body)
        captures += c
        articles += a
    crawl.ingest(captures, articles)
    events = store.list_changes()
    assert [(e["kind"], e["url"], e["at"]) for e in reversed(events)] == [
        ("new", URL, T0.isoformat()), ("edited", URL, (T0 + HOUR).isoformat()),
        ("new", OTHER, (T0 + 2 * HOUR).isoformat())]


@pytest.fixture
def feed(store, crawl):
    """Two sources, an edit, a removal: six events."""
    store.set_sources({"govcn": "中国政府网", "mofcom": "商务部"})
    crawl.article(URL, T0)
    crawl.article(OTHER, T0 + HOUR, source="mofcom", title="防汛通知", body_text=OTHER_BODY)
    crawl.article(URL, T0 + 2 * HOUR, body_text=BODY.replace("二十", "十五"))
    crawl.article(OTHER, T0 + 3 * HOUR, source="mofcom", title="防汛通知",
                  body_text=OTHER_BODY + "特此通知。")
    crawl.observe(OTHER, T0 + 4 * HOUR, "gone", source="mofcom", confirmations=1,
                  min_interval=timedelta(0))
    crawl.article(OTHER, T0 + 5 * HOUR, source="mofcom", title="防汛通知",
                  body_text=OTHER_BODY + "特此通知。")
    return store


def test_list_changes_filters(feed):
    store = feed
    everything = store.list_changes()
    assert [e["kind"] for e in everything] == ["restored", "removed", "edited", "edited", "new",
                                               "new"]
    assert [e["id"] for e in everything] == sorted((e["id"] for e in everything), reverse=True)
    assert {e["source_title"] for e in everything} == {"中国政府网", "商务部"}
    assert _kinds(store, source="govcn") == ["edited", "new"]
    assert _kinds(store, kinds=["removed", "restored"]) == ["restored", "removed"]
    assert _kinds(store, since=T0 + 3 * HOUR) == ["restored", "removed", "edited"]
    assert _kinds(store, since=(T0 + 3 * HOUR).replace(tzinfo=None)) == [
        "restored", "removed", "edited"]
    assert _kinds(store, since=(T0 + 3 * HOUR).astimezone(UTC)) == [
        "restored", "removed", "edited"]
    govcn = store.list_changes(query="组织领导")
    assert {e["source"] for e in govcn} == {"govcn"} and len(govcn) == 2
    assert _kinds(store, query="防汛 值守", kinds=["edited"]) == ["edited"]
    assert store.list_changes(query="没有这个词语") == []
    article_id = everything[0]["article_id"]
    assert _kinds(store, article_id=article_id) == ["restored", "removed", "edited", "new"]
    first_page = store.list_changes(limit=4)
    second_page = store.list_changes(limit=4, before_id=first_page[-1]["id"])
    assert first_page + second_page == everything


def test_list_changes_refuses_what_it_cannot_filter_by(feed):
    with pytest.raises(SearchQueryError, match="unbalanced quote"):
        feed.list_changes(query='"组织')
    with pytest.raises(ValueError, match="unknown change kind 'gone'"):
        feed.list_changes(kinds=["gone"])


def test_reset_derived_takes_events_and_deliveries_away(store, crawl):
    crawl.article(URL, T0)
    crawl.article(URL, T0 + HOUR, body_text=BODY + "特此通知。")
    event_id = store.list_changes()[0]["id"]
    with store._writer.begin() as conn:
        conn.execute(sa.insert(Delivery.__table__).values(
            watch="desk", event_id=event_id, status="pending", attempts=0, created_at=T0,
            next_attempt_at=T0))
    store.reset_derived()
    with store._engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Delivery)).scalar_one() == 0
    assert _rows(store) == []


def test_history_ingests_write_events_already_fanned_out(store, crawl):
    captures, articles = crawl.batch(URL, T0)
    store.ingest(captures, articles, history=True)
    (row,) = _rows(store)
    assert row["kind"] == "new" and row["fanned_out_at"] is not None
