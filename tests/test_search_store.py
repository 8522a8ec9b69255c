"""Full-text search through ``Store.search`` on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from govarchive.storage.search import SearchQueryError, parse_query, tokens
from tests import search_corpus
from tests.search_corpus import FILLER


@pytest.fixture
def corpus(store):
    return search_corpus.build(store)


def titles(found):
    return {item["title"] for item in found["items"]}


def test_tokens_are_bigrams_of_cjk_runs_and_words():
    assert tokens("防汛工作，GDP增长2024") == ["防汛", "汛工", "工作", "作", "gdp", "增长", "长", "2024"]
    assert tokens("ＧＤＰ") == ["gdp"]  # full-width letters are folded (NFKC)


def test_two_character_word_is_found(store, corpus):
    found = store.search("防汛")
    assert found["total"] == 5
    assert "北京市部署防汛工作" in titles(found)
    assert found["terms"] == ["防汛"]
    assert all(item["snippet"] for item in found["items"])


def test_one_character_query_matches_inside_words(store, corpus):
    assert store.search("汛")["total"] == store.search("防汛")["total"]


def test_longer_word_must_occur_as_written(store, corpus):
    # 防汛抗旱工作 contains 防汛 and 工作 but not 防汛工作.
    assert titles(store.search("防汛工作")) == {"北京市部署防汛工作"}


def test_words_are_anded_and_phrases_keep_order(store, corpus):
    assert titles(store.search("防汛 北京")) == {"北京市部署防汛工作"}
    assert store.search("北京 国务院")["total"] == 0
    assert titles(store.search('"防汛抗旱"')) == {"国务院常务会议研究防汛抗旱"}
    assert store.search('"抗旱防汛"')["total"] == 0


def test_latin_words_ignore_case_and_mix_with_chinese(store, corpus):
    assert titles(store.search("gdp")) == {"GDP增长5.2%"}
    assert titles(store.search("GDP增长")) == {"GDP增长5.2%"}


def test_title_match_ranks_above_body_match(store, corpus):
    found = store.search("防汛")
    ranked = [item["title"] for item in found["items"]]
    # Both only mention it in the body: they come after every title match.
    body_only = {"上海推进城市更新", "河北暂停部分景区开放"}
    assert set(ranked[-2:]) == body_only


def test_filters_combine(store, corpus):
    assert titles(store.search("防汛", source="yaowen")) == {"国务院常务会议研究防汛抗旱"}
    assert titles(store.search("防汛", status="removed")) == {"河北暂停部分景区开放"}
    march = store.search("防汛", source="difang", status="live", since=date(2026, 3, 1))
    assert titles(march) == {"北京市部署防汛工作", "天津市防汛值班通知"}
    assert titles(store.search("防汛", origin="北京日报")) == {"北京市部署防汛工作"}
    assert store.search("防汛", until=date(2026, 2, 28))["total"] == 1


def test_a_day_is_read_in_the_sources_timezone(store, corpus):
    # Published 2026-03-05T09:00+08:00, i.e. 01:00 UTC: on March 5th in Beijing.
    found = store.search("北京", since=date(2026, 3, 5), until=date(2026, 3, 5))
    assert found["total"] == 1
    assert store.search("北京", since=datetime(2026, 3, 5, 2, tzinfo=UTC))["total"] == 0


def test_no_query_lists_newest_first(store, corpus):
    found = store.search(None, source="difang", limit=3)
    assert found["total"] == 4
    assert [item["published_at"][:10] for item in found["items"]] == [
        "2026-03-09", "2026-03-08", "2026-03-05"]


def test_paging_is_stable_and_complete(store, corpus):
    # Every filler article scores the same for 通知: order falls back to date, then id.
    seen = []
    for offset in range(0, FILLER + 10, 7):
        page = store.search("通知", limit=7, offset=offset)
        assert page["total"] == FILLER + 1
        seen += [item["id"] for item in page["items"]]
    assert len(seen) == len(set(seen)) == FILLER + 1
    again = [item["id"] for item in store.search("通知", limit=100)["items"]]
    assert again == seen


def test_index_follows_new_versions(store, corpus):
    assert titles(store.search("抗洪")) == {"天津市防汛值班通知"}
    assert store.search("二十四小时")["items"][0]["id"] == corpus.ids["edited"]


def test_index_follows_deleted_and_rebuilt_articles(store, corpus):
    store.reset_derived("yaowen")
    assert store.search("国务院")["total"] == 0
    assert store.search("防汛")["total"] == 4
    assert store.rebuild_search_index() == 4
    assert store.search("防汛")["total"] == 4


def test_bad_queries_are_refused(store, corpus):
    with pytest.raises(SearchQueryError, match="unbalanced quote"):
        store.search('"防汛')
    with pytest.raises(SearchQueryError, match="nothing to search"):
        parse_query("，。！")
    with pytest.raises(SearchQueryError, match="unknown status"):
        store.search("防汛", status="gone")


def test_list_items_leave_out_versions_unless_asked(store, corpus):
    assert "versions" not in store.search("防汛")["items"][0]
    assert store.search("抗洪", versions=True)["items"][0]["versions"][1]["n"] == 2


def test_reingesting_after_a_reset_rebuilds_the_index(store, corpus):
    # What `replay reparse` does: drop the derived articles, ingest the captures again.
    store.reset_derived()
    assert store.search("防汛")["total"] == 0
    search_corpus.build(store)
    assert store.search("防汛")["total"] == 5
    assert titles(store.search("抗洪")) == {"天津市防汛值班通知"}


def test_query_words_split_by_punctuation_or_script_match_the_document():
    assert parse_query("增长2024")[0].phrase == tuple(tokens("增长2024"))
    assert parse_query("防汛，工作")[0].phrase == ("防汛", "汛", "工作")
    assert tokens("防汛，工作")[:3] == ["防汛", "汛", "工作"]
