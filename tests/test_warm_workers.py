"""Warm crawl workers (``[service] workers = "warm"``): the pool in this process driving real
worker processes against local sites, and ``govarchive serve`` end to end. Every wait polls
for a condition with a deadline."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import time
from datetime import datetime
from pathlib import Path

import pytest

from govarchive.cli.serve import crawl_worker_command
from govarchive.scheduler.warm_pool import WarmPool
from govarchive.settings import load_settings
from govarchive.storage import Store
from tests.test_scheduler_service import (
    GrowingSite,
    Serve,
    finished,
    growing_source,
    migrated,
    runs_of,
    wait_until,
    write_config,
)


def pool_for(tmp_path: Path, sources: list[dict], url: str | None = None,
             **service) -> tuple[WarmPool, Store]:
    url = url or f"sqlite:///{tmp_path / 'data/govarchive.db'}"
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


def command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


# ---- the pool, in this process ------------------------------------------------------------


def test_a_helper_whose_parent_died_while_it_started_ends_itself():
    import subprocess
    import sys

    # The parent it was started by (here, one that cannot be its parent now) is gone: the
    # helper was adopted before it could ask to die with it, so it ends at once.
    code = ("import signal, time; from govarchive.processes import die_with_parent; "
            "die_with_parent(signal.SIGTERM, parent=1); time.sleep(30)")
    child = subprocess.run([sys.executable, "-c", code], timeout=20, check=False)
    assert child.returncode == -signal.SIGTERM


def test_the_service_runs_one_source_of_a_host_at_a_time(tmp_path):
    from types import SimpleNamespace

    from govarchive.scheduler import Service

    hosts = {"a1": "a.example", "a2": "a.example", "a3": "www.a.example", "b1": "b.example"}
    body = "[crawl]\ndelay = 0.3\n[service]\nmax_concurrent_runs = 4\n" + "".join(
        f'[[sources]]\nname = "{name}"\nstart_urls = ["https://{host}/x/"]\n'
        'schedule = "every 1d"\n' for name, host in hosts.items())
    # a3 shares no host with a1 and a2 until it lists a.example too: then all three are one.
    body = body.replace('"https://www.a.example/x/"', '"https://www.a.example/x/", "http://a.example:8080/y/"')
    (tmp_path / "govarchive.toml").write_text(body, encoding="utf-8")
    settings = load_settings(tmp_path / "govarchive.toml", env={})

    class Runner:
        def __init__(self):
            self.active, self.settings = {}, settings
            self.going: list[str] = []
            self.together: list[set[str]] = []
            self.spans: dict[str, tuple[float, float]] = {}

        async def run(self, source, stopping, scheduled_for=None):
            began = time.monotonic()
            self.going.append(source)
            self.together.append(set(self.going))
            await asyncio.sleep(0.05)
            self.going.remove(source)
            self.spans[source] = (began, time.monotonic())
            run = {"status": "ok", "requests": 1, "new_articles": 0, "new_versions": 0}
            return SimpleNamespace(run_id=1, stopped=None, run=run)

    async def scenario():
        url = f"sqlite:///{tmp_path / 'govarchive.db'}"
        store = migrated(url)
        service = Service(settings, store, reload_settings=load_settings)
        service.runner = runner = Runner()
        service._crawled_elsewhere = lambda source: None
        await asyncio.gather(*(service._run_source(name) for name in hosts))
        store.close()
        return runner

    runner = asyncio.run(scenario())
    for together in runner.together:
        assert len(together & {"a1", "a2", "a3"}) <= 1, runner.together
    assert any(len(t) == 2 for t in runner.together)  # b1 beside one of the a's
    assert set().union(*runner.together) == set(hosts)  # every one ran
    # The next source of a host starts [crawl] delay after the last one ended.
    spans = sorted(runner.spans[name] for name in ("a1", "a2", "a3"))
    assert all(after[0] - before[1] >= 0.3 for before, after in itertools.pairwise(spans))


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_fifty_runs_in_one_worker_all_ok_and_memory_stable(tmp_path, govcn_site, database_url):
    start = govcn_site.url(govcn_site.expected["start"])
    pool, store = pool_for(tmp_path, [{"name": "govcn", "start_urls": [start],
                                       "schedule": "every 1h"}], database_url)
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
    assert [r["status"] for r in runs[1:]] == ["ok"] * 49, [r["error"] for r in runs]
    assert len({row.pid for row in _run_pids(store, [o.run_id for o in outcomes])}) == 1
    assert all(Path(r["log_path"]).read_text().count("Spider closed") == 1 for r in runs)
    # Memory settles after the first runs: the last 30 grow it by less than 30 MB.
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
    assert store.get_run(nxt.run_id)["status"] == "ok"
    # The worker that replaced it recovered the file it left .open, before its first run.
    archive = tmp_path / "data/archive/collections/govarchive/archive"
    assert not list(archive.glob("*.open")) and list(archive.glob("*.warc.gz"))
    deadline = time.monotonic() + 30
    while left := [command_line(p) for p in helpers if alive(p)]:
        assert time.monotonic() < deadline, f"the killed worker's helpers still run: {left}"
        time.sleep(0.1)
    assert not alive(pid)
    store.close()


# ---- govarchive serve -------------------------------------------------------------------------


@pytest.fixture
def services():
    started: list[Serve] = []

    def start(config: Path, name: str = "serve") -> Serve:
        started.append(Serve(config, name))
        return started[-1]

    yield start
    for serve in started:
        serve.kill()


def overlapping(runs: list[dict]) -> int:
    """The most runs that were going at once (from their start and finish times)."""
    events = sorted(itertools.chain.from_iterable(
        ((datetime.fromisoformat(r["started_at"]), 1), (datetime.fromisoformat(r["finished_at"]), -1))
        for r in runs), key=lambda e: (e[0], e[1]))
    going = most = 0
    for _, step in events:
        going += step
        most = max(most, going)
    return most


@pytest.mark.slow
def test_two_sources_on_one_host_never_crawl_at_once(tmp_path, site_server, services):
    site = site_server(GrowingSite())
    url = f"sqlite:///{tmp_path / 'data/govarchive.db'}"
    store = migrated(url)
    names = ["alpha", "beta"]
    config = write_config(tmp_path, url, [growing_source(site, n, "every 2s") for n in names],
                          max_concurrent_runs=4)
    serve = services(config)
    wait_until(lambda: min(len(finished(runs_of(store, n))) for n in names) >= 4, 120,
               "four runs of each source")
    assert serve.stop() == 0
    runs = finished(runs_of(store))
    assert all(r["status"] == "ok" for r in runs), runs
    assert overlapping(runs) == 1, runs
    # The site saw one source's requests, then the other's, never the two mixed: each run
    # is one unbroken stretch of its section's requests.
    sections = [r.path.split("/")[1] for r in sorted(site.requests, key=lambda r: r.time)
                if r.path != "/robots.txt"]
    stretches = [name for name, _ in itertools.groupby(sections)]
    assert set(stretches) == set(names)
    assert len(stretches) <= len(runs), stretches
    assert "waiting for the run of another source on its host (127.0.0.1)" in serve.log()
    assert "Traceback" not in serve.log()
    store.close()


def spread_sources(sites, count: int, schedule: str) -> list[dict]:
    """``count`` sources, dealt over ``sites`` (one host each)."""
    return [growing_source(site, f"s{n:03d}", schedule)
            for n, site in zip(range(count), itertools.cycle(sites))]


@pytest.mark.slow
def test_many_sources_due_at_once_keep_to_max_concurrent_runs_and_all_finish(
    tmp_path, site_server, services
):
    count, hosts, slots = 300, 6, 4
    sites = [site_server(GrowingSite(), host=f"127.0.0.{n + 1}") for n in range(hosts)]
    url = f"sqlite:///{tmp_path / 'data/govarchive.db'}"
    store = migrated(url)
    # Interval jobs added together fall due together, one interval after the start.
    config = write_config(tmp_path, url, spread_sources(sites, count, "every 15s"),
                          max_concurrent_runs=slots, stop_grace="20s")
    serve = services(config)
    names = {f"s{n:03d}" for n in range(count)}

    def all_ran():
        return {r["source"] for r in finished(store.list_runs(limit=100000))} >= names

    wait_until(all_ran, 600, f"a run of each of the {count} sources", interval=0.5)
    running = wait_until(lambda: serve.healthz()["running"], 60, "runs in progress")
    workers = {r["pid"] for r in running}
    below = children_of(serve.process.pid)
    assert workers <= below and len(below) > len(workers)  # workers and their helpers
    serve.process.kill()  # SIGKILL: nothing of the service may stay behind
    serve.process.wait(10)
    wait_until(lambda: not any(alive(p) for p in below), 60, "every process of the service to end")
    runs = finished(store.list_runs(limit=100000))
    assert overlapping(runs) <= slots
    first = {}
    for r in sorted(runs, key=lambda r: r["id"]):
        first.setdefault(r["source"], r)
    assert {r["status"] for r in first.values()} == {"ok"}, [
        r for r in first.values() if r["status"] != "ok"]
    log = serve.log()
    assert "Traceback" not in log, log[-5000:]
    store.close()


@pytest.mark.slow
@pytest.mark.parametrize(("limits", "runs", "workers", "why"), [
    ({"worker_max_runs": 2}, 3, 2, "2 runs (service.worker_max_runs)"),
    ({"worker_max_rss": "1MB"}, 2, 2, "past 1 MB (service.worker_max_rss)"),
])
def test_a_worker_is_replaced_after_its_runs_or_past_its_memory(
    tmp_path, govcn_site, caplog, limits, runs, workers, why
):
    start = govcn_site.url(govcn_site.expected["start"])
    pool, store = pool_for(tmp_path, [{"name": "govcn", "start_urls": [start],
                                       "schedule": "every 1h"}], **limits)

    async def several():
        outcomes = [await pool.run("govcn", asyncio.Event()) for _ in range(runs)]
        await pool.aclose()
        return outcomes

    with caplog.at_level("INFO", logger="govarchive.scheduler.warm_pool"):
        outcomes = asyncio.run(several())
    assert [o.status for o in outcomes] == ["ok"] * runs
    assert pool.started_workers == workers
    assert why in caplog.text
    store.close()


@pytest.mark.slow
def test_workers_process_keeps_a_child_process_per_run(tmp_path, site_server, services):
    site = site_server(GrowingSite())
    url = f"sqlite:///{tmp_path / 'data/govarchive.db'}"
    store = migrated(url)
    config = write_config(tmp_path, url, [growing_source(site, "solo", "every 1s")],
                          workers="process")
    serve = services(config)
    wait_until(lambda: len(finished(runs_of(store))) >= 2, 90, "two runs")
    assert serve.stop() == 0
    runs = finished(runs_of(store))
    assert all(r["status"] == "ok" for r in runs), runs
    pids = {row.pid for row in _run_pids(store, [r["id"] for r in runs])}
    assert len(pids) == len(runs)  # a process of its own for each run
    assert "crawl worker" not in serve.log()
    store.close()


@pytest.mark.slow
def test_a_worker_follows_edits_of_the_config_file_from_its_next_run(tmp_path, govcn_site):
    start = govcn_site.url(govcn_site.expected["start"])
    source = {"name": "govcn", "start_urls": [start], "schedule": "every 1h"}
    pool, store = pool_for(tmp_path, [source])
    config = pool.settings.config_path

    async def two_runs():
        first = await pool.run("govcn", asyncio.Event())
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace("[crawl]\n", '[crawl]\nuser_agent = "edited-agent/1"\n'),
                          encoding="utf-8")
        second = await pool.run("govcn", asyncio.Event())
        await pool.aclose()
        return first, second

    first, second = asyncio.run(two_runs())
    assert pool.started_workers == 1
    assert store.get_run(first.run_id)["status"] == "ok"
    agents = [dict(r.headers).get("User-Agent") for r in govcn_site.requests]
    assert "edited-agent/1" not in agents[0] and agents[-1] == "edited-agent/1", agents
    assert store.get_run(second.run_id)["status"] == "ok"
    store.close()


@pytest.mark.slow
def test_a_worker_whose_storing_process_died_is_replaced_after_the_run_it_failed(
    tmp_path, govcn_site, caplog
):
    start = govcn_site.url(govcn_site.expected["start"])
    pool, store = pool_for(tmp_path, [{"name": "govcn", "start_urls": [start],
                                       "schedule": "every 1h"}])

    async def three_runs():
        stopping = asyncio.Event()
        first = await pool.run("govcn", stopping)
        (worker,) = pool._idle
        for helper in children_of(worker.pid):  # its parsing and storing processes
            os.kill(helper, signal.SIGKILL)
        second = await pool.run("govcn", stopping)
        third = await pool.run("govcn", stopping)
        await pool.aclose()
        return first, second, third

    with caplog.at_level("INFO", logger="govarchive.scheduler.warm_pool"):
        first, second, third = asyncio.run(three_runs())
    assert store.get_run(first.run_id)["status"] == "ok"
    broken = store.get_run(second.run_id)
    assert broken["status"] == "failed" and "storing failed" in broken["error"], broken
    assert "could not store or archive" in caplog.text
    assert pool.started_workers == 2
    assert store.get_run(third.run_id)["status"] == "ok"
    store.close()
