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


async def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)
    return value


@pytest.mark.slow
def test_a_hanging_run_is_cancelled_at_its_timeout_and_the_next_run_starts(tmp_path, govcn_site):
    start_path = govcn_site.expected["start"]
    govcn_site.override(start_path, delay=60)  # the section page never comes in time
    pool, store = pool_for(tmp_path, [{"name": "govcn", "start_urls": [govcn_site.url(start_path)],
                                       "schedule": "every 1h"}],
                           run_timeout="6s", stop_grace="6s")
    timings = []

    async def two_runs():
        stopping = asyncio.Event()
        pool._idle.append(await pool._start())  # the timing below is the run's, not a start's
        began = time.monotonic()
        hung = await pool.run("govcn", stopping)
        timings.append(time.monotonic() - began)
        govcn_site.reset(start_path)
        nxt = await pool.run("govcn", stopping)
        await pool.aclose()
        return hung, nxt

    hung, nxt = asyncio.run(two_runs())
    assert hung.stopped == "timeout"
    run = store.get_run(hung.run_id)
    assert run["status"] == "timeout" and "service.run_timeout" in run["error"], run
    assert 6 <= timings[0] < 6 + 6 + 5  # the timeout, at most stop_grace to stop, a margin
    assert store.get_run(nxt.run_id)["status"] == "ok"
    assert store.get_run(nxt.run_id)["new_articles"] == 12
    assert "stopping the crawl of govcn" in Path(run["log_path"]).read_text()
    # The worker cut the hung download and recorded the run itself: it took the next one.
    assert pool.started_workers == 1
    store.close()


@pytest.mark.slow
def test_a_sigkilled_worker_is_replaced_and_its_run_closed_as_failed(tmp_path, govcn_site):
    slow = sorted(govcn_site.expected["articles"])[3]
    govcn_site.override(slow, delay=60)
    start = govcn_site.url(govcn_site.expected["start"])
    pool, store = pool_for(tmp_path, [{"name": "govcn", "start_urls": [start],
                                       "schedule": "every 1h"}])
    helpers: set[int] = set()

    async def killed_then_next():
        stopping = asyncio.Event()
        run = asyncio.ensure_future(pool.run("govcn", stopping))
        await wait_for(lambda: govcn_site.requested(slow), 60, "the crawl to reach the slow page")
        (active,) = pool.active.values()
        helpers.update(children_of(active.pid))  # its parsing and storing workers
        os.kill(active.pid, signal.SIGKILL)
        killed = await run
        govcn_site.reset(slow)
        nxt = await pool.run("govcn", stopping)
        await pool.aclose()
        return active.pid, killed, nxt

    pid, killed, nxt = asyncio.run(killed_then_next())
    run = store.get_run(killed.run_id)
    assert run["status"] == "failed", run
    assert "killed by SIGKILL" in run["error"], run
    assert pool.started_workers == 2
    assert store.get_run(nxt.run_id)["status"] in ("ok", "empty")
    wait_until(lambda: not any(alive(p) for p in helpers), 30, "the killed worker's helpers")
    assert not alive(pid)
    store.close()
