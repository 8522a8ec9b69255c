"""``govarchive crawl --revisit due|all|none`` against the govcn test site: conditional
requests, 304s archived as revisit records, and nothing fetched that need not be."""

from __future__ import annotations

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.crawling import make_project, site_source

pytestmark = pytest.mark.slow  # crawls in subprocesses


def _article_requests(server):
    articles = set(server.expected["articles"])
    return [r for r in server.requests if r.path in articles]


def _records(paths):
    found = []
    for path in paths:
        with path.open("rb") as f:
            found += [r.rec_headers for r in ArchiveIterator(f)]
    return found


def test_unchanged_recrawl_is_conditional_and_archived_as_revisits(tmp_path, govcn_site):
    project = make_project(tmp_path, [site_source("govcn", govcn_site)])
    assert project.crawl("govcn").returncode == 0
    first_files = set(project.warc_files())
    articles = govcn_site.expected["articles"]
    list_pages = set(govcn_site.expected["list_pages"])

    govcn_site.clear_requests()
    result = project.crawl("govcn", "--revisit", "all")
    assert result.returncode == 0, result.stderr
    fetched = _article_requests(govcn_site)
    assert sorted(r.path for r in fetched) == sorted(articles)
    assert all(r.header("If-None-Match") for r in fetched)
    others = [r.path for r in govcn_site.requests
              if r.path not in articles and r.path not in list_pages and r.path != "/robots.txt"]
    assert others == []

    new_files = sorted(set(project.warc_files()) - first_files)
    records = [h for h in _records(new_files) if h.get_header("WARC-Type") == "revisit"]
    # The articles, and the section's first list page (an until-known walk asks for it
    # with its validators too: crawler.walk).
    assert len(records) == len(articles) + 1
    assert sum(h.get_header("WARC-Target-URI") == govcn_site.url(govcn_site.expected["start"])
               for h in records) == 1
    assert {h.get_header("WARC-Profile").rsplit("/", 1)[-1] for h in records} == {
        "server-not-modified"}
    assert all(h.get_header("WARC-Refers-To-Target-URI") == h.get_header("WARC-Target-URI")
               for h in records)
    exported = project.export()
    assert {len(r["versions"]) for r in exported} == {1}
    assert {r["status"] for r in exported} == {"live"}
    runs = project.runs()
    assert runs[0]["new_articles"] == 0 and runs[0]["status"] == "ok"  # a quiet run

    # The fixture's articles are from 2024: older than a year, revisited every 30 days, so
    # none is due today; and --revisit none fetches no known article either.
    for mode in ("due", "none"):
        govcn_site.clear_requests()
        assert project.crawl("govcn", "--revisit", mode).returncode == 0
        assert _article_requests(govcn_site) == []


def test_a_run_revisits_at_most_max_revisits(tmp_path, govcn_site):
    # Every article due every run, but at most two fetched again a run.
    source = site_source("govcn", govcn_site, **{"tracking.revisit": ["36500d:every-run"],
                                                 "tracking.max_revisits": 2})
    project = make_project(tmp_path, [source])
    assert project.crawl("govcn").returncode == 0
    govcn_site.clear_requests()
    assert project.crawl("govcn", "--revisit", "due").returncode == 0
    assert len(_article_requests(govcn_site)) == 2
    govcn_site.clear_requests()
    assert project.crawl("govcn", "--revisit", "all").returncode == 0
    assert len(_article_requests(govcn_site)) == len(govcn_site.expected["articles"])
