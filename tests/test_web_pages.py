"""The HTML pages, fetched as a browser without JavaScript would (FastAPI's test client)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from govarchive.storage import Store
from govarchive.web import WebConfig, create_app
from tests import search_corpus

REPLAY = "http://replay.test/{collection}/{timestamp}/{url}"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'govarchive.db'}"
    with Store(url) as store:
        store.migrate()
        corpus = search_corpus.build(store)
        config = WebConfig(collection="test", replay_url=REPLAY)
        with TestClient(create_app(store, config)) as client:
            yield client, corpus


def test_search_page_lists_highlighted_hits(app):
    client, _ = app
    page = client.get("/", params={"q": "防汛", "source": "difang", "status": "live"})
    assert page.status_code == 200
    assert "共 <strong>3</strong> 篇" in page.text
    assert "北京市部署<mark>防汛</mark>工作" in page.text
    assert '<option value="difang" selected>' in page.text


def test_search_page_pages_through_results(app):
    client, _ = app
    first = client.get("/", params={"q": "通知"}).text
    assert "第 1 / 3 页" in first
    next_link = re.search(r'<a rel="next" href="([^"]+)"', first).group(1)
    second = client.get(next_link.replace("&amp;", "&")).text
    assert "第 2 / 3 页" in second and 'rel="prev"' in second


def test_search_page_says_when_only_the_newest_hits_are_ranked(app, monkeypatch):
    from govarchive.storage import search

    client, _ = app
    assert "按相关度" not in client.get("/", params={"q": "通知"}).text
    monkeypatch.setattr(search, "RANK_WINDOW", 10)
    assert "按相关度排列最新的 10 篇，其余按时间排列" in client.get("/", params={"q": "通知"}).text
    assert "按相关度" not in client.get("/", params={"q": "通知", "sort": "date"}).text


def test_search_page_says_when_counting_stopped(app, monkeypatch):
    from govarchive.storage import search

    client, _ = app
    monkeypatch.setattr(search, "TOTAL_LIMIT", 30)
    first = client.get("/", params={"q": "通知"}).text
    assert "共 <strong>30+</strong> 篇（<a" in first and "，第 1 / 2+ 页" in first
    third = client.get("/", params={"q": "通知", "page": 3}).text
    assert "第 3 / 3+ 页" in third and 'rel="next"' not in third  # 46 hits: a short page
    count_all = re.search(r'<a href="([^"]+)">统计全部</a>', first).group(1).replace("&amp;", "&")
    counted = client.get(count_all).text
    assert "共 <strong>46</strong> 篇，第 1 / 3 页" in counted and "统计全部" not in counted
    assert "count=all" in re.search(r'<a rel="next" href="([^"]+)"', counted).group(1)


def test_search_page_reports_a_bad_query(app):
    client, _ = app
    page = client.get("/", params={"q": '"防汛'})
    assert page.status_code == 400
    assert "unbalanced quote" in page.text


def test_article_page_shows_versions_and_side_by_side_diff(app):
    client, corpus = app
    page = client.get(f"/articles/{corpus.ids['edited']}").text
    assert "<ins>抗洪</ins>" in page
    assert "<del>落实</del>" in page
    assert page.count("存档快照") == 2
    assert 'href="http://replay.test/test/20260301080000/https://www.example.gov.cn/dfzw/' in page


def test_article_page_picks_versions_without_javascript(app):
    client, corpus = app
    same = client.get(f"/articles/{corpus.ids['edited']}", params={"from": 2, "to": 2}).text
    assert "内容相同" in same


def test_article_page_shows_fields_status_history_and_attachments(app):
    client, corpus = app
    flood = client.get(f"/articles/{corpus.ids['flood']}").text
    assert "防汛预案.pdf" in flood and "北京日报" in flood
    removed = client.get(f"/articles/{corpus.ids['removed']}").text
    assert "状态记录" in removed and "已删除" in removed and "无法访问" in removed


def test_archived_html_is_never_rendered(app):
    client, corpus = app
    page = client.get(f"/articles/{corpus.ids['flood']}").text
    assert "<iframe" not in page and "<script" not in page


def test_runs_page(app):
    client, _ = app
    page = client.get("/runs", params={"source": "difang"})
    assert page.status_code == 200
    assert "抓取记录 · difang" in page.text


def test_unknown_article_is_a_404_page(app):
    client, _ = app
    page = client.get("/articles/999999")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "no article with id 999999" in page.text
    api = client.get("/api/articles/999999")
    assert api.status_code == 404 and api.json() == {"detail": "no article with id 999999"}


def test_api_docs_page_works_offline(app):
    """/docs lists the API from the schema and loads nothing from another host (FastAPI's
    own page pulls Swagger UI from a CDN, blank offline)."""
    client, _ = app
    page = client.get("/docs")
    assert page.status_code == 200
    # Every src/href is on this server (url_for writes the request's own host).
    links = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    assert links and {urlsplit(link).netloc for link in links} <= {"", "testserver"}
    assert "cdn" not in page.text.lower()
    assert 'href="/openapi.json"' in page.text
    for endpoint in ("GET /api/articles", "GET /api/articles/{article_id}/diff", "GET /api/runs"):
        assert f"<code>{endpoint}</code>" in page.text
    assert "<code>exact_total</code>" in page.text  # parameters come from the schema too
    assert client.get("/redoc").status_code == 404
