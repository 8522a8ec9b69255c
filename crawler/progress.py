"""A progress line while crawling: pages, articles, errors.

On a terminal the line is redrawn in place; otherwise (a log file, the service) a line is
written every ``GOVARCHIVE_PROGRESS_INTERVAL`` seconds.
"""

from __future__ import annotations

import sys

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call


class ProgressLine:
    def __init__(self, crawler, interval: float, stream):
        self.crawler = crawler
        self.interval = interval
        self.stream = stream
        self.tty = hasattr(stream, "isatty") and stream.isatty()
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
        self.task.start(self.interval, now=False)

    def spider_closed(self, spider, reason):
        if self.task is not None and self.task.running:
            self.task.stop()
        if self.tty:
            self.show()
            self.stream.write("\n")
            self.stream.flush()

    def line(self) -> str:
        stats = self.crawler.stats
        get = stats.get_value
        return (
            f"[{self.crawler.spider.name}] pages {get('response_received_count', 0)}"
            f" · lists {get('govarchive/list_pages', 0)}"
            f" · articles {get('govarchive/articles', 0)}"
            f" (new {get('govarchive/new_articles', 0)})"
            f" · attachments {get('govarchive/attachments', 0)}"
            f" · errors {get('govarchive/errors', 0)}"
            f" · archived {_size(get('warc/bytes', 0))}"
        )

    def show(self):
        text = self.line()
        if self.tty:
            self.stream.write("\r\x1b[2K" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"
