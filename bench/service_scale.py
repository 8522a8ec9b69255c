"""The service at scale (issue 14): bounded work, the cost of an unchanged check, schedule lag.

Usage:
  python bench/service_scale.py [--hosts 30] [--sources 300] [--interval 60] [--window 200]
                                [--modes warm,process] [--pairs 1]
                                [--database-url postgresql+psycopg://…] [--queue-workers 1,3]
                                [--archive-files N] [--keep DIR]

bench/scale_site.py serves one small section (one list page, ten articles, ``ETag`` and
``Last-Modified`` on every page) per source on H loopback hosts (127.0.0.2 …), S sources spread
over them. The benchmark then

1. crawls every source once with ``govarchive crawl --all`` (the first crawl) and prints the
   peak RSS of its process tree, sampled from /proc every 0.2 s;
2. for each ``[service] workers`` mode in ``--modes`` (alternating, ``--pairs`` times), runs
   ``govarchive serve`` for ``--window`` seconds with every source due every ``--interval``
   seconds, then stops it with SIGTERM and prints: runs due and done, schedule lag p50/p95
   (``started_at − scheduled_for``), requests per unchanged check (the site's log, robots.txt
   excluded), CPU-ms per check (user + system time of the service's whole process tree, start
   and stop included, from ``getrusage(RUSAGE_CHILDREN)``; and in the steady state, from the
   end of the first lap of runs, when the warm workers have started, to the stop, per kind of
   process, from /proc), peak RSS of the tree, and whether any process was left behind;
3. with ``--database-url`` (PostgreSQL), runs the same with ``[service] workers =
   "procrastinate"`` and each count of ``govarchive worker`` processes in ``--queue-workers``.

``--archive-files N`` first puts N more closed WARC files in the archive folder (symbolic
links to the first crawl's), as a service that has run for a while has: at 2,000 sources every 10
minutes a file per run is 288,000 files a day.

Each figure is printed against its target. Medians and spread over pairs when ``--pairs`` > 1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from typing import Self

from sqlalchemy.engine import make_url

from bench.scale_site import host_address
from govarchive.storage import Store

TARGET_REQUESTS = 1.0  # per start URL and unchanged check
TARGET_CPU_MS = 50.0  # per unchanged check
TARGET_LAG_P95 = 30.0  # seconds, 2,000 sources due every 10 minutes on 2 cores
TARGET_SCALING = 2.5  # runs done by 3 workers over 1, when CPU-bound
TARGET_CRAWL_RSS_MIB = 1024.0


# -- processes ------------------------------------------------------------------------------

def descendants(root: int) -> list[int]:
    """``root`` and every process below it, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def rss_mib(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


class TreeSampler:
    """Samples the RSS of some process trees every 0.2 s in a thread; keeps the peak and
    every pid seen, to check afterwards that none is left."""

    def __init__(self, roots: list[int]):
        self.roots = roots
        self.peak = 0.0
        self.seen: set[int] = set()
        self.cpu: list[tuple[float, float]] = []  # (time, CPU seconds of the live tree)
        # pid -> (its kind, [(time, its own CPU seconds)]): where the steady state's CPU goes
        self.by_pid: dict[int, tuple[str, list[tuple[float, float]]]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            pids = [pid for root in self.roots for pid in descendants(root)]
            self.seen.update(pids)
            self.peak = max(self.peak, rss_mib(pids))
            now = time.time()
            self.cpu.append((now, tree_cpu_seconds(pids)))
            for pid in pids:
                own = own_cpu_seconds(pid)
                if own is not None:
                    self.by_pid.setdefault(pid, (process_kind(pid), []))[1].append((now, own))
            self._stop.wait(0.2)

    def left_behind(self) -> list[int]:
        alive = []
        for pid in self.seen - set(self.roots):
            try:
                with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                    if stat.read().rsplit(")", 1)[1].split()[0] != "Z":
                        alive.append(pid)
            except OSError:
                continue
        return alive


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pids: list[int]) -> float:
    """User + system time of ``pids`` and of the children they reaped, from /proc."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return total / CLOCK_TICKS


def own_cpu_seconds(pid: int) -> float | None:
    """User + system time of ``pid`` itself (not its reaped children)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_kind(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            words = cmdline.read().decode(errors="replace").split("\0")
    except OSError:
        return "?"
    text = " ".join(words)
    for kind, marker in (("serve", " serve"), ("worker", " worker "),
                         ("crawl worker", "govarchive.crawl_worker"),
                         ("parsing/storing", "multiprocessing.spawn"),
                         ("resource tracker", "resource_tracker")):
        if marker in text or text.endswith(marker.strip()):
            return kind
    return "other"


def database_connections(port: int) -> dict[str, int]:
    """Open TCP connections to the database server on ``port`` (loopback), by the kind of
    local process holding them (``ss``)."""
    try:
        out = subprocess.run(["ss", "-tnpH", "dst", f"127.0.0.1:{port}"], capture_output=True,
                             text=True, check=False).stdout
    except OSError:  # no ss on this machine
        return {}
    held: dict[str, int] = {}
    for line in out.splitlines():
        for pid in re.findall(r"pid=(\d+)", line)[:1]:
            kind = process_kind(int(pid))
            held[kind] = held.get(kind, 0) + 1
    return held


def steady_cpu_by_kind(sampler, start: float, end: float) -> dict[str, float]:
    """CPU seconds each kind of process used between ``start`` and ``end`` (processes alive
    at some point in between; one that ended counts up to its last sample)."""
    used: dict[str, float] = {}
    for kind, samples in sampler.by_pid.values():
        inside = [c for t, c in samples if start <= t <= end]
        before = [c for t, c in samples if t < start]
        if not inside:
            continue
        first = before[-1] if before else 0.0
        used[kind] = used.get(kind, 0.0) + inside[-1] - first
    return used


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- the site and the project ----------------------------------------------------------------

class ScaleSite:
    def __init__(self, hosts: int, log_path: Path):
        self.log_path = log_path
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "scale_site.py"), "--hosts", str(hosts),
             "--log", str(log_path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line.startswith("PORT "):
            raise SystemExit(f"scale site did not start: {line!r}")
        self.port = int(line.split()[1])
        self._offset = 0

    def mark(self) -> None:
        self._offset = self.log_path.stat().st_size if self.log_path.exists() else 0

    def since_mark(self) -> list[dict]:
        with self.log_path.open("rb") as log:
            log.seek(self._offset)
            return [json.loads(line) for line in log.read().splitlines() if line.strip()]

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.terminate()
        self.process.wait(10)


def write_config(folder: Path, *, port: int, hosts: int, sources: int, interval: float,
                 workers: str | None, database_url: str | None, spread: bool = False) -> Path:
    storage = database_url or "sqlite:///data/govarchive.db"
    service = ['health_port = 0\nrun_timeout = "300s"\nstop_grace = "60s"']
    if spread:
        service.append("spread_schedules = true")
    if workers not in (None, "default"):
        service.append(f'workers = "{workers}"')
    lines = [
        f"[storage]\nurl = {json.dumps(storage)}",
        '[archive]\ndir = "data/archive"',
        "[crawl]\ndelay = 0\nautothrottle = false\nallow_private_addresses = true\nretries = 0",
        "[service]\n" + "\n".join(service),
    ]
    for n in range(sources):
        url = f"http://{host_address(n % hosts)}:{port}/s{n}/index.htm"
        lines.append(f'[[sources]]\nname = "scale-{n}"\nstart_urls = [{json.dumps(url)}]\n'
                     f'schedule = "every {int(interval)}s"\nmax_list_pages = 1')
    path = folder / "govarchive.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def govarchive(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "govarchive", "--config", str(config), *args]


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}


def first_crawl(config: Path, folder: Path) -> float:
    """``crawl --all`` once; returns the peak RSS of its process tree (MiB)."""
    began = time.monotonic()
    with open(folder / "first-crawl.log", "wb") as log:
        crawl = subprocess.Popen(govarchive(config, "crawl", "--all"),
                                 cwd=folder, stdout=log, stderr=subprocess.STDOUT,
                                 env=clean_env())
        with TreeSampler([crawl.pid]) as sampler:
            crawl.wait()
    if crawl.returncode not in (0,):
        raise SystemExit(f"first crawl exited {crawl.returncode}; see {folder}/first-crawl.log")
    print(f"first crawl (crawl --all): {time.monotonic() - began:.0f} s, peak RSS of the "
          f"process tree {sampler.peak:.0f} MiB (target < {TARGET_CRAWL_RSS_MIB:.0f} MiB: "
          f"{'met' if sampler.peak < TARGET_CRAWL_RSS_MIB else 'NOT met'})")
    return sampler.peak


def age_archive(folder: Path, count: int) -> None:
    """``count`` more closed files in the archive folder: symbolic links (a file takes at
    most 65,000 hard links) to a file of the first crawl, under names of an earlier day, so
    whatever lists or reads the folder meets them."""
    if not count:
        return
    archive = folder / "data/archive/collections/govarchive/archive"
    model = min(archive.glob("*.warc.gz"), key=lambda path: path.stat().st_size)
    for n in range(count):
        os.symlink(model.name, archive / f"old-20250101000000000000-{n:05d}-bench-1.warc.gz")
    print(f"archive folder: {count} more closed files (links to {model.name})")


# -- one measurement --------------------------------------------------------------------------

def measure(label: str, config: Path, folder: Path, site: ScaleSite, store: Store, *,
            sources: int, interval: float, window: float, queue_workers: int = 0,
            worker_concurrency: int | None = None, database_port: int | None = None) -> dict:
    known = {run["id"] for run in store.list_runs(limit=10_000_000)}
    site.mark()
    cpu_before = children_cpu_seconds()
    began = time.time()
    log = open(folder / f"serve-{label}.log", "ab")  # noqa: SIM115 - closed below
    log_start = log.tell()  # a label measured again appends to its log
    serve = subprocess.Popen(govarchive(config, "serve"), cwd=folder, stdout=log,
                             stderr=subprocess.STDOUT, env=clean_env())
    workers = [
        subprocess.Popen(govarchive(config, "worker", "--node", f"bench-{k}", *(
            ("--concurrency", str(worker_concurrency)) if worker_concurrency else ())),
            cwd=folder, stdout=log, stderr=subprocess.STDOUT, env=clean_env())
        for k in range(queue_workers)
    ]
    with TreeSampler([serve.pid, *(w.pid for w in workers)]) as sampler:
        deadline = time.monotonic() + window
        stop_at = time.time() + window
        connections: dict[str, int] = {}  # at the moment the most were open
        while time.monotonic() < deadline:
            if serve.poll() is not None:
                raise SystemExit(f"serve exited {serve.returncode}; see serve-{label}.log")
            if database_port is not None:
                now = database_connections(database_port)
                if sum(now.values()) > sum(connections.values()):
                    connections = now
            time.sleep(0.5)  # the measurement window, not a readiness wait
        for process in [serve, *workers]:
            process.send_signal(signal.SIGTERM)
        for process in [serve, *workers]:
            try:
                process.wait(120)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    log.close()
    time.sleep(1)  # let orphans, if any, show in /proc before looking for them
    left = sampler.left_behind()
    cpu = children_cpu_seconds() - cpu_before
    ended = time.time()

    runs = [run for run in store.list_runs(limit=10_000_000) if run["id"] not in known]
    done = [run for run in runs if run["status"] not in ("running",)]
    lags = []
    for run in runs:
        if run.get("scheduled_for") and run.get("started_at"):
            lags.append((datetime.fromisoformat(run["started_at"])
                         - datetime.fromisoformat(run["scheduled_for"])).total_seconds())
    requests = [r for r in site.since_mark() if r["path"] != "/robots.txt"]
    statuses: dict[str, int] = {}
    for run in runs:
        statuses[run["status"]] = statuses.get(run["status"], 0) + 1
    with open(folder / f"serve-{label}.log", "rb") as log_file:
        log_file.seek(log_start)
        tracebacks = log_file.read().count(b"Traceback (most recent call last)")
    due = sources * int(window // interval)
    # Steady state: from the end of the first lap (every source's first firing made, which is
    # also when the warm workers start: an "every N" schedule first fires N seconds after the
    # service starts) to just before the stop, the CPU the tree used over the runs that
    # finished meanwhile.
    def stamp(value: str) -> float:
        return datetime.fromisoformat(value).timestamp()

    fired = [stamp(run["scheduled_for"]) for run in runs if run.get("scheduled_for")]
    first_lap = [run for run in done if run.get("scheduled_for") and run.get("finished_at")
                 and stamp(run["scheduled_for"]) < min(fired) + interval - 0.5]
    steady_from = (max(stamp(run["finished_at"]) for run in first_lap) if first_lap
                   else float("inf"))
    steady_to = stop_at - 1
    samples = [(t, c) for t, c in sampler.cpu if steady_from <= t <= steady_to]
    steady_runs = [run for run in done if run.get("finished_at")
                   and steady_from < stamp(run["finished_at"]) <= steady_to]
    steady = ((samples[-1][1] - samples[0][1]) * 1000 / len(steady_runs)
              if len(samples) > 1 and steady_runs else float("nan"))
    by_kind = ({kind: seconds * 1000 / len(steady_runs) for kind, seconds in
                steady_cpu_by_kind(sampler, samples[0][0], samples[-1][0]).items()}
               if len(samples) > 1 and steady_runs else {})
    return {
        "label": label, "due": due, "done": len(done), "statuses": statuses,
        "lag_p50": _percentile(lags, 50), "lag_p95": _percentile(lags, 95),
        "requests_per_check": len(requests) / len(done) if done else float("nan"),
        "conditional": sum(1 for r in requests if r["conditional"]),
        "not_modified": sum(1 for r in requests if r["status"] == 304),
        "cpu_ms_per_check": cpu * 1000 / len(done) if done else float("nan"),
        "cpu_s": cpu, "steady_cpu_ms_per_check": steady, "steady_by_kind": by_kind, "peak_rss": sampler.peak, "left_behind": len(left),
        "tracebacks": tracebacks, "seconds": ended - began,
        "steady_seconds": max(0.0, steady_to - steady_from), "steady_runs": len(steady_runs),
        "exit": serve.returncode, "connections": connections,
    }


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def report(result: dict) -> None:
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(result["statuses"].items()))
    print(f"[{result['label']}] runs due {result['due']}, done {result['done']} ({statuses}); "
          f"lag p50 {result['lag_p50']:.1f} s, p95 {result['lag_p95']:.1f} s; "
          f"{result['requests_per_check']:.2f} requests per check "
          f"(target <= {TARGET_REQUESTS:.0f}; {result['not_modified']} answered 304); "
          f"{result['cpu_ms_per_check']:.0f} CPU-ms per check, start and stop included "
          f"({result['steady_cpu_ms_per_check']:.0f} in the steady state; target <= "
          f"{TARGET_CPU_MS:.0f}); "
          f"peak RSS {result['peak_rss']:.0f} MiB; processes left {result['left_behind']}; "
          f"tracebacks {result['tracebacks']}; serve exit {result['exit']}")
    if result["connections"]:
        print(f"  database connections at most {sum(result['connections'].values())}: "
              + ", ".join(f"{kind} {n}" for kind, n in sorted(result["connections"].items(),
                                                               key=lambda item: -item[1])))
    if result["steady_by_kind"]:
        print(f"  steady state: the last {result['steady_seconds']:.0f} s, "
              f"{result['steady_runs']} runs; CPU-ms per check by process: " + ", ".join(
            f"{kind} {ms:.1f}" for kind, ms in sorted(result["steady_by_kind"].items(),
                                                      key=lambda item: -item[1])))


def summarise(results: list[dict]) -> None:
    by_label: dict[str, list[dict]] = {}
    for result in results:
        by_label.setdefault(result["label"].split("#")[0], []).append(result)
    if all(len(group) < 2 for group in by_label.values()):
        return
    print("medians (min–max) over pairs:")
    for label, group in by_label.items():
        for key, unit in (("cpu_ms_per_check", "CPU-ms/check"),
                          ("steady_cpu_ms_per_check", "steady CPU-ms/check"),
                          ("lag_p95", "s lag p95"),
                          ("requests_per_check", "requests/check"), ("done", "runs done")):
            values = [r[key] for r in group]
            print(f"  {label}: {statistics.median(values):.2f} {unit} "
                  f"({min(values):.2f}–{max(values):.2f})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=30, help="loopback hosts (127.0.0.2…)")
    parser.add_argument("--sources", type=int, default=300, help="sources, one section each")
    parser.add_argument("--interval", type=float, default=60, help="seconds between runs")
    parser.add_argument("--window", type=float, default=200,
                        help="seconds of serve measured (the steady state begins after the "
                             "first lap, a little after --interval)")
    parser.add_argument("--modes", default="warm,process",
                        help="[service] workers modes to compare on SQLite, alternating; \"\" "
                             "for none (only the run queue, with --database-url)")
    parser.add_argument("--pairs", type=int, default=1, help="rounds of the modes")
    parser.add_argument("--database-url", help="PostgreSQL URL: also measure procrastinate")
    parser.add_argument("--queue-workers", default="1,3",
                        help="counts of `govarchive worker` processes to measure")
    parser.add_argument("--spread", action="store_true",
                        help="[service] spread_schedules = true (sources fall due across the "
                             "interval, not all at once)")
    parser.add_argument("--worker-concurrency", type=int, metavar="K",
                        help="`govarchive worker --concurrency K` (default: the worker's own, "
                             "two per core: give 1 to compare worker counts on one machine)")
    parser.add_argument("--archive-files", type=int, default=0, metavar="N",
                        help="N more closed WARC files in the archive folder before serving "
                             "(an archive some months old)")
    parser.add_argument("--keep", type=Path, help="work in DIR and keep it")
    args = parser.parse_args(argv)

    folder = args.keep or Path(tempfile.mkdtemp(prefix="govarchive-service-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    site = ScaleSite(args.hosts, folder / "requests.jsonl")
    common = {"port": site.port, "hosts": args.hosts, "sources": args.sources,
              "interval": args.interval, "spread": args.spread}
    results = []
    print(f"{args.sources} sources on {args.hosts} hosts, every {args.interval:.0f} s, "
          f"windows of {args.window:.0f} s, {os.cpu_count()} cores")
    try:
        modes = [mode for mode in args.modes.split(",") if mode]
        if modes:  # --modes "": only the run queue on PostgreSQL
            config = write_config(folder, workers=None, database_url=None, **common)
            subprocess.run(govarchive(config, "init"), cwd=folder, check=True,
                           stdout=subprocess.DEVNULL, env=clean_env())
            first_crawl(config, folder)
            age_archive(folder, args.archive_files)
            store = Store(f"sqlite:///{folder / 'data' / 'govarchive.db'}")
            for round_no in range(args.pairs):
                for mode in modes if round_no % 2 == 0 else list(reversed(modes)):
                    config = write_config(folder, workers=mode, database_url=None, **common)
                    result = measure(f"{mode}#{round_no}", config, folder, site, store,
                                     sources=args.sources, interval=args.interval,
                                     window=args.window)
                    report(result)
                    results.append(result)
            store.close()
        if args.database_url:
            pg = folder / "pg"
            pg.mkdir(exist_ok=True)
            config = write_config(pg, workers=None, database_url=args.database_url, **common)
            subprocess.run(govarchive(config, "init"), cwd=pg, check=True,
                           stdout=subprocess.DEVNULL, env=clean_env())
            first_crawl(config, pg)
            age_archive(pg, args.archive_files)
            store = Store(args.database_url)
            queue = {}
            for count in (int(n) for n in args.queue_workers.split(",")):
                config = write_config(pg, workers="procrastinate",
                                      database_url=args.database_url, **common)
                result = measure(f"procrastinate x{count}", config, pg, site, store,
                                 sources=args.sources, interval=args.interval,
                                 window=args.window, queue_workers=count,
                                 worker_concurrency=args.worker_concurrency,
                                 database_port=make_url(args.database_url).port or 5432)
                report(result)
                queue[count] = result["done"]
            store.close()
            if 1 in queue and 3 in queue and queue[1]:
                ratio = queue[3] / queue[1]
                print(f"3 workers / 1 worker: {ratio:.2f}x the runs (target >= "
                      f"{TARGET_SCALING}x when CPU-bound)")
        summarise(results)
    finally:
        site.stop()
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"kept {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
