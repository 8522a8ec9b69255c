"""Politeness groups: sources whose start pages share a host are crawled one at a time.

Two sources of one site (two sections of one ministry) hit the same server; run at once they
would double the load the per-host delay promises. A source whose start pages lie on several
hosts joins every one of those hosts' groups, so groups are the connected sets of sources and
hosts. Pure: the distributed queue (``scheduler.queue``) and the warm workers both use it.
"""

from __future__ import annotations

from collections.abc import Iterable
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
