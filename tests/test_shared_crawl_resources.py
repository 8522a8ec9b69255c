"""One crawl of many sources shares one WARC writer, one ingest worker and one extraction pool
(crawler.crawl_resources): its worker processes and WARC files do not grow with the number of
sources, and every source's articles are stored with pointers that resolve."""

from __future__ import annotations

import gzip
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from govarchive.crawler.run import spare_cores
from tests.crawling import make_project, site_source
from tests.site.bulk import BulkSite

pytestmark = pytest.mark.slow

HOSTS = ("127.0.0.2", "127.0.0.3", "127.0.0.4")


class ProcessTreeWatch:
    """Samples a process's descendants from /proc while it runs: every worker it started
    (by pid) and the peak resident memory of the whole tree."""

    def __init__(self, pid: int, interval: float = 0.05):
        self.pid, self.interval = pid, interval
        self.workers: dict[int, str] = {}  # pid -> command line
        self.peak_rss = 0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> ProcessTreeWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopped.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stopped.is_set():
            tree = self._descendants(self.pid)
            rss = sum(_rss(pid) for pid in [self.pid, *tree])
            self.peak_rss = max(self.peak_rss, rss)
            for pid in tree:
                if pid not in self.workers:
                    self.workers[pid] = _cmdline(pid)
            self._stopped.wait(self.interval)

    @staticmethod
    def _descendants(pid: int) -> list[int]:
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                text = stat.read_text()
            except OSError:
                continue
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            ppid = int(text.rpartition(")")[2].split()[1])
            children.setdefault(ppid, []).append(int(stat.parent.name))
        found, todo = [], [pid]
        while todo:
            for child in children.get(todo.pop(), []):
                found.append(child)
                todo.append(child)
        return found


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _warc_types(path: Path) -> Counter:
    """The WARC-Type of every record in a .warc.gz (one gzip member per record)."""
    types: Counter = Counter()
    with gzip.open(path, "rb") as f:
        for line in f:
            if line.startswith(b"WARC-Type:"):
                types[line.split(b":", 1)[1].strip().decode()] += 1
    return types


def _sources(site_server, count: int, articles: int) -> list[dict]:
    """``count`` sources of ``articles`` articles each, spread over HOSTS (several ports each)."""
    sources = []
    for n in range(count):
        sources.append(_source_on(site_server, f"bulk-{n}", HOSTS[n % len(HOSTS)],
                                  BulkSite(articles, seed=100 + n)))
    return sources


def _source_on(site_server, name: str, host: str, site) -> dict:
    # SiteServer.url names 127.0.0.1; the crawl must see the host the server listens on.
    server = site_server(site, host=host)
    start = f"http://{host}:{server.port}{server.expected['start']}"
    return site_source(name, server, start_urls=[start])


def _crawl_watched(project) -> tuple[ProcessTreeWatch, str, str, int]:
    crawl = project.start("crawl", "--all")
    with ProcessTreeWatch(crawl.pid) as watch:
        stdout, stderr = crawl.communicate(timeout=600)
    return watch, stdout, stderr, crawl.returncode


def _spawned_workers(watch: ProcessTreeWatch) -> list[str]:
    # multiprocessing's resource tracker is Python's, not one of ours.
    return [c for c in watch.workers.values()
            if "spawn_main" in c and "resource_tracker" not in c]


def test_a_crawl_of_six_sources_makes_one_warc_series_one_ingest_worker_one_pool(
        tmp_path, site_server):
    articles = 20
    project = make_project(tmp_path, _sources(site_server, 6, articles))

    watch, stdout, stderr, code = _crawl_watched(project)
    assert code == 0, stderr

    # One writer: one file (far below the rotation size), one warcinfo record.
    (warc,) = project.warc_files()
    assert warc.name.startswith("govarchive-") and not warc.name.startswith("govarchive-bulk")
    assert _warc_types(warc)["warcinfo"] == 1
    assert not list(project.archive_dir.glob("*.open"))
    # One ingest worker and one extraction pool (a worker per spare core), not one per source.
    workers = _spawned_workers(watch)
    assert len(workers) == 1 + spare_cores(), workers

    # Every source's run counts its own articles; every article is stored and resolves.
    runs = project.runs()
    assert len(runs) == 6 and {r["status"] for r in runs} == {"ok"}, runs
    assert all(r["new_articles"] == articles for r in runs), runs
    stored = Counter(a["source"] for a in project.export())
    assert stored == {f"bulk-{n}": articles for n in range(6)}
    check = project.run("warc", "check")
    assert check.returncode == 0, check.stdout + check.stderr


