"""Warm crawl workers (``[service] workers = "warm"``): the pool in this process driving real
worker processes against local sites, and ``govarchive serve`` end to end. Every wait polls
for a condition with a deadline."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from govarchive.cli.serve import crawl_worker_command
from govarchive.scheduler.politeness import host_groups
from govarchive.scheduler.warm_pool import WarmPool
from govarchive.settings import load_settings
from govarchive.storage import Store
from tests.test_scheduler_service import (
    GrowingSite,
    finished,
    growing_source,
    migrated,
    runs_of,
    wait_until,
    write_config,
)

REPO = Path(__file__).resolve().parents[1]


def pool_for(tmp_path: Path, sources: list[dict], **service) -> tuple[WarmPool, Store]:
    url = f"sqlite:///{tmp_path / 'data/govarchive.db'}"
    store = migrated(url)
    config = write_config(tmp_path, url, sources, **service)
    settings = load_settings(config)
    return WarmPool(settings, store, command=crawl_worker_command), store


def children_of(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                    text = stat.read()
            except OSError:
                continue
            parents[int(entry)] = int(text[text.rfind(")") + 2:].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            text = stat.read()
    except OSError:
        return False
    return text[text.rfind(")") + 2:].split()[0] not in ("Z", "X")


# ---- the pool, in this process ------------------------------------------------------------


def test_politeness_groups_join_sources_sharing_any_host():
    class S:
        def __init__(self, name, *urls):
            self.name, self.start_urls = name, urls

    groups = host_groups([
        S("a", "http://b.example/x", "http://c.example:8080/y"),
        S("b", "https://c.example/z"),  # another port of c.example: the same host
        S("c", "http://d.example/", "http://a.example/"),
        S("d", "http://a.example/q"),
        S("e", "http://e.example/"),
    ])
    assert groups["a"] == groups["b"] == "b.example"
    assert groups["c"] == groups["d"] == "a.example"
    assert groups["e"] == "e.example"


@pytest.mark.slow
def test_fifty_runs_in_one_worker_all_ok_and_memory_stable(tmp_path, govcn_site):
    start = govcn_site.url(govcn_site.expected["start"])
    pool, store = pool_for(tmp_path, [{"name": "govcn", "start_urls": [start],
                                       "schedule": "every 1h"}])
    outcomes, rss = [], []

    async def fifty_runs():
        stopping = asyncio.Event()
        for _ in range(50):
            outcomes.append(await pool.run("govcn", stopping))
            (worker,) = pool._idle
            rss.append(worker.rss)
        await pool.aclose()

    asyncio.run(fifty_runs())
    assert pool.started_workers == 1
    runs = [store.get_run(o.run_id) for o in outcomes]
    assert runs[0]["status"] == "ok" and runs[0]["new_articles"] == 12
    assert [r["status"] for r in runs[1:]] == ["empty"] * 49, [r["error"] for r in runs]
    pids = {r["pid"] for r in store.running_runs() or []} | {
        row.pid for row in _run_pids(store, [o.run_id for o in outcomes])}
    assert len(pids) == 1
    assert all(Path(r["log_path"]).read_text().count("Spider closed") == 1 for r in runs)
    # Memory settles after the first runs: the last 30 grow it by less than 30 MB.
    print("rss MB", [r >> 20 for r in rss])
    assert rss[-1] - rss[19] < 30 << 20, [r >> 20 for r in rss]
    store.close()


def _run_pids(store: Store, run_ids: list[int]):
    import sqlalchemy as sa

    with store._engine.connect() as conn:
        return conn.execute(sa.text(
            f"SELECT pid FROM runs WHERE id IN ({','.join(map(str, run_ids))})")).all()
