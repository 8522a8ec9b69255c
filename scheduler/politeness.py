"""Politeness across runs: sources on one host never crawl at the same time.

Each run keeps ``[crawl] delay`` and ``concurrency_per_host`` toward a host, but two runs of
two sources on that host would each keep them, doubling the load. So sources are grouped by
the hosts of their start URLs (``govarchive.politeness_groups``: host names, as Scrapy's
per-host slots
count them; sources sharing any host are one group, transitively), and the service runs one
source of a group at a time. The others wait for their group's turn, in the
order they fell due, before they take one of the run slots.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

from govarchive.politeness_groups import politeness_groups


class PolitenessGroups:
    """One lock per group; ``turn(source)`` is the source's group's lock."""

    def __init__(self, sources: Iterable):
        self._locks: dict[str, asyncio.Lock] = {}
        self.update(sources)

    def update(self, sources: Iterable) -> None:
        """Regroup after a reload. Locks are kept by group name; right after a reload that
        merges two groups, a run in progress under the old grouping may overlap one started
        under the new."""
        self.group_of = politeness_groups(sources)

    def group(self, source: str) -> str:
        return self.group_of.get(source, f"source:{source}")

    def _lock(self, source: str) -> asyncio.Lock:
        return self._locks.setdefault(self.group(source), asyncio.Lock())

    @contextlib.asynccontextmanager
    async def turn(self, source: str, rest: float = 0.0):
        """The group's turn for ``source``'s run; held ``rest`` seconds (``[crawl] delay``)
        after the run, so the next source on the host waits the delay after the last request
        of this one, as the next request of one crawl would."""
        async with self._lock(source):
            try:
                yield
            finally:
                if rest > 0:
                    await asyncio.sleep(rest)

    def waiting(self, source: str) -> bool:
        return self._lock(source).locked()
