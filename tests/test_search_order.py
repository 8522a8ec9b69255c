"""The search index's order (``storage.search_index.sort_key``), the ranked window of newest
hits, and migration 0005 that keyed the index by publication time; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command

from govarchive.storage import Store, search
from govarchive.storage import engine as db
from govarchive.storage.models import Article
from govarchive.storage.search_index import (
    SEARCH_TABLE,
    first_key,
    postgresql_key_sql,
    sort_key,
    sqlite_key_sql,
)
from tests import search_corpus
from tests.builders import FakeCrawl

BEIJING = "+08:00"


@pytest.fixture
def crawl(store):
    return FakeCrawl(store, source="difang")


def _engine(store: Store) -> sa.Engine:
    return store._engine


def _index_keys(conn: sa.Connection) -> dict[int, int]:
    """{article id: its key in the search table}."""
    if conn.dialect.name == "postgresql":
        rows = conn.execute(sa.text(f"SELECT article_id, sort_key FROM {SEARCH_TABLE}"))
    else:
        rows = conn.execute(sa.text(f"SELECT rowid & 2147483647, rowid FROM {SEARCH_TABLE}"))
    return dict(rows.all())


def _sql_keys(conn: sa.Connection) -> dict[int, int]:
    """{article id: sort_key as the migration's and triggers' SQL computes it}."""
    key = postgresql_key_sql("a") if conn.dialect.name == "postgresql" else sqlite_key_sql("a")
    return dict(conn.execute(sa.text(f"SELECT a.id, {key} FROM articles a")).all())


DATES = [None, "1949-10-01T15:00:00+08:00", "1970-01-01T08:00:00+08:00",
         "2011-04-02T08:30:00+08:00", "2011-04-02T08:30:01+08:00", "2150-01-01T00:00:00+08:00"]


def test_key_orders_newest_first_and_agrees_with_sql(store, crawl):
    ids = [crawl.article(f"/k{i}.htm", datetime(2026, 3, 1, tzinfo=UTC), title=f"通知{i}",
                         published_at=when, body_text=f"关于做好防汛工作的通知 {i}").article_id
           for i, when in enumerate(DATES)]
    with _engine(store).connect() as conn:
        index_keys, sql_keys = _index_keys(conn), _sql_keys(conn)
        published = dict(conn.execute(sa.select(Article.id, Article.published_utc)).all())
    python_keys = {i: sort_key(published[i], i) for i in ids}
    assert index_keys == sql_keys == python_keys
    # Descending key order: latest first (the clamped far future first), undated last.
    by_key = sorted(ids, key=lambda i: -python_keys[i])
    assert by_key == [ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]]


def test_key_range_is_the_published_range():
    second = int(datetime(2026, 3, 5, 1, tzinfo=UTC).timestamp())
    at = datetime.fromtimestamp(second, UTC)
    assert first_key(second) <= sort_key(at, 7) < first_key(second + 1)
    assert sort_key(None, 7) < first_key() <= sort_key(datetime(1800, 1, 1, tzinfo=UTC), 1)
    with pytest.raises(ValueError, match="does not fit"):
        sort_key(at, 1 << 31)


@pytest.fixture
def dated(crawl):
    """Eight articles a day apart that all mention 防汛: the older four in their titles, the
    newer four in their bodies only, the older of those more often."""
    ids = []
    for day in range(8):
        title = f"第{day}号防汛通知" if day < 4 else f"第{day}号工作通知"
        body = "各地要做好防汛准备。" * (1 if day < 4 else 8 - day) + "值班安排。"
        ids.append(crawl.article(f"/d{day}.htm", datetime(2026, 4, 1, tzinfo=UTC), title=title,
                                 published_at=f"2026-03-{day + 1:02d}T09:00:00{BEIJING}",
                                 body_text=body).article_id)
    return ids


def test_the_newest_hits_are_ranked_and_the_rest_follow_newest_first(store, dated, monkeypatch):
    monkeypatch.setattr(search, "RANK_WINDOW", 4)
    found = store.search("防汛", limit=20)
    order = [item["id"] for item in found["items"]]
    assert found["total"] == 8
    # The window is days 7..4, ranked by how often they say it; then days 3..0 by date,
    # though their titles match and would rank them first.
    assert order == [dated[4], dated[5], dated[6], dated[7], dated[3], dated[2], dated[1], dated[0]]
    pages = [item["id"] for offset in range(0, 8, 3)
             for item in store.search("防汛", limit=3, offset=offset)["items"]]
    assert pages == order
    by_date = [item["id"] for item in store.search("防汛", sort="date")["items"]]
    assert by_date == dated[::-1]
    monkeypatch.setattr(search, "RANK_WINDOW", 1000)
    assert [item["id"] for item in store.search("防汛")["items"]][:4] == dated[3::-1]


def test_a_new_publication_time_moves_the_article_in_the_index(store, crawl, dated):
    moved = crawl.article("/d0.htm", datetime(2026, 4, 2, tzinfo=UTC),
                          title="第0号防汛通知（更正）", published_at=f"2026-03-20T09:00:00{BEIJING}",
                          body_text="各地要做好防汛准备。").article_id
    assert moved == dated[0]
    assert store.search("防汛")["total"] == 8
    assert [i["id"] for i in store.search("防汛", since=date(2026, 3, 15))["items"]] == [moved]
    assert moved not in [i["id"] for i in store.search("防汛", until=date(2026, 3, 2))["items"]]
    with _engine(store).connect() as conn:
        assert _index_keys(conn) == _sql_keys(conn)


def test_date_bounds_match_the_article_list(store, dated):
    # The key range answers the same as the articles table's published_utc filter.
    nine = datetime(2026, 3, 3, 1, tzinfo=UTC)  # day 2, 09:00 in Beijing
    for since, until in [(date(2026, 3, 3), None), (None, date(2026, 3, 3)),
                         (nine, nine), (nine + timedelta(microseconds=1), None),
                         (None, nine - timedelta(microseconds=1)), (date(2026, 3, 2), date(2026, 3, 5))]:
        hits = {i["id"] for i in store.search("防汛", since=since, until=until, limit=100)["items"]}
        listed = {i["id"] for i in store.search(None, since=since, until=until, limit=100)["items"]}
        assert hits == listed, (since, until)


def test_migration_0005_rekeys_an_existing_index_and_back(store, database_url):
    search_corpus.build(store)
    before = [store.search(q, limit=100) for q in ("防汛", "通知", "国务院")]
    url = db.parse_url(database_url)
    engine = db.create_engine(url)
    try:
        with engine.begin() as conn:
            command.downgrade(db.alembic_config(conn), "0004")
        with engine.connect() as conn:
            column = "article_id" if conn.dialect.name == "postgresql" else "rowid"
            keys = set(conn.execute(sa.text(f"SELECT {column} FROM {SEARCH_TABLE}")).scalars())
            articles = set(conn.execute(sa.text("SELECT id FROM articles")).scalars())
        assert keys == articles  # keyed by article id again
        db.upgrade(engine, url)
        with engine.connect() as conn:
            assert _index_keys(conn) == _sql_keys(conn)
    finally:
        engine.dispose()
    assert [store.search(q, limit=100) for q in ("防汛", "通知", "国务院")] == before


def test_counting_stops_past_the_limit_unless_asked(store, dated, monkeypatch):
    monkeypatch.setattr(search, "TOTAL_LIMIT", 5)
    found = store.search("防汛")
    assert (found["total"], found["total_exact"]) == (5, False)
    assert len(store.search("防汛", limit=20)["items"]) == 8  # every hit is still there
    exact = store.search("防汛", exact_total=True)
    assert (exact["total"], exact["total_exact"]) == (8, True)
    assert store.search("防汛", since=date(2026, 3, 5))["total_exact"] is True  # 4 hits
    listed = store.search(None, source="difang")
    assert (listed["total"], listed["total_exact"]) == (5, False)
    assert store.search(None, source="difang", exact_total=True)["total"] == 8


def test_newest_hits_across_years_months_and_undated(store, crawl, monkeypatch):
    # PostgreSQL reads the newest hits a few months at a time (storage.search_periods);
    # whatever the window, the order is the index's: newest first, undated last.
    whens = [None, None] + [f"{2019 + (i * 7) % 6}-{1 + (i * 5) % 12:02d}-{1 + i % 27:02d}"
                            f"T10:00:00{BEIJING}" for i in range(40)]
    for i, when in enumerate(whens):
        crawl.article(f"/n{i}.htm", datetime(2026, 4, 1, tzinfo=UTC), title=f"公告{i}",
                      published_at=when, body_text=f"关于防汛工作的第{i}号公告。")
    with _engine(store).connect() as conn:
        published = dict(conn.execute(sa.select(Article.id, Article.published_utc)).all())
    expected = sorted(published, key=lambda i: -sort_key(published[i], i))
    assert [i["id"] for i in store.search("防汛", sort="date", limit=100)["items"]] == expected
    for window in (1, 3, 10, 41):
        monkeypatch.setattr(search, "RANK_WINDOW", window)
        monkeypatch.setattr(search, "TOTAL_LIMIT", window)
        found = store.search("防汛", limit=100)
        ids = [i["id"] for i in found["items"]]
        assert sorted(ids[:window]) == sorted(expected[:window]), window
        assert ids[window:] == expected[window:], window
        assert (found["total"], found["total_exact"]) == (min(42, window), window >= 42)
    in_2021 = store.search("防汛", since=date(2021, 1, 1), until=date(2021, 12, 31), sort="date",
                           limit=100)
    beijing_year = {i: (p + timedelta(hours=8)).year for i, p in published.items() if p}
    assert [i["id"] for i in in_2021["items"]] == [
        i for i in expected if beijing_year.get(i) == 2021]


def test_hits_past_the_window_follow_even_when_counting_stopped_first(store, dated, monkeypatch):
    monkeypatch.setattr(search, "TOTAL_LIMIT", 2)
    monkeypatch.setattr(search, "RANK_WINDOW", 4)
    found = store.search("防汛", limit=20)
    assert (found["total"], found["total_exact"]) == (2, False)
    assert [i["id"] for i in found["items"]][4:] == [dated[3], dated[2], dated[1], dated[0]]
