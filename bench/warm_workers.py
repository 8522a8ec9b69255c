"""Warm crawl workers against a child process per run: the cost of one unchanged check.

Usage: python bench/warm_workers.py [--pairs 10] [--keep DIR]

Serves the ``govcn`` test site from this process and configures one source whose three start
URLs are the section's three list pages (SQLite, a fresh folder). A first run stores the
section; every later run finds nothing new (status ``ok``, no new article): the scheduled check of an
unchanged source. Then ``--pairs`` pairs of runs, alternating which goes first:

- **process**: ``scheduler.runner.ChildRunner.run``, as ``[service] workers = "process"`` runs
  it: a new ``govarchive crawl SOURCE --run-id N`` process. CPU is the child's and everything
  it waited for (``RUSAGE_CHILDREN``), start-up included;
- **warm**: ``scheduler.warm_pool.WarmPool.run`` on a worker started (and used once) before
  the pairs. CPU is the worker's and its parsing and storing processes' (/proc), read before
  and after the run.

Wall is the runner's ``run()`` call, the run's bookkeeping in the database included. It prints
each pair, then the median, minimum and maximum of each figure, and the warm worker's resident
memory (its own and its helpers').
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from govarchive.cli.serve import crawl_worker_command  # noqa: E402
from govarchive.scheduler.runner import ChildRunner  # noqa: E402
from govarchive.scheduler.warm_pool import WarmPool  # noqa: E402
from govarchive.settings import load_settings  # noqa: E402
from govarchive.storage import Store  # noqa: E402
from tests.site.server import SiteServer  # noqa: E402
from tests.test_scheduler_service import write_config  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            text = stat.read()
    except OSError:
        return None
    return text[text.rfind(")") + 2:].split()


def tree(pid: int) -> set[int]:
    """``pid`` and every process below it."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))):
            parents[int(entry)] = int(fields[1])
    found, frontier = {pid}, {pid}
    while frontier:
        frontier = {c for c, p in parents.items() if p in frontier} - found
        found |= frontier
    return found


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of ``pid`` and the processes below it."""
    total = 0
    for member in tree(pid):
        if fields := _stat(member):
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def tree_rss_mb(pid: int) -> tuple[float, float]:
    """Resident MB of ``pid`` itself, and of the processes below it together."""
    page = os.sysconf("SC_PAGE_SIZE")

    def rss(p: int) -> int:
        try:
            with open(f"/proc/{p}/statm", encoding="ascii") as statm:
                return int(statm.read().split()[1]) * page
        except OSError:
            return 0

    below = tree(pid) - {pid}
    return rss(pid) / 2**20, sum(map(rss, below)) / 2**20


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def measure(pairs: int, folder: Path, site: SiteServer) -> None:
    url = f"sqlite:///{folder / 'data/govarchive.db'}"
    store = Store(url)
    store.migrate()
    starts = [site.url(p) for p in site.expected["list_pages"]]
    config = write_config(folder, url, [{"name": "govcn", "start_urls": starts,
                                         "schedule": "every 1h"}])
    settings = load_settings(config)
    child = ChildRunner(settings, store)
    pool = WarmPool(settings, store, command=crawl_worker_command)
    stopping = asyncio.Event()
    first = await child.run("govcn", stopping)
    print(f"first run: {first.status}, {first.run['new_articles']} new articles", flush=True)
    await pool.run("govcn", stopping)  # starts the worker; its first run is not counted
    (worker,) = pool._idle
    figures: dict[str, list[tuple[float, float]]] = {"process": [], "warm": []}

    async def process_run():
        cpu, began = children_cpu(), time.monotonic()
        outcome = await child.run("govcn", stopping)
        return outcome, time.monotonic() - began, children_cpu() - cpu

    async def warm_run():
        cpu, began = tree_cpu(worker.pid), time.monotonic()
        outcome = await pool.run("govcn", stopping)
        return outcome, time.monotonic() - began, tree_cpu(worker.pid) - cpu

    for n in range(pairs):
        order = [("process", process_run), ("warm", warm_run)]
        if n % 2:
            order.reverse()
        line = []
        for name, run in order:
            outcome, wall, cpu = await run()
            if outcome.status != "ok" or outcome.run["new_articles"]:
                raise SystemExit(f"{name} run {outcome.run_id}: {outcome.status} "
                                 f"({outcome.run['error']}); expected an unchanged check")
            figures[name].append((wall, cpu))
            line.append(f"{name:7} wall {wall * 1000:6.0f} ms  cpu {cpu * 1000:6.0f} ms")
        print(f"pair {n + 1:2}: " + " | ".join(line), flush=True)
    own, helpers = tree_rss_mb(worker.pid)
    await pool.aclose()
    store.close()
    print()
    for name, values in figures.items():
        walls = [w * 1000 for w, _ in values]
        cpus = [c * 1000 for _, c in values]
        print(f"{name:7} wall median {statistics.median(walls):6.0f} ms "
              f"(min {min(walls):.0f}, max {max(walls):.0f})   cpu median "
              f"{statistics.median(cpus):6.0f} ms (min {min(cpus):.0f}, max {max(cpus):.0f})")
    ratio_wall = statistics.median(w for w, _ in figures["process"]) / statistics.median(
        w for w, _ in figures["warm"])
    ratio_cpu = statistics.median(c for _, c in figures["process"]) / max(
        statistics.median(c for _, c in figures["warm"]), 1e-9)
    print(f"process/warm: {ratio_wall:.1f}x wall, {ratio_cpu:.1f}x cpu")
    print(f"warm worker resident: {own:.0f} MB, its parsing and storing processes {helpers:.0f} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10, help="pairs of runs to time")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args(argv)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="govarchive-warm-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with SiteServer("govcn") as site:
            asyncio.run(measure(args.pairs, folder, site))
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
