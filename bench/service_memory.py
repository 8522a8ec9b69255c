"""Service memory: the RSS of ``govarchive serve`` over many short runs (issue 5).

Usage: python bench/service_memory.py [--runs 100] [--sources 4] [--warmup 8] [--keep DIR]

Serves the ``govcn`` test site from this process, writes a config with ``--sources`` sources
scheduled ``every 1s`` (SQLite, a fresh folder), starts ``govarchive serve`` as a subprocess and
samples the service process's VmRSS (children not included) from /proc after ``--warmup`` runs
and then after every finished run, until ``--runs`` runs have finished. It prints the RSS after
warm-up, at the end, the growth in total and per 100 runs, and the peak; /metrics is scraped
on every sample, as Prometheus would. A leak in the service (jobs, run bookkeeping, the health
thread, the webhook queue) shows as growth that keeps rising with the number of runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from govarchive.storage import Store
from tests.site.server import SiteServer


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def write_config(folder: Path, start_url: str, sources: int) -> Path:
    lines = [
        '[storage]\nurl = "sqlite:///data/govarchive.db"',
        '[archive]\ndir = "data/archive"',
        "[crawl]\ndelay = 0\nautothrottle = false\nallow_private_addresses = true",
        '[service]\nhealth_port = 0\nrun_timeout = "120s"\nstop_grace = "30s"',
    ]
    for n in range(sources):
        lines.append(
            f'[[sources]]\nname = "bench-{n}"\nstart_urls = [{json.dumps(start_url)}]\n'
            'schedule = "every 1s"'
        )
    path = folder / "govarchive.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def finished_runs(store: Store) -> int:
    return sum(1 for r in store.list_runs(limit=100_000) if r["status"] != "running")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--sources", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=8, help="runs before the first sample")
    parser.add_argument("--keep", type=Path, help="work in DIR and keep it")
    args = parser.parse_args(argv)

    folder = args.keep or Path(tempfile.mkdtemp(prefix="govarchive-service-memory-"))
    folder.mkdir(parents=True, exist_ok=True)
    site = SiteServer("govcn").start()
    config = write_config(folder, site.url(site.expected["start"]), args.sources)
    store = Store(f"sqlite:///{folder / 'data' / 'govarchive.db'}")
    store.migrate()
    log_path = folder / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    with open(log_path, "wb") as log:
        service = subprocess.Popen(
            [sys.executable, "-m", "govarchive", "--config", str(config), "serve"],
            stdout=subprocess.DEVNULL, stderr=log, env=env, cwd=ROOT,
        )
    began = time.monotonic()
    try:
        port = None
        samples: list[tuple[int, int]] = []  # (finished runs, RSS KiB)
        last = -1
        while True:
            if service.poll() is not None:
                raise SystemExit(f"serve exited with {service.returncode}; see {log_path}")
            if port is None:
                found = re.search(r"health: http://127\.0\.0\.1:(\d+)/", log_path.read_text())
                port = int(found.group(1)) if found else None
            done = finished_runs(store)
            if done != last and done >= args.warmup:
                if port is not None:  # scrape like Prometheus: the metrics path must not leak
                    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
                    opener.open(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
                samples.append((done, rss_kib(service.pid)))
                last = done
            if done >= args.runs:
                break
            time.sleep(0.2)  # sampling period, not a readiness wait
        elapsed = time.monotonic() - began
    finally:
        if service.poll() is None:
            service.send_signal(signal.SIGTERM)
            service.wait(120)
        site.stop()
    statuses: dict[str, int] = {}
    for run in store.list_runs(limit=100_000):
        statuses[run["status"]] = statuses.get(run["status"], 0) + 1
    store.close()

    (first_runs, first), (last_runs, final) = samples[0], samples[-1]
    peak = max(rss for _, rss in samples)
    span = max(last_runs - first_runs, 1)
    print(f"runs: {last_runs} finished in {elapsed:.0f} s "
          f"({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}); "
          f"service exit code {service.returncode}")
    print(f"service RSS after {first_runs} runs: {first / 1024:.1f} MiB; "
          f"after {last_runs} runs: {final / 1024:.1f} MiB; peak {peak / 1024:.1f} MiB")
    print(f"growth: {(final - first) / 1024:+.1f} MiB over {span} runs "
          f"({(final - first) / 1024 * 100 / span:+.2f} MiB per 100 runs)")
    if args.keep is None:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        print(f"kept {folder} (serve.log, data/logs/, data/govarchive.db)")
    return 0 if service.returncode == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
