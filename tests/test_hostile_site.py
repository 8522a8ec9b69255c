"""One crawl of the hostile site (tests.site.hostile): every case ends with its page status,
every good article is stored, nothing crashes and the run ends long before the drip would."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest

from tests.crawling import make_project
from tests.site.hostile import PARAGRAPH, HostileSite
from tests.site.server import SiteServer

pytestmark = pytest.mark.slow  # a crawl in a subprocess

TIMEOUT = 3  # seconds: the drip server sends a byte a second for far longer
BOUND = 90   # a crawl that waited for the drip would take half an hour
STATUS_LINE = re.compile(r": (?:article|list) (\S+) \[(\w+)\] ")


def summary_line(stdout: str, source: str) -> str:
    return next(line for line in stdout.splitlines() if line.startswith(f"{source}: "))


def test_every_hostile_case_gets_its_status_and_good_articles_are_stored(tmp_path):
    site = HostileSite(drip_seconds=1800)
    assert len(site.huge_list) > 1 << 20  # made before the crawl, not within its timeout
    with SiteServer(site) as server:
        hostile = {"name": "hostile", "schedule": "every 30m", "max_list_pages": 4,
                   "start_urls": [server.url(p) for p in site.expected["starts"]]}
        walls = {"name": "walls", "schedule": "every 30m",
                 "start_urls": [server.url(site.expected["walls"])]}
        project = make_project(tmp_path, [hostile, walls], crawl={"timeout": TIMEOUT})
        started = time.monotonic()
        result = project.crawl("hostile", "walls")
        elapsed = time.monotonic() - started

        assert elapsed < BOUND
        assert "Traceback" not in result.stderr, result.stderr[-3000:]
        assert result.returncode == 0, result.stderr[-3000:]

        statuses = {urlsplit(url).path: status
                    for url, status in STATUS_LINE.findall(result.stderr)}
        for path, status in site.cases.items():
            if path.startswith("/h/"):
                assert statuses.get(path) == status, (path, statuses.get(path))
        for path, status in site.lists.items():
            assert statuses.get(path) == status, (path, statuses.get(path))

        stored = {urlsplit(r["url"]).path: r for r in project.export()}
        assert set(stored) == set(site.good)
        for path, title in site.good.items():
            assert stored[path]["title"] == title
            assert PARAGRAPH in stored[path]["body_text"], path

        line = summary_line(result.stderr, "hostile")
        for words in ("1 too large", "2 not html", "1 redirect loop", "1 too many redirects",
                      "1 timeout", "2 connection error", "2 corrupt", "1 too many links",
                      "1 list capped", "1000 gone"):
            assert words in line, (words, line)
        assert "3 blocked" in summary_line(result.stderr, "walls")

        # The archive holds what the server sent: `warc check` passes and notes the two broken
        # gzip bodies as the server's (they never decoded), and nothing else.
        check = project.run("warc", "check")
        assert check.returncode == 0, check.stdout + check.stderr
        notes = [line for line in check.stderr.splitlines() if line.startswith("note: ")]
        assert len(notes) == 2, check.stderr
        assert all("Content-Encoding 'gzip', but the body does not decode" in n
                   and "(as the server sent it)" in n for n in notes)
        assert "ok (2 responses kept as the server sent them" in check.stderr
