"""Hostile visitors besides the web pages (tests/test_web_security.py) and the crawler's
address guard (tests/test_private_addresses.py): WARC pointers that lead out of the archive,
servers listening beyond loopback, and credentials that must never be archived."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from govarchive.cli.web import exposure_warning
from govarchive.warc import RecordLocation, RecordReadError, read_record
from tests.crawling import make_project
from tests.test_private_addresses import Site


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "..", "sub/../../x.warc.gz",
                                  "..\\..\\x.warc.gz", "", "a\0.warc.gz"])
def test_read_record_refuses_a_pointer_out_of_the_archive(tmp_path, name):
    archive = tmp_path / "collections" / "c" / "archive"
    archive.mkdir(parents=True)
    (tmp_path / "collections" / "c" / "secret.warc.gz").write_bytes(b"x" * 100)
    with pytest.raises(RecordReadError, match="not a file of the archive"):
        read_record(archive, RecordLocation(name, 0, 10))


def test_replay_show_refuses_an_index_entry_pointing_out_of_the_archive(tmp_path):
    from govarchive.warc import find_capture

    archive = tmp_path / "archive"
    indexes = tmp_path / "indexes"
    archive.mkdir()
    indexes.mkdir()
    url = "http://www.example.gov.cn/a.html"
    line = ('cn,gov,example)/a.html 20260301080000 {"url": "%s", "mime": "text/html", '
            '"status": "200", "digest": "sha1:X", "length": "10", "offset": "0", '
            '"filename": "../../../etc/passwd"}\n' % url)
    (indexes / "index.cdxj").write_text(line, encoding="utf-8")
    with pytest.raises(RecordReadError, match="not a file of the archive"):
        find_capture(archive, url)


@pytest.mark.parametrize("host,warned", [
    ("127.0.0.1", False), ("localhost", False), ("::1", False), ("127.0.0.2", False),
    ("0.0.0.0", True), ("192.168.1.5", True), ("::", True), ("example.org", True),
])
def test_listening_beyond_loopback_warns_that_nobody_is_asked_who_they_are(host, warned):
    warning = exposure_warning("the web UI", host, 8000)
    if not warned:
        assert warning is None
    else:
        assert warning.startswith(f"warning: the web UI is unauthenticated; anyone who can "
                                  f"reach {host}:8000 can read the archive")


def test_web_and_replay_serve_print_the_warning(tmp_path, monkeypatch):
    import subprocess

    import uvicorn

    from tests.crawling import invoke

    project = make_project(tmp_path, [])
    served = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append(kw))
    result = invoke(project.config, "web", "--host", "0.0.0.0", "--port", "8123")
    assert result.exit_code == 0, result.output
    assert served == [{"host": "0.0.0.0", "port": 8123, "log_level": "warning"}]
    assert ("warning: the web UI is unauthenticated; anyone who can reach 0.0.0.0:8123 "
            "can read the archive") in result.stderr
    assert "warning" not in invoke(project.config, "web").stderr

    class Done:
        def __init__(self, command):
            served.append(command)

        def wait(self):
            return 0

    monkeypatch.setattr(subprocess, "Popen", Done)
    result = invoke(project.config, "replay", "serve", "--host", "10.0.0.7")
    assert "warning: replay is unauthenticated; anyone who can reach 10.0.0.7:8080" \
        in result.stderr, result.output
    assert "warning" not in invoke(project.config, "replay", "serve").stderr


def warc_records(files: list[Path]):
    for path in files:
        with gzip.open(path, "rb") as f:
            for record in ArchiveIterator(f):
                http = record.http_headers.headers if record.http_headers else []
                yield record.rec_type, record.rec_headers.headers, http


def test_credentials_never_reach_a_warc_record(tmp_path):
    """Scrapy 2.19 refuses to fetch a URL with user:password@ (tested below), so this feeds
    the archiver an exchange the way a download handler that allowed it would."""
    from scrapy import Request
    from scrapy.http import HtmlResponse
    from scrapy.utils.test import get_crawler

    from govarchive.crawler.archiving import WarcArchiver

    archiver = WarcArchiver.from_crawler(get_crawler(settings_dict={
        "GOVARCHIVE_ARCHIVE_DIR": str(tmp_path)}))
    url = "http://reader:s3cret@www.example.gov.cn/index.htm"
    request = Request(url, headers={"Authorization": "Basic cmVhZGVyOnMzY3JldA==",
                                    "Proxy-Authorization": "Basic cHJveHk6czNjcmV0",
                                    "Cookie": "wzws_sid=abc"})
    response = HtmlResponse(url, body=b"<html></html>", request=request, status=200)
    assert archiver._write(response, request) is not None
    archiver.files.close_writer()
    records = list(warc_records(sorted(tmp_path.glob("*.warc.gz"))))
    assert {kind for kind, _, _ in records} >= {"request", "response"}
    for _kind, warc_headers, http_headers in records:
        text = repr(warc_headers) + repr(http_headers)
        assert "s3cret" not in text and "reader" not in text and "Basic" not in text, text
    (request_http,) = [http for kind, _, http in records if kind == "request"]
    assert ("Cookie", "wzws_sid=abc") in request_http          # what the site handed out
    targets = {v for _, headers, _ in records for n, v in headers if n == "WARC-Target-URI"}
    assert targets == {"http://www.example.gov.cn/index.htm"}


@pytest.mark.slow
def test_a_url_with_credentials_is_not_fetched_or_archived(tmp_path):
    site = Site("127.0.0.1")
    try:
        start = f"http://reader:s3cret@127.0.0.1:{site.port}/index.htm"
        project = make_project(tmp_path, [{"name": "govcn", "start_urls": [start],
                                           "schedule": "every 1h"}])
        result = project.crawl("govcn")
    finally:
        site.close()
    assert result.returncode == 1
    assert site.requests == []
    for _kind, warc_headers, http_headers in warc_records(project.warc_files()):
        assert "s3cret" not in repr(warc_headers) + repr(http_headers)
