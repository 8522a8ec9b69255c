"""WarcArchiver in a real Scrapy crawl (a child process) against a local HTTP server."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler
from warcio.archiveiterator import ArchiveIterator

from govarchive.crawler.archiving import WarcArchiver
from govarchive.warc import RecordLocation, read_record

REPO = Path(__file__).resolve().parents[1]
WARCIO = Path(sys.executable).with_name("warcio")

PAGE = "<html><head><title>通知</title></head><body><p>政务公开 notice</p></body></html>".encode()
GZIPPED = gzip.compress(PAGE * 20, mtime=0)
CHUNKS = [b"<html><body>", b"chunk one, ", b"chunk two</body></html>"]
SEARCH = "/search?q=%E6%94%BF%E5%8A%A1&page=2"


class Site(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep the test output clean
        pass

    def _send(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        html = [("Content-Type", "text/html; charset=utf-8")]
        if self.path == "/robots.txt":
            self._send(
                200, b"User-agent: *\nDisallow: /private\n", [("Content-Type", "text/plain")]
            )
        elif self.path == "/gzip":
            self._send(200, GZIPPED, [*html, ("Content-Encoding", "gzip")])
        elif self.path == "/cookies":
            self._send(
                200,
                b'<a href="/after-cookies">next</a>',
                [*html, ("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Path=/")],
            )
        elif self.path in ("/after-cookies", SEARCH, "/new"):
            self._send(200, PAGE, html)
        elif self.path == "/old":
            self._send(301, b"", [("Location", "/new")])
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in CHUNKS:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self._send(404, b"not here", html)


CRAWL_SCRIPT = r"""
import json, sys
import scrapy
from scrapy.crawler import CrawlerProcess
from govarchive.crawler import signals as govarchive_signals

base, archive, out = sys.argv[1:4]
file_size_limit = int(sys.argv[4]) if len(sys.argv) > 4 else None
if file_size_limit:
    # A disk that fills up: the kernel refuses bytes past the limit (EFBIG).
    import resource, signal
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, resource.RLIM_INFINITY))
paths = ["/gzip", "/cookies", SEARCH, "/old", "/missing", "/chunked"]
seen, captured = [], []


class Probe(scrapy.Spider):
    name = "probe"
    custom_settings = {"HTTPERROR_ALLOWED_CODES": [404]}

    async def start(self):
        yield scrapy.Request("data:text/plain,not-from-the-network", callback=self.parse)
        for path in paths:
            yield scrapy.Request(base + path, callback=self.parse)

    def parse(self, response):
        ex = response.meta.get("warc")
        seen.append({
            "url": response.url, "status": response.status, "body": len(response.body),
            "redirect_urls": response.meta.get("redirect_urls", []),
            "warc": None if ex is None else [ex.record_id, ex.location.file,
                                             ex.location.offset, ex.location.length],
        })
        if response.url.endswith("/cookies"):
            yield response.follow("/after-cookies", callback=self.parse)


def on_capture(exchange, response, request, spider):
    captured.append([response.url, response.status, exchange.record_id])
    if file_size_limit:  # commit after every capture, as the storage pipeline would
        crawler.signals.send_catch_log(signal=govarchive_signals.before_store_commit)


process = CrawlerProcess(settings={
    "EXTENSIONS": {"govarchive.crawler.archiving.WarcArchiver": 100},
    "GOVARCHIVE_ARCHIVE_DIR": archive,
    "GOVARCHIVE_WARC_PREFIX": "probe",
    "GOVARCHIVE_WARC_OPERATOR": "tests@example.org",
    "DEFAULT_REQUEST_HEADERS": {"Accept": "text/html,*/*;q=0.8", "Accept-Encoding": "gzip, deflate",
                                "Accept-Language": "zh-CN,zh;q=0.9"},
    "USER_AGENT": "govarchive-test",
    "ROBOTSTXT_OBEY": True,
    "TELNETCONSOLE_ENABLED": False,
    "LOG_LEVEL": "INFO",
})
crawler = process.create_crawler(Probe)
crawler.signals.connect(on_capture, signal=govarchive_signals.capture_archived)
process.crawl(crawler)
process.start()
stats = crawler.stats.get_stats()
with open(out, "w") as f:
    json.dump({"seen": seen, "captured": captured,
               "stats": {k: v for k, v in stats.items() if k.startswith("warc/")},
               "reason": stats.get("finish_reason")}, f)
