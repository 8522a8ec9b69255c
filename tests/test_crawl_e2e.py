"""End to end: crawl our test sites from their start URLs alone, as a user would.

Each test runs ``govarchive crawl`` in a subprocess against sites served by the test process,
then reads back what was stored (``govarchive export``) and archived (the WARC files).
"""

from __future__ import annotations

import gzip
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from govarchive.warc import RecordLocation, read_record
from tests.crawling import make_project, site_source

pytestmark = pytest.mark.slow  # crawls in subprocesses


def by_path(records: list[dict]) -> dict[str, dict]:
    out = {}
    for record in records:
        parts = urlsplit(record["url"])
        out[parts.path + (f"?{parts.query}" if parts.query else "")] = record
    return out


def assert_fields(record: dict, expected: dict) -> None:
    assert record["title"] == expected["title"]
    assert record["published_at"] == expected["published"]
    assert record["published_precision"] == expected["published_precision"]
    assert record["origin"] == expected["origin"]
    assert record["author"] == expected["author"]
    assert record["doc_number"] == expected["doc_number"]
    if expected.get("section"):
        assert record["section"] == expected["section"]
    assert expected["body_contains"] in record["body_text"]
    assert [a["name"] for a in record["attachments"]] == [a["name"] for a in expected["attachments"]]
    assert [urlsplit(a["url"]).path for a in record["attachments"]] == [
        a["path"] for a in expected["attachments"]]


def warc_records(project) -> list:
    """Every record of every closed WARC file: (headers, raw http headers, raw payload)."""
    out = []
    for path in project.warc_files():
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh, no_record_parse=False):
                payload = record.raw_stream.read()
                out.append((record.rec_headers, record.http_headers, payload))
    return out


def test_govcn_section_crawled_from_its_start_url(tmp_path, govcn_site):
    project = make_project(tmp_path, [site_source("govcn", govcn_site)])
    result = project.crawl("govcn")
    assert result.returncode == 0, result.stderr
    assert "govcn: ok" in result.stderr

    expected = govcn_site.expected
    records = by_path(project.export())
    assert set(records) == set(expected["articles"])           # every article, no decoy
    for path, fields in expected["articles"].items():
        assert_fields(records[path], fields)
        assert records[path]["status"] == "live"
        assert len(records[path]["versions"]) == 1
    for path in expected["list_pages"]:                          # every list page walked
        assert govcn_site.requested(path), path
    assert govcn_site.requested("/robots.txt")                   # polite
    for path in expected["disallowed"]:
        assert not govcn_site.requested(path)
    for request in govcn_site.requests:
        assert request.header("Accept-Encoding") == "gzip, deflate"
        assert request.header("User-Agent", "").startswith("govarchive/")

    runs = project.runs()
    assert runs[0]["status"] == "ok" and runs[0]["new_articles"] == len(expected["articles"])
    assert runs[0]["bytes_archived"] > 0


def test_crawl_opens_no_remote_control_port(tmp_path, govcn_site):
    # Scrapy 2.19 starts an HTTP remote-control server by default (and says so at INFO).
    project = make_project(tmp_path, [site_source("govcn", govcn_site)])
    result = project.run("-v", "crawl", "govcn")
    assert result.returncode == 0, result.stderr
    assert "Spider opened" in result.stderr  # INFO lines are there
    assert "Remote control" not in result.stderr


def test_trs_gb2312_ministry_with_script_pagination_and_attachments(tmp_path, ministry_site):
    project = make_project(tmp_path, [site_source("ministry", ministry_site)])
    result = project.crawl("ministry")
    assert result.returncode == 0, result.stderr

    expected = ministry_site.expected
    records = by_path(project.export())
    assert set(records) == set(expected["articles"])
    for path, fields in expected["articles"].items():
        assert_fields(records[path], fields)
    for path in expected["list_pages"]:
        assert ministry_site.requested(path), path

    # Attachments are fetched and archived like any response.
    archived = {urlsplit(h.get_header("WARC-Target-URI")).path: (http, payload)
                for h, http, payload in warc_records(project)
                if h.get_header("WARC-Type") == "response"}
    for fields in expected["articles"].values():
        for attachment in fields["attachments"]:
            http, payload = archived[attachment["path"]]
            assert http.get_statuscode() == "200"
            if attachment["path"].endswith(".pdf"):
                assert payload.startswith(b"%PDF")


def test_big5_traditional_mirror(tmp_path, big5_site):
    project = make_project(tmp_path, [site_source("big5", big5_site)])
    result = project.crawl("big5")
    assert result.returncode == 0, result.stderr
    records = by_path(project.export())
    assert set(records) == set(big5_site.expected["articles"])
    for path, fields in big5_site.expected["articles"].items():
        assert_fields(records[path], fields)


