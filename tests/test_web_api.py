"""The JSON API (CONTRACT.md "HTTP") with FastAPI's test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from govarchive.web import WebConfig, create_app
from tests import search_corpus


@pytest.fixture
def app(store):
    corpus = search_corpus.build(store)
    run_id = store.start_run(["difang"])
    store.finish_run(run_id, status="ok", counts={"requests": 12, "new_articles": 3},
                     error=None)
    with TestClient(create_app(store, WebConfig(collection="test"))) as client:
        yield client, corpus


def search(client, **params):
    response = client.get("/api/articles", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_two_character_word_is_found(app):
    client, _ = app
    found = search(client, q="防汛")
    assert found["total"] == 5
    assert set(found) == {"total", "total_exact", "ranked", "items"}
    assert found["total_exact"] is True
    assert found["ranked"] == 5  # all of them in relevance order
    assert search(client, q="防汛", sort="date")["ranked"] == 0
    hit = found["items"][0]
    assert {"id", "source", "url", "urls", "title", "status", "snippet"} <= set(hit)
    assert "防汛" in hit["title"] + hit["body_text"]


def test_filters_combine(app):
    client, _ = app
    titles = lambda found: {item["title"] for item in found["items"]}
    assert titles(search(client, q="防汛", source="difang", since="2026-03-01",
                         status="live")) == {"北京市部署防汛工作", "天津市防汛值班通知"}
    assert titles(search(client, q="防汛", status="removed", until="2026-03-31")) == {
        "河北暂停部分景区开放"}
    assert search(client, q="防汛", source="yaowen", origin="北京日报")["total"] == 0
    assert titles(search(client, status="removed")) == {"河北暂停部分景区开放"}


def test_paging_is_stable(app):
    client, _ = app
    pages = [search(client, q="通知", limit=10, offset=offset) for offset in range(0, 50, 10)]
    ids = [item["id"] for page in pages for item in page["items"]]
    assert {page["total"] for page in pages} == {search_corpus.FILLER + 1}
    assert len(ids) == len(set(ids)) == search_corpus.FILLER + 1
    assert ids == [item["id"] for item in search(client, q="通知", limit=100)["items"]]


def test_bad_parameters_are_400_or_422(app):
    client, _ = app
    assert client.get("/api/articles", params={"q": '"防汛'}).status_code == 400
    assert client.get("/api/articles", params={"since": "March"}).status_code == 400
    assert client.get("/api/articles", params={"limit": 1000}).status_code == 422
    assert client.get("/api/articles", params={"status": "gone"}).status_code == 422


def test_one_article_is_the_export_record(app):
    client, corpus = app
    record = client.get(f"/api/articles/{corpus.ids['edited']}").json()
    assert record["title"] == "天津市防汛值班通知"
    assert [v["n"] for v in record["versions"]] == [1, 2]
    assert record["versions"][1]["changed"] == ["body_text"]
    assert client.get("/api/articles/999999").status_code == 404


def test_diff_endpoint_returns_field_diffs(app):
    client, corpus = app
    diff = client.get(f"/api/articles/{corpus.ids['edited']}/diff",
                      params={"from": 1, "to": 2}).json()
    assert diff["from"] == 1 and diff["to"] == 2
    assert diff["changed"] == ["body_text"]
    ops = diff["fields"]["body_text"]
    assert ["insert", "抗洪"] in ops
    assert "".join(t for op, t in ops if op != "insert") == search_corpus.EDITED_BEFORE
    assert "".join(t for op, t in ops if op != "delete") == search_corpus.EDITED_AFTER
    assert client.get(f"/api/articles/{corpus.ids['edited']}/diff",
                      params={"from": 1, "to": 9}).status_code == 404


def test_history_has_status_events(app):
    client, corpus = app
    history = client.get(f"/api/articles/{corpus.ids['removed']}/history").json()
    assert [e["kind"] for e in history["timeline"] if e["type"] == "event"] == ["gone", "removed"]


def test_runs_as_runs_json(app):
    client, _ = app
    runs = client.get("/api/runs", params={"source": "difang"}).json()
    assert [(r["source"], r["status"], r["requests"]) for r in runs] == [("difang", "ok", 12)]
    assert client.get("/api/runs", params={"source": "yaowen"}).json() == []


def test_openapi_schema_and_read_only(app):
    client, corpus = app
    schema = client.get("/openapi.json").json()
    assert {"/api/articles", "/api/articles/{article_id}", "/api/articles/{article_id}/diff",
            "/api/runs"} <= set(schema["paths"])
    assert all(set(methods) == {"get"} for methods in schema["paths"].values())
    assert client.post("/api/articles").status_code == 405
    assert client.delete(f"/api/articles/{corpus.ids['flood']}").status_code == 405
