"""``/changes``, the status badges and the Atom feeds, through FastAPI's test client; the
feeds are read back with feedparser."""

from __future__ import annotations

import re
from datetime import datetime

import feedparser
import pytest
from fastapi.testclient import TestClient

from govarchive.storage import Store
from govarchive.web import WebConfig, create_app
from tests import change_feed

REPLAY = "http://replay.test/{collection}/{timestamp}/{url}"
BASE_URL = "https://archive.example.org"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('changes') / 'govarchive.db'}"
    with Store(url) as store:
        store.migrate()
        feed = change_feed.build(store)
        config = WebConfig(collection="test", replay_url=REPLAY, base_url=BASE_URL)
        with TestClient(create_app(store, config)) as client:
            yield client, feed, store


def listed(html: str) -> list[int]:
    """The event ids of a /changes page, in page order."""
    return [int(n) for n in re.findall(r'<li class="change \w+" id="change-(\d+)"', html)]


def badges(html: str) -> dict[int, str]:
    """Event id -> its status badge's label."""
    items = re.findall(r'id="change-(\d+)".*?<span class="badge status \w+">([^<]+)</span>', html,
                       re.DOTALL)
    return {int(n): label for n, label in items}


def test_changes_page_lists_every_event_newest_first(app):
    client, feed, _ = app
    page = client.get("/changes")
    assert page.status_code == 200
    assert listed(page.text) == sorted(feed.events.values(), reverse=True)
    assert '<a href="/changes">变更 Changes</a>' in page.text  # the site navigation
    assert '<link rel="alternate" type="application/atom+xml"' in page.text


def test_an_edit_shows_its_summary_and_links_to_diff_and_both_captures(app):
    client, feed, _ = app
    page = client.get("/changes", params={"kind": "edited"}).text
    assert listed(page) == [feed.events["edited_edit"]]
    article = feed.articles["edited"]
    assert f'<p class="diff-summary">{change_feed.EDIT_SUMMARY}</p>' in page
    assert f'href="/articles/{article}?from=1&amp;to=2#diff"' in page
    assert "http://replay.test/test/20260301080000/https://www.example.gov.cn/dfzw/1.htm" in page
    assert "http://replay.test/test/20260301090000/https://www.example.gov.cn/dfzw/1.htm" in page
    diff = client.get(f"/articles/{article}", params={"from": 1, "to": 2}).text
    assert 'id="diff"' in diff and "<del>" in diff and "<ins>" in diff
    # Whole tokens: the changed number is one deletion and one insertion.
    assert "<del>二十</del>" in diff and "<ins>十五</ins>" in diff


def test_a_removal_links_to_the_last_capture(app):
    client, feed, _ = app
    page = client.get("/changes", params={"kind": "removed"}).text
    assert listed(page) == [feed.events["removed_removed"]]
    last = re.search(r'<a href="([^"]+)" rel="noreferrer">最后存档快照</a>', page).group(1)
    assert last == "http://replay.test/test/20260301100000/https://www.example.gov.cn/dfzw/2.htm"


def test_filters_source_kinds_query_and_period(app):
    client, feed, _ = app

    def ids(**params):
        page = client.get("/changes", params=params)
        assert page.status_code == 200, page.text
        return listed(page.text)

    assert ids(source="yaowen") == [feed.events["html_new"]]
    assert ids(kind="edited,removed") == ids(kind=["removed", "edited"]) == [
        feed.events["removed_removed"], feed.events["edited_edit"]]
    assert set(ids(q="防汛")) == {feed.events["removed_new"], feed.events["removed_removed"],
                                  feed.events["pending_new"]}
    # Times without an offset are Beijing time: T0 is 16:00, each step an hour.
    assert ids(since="2026-03-01T20:00", until="2026-03-01T21:00") == [feed.events["pending_new"]]
    assert ids(until="2026-03-01T17:00") == [feed.events["edited_edit"], feed.events["edited_new"]]
    assert ids(until="2026-02-28") == [] and len(ids(since="2026-03-01")) == len(feed.events)
    bad = client.get("/changes", params={"kind": "edit"})
    assert bad.status_code == 400 and "kind=edit: expected one of" in bad.text
    assert client.get("/changes", params={"q": '"防汛'}).status_code == 400