def test_one_source_keeps_its_name_in_its_warc_files(tmp_path, site_server):
    project = make_project(tmp_path, [_source_on(site_server, "solo", HOSTS[0], BulkSite(5))])
    result = project.crawl("--all")
    assert result.returncode == 0, result.stderr
    (warc,) = project.warc_files()
    assert warc.name.startswith("govarchive-solo-")


def test_thirty_sources_crawl_in_bounded_memory(tmp_path, site_server):
    project = make_project(tmp_path, _sources(site_server, 30, 10))
    started = time.monotonic()
    watch, _stdout, stderr, code = _crawl_watched(project)
    assert code == 0, stderr
    print(f"30 sources: peak RSS of the crawl's process tree {watch.peak_rss / 2**20:.0f} MiB, "
          f"{len(_spawned_workers(watch))} worker processes, "
          f"{time.monotonic() - started:.1f} s")
    assert len(_spawned_workers(watch)) == 1 + spare_cores()
    assert watch.peak_rss < 1.5 * 2**30
    assert len(project.export()) == 300


def test_sources_of_one_host_take_turns_and_at_most_concurrency_crawl_at_once(
        tmp_path, site_server):
    """Scrapy's per-host delay is per crawler: two sources on one host crawled together would
    double the load on it. ``crawl --all`` crawls them one after another, and at most
    ``[crawl] concurrency`` sources at once; each run starts when its crawl does."""
    servers, sources = {}, []
    for n in range(6):
        host = HOSTS[n % len(HOSTS)]
        server = site_server(BulkSite(25, seed=300 + n), host=host)
        start = f"http://{host}:{server.port}{server.expected['start']}"
        sources.append(site_source(f"turn-{n}", server, start_urls=[start]))
        servers[f"turn-{n}"] = (host, server)
    project = make_project(tmp_path, sources, crawl={"concurrency": 2,
                                                      "concurrency_per_host": 2})
    result = project.crawl("--all")
    assert result.returncode == 0, result.stderr
    assert len(project.export()) == 6 * 25

    spans = {}
    for name, (_host, server) in servers.items():
        times = [r.time for r in server.requests if r.path != "/robots.txt"]
        spans[name] = (min(times), max(times))
    for one in spans:
        for other in spans:
            if one < other and servers[one][0] == servers[other][0]:
                first, second = sorted((spans[one], spans[other]))
                assert first[1] < second[0], (one, other, spans)
    for moment in (start for start, _end in spans.values()):
        crawling = [name for name, (start, end) in spans.items() if start <= moment <= end]
        assert len(crawling) <= 2, (moment, crawling)

    runs = {r["source"]: r for r in project.runs()}
    for n in range(3, 6):  # the second source of each host ran after the first had ended
        assert runs[f"turn-{n}"]["started_at"] >= runs[f"turn-{n - 3}"]["finished_at"], runs


@pytest.mark.slow
def test_a_stopped_crawl_starts_no_waiting_source_and_names_them(tmp_path, site_server):
    """Three sources of one host take turns; Ctrl-C during the first: the other two never
    start (no run, no request), the summary names them, and nothing is left running or
    ``.open``."""
    host = HOSTS[0]
    servers = [site_server(BulkSite(5, seed=400 + n), host=host) for n in range(3)]
    sources = [site_source(f"wait-{n}", server,
                           start_urls=[f"http://{host}:{server.port}{server.expected['start']}"])
               for n, server in enumerate(servers)]
    slow = sorted(servers[0].expected["articles"])[0]
    servers[0].override(slow, delay=30)
    project = make_project(tmp_path, sources)
    crawl = project.start("crawl", "--all")
    deadline = time.monotonic() + 120
    while not servers[0].requested(slow):
        assert crawl.poll() is None, crawl.communicate()
        assert time.monotonic() < deadline, "the first source never reached its slow page"
        time.sleep(0.05)
    crawl.send_signal(signal.SIGINT)
    _stdout, stderr = crawl.communicate(timeout=120)
    assert crawl.returncode == 1, stderr
    assert "not started (the crawl was stopped): wait-1, wait-2" in stderr
    assert not servers[1].requests and not servers[2].requests
    runs = project.runs()
    assert [r["source"] for r in runs] == ["wait-0"], runs
    assert runs[0]["status"] != "running", runs
    assert not list(project.archive_dir.glob("*.open"))