""".replace("SEARCH", repr(SEARCH))


@pytest.fixture(scope="module")
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def run_crawl(site, tmp_path, *extra):
    archive = tmp_path / "collections" / "test" / "archive"
    out = tmp_path / "result.json"
    # A file, not ``-c``: Scrapy reads the source of generator callbacks.
    script = tmp_path / "crawl_probe.py"
    script.write_text(CRAWL_SCRIPT)
    proc = subprocess.run(
        [sys.executable, str(script), site, str(archive), str(out), *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},  # no proxies from the host
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    records = []
    for path in sorted(archive.iterdir()):
        with open(path, "rb") as f:
            for record in ArchiveIterator(f):
                records.append((record, record.raw_stream.read()))
    return site, archive, result, records, proc.stderr


@pytest.fixture(scope="module")
def crawl(site, tmp_path_factory):
    """One crawl shared by the tests of this module (a crawl takes a few seconds)."""
    return run_crawl(site, tmp_path_factory.mktemp("crawl"))


def responses_by_path(site, records):
    return {
        record.rec_headers.get_header("WARC-Target-URI").removeprefix(site): (record, payload)
        for record, payload in records
        if record.rec_type == "response"
    }


def requests_by_id(records):
    return {
        record.rec_headers.get_header("WARC-Concurrent-To"): record
        for record, _ in records
        if record.rec_type == "request"
    }


@pytest.mark.slow  # a crawl in a subprocess
def test_every_network_response_is_archived_once(crawl):
    site, archive, result, records, _ = crawl
    assert result["reason"] == "finished"
    files = sorted(p.name for p in archive.iterdir())
    assert len(files) == 1 and files[0].startswith("probe-") and files[0].endswith(".warc.gz")
    check = subprocess.run(
        [str(WARCIO), "check", "-v", str(archive / files[0])],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert check.returncode == 0, check.stdout
    assert records[0][0].rec_type == "warcinfo"
    assert b"operator: tests@example.org\r\n" in records[0][1]
    responses = responses_by_path(site, records)
    assert sorted(responses) == sorted(
        [
            "/robots.txt",
            "/gzip",
            "/cookies",
            "/after-cookies",
            SEARCH,
            "/old",
            "/new",
            "/missing",
            "/chunked",
        ]
    )
    assert len(records) == 1 + 2 * len(responses)  # no data: URL, nothing twice
    assert sorted(url.removeprefix(site) for url, _, _ in result["captured"]) == sorted(responses)
    assert result["stats"]["warc/records"] == 2 * len(responses)
    assert result["stats"]["warc/bytes"] > 0 and result["stats"]["warc/files"] == 1
    for record, _ in responses.values():
        assert record.rec_headers.get_header("WARC-IP-Address") == "127.0.0.1"


@pytest.mark.slow  # a crawl in a subprocess
def test_spider_sees_its_exchange(crawl):
    site, archive, result, _, _ = crawl
    seen = {item["url"].removeprefix(site): item for item in result["seen"]}
    assert seen["data:text/plain,not-from-the-network"]["warc"] is None
    captured_ids = {url.removeprefix(site): rid for url, _, rid in result["captured"]}
    for path in ["/gzip", "/cookies", "/after-cookies", SEARCH, "/new", "/missing", "/chunked"]:
        record_id, file, offset, length = seen[path]["warc"]
        assert captured_ids[path] == record_id
        record = read_record(archive, RecordLocation(file, offset, length))
        assert record.record_id == record_id and record.target_uri == site + path
    assert seen["/new"]["redirect_urls"] == [site + "/old"]
    assert seen["/missing"]["status"] == 404


@pytest.mark.slow  # a crawl in a subprocess
def test_raw_bytes_and_headers_are_kept(crawl):
    site, _, result, records, _ = crawl
    responses = responses_by_path(site, records)
    requests = requests_by_id(records)

    gz, payload = responses["/gzip"]
    assert payload == GZIPPED  # stored as sent: still gzip
    assert gz.http_headers.get_header("Content-Encoding") == "gzip"
    assert int(gz.http_headers.get_header("Content-Length")) == len(GZIPPED)
    assert gz.http_headers.statusline == "200 OK" and gz.http_headers.protocol == "HTTP/1.1"
    seen = {item["url"].removeprefix(site): item for item in result["seen"]}
    assert seen["/gzip"]["body"] == len(PAGE * 20)  # the spider got it decoded

    cookies, _ = responses["/cookies"]
    assert [v for n, v in cookies.http_headers.headers if n.lower() == "set-cookie"] == [
        "a=1; Path=/",
        "b=2; Path=/",
    ]
    after = requests[responses["/after-cookies"][0].rec_headers.get_header("WARC-Record-ID")]
    assert sorted(after.http_headers.get_header("Cookie").split("; ")) == ["a=1", "b=2"]

    search = requests[responses[SEARCH][0].rec_headers.get_header("WARC-Record-ID")]
    assert (
        f"{search.http_headers.protocol} {search.http_headers.statusline}"
        == f"GET {SEARCH} HTTP/1.1"
    )
    headers = dict(search.http_headers.headers)
    assert headers["Host"] == site.removeprefix("http://")
    assert headers["User-Agent"] == "govarchive-test"
    assert headers["Accept-Encoding"] == "gzip, deflate"
    assert headers["Accept-Language"] == "zh-CN,zh;q=0.9"

    old, _ = responses["/old"]
    assert old.http_headers.statusline == "301 Moved Permanently"
    assert old.http_headers.get_header("Location") == "/new"
    missing, payload = responses["/missing"]
    assert missing.http_headers.statusline == "404 Not Found" and payload == b"not here"

    chunked, payload = responses["/chunked"]
    assert payload == b"".join(CHUNKS)  # de-chunked by the client, stored once
    assert chunked.http_headers.get_header("Transfer-Encoding") is None


def test_switched_off_without_archive_dir():
    with pytest.raises(NotConfigured):
        WarcArchiver.from_crawler(get_crawler(settings_dict={}))


@pytest.mark.slow  # a crawl in a subprocess
def test_full_disk_stops_the_crawl_and_leaves_a_valid_file(site, tmp_path):
    site, archive, result, records, log = run_crawl(site, tmp_path, "3000")
    assert result["reason"] == "warc_write_error"
    assert result["stats"]["warc/errors"] >= 1
    assert "closing the spider (warc_write_error)" in log
    files = sorted(p.name for p in archive.iterdir())
    assert len(files) == 1 and not files[0].endswith(".open")
    assert (archive / files[0]).stat().st_size <= 3000
    check = subprocess.run(
        [str(WARCIO), "check", str(archive / files[0])],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert check.returncode == 0, check.stdout
    kept = [
        r.rec_headers.get_header("WARC-Record-ID") for r, _ in records if r.rec_type == "response"
    ]
    assert len(records) == 1 + 2 * len(kept)  # whole exchanges only
    # Every exchange reported as captured is there, in order (warcio hands each record to the
    # OS as it is written); the one whose write failed was never reported and left no bytes.
    captured_ids = [rid for _, _, rid in result["captured"]]
    assert len(kept) >= 1 and kept == captured_ids


def test_a_process_looks_for_left_over_files_at_most_every_recover_every(tmp_path, monkeypatch):
    """A warm worker opens a writer for every run; finding ``.open`` left-overs lists the whole
    folder, so a process does it at most every RECOVER_EVERY seconds per folder (a killed
    worker's files are recovered by the process that replaces it: test_warm_workers)."""
    from govarchive.crawler import archiving

    listed = []
    monkeypatch.setattr(archiving, "recover_open_files",
                        lambda folder, node=None: listed.append((Path(folder), node)) or [])
    monkeypatch.setattr(archiving, "_recovered_at", {})

    def writer_for(folder: Path, node: str | None = None):
        crawler = get_crawler(settings_dict={"GOVARCHIVE_ARCHIVE_DIR": str(folder),
                                             "GOVARCHIVE_WARC_NODE": node or ""})
        return archiving.open_archive_files(crawler.settings)

    for _ in range(3):
        writer_for(tmp_path / "a").close_writer()
    writer_for(tmp_path / "b").close_writer()
    writer_for(tmp_path / "a", node="n2").close_writer()
    assert listed == [(tmp_path / "a", None), (tmp_path / "b", None), (tmp_path / "a", "n2")]
    monkeypatch.setattr(archiving, "RECOVER_EVERY", 0.0)  # the interval has passed
    writer_for(tmp_path / "a").close_writer()
    assert listed[-1] == (tmp_path / "a", None) and len(listed) == 4
