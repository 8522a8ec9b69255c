"""The crawl's progress line: its words, its place on a terminal, and its agreement with the
summary printed at the end."""

from __future__ import annotations

import io
import logging
import os
import pty
import re
import subprocess
import sys
import threading

from govarchive.crawler.progress import CrawlCounts, TerminalLines, crawl_counts, plural
from tests.crawling import REPO, make_project, site_source


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def screen(output: str) -> list[str]:
    """The rows a terminal shows after ``output``: enough of VT100 for rich's Live."""
    rows, row, col = [""], 0, 0
    for token in re.findall(r"\x1b\[[0-9;?]*[A-Za-z]|\r|\n|[^\x1b\r\n]+", output):
        if token == "\n":
            row, col = row + 1, 0
            rows += [""] * (row + 1 - len(rows))
        elif token == "\r":
            col = 0
        elif token.startswith("\x1b["):
            n = int(re.sub(r"\D", "", token[2:-1]) or 1) if token[-1] in "AB" else 0
            if token[-1] == "A":
                row = max(0, row - n)
            elif token[-1] == "K" and token[2:-1] == "2":
                rows[row] = ""
            elif token[-1] == "K":
                rows[row] = rows[row][:col]
            elif token[-1] == "J":
                rows[row] = rows[row][:col]
                del rows[row + 1:]
            # colours and cursor hiding change nothing on the screen
        else:
            line = rows[row].ljust(col)
            rows[row] = line[:col] + token + line[col + len(token):]
            col += len(token)
    return [r.rstrip() for r in rows]


def test_plural_words():
    assert plural(1, "error") == "1 error"
    assert plural(2, "error") == "2 errors"
    assert plural(0, "page") == "0 pages"
    assert plural(1, "new version") == "1 new version"


def test_counts_read_from_stats_say_singular_and_plural():
    counts = crawl_counts({
        "response_received_count": 1, "govarchive/list_pages": 1, "govarchive/articles": 2,
        "govarchive/new_articles": 2, "govarchive/new_versions": 1,
        "govarchive/attachments": 0, "govarchive/errors": 1, "warc/records": 4,
        "warc/bytes": 2048,
    })
    assert counts == CrawlCounts(pages=1, list_pages=1, articles=2, new_articles=2,
                                 new_versions=1, attachments=0, errors=1, warc_records=4,
                                 archived_bytes=2048)
    assert counts.text() == (
        "1 page · 1 list page · 2 articles (2 new, 1 new version) · 0 attachments"
        " · 1 error · 2.0 KB archived"
    )


def test_a_log_record_never_lands_on_the_progress_line(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "120")
    for name in ("NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    terminal = FakeTerminal()
    # As Scrapy does: a handler on the root logger that holds the stream it was given.
    handler = logging.StreamHandler(terminal)
    root = logging.getLogger()
    root.addHandler(handler)
    logger = logging.getLogger("tests.progress")
    try:
        lines = TerminalLines.on(terminal)
        lines.show("govcn", "[govcn] 3 pages")
        logger.warning("first record")
        lines.show("govcn", "[govcn] 5 pages")
        lines.show("other", "[other] 1 page")
        logger.warning("second record")
        lines.finish("govcn")
        logger.warning("third record")
        lines.finish("other")
        assert handler.stream is terminal  # given back once no line is shown
    finally:
        root.removeHandler(handler)

    rows = [r for r in screen(terminal.getvalue()) if r]
    assert rows == ["first record", "second record", "[govcn] 5 pages", "third record",
                    "[other] 1 page"]


def read_all(fd: int, out: list[bytes]) -> None:
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            return
        if not chunk:
            return
        out.append(chunk)


def test_progress_line_and_summary_agree_on_a_crawl(tmp_path, govcn_site):
    """On a terminal the last progress line and the summary show the same counts."""
    project = make_project(tmp_path, [site_source("govcn", govcn_site)])
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVARCHIVE_")}
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
                 "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "FORCE_COLOR"):
        env.pop(name, None)
    env.update(PYTHONPATH=str(REPO), TERM="xterm-256color", COLUMNS="400")
    controller, terminal = pty.openpty()
    out: list[bytes] = []
    reader = threading.Thread(target=read_all, args=(controller, out))
    reader.start()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "govarchive", "--config", str(project.config), "-v",
             "crawl", "govcn"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=terminal, env=env,
            cwd=project.root, timeout=180,
        )
    finally:
        os.close(terminal)
        reader.join(timeout=30)
        os.close(controller)
    rows = screen(b"".join(out).decode("utf-8", "replace"))
    assert result.returncode == 0, "\n".join(rows)
    progress = [r for r in rows if r.startswith("[govcn] ")]
    summary = [r for r in rows if r.startswith("govcn: ok (run 1) · ")]
    assert len(progress) == 1 and len(summary) == 1, "\n".join(rows)
    counts = progress[0].removeprefix("[govcn] ")
    assert summary[0].removeprefix("govcn: ok (run 1) · ").startswith(counts + " in ")
    assert re.search(r" [1-9]\d* articles \([1-9]\d* new", counts), counts
    # -v logs INFO records during the crawl; each has its own row.
    assert any("Spider opened" in r and "[govcn]" not in r for r in rows)
