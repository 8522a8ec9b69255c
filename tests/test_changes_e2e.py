"""Change events end to end: ``govarchive crawl`` of the govcn test site through its states
(an edit of a number, a cosmetic change, a removal and its return, a move, a delisting), then
``govarchive replay reparse`` of the archive, which must rebuild the same events as history."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from govarchive.storage import Store
from govarchive.storage.models import ChangeEvent
from tests.crawling import make_project, site_source

pytestmark = pytest.mark.slow  # crawls in subprocesses

EDITED = "/lianbo/difang/202402/content_6937001.htm"
COSMETIC = "/lianbo/difang/202402/content_6937002.htm"
DELETED = "/lianbo/difang/202402/content_6937003.htm"
MOVED = "/lianbo/difang/202403/content_6937008.htm"
MOVED_TO = "/lianbo/difang/202403/content_6937108.htm"
DELISTED = "/lianbo/difang/202403/content_6937009.htm"
START = "/lianbo/difang/index.htm"


def _project(tmp_path, site, database_url):
    # Every list page read every run: only full walks delist (crawler.walk).
    project = make_project(tmp_path, [site_source("govcn", site, walk="all")], init=False,
                           storage_url=database_url)
    # Two gone fetches a second apart remove an article (the default is 2 over 24 hours).
    project.config.write_text(
        project.config.read_text(encoding="utf-8")
        + '\n[sources.tracking]\nremoval_confirmations = 2\nremoval_min_interval = "1s"\n',
        encoding="utf-8")
    assert project.run("init").returncode == 0
    return project


def _crawl(project, *args):
    result = project.crawl("--all", *args)
    assert result.returncode in (0, 1), result.stderr
    return result


def _events(database_url: str, base: str) -> list[tuple]:
    """(kind, path, version, changed, summary, detail path) of every event, in the order the
    changes were seen, and whether each is fanned out."""
    with Store(database_url) as store:
        found = []
        before = None
        while page := store.list_changes(limit=100, before_id=before):
            found += page
            before = page[-1]["id"]
        with store._engine.connect() as conn:
            fanned = dict(conn.execute(sa.select(ChangeEvent.id, ChangeEvent.fanned_out_at)).all())
    found.sort(key=lambda e: (e["at"], e["id"]))
    return [(e["kind"], e["url"].removeprefix(base), e["version"], e["changed"], e["summary"],
             (e["detail"] or "").removeprefix(base), fanned[e["id"]] is not None)
            for e in found]


def test_crawls_make_one_event_per_change_and_reparse_rebuilds_them(
        tmp_path, govcn_site, database_url):
    site, base = govcn_site, govcn_site.base_url
    project = _project(tmp_path, site, database_url)
    _crawl(project)
    first = _events(database_url, base)
    articles = len(site.expected["articles"])
    assert [e[0] for e in first] == ["new"] * articles
    assert all(e[2] == 1 and not e[6] for e in first)

    # Epoch two: a number edited, page chrome changed, a page gone, a move, a delisting.
    page = site.page(EDITED).decode("utf-8")
    assert "第十八批" in page
    site.override(EDITED, body=page.replace("第十八批", "第十九批"))
    page = site.page(COSMETIC).decode("utf-8")
    site.override(COSMETIC, body=page.replace(
        'id="UCAP-CONTENT">', 'id="UCAP-CONTENT"><p>浏览次数：5321</p>', 1).replace(
        "</body>", "<div>页面生成时间：2026-11-26 08:00:00</div></body>"))
    site.remove(DELETED)
    site.override(MOVED_TO, body=site.page(MOVED))
    site.override(MOVED, status=301, redirect=MOVED_TO)
    listing = site.page(START).decode("utf-8")
    site.override(START, body=re.sub(
        r"<li><h4><a href=\"\./202403/content_6937009\.htm\".*?</li>\n", "", listing))
    _crawl(project, "--revisit", "all")
    _crawl(project, "--revisit", "all")  # the second gone fetch confirms the removal
    site.reset(DELETED)
    _crawl(project, "--revisit", "all")

    crawled = _events(database_url, base)
    assert crawled[:articles] == first
    later = crawled[articles:]
    assert sorted(later) == sorted([
        ("edited", EDITED, 2, ["body_text"], "正文: 十八 → 十九", "", False),
        ("moved", MOVED_TO, None, [], None, MOVED, False),
        ("delisted", DELISTED, None, [], None, "", False),
        ("removed", DELETED, None, [], None, "answered 404", False),
        ("restored", DELETED, None, [], None, "", False),
    ])
    kinds = [e[0] for e in later]
    assert kinds.index("removed") < kinds.index("restored")
    assert not any(e[1] == COSMETIC for e in later)
    listed = project.run("changes", "--json", "--limit", "1000")
    assert listed.returncode == 0, listed.stderr
    as_json = [json.loads(line) for line in listed.stdout.splitlines()]
    assert sorted((e["kind"], e["url"].removeprefix(base), e["version"], e["summary"])
                  for e in as_json) == sorted(e[:3] + (e[4],) for e in crawled)

    result = project.run("replay", "reparse")
    assert result.returncode == 0, result.stderr
    rebuilt = _events(database_url, base)
    assert [e[:6] for e in rebuilt] == [e[:6] for e in crawled]
    assert all(e[6] for e in rebuilt)  # history: no watch hears of it again