def test_archive_is_faithful(tmp_path, quirks_site, govcn_site):
    project = make_project(tmp_path, [site_source("quirks", quirks_site),
                                      site_source("govcn", govcn_site)])
    result = project.crawl("--all")
    assert result.returncode == 0, result.stderr
    assert project.warc_files() and not list(project.archive_dir.glob("*.open"))

    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check",
                            *map(str, project.warc_files())],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    records = warc_records(project)
    responses = {h.get_header("WARC-Target-URI"): (h, http, payload)
                 for h, http, payload in records if h.get_header("WARC-Type") == "response"}
    requests = [(h, http) for h, http, _ in records if h.get_header("WARC-Type") == "request"]
    response_ids = {h.get_header("WARC-Record-ID") for h, _, _ in responses.values()}
    for h, _http in requests:                                   # each request has its response
        assert h.get_header("WARC-Concurrent-To") in response_ids

    # A gzip-encoded response stays gzip-encoded, with a Content-Length that matches.
    _, http, payload = responses[quirks_site.url("/news/2024/content_43.htm")]
    assert http.get_header("Content-Encoding") == "gzip"
    assert int(http.get_header("Content-Length")) == len(payload)
    assert "本页用于测试" in gzip.decompress(payload).decode("utf-8")

    # Both Set-Cookie headers are kept.
    _, http, _ = responses[quirks_site.url("/news/2024/content_44.htm")]
    cookies = [v for k, v in http.headers if k.lower() == "set-cookie"]
    assert len(cookies) == 2 and cookies[0].startswith("gov_sid=")

    # The query string survives in the request record.
    lines = [f"{http.protocol} {http.statusline}" for h, http in requests
             if h.get_header("WARC-Target-URI") == quirks_site.url("/news/content.jsp?id=42&cat=7")]
    assert lines == ["GET /news/content.jsp?id=42&cat=7 HTTP/1.1"]

    # The 301 and robots.txt are archived too; the redirect's article keeps both URLs.
    assert quirks_site.url("/news/old/content_41.htm") in responses
    assert quirks_site.url("/robots.txt") in responses
    articles = by_path(project.export())
    moved = articles["/news/2024/content_41.htm"]
    assert quirks_site.url("/news/old/content_41.htm") in moved["urls"]

    # Every exported version points at the response record of its own URL.
    archive_dir = project.archive_dir
    for record in articles.values():
        for version in record["versions"]:
            loc = RecordLocation(**version["warc"])
            archived = read_record(archive_dir, loc)
            assert archived.rec_type == "response"
            assert archived.target_uri == record["url"]


def test_page_lying_about_its_charset_is_read_right(tmp_path, quirks_site):
    project = make_project(tmp_path, [site_source("quirks", quirks_site)])
    assert project.crawl("quirks").returncode == 0
    records = by_path(project.export())
    liar = records["/news/2024/content_42.htm"]
    assert liar["title"] == quirks_site.expected["articles"]["/news/2024/content_42.htm"]["title"]
    # A PDF where an article was expected is archived but not stored as an article.
    for path in quirks_site.expected["not_html"]:
        assert path not in records
        assert quirks_site.requested(path)


def test_404_section_page_fails_clearly(tmp_path, quirks_site):
    source = site_source("gone", quirks_site)
    source["start_urls"] = [quirks_site.url("/gone/index.htm")]
    project = make_project(tmp_path, [source])
    result = project.crawl("gone")
    assert result.returncode == 1
    assert "answered 404" in result.stderr and "/gone/index.htm" in result.stderr
    assert project.export() == []
    assert project.runs()[0]["status"] == "failed"
    # The 404 itself is archived: it is what the site said.
    assert project.warc_files()


def test_section_page_that_is_not_html_fails_clearly(tmp_path, quirks_site):
    source = site_source("pdf", quirks_site)
    source["start_urls"] = [quirks_site.url("/news/2024/content_45.htm")]
    project = make_project(tmp_path, [source])
    result = project.crawl("pdf")
    assert result.returncode == 1
    assert "not an HTML page" in result.stderr


def test_unreachable_host_fails_clearly(tmp_path):
    import socket

    with socket.socket() as sock:            # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source = {"name": "down", "start_urls": [f"http://127.0.0.1:{port}/index.htm"],
              "schedule": "every 1h"}
    project = make_project(tmp_path, [source])
    result = project.crawl("down")
    assert result.returncode == 1
    assert "connection refused" in result.stderr
    assert project.runs()[0]["status"] == "failed"


def test_private_addresses_refused_unless_allowed(tmp_path, govcn_site):
    project = make_project(tmp_path, [site_source("govcn", govcn_site)],
                           crawl={"allow_private_addresses": False})
    result = project.crawl("govcn")
    assert result.returncode == 1
    assert "allow_private_addresses" in result.stderr
    assert not govcn_site.requests                  # nothing was sent, not even robots.txt


def test_bad_config_exits_2_before_anything_is_written(tmp_path, govcn_site):
    project = make_project(tmp_path, [site_source("govcn", govcn_site)])
    before = project.export()
    text = project.config.read_text(encoding="utf-8").replace("delay = 0", "delai = 0")
    project.config.write_text(text, encoding="utf-8")
    result = project.crawl("govcn")
    assert result.returncode == 2
    assert result.stderr.startswith(f"config error: {project.config}:")
    assert 'unknown key "delai"' in result.stderr
    assert not govcn_site.requests
    project.config.write_text(text.replace("delai = 0", "delay = 0"), encoding="utf-8")
    assert project.export() == before


def test_crawl_into_postgresql(tmp_path, govcn_site, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("this test is about PostgreSQL; SQLite is covered by every other test")
    project = make_project(tmp_path, [site_source("govcn", govcn_site)], storage_url=database_url)
    result = project.crawl("govcn")
    assert result.returncode == 0, result.stderr
    assert len(project.export()) == len(govcn_site.expected["articles"])
