"""A site of ours driven through several states between crawls (``govarchive crawl`` in a
subprocess): edits, cosmetic changes, deletions, soft-404s, challenges, 5xx, a move, a
cross-post, a delisting and a Big5 mirror, checked through the export record and history."""

from __future__ import annotations

import json
import re

import pytest

from tests.crawling import make_project, site_source

pytestmark = pytest.mark.slow  # crawls in subprocesses

DIFANG = "/lianbo/difang/202403/"
EDITED = "/lianbo/difang/202402/content_6937001.htm"
COSMETIC = "/lianbo/difang/202402/content_6937002.htm"
DELETED = "/lianbo/difang/202402/content_6937003.htm"
MIRRORED = DIFANG + "content_6937004.htm"
SOFT_404 = DIFANG + "content_6937005.htm"
CHALLENGED = DIFANG + "content_6937006.htm"
FAILING = DIFANG + "content_6937007.htm"
MOVED = DIFANG + "content_6937008.htm"
MOVED_TO = DIFANG + "content_6937108.htm"
DELISTED = DIFANG + "content_6937009.htm"
CROSS_POSTED = DIFANG + "content_6937010.htm"
CROSS_POST = DIFANG + "content_6937110.htm"
START = "/lianbo/difang/index.htm"
ERROR_PAGE = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>页面不存在</title></head>"
              "<body><div class='err'><h1>404</h1><p>您访问的页面不存在或已被删除！</p>"
              "<a href='/'>返回首页</a></div></body></html>")


def _project(tmp_path, govcn, big5, database_url):
    # Every list page read every run: only full walks delist (crawler.walk).
    project = make_project(tmp_path, [site_source("govcn", govcn, walk="all"),
                                      site_source("big5", big5, walk="all")],
                           init=False, storage_url=database_url)
    # Two gone fetches a second apart remove an article (the default is 2 over 24 hours).
    tracking = '\n[sources.tracking]\nremoval_confirmations = 2\nremoval_min_interval = "1s"\n'
    blocks = project.config.read_text(encoding="utf-8").split("[[sources]]")
    project.config.write_text(
        "[[sources]]".join([blocks[0], *(b.rstrip("\n") + "\n" + tracking for b in blocks[1:])]),
        encoding="utf-8",
    )
    assert project.run("init").returncode == 0
    return project


def _by_path(project, server) -> dict[str, dict]:
    records = {}
    for record in project.export():
        for url in record["urls"]:
            records[url.removeprefix(server.base_url)] = record
    return records


def _events(project, article_id: int) -> list[str]:
    result = project.run("articles", "history", str(article_id), "--json")
    assert result.returncode == 0, result.stderr
    return [e["kind"] for e in json.loads(result.stdout)["timeline"] if e["type"] == "event"]


def _crawl(project, *args):
    result = project.crawl("--all", *args)
    assert result.returncode in (0, 1), result.stderr
    return result


