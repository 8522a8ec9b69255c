"""The web UI in headless Chromium (Debian's ``chromium``, driven by Playwright's Python
package; no browser download): search, open an edited article, see the change highlighted.

Skips, saying why, where Chromium or playwright is absent. The screenshot goes to
``test-artifacts/`` (gitignored; CI keeps it).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from pathlib import Path

import pytest

from govarchive.storage import Store
from govarchive.web import WebConfig, create_app
from tests import change_feed, search_corpus

pytestmark = pytest.mark.slow  # a web server and headless Chromium

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium_path() -> str:
    path = os.environ.get("GOVARCHIVE_TEST_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.skip("no chromium on PATH (apt-get install chromium; or set GOVARCHIVE_TEST_CHROMIUM)")
    return path


@pytest.fixture
def server(tmp_path):
    """The search corpus served by uvicorn on a thread, on a port the OS picked."""
    yield from serve(tmp_path, search_corpus.build)


@pytest.fixture
def changes_server(tmp_path):
    """The change feed served the same way."""
    yield from serve(tmp_path, change_feed.build)


def serve(tmp_path, build):
    uvicorn = pytest.importorskip("uvicorn")
    url = f"sqlite:///{tmp_path / 'govarchive.db'}"
    with Store(url) as store:
        store.migrate()
        corpus = build(store)
        ready = threading.Event()

        class Server(uvicorn.Server):
            async def startup(self, sockets=None):
                await super().startup(sockets)
                ready.set()

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        app = create_app(store, WebConfig(collection="test"))
        srv = Server(uvicorn.Config(app, log_level="warning"))
        thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        try:
            assert ready.wait(30), "the web server did not start"
            yield f"http://127.0.0.1:{sock.getsockname()[1]}", corpus
        finally:
            srv.should_exit = True
            thread.join(30)
            sock.close()


def test_search_open_edited_article_and_see_the_change(server):
    executable = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    base, corpus = server
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900}, locale="zh-CN")
            page.goto(base + "/")
            page.fill("input[name=q]", "值班")
            page.click("form.search button[type=submit]")
            page.wait_for_url("**/?q=*")
            assert "共 1 篇" in page.inner_text("p.summary").replace("\u00a0", " ")
            page.click("ol.results a")
            page.wait_for_url(f"**/articles/{corpus.ids['edited']}")
            inserted = page.locator(".side-by-side .new ins").first
            assert inserted.inner_text() == "抗洪"
            assert inserted.is_visible()
            colour = inserted.evaluate("el => getComputedStyle(el).backgroundColor")
            assert colour not in ("rgba(0, 0, 0, 0)", "transparent")
            assert page.locator(".side-by-side .old del").first.inner_text() == "落实"
            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / "web-article-diff.png"
            page.locator("#diff").scroll_into_view_if_needed()
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
        finally:
            browser.close()


def test_changes_timeline_renders_with_badges_and_filters(changes_server):
    executable = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    base, feed = changes_server
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900}, locale="zh-CN")
            page.goto(base + "/")
            page.click("header.site nav >> text=变更 Changes")
            page.wait_for_url("**/changes")
            items = page.locator("ol.changes li.change")
            assert items.count() == len(feed.events)
            edit = page.locator(f"#change-{feed.events['edited_edit']}")
            assert edit.locator(".diff-summary").inner_text() == change_feed.EDIT_SUMMARY
            assert edit.locator(".diff-summary").is_visible()
            pending = page.locator(f"#change-{feed.events['pending_new']} .badge.status")
            assert pending.inner_text() == "待确认删除"
            # The title's archived markup is text on the page, never run.
            assert "<script>" in page.locator(f"#change-{feed.events['html_new']} h2").inner_text()
            page.check("input[name=kind][value=edited]")
            page.click("form.changes button[type=submit]")
            page.wait_for_url("**/changes?*kind=edited*")
            assert page.locator("ol.changes li.change").count() == 1
            page.go_back()
            page.wait_for_url("**/changes")
            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / "web-changes.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
        finally:
            browser.close()


@pytest.fixture
def hostile_server(tmp_path):
    """An article whose archived body holds a script and an onerror handler."""
    from tests.test_web_security import hostile_store

    yield from serve(tmp_path, hostile_store)


def test_archived_script_and_onerror_never_run_in_the_ui(hostile_server):
    executable = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    base, article_id = hostile_server
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            violations = []
            page.on("console", lambda msg: violations.append(msg.text)
                    if "Content Security Policy" in msg.text else None)
            answer = page.goto(f"{base}/articles/{article_id}")
            assert answer.status == 200
            policy = answer.headers["content-security-policy"]
            assert "script-src 'self'" in policy and "unsafe-inline" not in policy
            page.wait_for_load_state("load")
            body = page.locator("section.body")
            assert "抓好落实" in body.inner_text()                 # the body is shown
            assert body.locator("strong").inner_text() == "抓好落实"  # with its formatting
            assert page.evaluate("typeof window.pwned") == "undefined"
            assert page.locator("section.body script, section.body img, iframe").count() == 0
            assert "window.pwned=5" in page.inner_text("h1")       # a title is text
            # The page's own stylesheet still applies under the policy, and nothing of
            # ours was blocked by it.
            border = page.locator("header.site").evaluate(
                "el => getComputedStyle(el).borderBottomWidth")
            assert border == "3px"
            assert violations == []
            # Captures replay on another origin (pywb's port), never inside the UI.
            replay = page.locator("a", has_text="存档快照").first.get_attribute("href")
            assert not replay.startswith(base)
        finally:
            browser.close()
