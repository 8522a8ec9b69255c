"""``Store.list_changes`` and ``Store.change_event``: the change feed read back, filtered,
paged, with each article's current status."""

from __future__ import annotations

import pytest

from govarchive.storage import SearchQueryError
from tests import change_feed
from tests.builders import T0

FIELDS = {"id", "kind", "at", "source", "source_title", "article_id", "url", "title", "version",
          "changed", "summary", "detail", "status", "pending_removal"}


@pytest.fixture
def feed(store):
    return change_feed.build(store)


def test_events_come_newest_first_with_every_field(store, feed):
    events = store.list_changes()
    assert [e["id"] for e in events] == sorted(feed.events.values(), reverse=True)
    edit = store.change_event(feed.events["edited_edit"])
    assert set(edit) == FIELDS
    assert edit | {"id": 0} == {
        "id": 0, "kind": "edited", "at": (T0 + change_feed.HOUR).isoformat(),
        "source": "difang", "source_title": "地方政务", "article_id": feed.articles["edited"],
        "url": change_feed.BASE + "/dfzw/1.htm", "title": "关于缩短办理时限的通知",
        "version": 2, "changed": ["body_text"], "summary": change_feed.EDIT_SUMMARY,
        "detail": None, "status": "live", "pending_removal": False,
    }
    assert store.change_event(10**6) is None


def test_status_and_an_unconfirmed_removal(store, feed):
    by_article = {e["article_id"]: e for e in store.list_changes()}
    removed, pending = by_article[feed.articles["removed"]], by_article[feed.articles["pending"]]
    assert (removed["status"], removed["pending_removal"]) == ("removed", False)
    assert (pending["status"], pending["pending_removal"]) == ("live", True)
    assert by_article[feed.articles["edited"]]["pending_removal"] is False


def test_filters_and_paging(store, feed):
    def ids(**filters):
        return [e["id"] for e in store.list_changes(**filters)]

    assert ids(kinds=["edited", "removed"]) == [feed.events["removed_removed"],
                                                feed.events["edited_edit"]]
    assert ids(source="yaowen") == [feed.events["html_new"]]
    assert ids(since=T0 + 5 * change_feed.HOUR) == [feed.events["html_new"]]
    assert ids(article_id=feed.articles["edited"]) == [feed.events["edited_edit"],
                                                       feed.events["edited_new"]]
    first = ids(limit=2)
    rest = ids(before_id=first[-1])
    assert len(first) == 2 and first + rest == ids()


def test_a_query_keeps_the_events_of_articles_it_finds(store, feed):
    found = store.list_changes(query="防汛")
    assert {e["article_id"] for e in found} == {feed.articles["removed"],
                                                feed.articles["pending"]}
    assert store.list_changes(query="十五分钟") == store.list_changes(
        article_id=feed.articles["edited"])
    with pytest.raises(SearchQueryError, match="unbalanced quote"):
        store.list_changes(query='"防汛')
    with pytest.raises(SearchQueryError, match="unknown change kind 'edit'"):
        store.list_changes(kinds=["edit"])
