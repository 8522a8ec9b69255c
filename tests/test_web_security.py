"""Hostile archived pages and hostile visitors of the web UI: sanitised body HTML, escaped
fields, the security headers on every answer, and capped requests (FastAPI's test client;
the browser test is tests/test_web_browser.py)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from govarchive.storage import Store
from govarchive.web import WebConfig, create_app
from govarchive.web.archived_html import sanitised
from govarchive.web.security import CONTENT_SECURITY_POLICY
from tests.builders import T0, FakeCrawl

URL = "http://www.example.gov.cn/art/2026/3/1/art_1.html"
HOSTILE_BODY = (
    '<p>会议强调<strong>抓好落实</strong>。</p>'
    '<script>window.pwned=1</script>'
    '<img src=x onerror="window.pwned=2">'
    '<p onclick="window.pwned=3" style="color:red">点击</p>'
    '<a href="javascript:window.pwned=4">链接</a>'
    '<a href="http://www.example.gov.cn/fj.pdf" target="_blank">附件</a>'
    '<iframe src="http://evil.test/"></iframe><style>body{display:none}</style>'
)
HOSTILE_TITLE = '<script>window.pwned=5</script>通知'


def hostile_store(store: Store) -> int:
    crawl = FakeCrawl(store, fields={"title": HOSTILE_TITLE, "body_text": "会议强调抓好落实。",
                                     "body_html": HOSTILE_BODY,
                                     "origin": '"><img src=x onerror=alert(1)>'})
    return crawl.article(URL, T0).article_id


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('websec') / 'govarchive.db'}"
    with Store(url) as store:
        store.migrate()
        article_id = hostile_store(store)
        with TestClient(create_app(store, WebConfig())) as client:
            yield client, article_id


def test_sanitiser_keeps_formatting_and_drops_everything_that_runs():
    clean = str(sanitised(HOSTILE_BODY))
    assert "<p>会议强调<strong>抓好落实</strong>。</p>" in clean
    for gone in ("<script", "pwned=1", "<img", "onerror", "onclick", "style", "javascript:",
                 "<iframe", "display:none", 'target="_blank"'):
        assert gone not in clean, gone
    assert '<a href="http://www.example.gov.cn/fj.pdf" rel="noopener noreferrer nofollow">' \
        in clean


def test_article_page_shows_the_sanitised_body_and_escaped_fields(hostile_app):
    client, article_id = hostile_app
    page = client.get(f"/articles/{article_id}")
    assert page.status_code == 200
    assert "<strong>抓好落实</strong>" in page.text        # the body's formatting is shown
    assert "<script" not in page.text and "onerror" not in page.text.replace(
        "onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;window.pwned=5&lt;/script&gt;通知" in page.text   # title escaped
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page.text      # origin escaped
    assert "<iframe" not in page.text                       # replay is linked, never embedded


@pytest.mark.parametrize("path", ["/", "/articles/1", "/runs", "/changes", "/docs",
                                  "/api/articles", "/articles/999", "/static/style.css",
                                  "/feeds/changes.atom"])
def test_every_answer_carries_the_security_headers(hostile_app, path):
    client, _ = hostile_app
    answer = client.get(path)
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"


def test_pages_use_no_inline_script_or_style(hostile_app):
    """The policy forbids them: a page that used one would break."""
    client, article_id = hostile_app
    for path in ("/", f"/articles/{article_id}", "/runs", "/changes", "/docs"):
        text = client.get(path).text
        assert "<script" not in text and "<style" not in text and " style=" not in text, path


@pytest.mark.parametrize("path,params,status,words", [
    ("/api/articles", {"limit": 10**9}, 422, "less than or equal to 100"),
    ("/api/runs", {"limit": 10**9}, 422, "less than or equal to 100"),
    ("/api/articles", {"q": "通知" * 150}, 400, "at most 200"),
    ("/", {"q": "通知" * 150}, 400, "at most 200"),
    ("/changes", {"q": "a" * 201}, 400, "at most 200"),
    ("/feeds/changes.atom", {"q": "a" * 201}, 400, "at most 200"),
    ("/api/articles", {"source": "x" * 5000}, 414, "at most 4096"),
    ("/", {"page": 10**9}, 422, "less than or equal to"),
    ("/api/articles", {"offset": 10**12}, 422, "less than or equal to"),
    ("/changes", {"before": 10**30}, 422, "less than or equal to"),
])
def test_oversized_requests_get_a_clear_4xx(hostile_app, path, params, status, words):
    client, _ = hostile_app
    answer = client.get(path, params=params)
    assert answer.status_code == status, answer.text
    assert words in answer.text


@pytest.mark.parametrize("path", ["/articles/99999999999999999999999999",
                                  "/api/articles/99999999999999999999999999",
                                  "/feeds/articles/99999999999999999999999999.atom"])
def test_an_id_too_large_for_the_database_is_not_found(hostile_app, path):
    client, _ = hostile_app
    assert client.get(path).status_code in (404, 422)


@pytest.mark.parametrize("path", ["/static/../app.py", "/static/%2e%2e/app.py",
                                  "/static/..%2fapp.py", "/articles/..%2f..%2fetc%2fpasswd"])
def test_no_path_leaves_the_static_folder(hostile_app, path):
    client, _ = hostile_app
    answer = client.get(path)
    assert answer.status_code == 404 or "create_app" not in answer.text
    assert "create_app" not in answer.text