def test_paging_by_before_id(app, monkeypatch):
    from govarchive.web import changes

    client, feed, _ = app
    monkeypatch.setattr(changes, "PAGE_SIZE", 4)
    first = client.get("/changes").text
    older = re.search(r'<a rel="next" href="([^"]+)">', first).group(1).replace("&amp;", "&")
    assert older == f"/changes?before={listed(first)[-1]}"
    second = client.get(older).text
    assert listed(first) + listed(second) == sorted(feed.events.values(), reverse=True)
    assert 'rel="next"' not in second


def test_badges_agree_with_the_event_list_and_the_article_page(app):
    client, feed, store = app
    page = client.get("/changes").text
    expected = {"removed": "已删除", "live": "在线"}
    for event in store.list_changes():
        label = "待确认删除" if event["pending_removal"] else expected[event["status"]]
        assert badges(page)[event["id"]] == label
        article = client.get(f"/articles/{event['article_id']}").text
        assert '<span class="badge status ' in article and f">{label}</span>" in article
    # The page of a removal not yet confirmed no longer says 在线.
    pending = client.get(f"/articles/{feed.articles['pending']}").text
    assert "待确认删除" in pending and ">在线</span>" not in pending


def test_archived_html_in_titles_is_escaped(app):
    client, feed, _ = app
    for path in ("/changes", f"/articles/{feed.articles['html']}"):
        page = client.get(path).text
        assert "<script>alert(1)</script>" not in page and "<b>速递</b>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_sources_by_title_and_search_hits_with_version_counts(app):
    client, feed, _ = app
    article = client.get(f"/articles/{feed.articles['edited']}").text
    assert '<span class="source">地方政务</span>' in article
    hits = client.get("/", params={"q": "办理时限"}).text
    assert '<span class="source">地方政务</span>' in hits
    assert "2 个版本" in hits and "已修改 changed" in hits
    single = client.get("/", params={"q": "景区"}).text
    assert "1 个版本" in single and "已修改 changed" not in single


# ---- Atom ------------------------------------------------------------------------------


def parse(client, path: str, **params):
    answer = client.get(path, params=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(answer.content)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.version == "atom10"
    return parsed


def test_changes_feed_entries_match_the_events(app):
    client, _, store = app
    parsed = parse(client, "/feeds/changes.atom")
    events = store.list_changes()
    assert [e.id for e in parsed.entries] == [f"tag:govarchive,2026:change/{e['id']}"
                                              for e in events]
    for entry, event in zip(parsed.entries, events, strict=True):
        assert datetime.fromisoformat(entry.updated) == datetime.fromisoformat(event["at"])
        assert entry.link.startswith(f"{BASE_URL}/articles/{event['article_id']}")
        assert entry.title.endswith(event["title"])
    edit = next(entry for entry, event in zip(parsed.entries, events, strict=True)
                if event["kind"] == "edited")
    assert edit.title == "修改: 关于缩短办理时限的通知"
    assert edit.content[0].value == change_feed.EDIT_SUMMARY
    assert edit.link == f"{BASE_URL}/articles/{events[-2]['article_id']}?from=1&to=2#diff"
    assert datetime.fromisoformat(parsed.feed.updated) == datetime.fromisoformat(events[0]["at"])
    html_entry = parsed.entries[0]
    assert html_entry.title == "新增: " + change_feed.HTML_TITLE  # text, not markup


def test_changes_feed_filters(app):
    client, feed, _ = app

    def ids(**params):
        return [e.id.rsplit("/", 1)[1] for e in parse(client, "/feeds/changes.atom",
                                                        **params).entries]

    edits_and_removals = [str(feed.events["removed_removed"]), str(feed.events["edited_edit"])]
    assert ids(kind="edited,removed") == ids(kind=["edited", "removed"]) == edits_and_removals
    assert ids(source="yaowen") == [str(feed.events["html_new"])]
    assert ids(q="十五分钟", kind="edited") == [str(feed.events["edited_edit"])]
    assert client.get("/feeds/changes.atom", params={"kind": "edit"}).status_code == 400


def test_article_feed(app):
    client, feed, _ = app
    parsed = parse(client, f"/feeds/articles/{feed.articles['edited']}.atom")
    assert [e.id for e in parsed.entries] == [
        f"tag:govarchive,2026:change/{feed.events['edited_edit']}",
        f"tag:govarchive,2026:change/{feed.events['edited_new']}"]
    assert parsed.feed.title == "govarchive 变更: 关于缩短办理时限的通知"
    assert client.get("/feeds/articles/999999.atom").status_code == 404
    page = client.get(f"/articles/{feed.articles['edited']}").text
    assert f'href="/feeds/articles/{feed.articles["edited"]}.atom"' in page