def test_a_site_through_its_states(tmp_path, govcn_site, big5_site, database_url):
    project = _project(tmp_path, govcn_site, big5_site, database_url)
    _crawl(project)
    first = _by_path(project, govcn_site)
    mirror = next(r for r in project.export() if r["source"] == "big5"
                  and r["duplicates"] == [first[MIRRORED]["id"]])
    assert first[MIRRORED]["duplicates"] == [mirror["id"]]

    site = govcn_site
    page = site.page(EDITED).decode("utf-8")
    site.override(EDITED, body=re.sub(r"<h1>(.*?)</h1>", r"<h1>\1（更新）</h1>", page, count=1))
    page = site.page(COSMETIC).decode("utf-8")
    site.override(COSMETIC, body=page.replace(
        'id="UCAP-CONTENT">', 'id="UCAP-CONTENT"><p>浏览次数：5321</p>', 1).replace(
        "</body>", "<div>页面生成时间：2026-11-26 08:00:00</div></body>"))
    site.remove(DELETED)
    site.override(SOFT_404, body=ERROR_PAGE)
    site.block(FAILING, "500")
    site.override(MOVED_TO, body=site.page(MOVED))
    site.override(MOVED, status=301, redirect=MOVED_TO)
    site.override(CROSS_POST, body=site.page(CROSS_POSTED))
    listing = site.page(START).decode("utf-8")
    listing = re.sub(r"<li><h4><a href=\"\./202403/content_6937009\.htm\".*?</li>\n", "", listing)
    listing = listing.replace(
        "<ul>\n<li>", '<ul>\n<li><h4><a href="./202403/content_6937110.htm">转载</a></h4></li>\n<li>',
        1)
    site.override(START, body=listing)

    _crawl(project, "--revisit", "all")
    second = _by_path(project, govcn_site)
    versions = {path: [(v["n"], v["changed"]) for v in second[path]["versions"]]
                for path in (EDITED, COSMETIC, MOVED)}
    assert versions == {EDITED: [(1, []), (2, ["title"])], COSMETIC: [(1, [])],
                        MOVED: [(1, [])]}
    assert second[MOVED_TO]["id"] == second[MOVED]["id"]
    assert [u.removeprefix(site.base_url) for u in second[MOVED]["urls"]] == [MOVED, MOVED_TO]
    assert [u.removeprefix(site.base_url) for u in second[CROSS_POSTED]["urls"]] == [
        CROSS_POSTED, CROSS_POST]
    expected_events = {DELETED: ["gone"], SOFT_404: ["gone"], CHALLENGED: [],
                       FAILING: [], DELISTED: ["delisted"], EDITED: [], MOVED: []}
    assert {p: _events(project, second[p]["id"]) for p in expected_events} == expected_events
    assert {second[p]["status"] for p in expected_events} == {"live"}

    _crawl(project, "--revisit", "all")
    third = _by_path(project, govcn_site)
    statuses = {p: third[p]["status"] for p in (DELETED, SOFT_404, CHALLENGED, FAILING)}
    assert statuses == {DELETED: "removed", SOFT_404: "removed", CHALLENGED: "live",
                        FAILING: "live"}
    assert _events(project, third[DELETED]["id"]) == ["gone", "gone", "removed"]
    runs = project.runs()
    assert runs[1]["source"] == "govcn" and runs[1]["removed"] == 2

    site.reset(DELETED)
    _crawl(project, "--revisit", "all")
    fourth = _by_path(project, govcn_site)
    assert fourth[DELETED]["status"] == "live"
    assert _events(project, fourth[DELETED]["id"])[-1] == "restored"
    assert len(fourth[DELETED]["versions"]) == 1

    # An anti-bot answer is recorded as blocked, never as gone. It comes last, in a run of
    # its own: after a challenge the spider backs off from the whole host, so new links on
    # list pages read after it would not be followed in that run.
    site.block(CHALLENGED, "412")
    _crawl(project, "--revisit", "all")
    fifth = _by_path(project, govcn_site)
    assert fifth[CHALLENGED]["status"] == "live"
    assert _events(project, fifth[CHALLENGED]["id"]) == ["blocked"]
    assert next(r for r in project.runs() if r["source"] == "govcn")["status"] == "blocked"


def test_a_challenged_list_page_delists_nothing(tmp_path, govcn_site, big5_site, database_url):
    # The section's third list page answers with an anti-bot challenge: the articles only it
    # lists were not seen, which says nothing about whether the section still lists them.
    project = _project(tmp_path, govcn_site, big5_site, database_url)
    _crawl(project)
    govcn_site.block("/lianbo/difang/index_2.htm", "412")
    result = _crawl(project, "--revisit", "none")
    assert "anti-bot" in result.stderr
    records = _by_path(project, govcn_site)
    for path in (EDITED, COSMETIC):
        assert _events(project, records[path]["id"]) == [], path
    assert next(r for r in project.runs() if r["source"] == "govcn")["status"] == "blocked"
