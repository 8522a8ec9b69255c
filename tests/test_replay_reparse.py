"""Rebuilding the database from the archive: crawl, export, delete the database, init,
``replay reparse``, export -- the two exports must be equal."""

from __future__ import annotations

import urllib.request

import pytest

from tests.crawling import make_project, site_source
from tests.site.server import SiteServer

pytestmark = pytest.mark.slow  # crawls in subprocesses


def fetch(url: str) -> bytes:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        return response.read()


def ok(result):
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """Two sources crawled in turn; then one page edited, one removed, and every known article
    fetched again (revisit records for the unchanged ones)."""
    root = tmp_path_factory.mktemp("reparse")
    with SiteServer("govcn") as govcn, SiteServer("quirks") as quirks:
        project = make_project(root, [site_source("quirks", quirks), site_source("govcn", govcn)])
        # The last [[sources]] table is govcn's: one "gone" answer removes an article.
        with open(project.config, "a", encoding="utf-8") as f:
            f.write('[sources.tracking]\nremoval_confirmations = 1\nremoval_min_interval = "0s"\n')
        ok(project.run("init"))
        ok(project.crawl("govcn"))
        ok(project.crawl("quirks"))
        edited, removed = sorted(govcn.expected["articles"])[:2]
        title = govcn.expected["articles"][edited]["title"]
        page = fetch(govcn.url(edited)).decode("utf-8")
        govcn.override(edited, body=page.replace(title, title + "（更新）"))
        govcn.remove(removed)
        ok(project.crawl("govcn", "--revisit", "all"))
    return project


def _revisit_records(path):
    from warcio.archiveiterator import ArchiveIterator

    with open(path, "rb") as f:
        for record in ArchiveIterator(f):
            if record.rec_type == "revisit":
                yield record


def rebuild(project) -> None:
    assert "reparsed" in project.rebuild_from_archive().stderr


def test_rebuild_from_the_archive_gives_the_same_export(history):
    before = history.export()
    # What the crawl stored is worth comparing: new versions, redirects, several sources.
    assert {r["source"] for r in before} == {"govcn", "quirks"}
    assert any(len(r["versions"]) == 2 for r in before)
    assert any(r["status"] == "removed" for r in before)
    assert any(len(r["urls"]) > 1 for r in before)
    revisits = sum(1 for p in history.warc_files() for _ in _revisit_records(p))
    assert revisits > 0
    ok(history.run("warc", "check"))  # revisits resolve, versions point at records
    rebuild(history)
    after = history.export()
    assert after == before


def test_reparse_over_a_live_database_keeps_everything(history):
    before = history.export()
    ok(history.run("replay", "reparse"))
    after = history.export()
    # Ids may be handed out anew; everything else is as before.
    strip = [{k: v for k, v in r.items() if k != "id"} for r in before]
    assert [{k: v for k, v in r.items() if k != "id"} for r in after] == strip


def test_reparse_of_one_source_leaves_the_others_alone(history):
    before = {r["url"]: r for r in history.export()}
    result = ok(history.run("replay", "reparse", "--source", "quirks"))
    assert "reparsed" in result.stderr
    after = {r["url"]: r for r in history.export()}
    assert after.keys() == before.keys()
    for url, record in after.items():
        if record["source"] == "govcn":
            assert record == before[url]  # untouched, same id
        else:
            assert {k: v for k, v in record.items() if k != "id"} == {
                k: v for k, v in before[url].items() if k != "id"}


def test_reparse_of_an_unknown_source_is_a_usage_error(history):
    result = history.run("replay", "reparse", "--source", "nope")
    assert result.returncode == 2
