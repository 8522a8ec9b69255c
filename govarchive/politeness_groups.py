"""Politeness groups: sources whose start pages share a host are crawled one at a time.

Two sources of one site (two sections of one ministry) hit the same server; run at once they
would double the load the per-host delay promises. A source whose start pages lie on several
hosts joins every one of those hosts' groups, so groups are the connected sets of sources and
hosts. Pure: ``crawl`` of several sources (:class:`GroupTurns`), the service's warm workers
(``scheduler.politeness``) and the distributed queue (``scheduler.queue``) all use it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit


def start_hosts(start_urls: Iterable[str]) -> list[str]:
    """The hosts of ``start_urls`` (lower case, without port), sorted, each once."""
    return sorted({(urlsplit(url).hostname or "").lower() for url in start_urls} - {""})


def politeness_groups(sources: Iterable) -> dict[str, str]:
    """``{source name: group key}`` for sources with ``name`` and ``start_urls``. The key of a
    group is the smallest host among its sources' start hosts (``"source:<name>"`` for a
    source without any), so every process reading the same configuration agrees on it."""
    parent: dict[str, str] = {}

    def find(host: str) -> str:
        while parent.setdefault(host, host) != host:
            parent[host] = parent[parent[host]]  # path halving
            host = parent[host]
        return host

    hosts_of = {source.name: start_hosts(source.start_urls) for source in sources}
    for hosts in hosts_of.values():
        for host in hosts[1:]:
            # The smaller root stays root: the key does not depend on the sources' order.
            low, high = sorted((find(hosts[0]), find(host)))
            parent[high] = low
    return {name: find(hosts[0]) if hosts else f"source:{name}"
            for name, hosts in hosts_of.items()}


class GroupTurns:
    """Which sources of a crawl may start now: one source of a politeness group at a time
    (Scrapy's per-host slots are per crawler, so two crawlers on one host would each keep
    the delay and together break it), at most ``at_once`` sources in all, each group's
    sources in the order given."""

    def __init__(self, sources: Sequence, at_once: int):
        if at_once < 1:
            raise ValueError("at_once must be at least 1")
        self.at_once = at_once
        self.group_of = politeness_groups(sources)
        self._waiting: dict[str, deque[str]] = {}
        for source in sources:
            self._waiting.setdefault(self.group_of[source.name], deque()).append(source.name)
        self._busy: set[str] = set()  # groups with a source crawling

    def ready(self) -> list[str]:
        """The sources to start now (each counted as crawling until :meth:`done`): from the
        groups with the most sources still waiting first (ties in the order given), so that
        no big group is left to crawl alone, one source after another, at the end."""
        started = []
        for group, waiting in sorted(self._waiting.items(), key=lambda item: -len(item[1])):
            if len(self._busy) >= self.at_once:
                break
            if waiting and group not in self._busy:
                started.append(waiting.popleft())
                self._busy.add(group)
        return started

    def done(self, source: str) -> None:
        self._busy.discard(self.group_of[source])

    def waiting(self) -> list[str]:
        return [name for waiting in self._waiting.values() for name in waiting]
