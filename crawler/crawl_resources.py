"""What every crawler of one crawl process shares: one WARC writer, one ingest worker and one
pool of extraction workers.

Each of them costs memory (a worker is a Python process with the crawler imported), so a
process that crawls 300 sources at once must not start 300 of each. :func:`crawler.run.run_crawl`
makes one :class:`CrawlResources` and puts it in the process settings as
``GOVARCHIVE_CRAWL_RESOURCES``; each crawler's components (``WarcArchiver``, ``StorePipeline``,
``SectionSpider``) take their part from it in ``from_crawler`` and let go of it when their
crawler is done; the last to let go closes it. Without the setting a component makes a part of
its own (a crawl of one spider, as tests run them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


class SharedPart(Generic[T]):
    """One resource, made by its first user and closed when its last user lets go of it."""

    def __init__(self, what: str, make: Callable[[], T], close: Callable[[T], None]):
        self.what = what
        self._make, self._close = make, close
        self._value: T | None = None
        self.users = 0

    def acquire(self) -> T:
        if self._value is None:
            logger.debug("starting the shared %s", self.what)
            self._value = self._make()
        self.users += 1
        return self._value

    def release(self) -> bool:
        """One user is done with the part; True when it was the last, which closes it."""
        self.users -= 1
        if self.users > 0:
            return False
        self.close()
        return True

    def close(self) -> None:
        """Close the part whoever still uses it (the end of the crawl process). Idempotent."""
        value, self._value = self._value, None
        if value is not None:
            logger.debug("closing the shared %s", self.what)
            self._close(value)


class CrawlResources:
    """The parts the crawlers of one process share (see the module's docstring).

    It rides in Scrapy's settings, which every crawler deep-copies: a copy is this object.
    """

    def __init__(self, *, warc: SharedPart, ingest: SharedPart, extraction: SharedPart):
        self.warc, self.ingest, self.extraction = warc, ingest, extraction

    def __copy__(self) -> CrawlResources:
        return self

    def __deepcopy__(self, memo) -> CrawlResources:
        return self

    def close(self) -> None:
        """Close what the crawlers left open: extraction and storing first (every batch is
        already stored by then), the archive last."""
        for part in (self.extraction, self.ingest, self.warc):
            try:
                part.close()
            except Exception:  # noqa: BLE001 - the other parts must still be closed
                logger.exception("closing the shared %s failed", part.what)


def resources_of(settings) -> CrawlResources | None:
    """The process's shared parts, if its crawl put them in ``settings``."""
    return settings.get("GOVARCHIVE_CRAWL_RESOURCES")
