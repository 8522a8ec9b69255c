"""A progress line while crawling: pages, articles, errors.

On a terminal the line stays at the bottom and log records scroll above it (rich's ``Live``);
otherwise (a log file, the service) a plain line is written every
``GOVARCHIVE_PROGRESS_INTERVAL`` seconds. The line and the crawl's final summary read their
numbers through one function, :func:`crawl_counts`, so they cannot disagree.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

# The stats key prefix of page statuses; crawler.page_status counts under it.
STATUS_PREFIX = "govarchive/status/"


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 page``, ``2 pages``, ``0 pages``."""
    return f"{n} {word if n == 1 else (words or word + 's')}"


def size_text(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


@dataclass(frozen=True)
class CrawlCounts:
    """What one crawler has done so far, as the progress line and the summary show it."""

    pages: int  # every response received: list pages, articles, attachments, robots.txt
    list_pages: int
    articles: int
    new_articles: int
    new_versions: int
    attachments: int
    errors: int
    warc_records: int
    archived_bytes: int
    # Pages that gave nothing to store, by status (crawler.page_status), most frequent first.
    statuses: tuple[tuple[str, int], ...] = ()

    def text(self) -> str:
        return (
            f"{plural(self.pages, 'page')} · {plural(self.list_pages, 'list page')}"
            f" · {plural(self.articles, 'article')} ({self.new_articles} new,"
            f" {plural(self.new_versions, 'new version')})"
            f" · {plural(self.attachments, 'attachment')} · {plural(self.errors, 'error')}"
            f" · {size_text(self.archived_bytes)} archived"
            + "".join(f" · {n} {status.replace('_', ' ')}" for status, n in self.statuses)
        )


def crawl_counts(stats: Mapping) -> CrawlCounts:
    """The counts in a crawler's stats (``crawler.stats.get_stats()``)."""

    def count(key: str) -> int:
        return int(stats.get(key, 0) or 0)

    return CrawlCounts(
        pages=count("response_received_count"),
        list_pages=count("govarchive/list_pages"),
        articles=count("govarchive/articles"),
        new_articles=count("govarchive/new_articles"),
        new_versions=count("govarchive/new_versions"),
        attachments=count("govarchive/attachments"),
        errors=count("govarchive/errors"),
        warc_records=count("warc/records"),
        archived_bytes=count("warc/bytes"),
        statuses=tuple(sorted(
            ((key[len(STATUS_PREFIX):], count(key)) for key in stats
             if key.startswith(STATUS_PREFIX) and count(key)),
            key=lambda pair: (-pair[1], pair[0]),
        )),
    )


class _AboveTheLines:
    """A stream for logging handlers: each whole line is printed above the live lines."""

    def __init__(self, console: Console):
        self.console = console
        self.partial = ""

    def write(self, text: str) -> int:
        *lines, self.partial = (self.partial + text).split("\n")
        for line in lines:
            # out(): no markup, no re-wrapping; going through the console lets Live clear
            # its lines first and draw them again below.
            self.console.out(line, highlight=False)
        return len(text)

    def flush(self) -> None:
        self.console.file.flush()


class TerminalLines:
    """Status lines held at the bottom of a terminal, one per crawler, below the log.

    Several crawlers of one process share the terminal, hence one instance per stream.
    """

    _shown: ClassVar[dict[int, TerminalLines]] = {}

    def __init__(self, stream):
        self.stream = stream
        self.console = Console(file=stream, highlight=False)
        self.live = Live(console=self.console, auto_refresh=False, redirect_stdout=False,
                         redirect_stderr=False)
        self.lines: dict[str, str] = {}
        self.redirected: list[logging.StreamHandler] = []

    @classmethod
    def on(cls, stream) -> TerminalLines:
        shown = cls._shown.get(id(stream))
        if shown is None:
            shown = cls._shown[id(stream)] = cls(stream)
        return shown

    @staticmethod
    def is_terminal(stream) -> bool:
        return Console(file=stream).is_interactive

    def show(self, key: str, text: str) -> None:
        if not self.lines:
            self._start()
        self.lines[key] = text
        self.live.update(Group(*(_line(t) for t in self.lines.values())), refresh=True)

    def finish(self, key: str) -> None:
        """Leave ``key``'s last line in the scrollback; stop when no line is left."""
        text = self.lines.pop(key, None)
        if text is None:
            return
        self.console.print(_line(text))
        self.live.update(Group(*(_line(t) for t in self.lines.values())), refresh=True)
        if not self.lines:
            self._stop()

    def _start(self) -> None:
        self.live.start()
        # Scrapy's root handler holds the stream it was given; send its lines through the
        # console instead, so a record never lands on a half-drawn line. Scrapy routes
        # warnings and Twisted's log through logging, so this covers them as well.
        above = _AboveTheLines(self.console)
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is self.stream:
                handler.setStream(above)
                self.redirected.append(handler)

    def _stop(self) -> None:
        for handler in self.redirected:
            handler.setStream(self.stream)
        self.redirected.clear()
        self.live.stop()
        self._shown.pop(id(self.stream), None)


def _line(text: str) -> Text:
    # A line wider than the terminal would wrap, and Live would then erase the wrong rows.
    return Text(text, no_wrap=True, overflow="ellipsis")


class ProgressLine:
    def __init__(self, crawler, interval: float, stream):
        self.crawler = crawler
        self.interval = interval
        self.stream = stream
        self.terminal = TerminalLines.on(stream) if TerminalLines.is_terminal(stream) else None
        self.task = None

    @classmethod
    def from_crawler(cls, crawler):
        interval = crawler.settings.getfloat("GOVARCHIVE_PROGRESS_INTERVAL", 0)
        if interval <= 0:
            raise NotConfigured
        ext = cls(crawler, interval, sys.stderr)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider):
        self.task = create_looping_call(self.show)
        self.task.start(self.interval, now=self.terminal is not None)

    def spider_closed(self, spider, reason):
        if self.task is not None and self.task.running:
            self.task.stop()
        if self.terminal is not None:
            self.show()
            self.terminal.finish(self.crawler.spider.name)

    def line(self) -> str:
        counts = crawl_counts(self.crawler.stats.get_stats())
        return f"[{self.crawler.spider.name}] {counts.text()}"

    def show(self):
        text = self.line()
        if self.terminal is not None:
            self.terminal.show(self.crawler.spider.name, text)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()
