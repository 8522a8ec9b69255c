"""End to end: crawl a test site, then replay (pywb, ``replay show``), check and package it."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile
import zlib
from pathlib import Path

import pytest

from govarchive.warc.members import scan_file
from tests.crawling import invoke, make_project, site_source
from tests.site.server import SiteServer

pytestmark = pytest.mark.slow  # a crawl, pywb and wacz in subprocesses


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """A project with one crawl of the govcn site (the site is stopped afterwards)."""
    root = tmp_path_factory.mktemp("replay")
    with SiteServer("govcn") as server:
        project = make_project(root, [site_source("govcn", server)])
        result = project.crawl("govcn")
        assert result.returncode == 0, result.stderr
        articles = {server.url(path): spec for path, spec in server.expected["articles"].items()}
    return project, articles


def run_cli(project, *args: str):
    return invoke(project.config, *args, catch_exceptions=False)


def an_article(crawled) -> tuple[str, dict]:
    _project, articles = crawled
    url = min(articles)
    return url, articles[url]


def test_the_crawl_left_an_index_for_every_closed_file(crawled):
    project, _ = crawled
    indexes = project.archive_dir.parent / "indexes"
    assert sorted(p.name for p in indexes.iterdir()) == [
        f"{p.name}.cdxj" for p in project.warc_files()
    ]


# ---- pywb -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Wayback:
    """``govarchive replay serve`` in a subprocess, stopped (with its pywb) at the end."""

    def __init__(self, project):
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("GOVARCHIVE_")}
        env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
        self.process = subprocess.Popen(
            [sys.executable, "-m", "govarchive", "--config", str(project.config),
             "replay", "serve", "--port", str(self.port)],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        # Drain stderr (pywb logs every request) so the pipe never fills up.
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.process.stderr:
            self.lines.put(line)
        self.lines.put("")

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:  # pywb logs this line just before it binds the port
            line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            assert line, "replay serve exited before pywb started"
            if "Starting Gevent Server" in line:
                break
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except ConnectionRefusedError:
                continue
        raise AssertionError("pywb never answered")

    def get(self, path: str) -> tuple[int, str]:
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
            f"http://127.0.0.1:{self.port}{path}", timeout=30
        ) as response:
            return response.status, response.read().decode("utf-8", "replace")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def test_pywb_replays_an_article_in_its_own_frame(crawled):
    project, _ = crawled
    url, spec = an_article(crawled)
    wayback = Wayback(project)
    try:
        wayback.wait_ready()
        status, body = wayback.get(f"/govarchive/mp_/{url}")
        assert status == 200
        assert spec["title"] in body
        # Top level: pywb's frame, with the archived page in an iframe beneath it.
        status, frame = wayback.get(f"/govarchive/{url}")
        assert status == 200 and "replay_iframe" in frame and spec["title"] not in frame
    finally:
        wayback.stop()
    # SIGTERM reached pywb too: nothing listens any more.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", wayback.port), timeout=1).close()


# ---- replay show ------------------------------------------------------------------------------


def test_replay_show_prints_the_article_text(crawled):
    project, _ = crawled
    url, spec = an_article(crawled)
    result = run_cli(project, "replay", "show", url, "--headers")
    assert result.exit_code == 0, result.output
    out = result.stdout_bytes.decode("utf-8")
    assert out.startswith("HTTP/1.1 200 OK\r\n")
    assert spec["title"] in out and spec["body_contains"] in out


def test_replay_show_picks_the_capture_nearest_in_time(crawled):
    project, _ = crawled
    url, spec = an_article(crawled)
    assert spec["title"] in run_cli(project, "replay", "show", url, "--at", "1990").stdout
    raw = run_cli(project, "replay", "show", url, "--raw").stdout_bytes
    assert spec["title"].encode("utf-8") in raw


def test_replay_show_fails_for_a_url_never_captured(crawled):
    project, _ = crawled
    result = run_cli(project, "replay", "show", "http://example.invalid/none.htm")
    assert result.exit_code == 1 and "not in the index" in result.stderr


# ---- warc check -------------------------------------------------------------------------------


def test_warc_check_passes_after_a_crawl(crawled):
    project, _ = crawled
    result = run_cli(project, "warc", "check")
    assert result.exit_code == 0, result.output
    assert "ok: 1 files" in result.stderr and "12 article version pointers" in result.stderr


@pytest.fixture
def damaged(crawled, tmp_path):
    """A copy of the crawled project (paths in its config are relative) to damage."""
    project, _ = crawled
    shutil.copytree(project.root, tmp_path / "copy")
    copy = type(project)(tmp_path / "copy", tmp_path / "copy" / "govarchive.toml",
                         project.storage_url)
    (warc_file,) = copy.warc_files()
    with open(warc_file, "rb") as f:
        members = scan_file(f).members
    return copy, warc_file, members


def test_warc_check_fails_on_a_flipped_byte(damaged):
    project, warc_file, members = damaged
    data = bytearray(warc_file.read_bytes())
    member = members[len(members) // 2]
    data[member.offset + member.length // 2] ^= 0x40
    warc_file.write_bytes(bytes(data))
    result = run_cli(project, "warc", "check")
    assert result.exit_code == 1
    assert f"{warc_file.name}:{member.offset}" in result.stdout


def test_warc_check_fails_on_a_decoded_body_with_a_stale_content_encoding(damaged):
    project, warc_file, members = damaged
    data = warc_file.read_bytes()
    for member in members:
        start, end = member.offset, member.offset + member.length
        record = zlib.decompress(data[start:end], 31)
        etag = re.search(rb"\r\nEtag: [^\r]*", record)
        if b"WARC-Type: response" in record and etag:
            break
    # Same length, so the WARC Content-Length still holds: only the label is wrong.
    label = b"\r\nContent-Encoding: gzip".ljust(len(etag.group()), b" ")
    record = record[: etag.start()] + label + record[etag.end() :]
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    warc_file.write_bytes(data[:start] + comp.compress(record) + comp.flush() + data[end:])
    result = run_cli(project, "warc", "check", "--no-database")
    assert result.exit_code == 1
    assert "Content-Encoding 'gzip', but the body does not decode" in result.stdout


def test_warc_check_fails_on_a_truncated_last_record(damaged):
    project, warc_file, _members = damaged
    os.truncate(warc_file, warc_file.stat().st_size - 25)
    result = run_cli(project, "warc", "check")
    assert result.exit_code == 1
    assert "cut short" in result.stdout and "without its request" in result.stdout


def test_warc_check_fails_when_a_version_points_at_no_record(damaged):
    project, _warc_file, _members = damaged
    import sqlite3

    db = sqlite3.connect(project.root / "data" / "govarchive.db")
    with db:
        db.execute("UPDATE captures SET warc_offset = warc_offset + 1 WHERE id = "
                   "(SELECT capture_id FROM article_versions LIMIT 1)")
    db.close()
    result = run_cli(project, "warc", "check")
    assert result.exit_code == 1 and "points at no record" in result.stdout


def test_warc_index_recovers_a_left_over_open_file(damaged):
    project, warc_file, _members = damaged
    os.truncate(warc_file, warc_file.stat().st_size - 25)
    # pid 999999999 in the name: no process has it, so the file is a left-over.
    dead = warc_file.with_name("govarchive-20240101000000000000-00001-999999999.warc.gz.open")
    warc_file.rename(dead)
    result = run_cli(project, "warc", "index")
    assert result.exit_code == 0, result.output
    assert "recovered" in result.stderr and "cut" in result.stderr
    (recovered,) = project.warc_files()
    assert run_cli(project, "warc", "check", "--no-database", str(recovered)).exit_code == 0


# ---- WACZ -------------------------------------------------------------------------------------


def test_warc_wacz_writes_a_package_that_wacz_validate_accepts(crawled, tmp_path):
    project, articles = crawled
    out = tmp_path / "govcn.wacz"
    result = run_cli(project, "warc", "wacz", str(out), "--source", "govcn")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # the wacz package's chatter went to stderr
    validate = subprocess.run([str(Path(sys.executable).with_name("wacz")), "validate", "-f",
                               str(out)], capture_output=True, text=True, check=False)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        assert {"datapackage.json", "datapackage-digest.json", "pages/pages.jsonl"} <= names
        assert any(n.startswith("indexes/") for n in names)
        pages = [json.loads(line) for line in z.read("pages/pages.jsonl").splitlines()]
    assert pages[0]["format"] == "json-pages-1.0"
    titles = {p["url"]: p["title"] for p in pages[1:]}
    assert titles == {url: spec["title"] for url, spec in articles.items()}


@pytest.mark.corpus
def test_pywb_replays_archives_written_by_others(tmp_path, warc_samples):
    """WARC/1.0, a revisit, a chunked response: indexed by `warc index`, served by pywb."""
    project = make_project(tmp_path, [], init=False)
    project.archive_dir.mkdir(parents=True)
    for sample in ("warcio/example.warc.gz", "warcio/example-iana.org-chunked.warc",
                   "pywb/example.warc.gz"):
        (project.archive_dir / sample.replace("/", "-")).symlink_to(warc_samples / sample)
    result = run_cli(project, "warc", "index")
    assert result.exit_code == 0 and "indexed 3 files" in result.stderr
    wayback = Wayback(project)
    try:
        wayback.wait_ready()
        # The second capture of example.com is a revisit of the first.
        status, body = wayback.get("/govarchive/20170306040348mp_/http://example.com/")
        assert status == 200 and "Example Domain" in body
        status, body = wayback.get("/govarchive/mp_/http://www.iana.org/")
        assert status == 200 and "Internet Assigned Numbers Authority" in body
    finally:
        wayback.stop()
