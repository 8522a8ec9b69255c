"""Helpers shared by the benchmarks: the bulk site in its own process, timed subprocesses,
request counting from the site's log, and cProfile summaries.

The site server runs in a separate process so its page generation is never charged to the
crawler under test (both crawlers pay it equally either way, but a crawler sharing its own
interpreter with the server would also share the GIL).
"""

from __future__ import annotations

import io
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.site.process import SiteProcess

PYTHON = sys.executable
NOT_PAGES = frozenset({"/robots.txt"})


@dataclass
class Window:
    """The requests one crawl made, read from the site's request log."""

    requests: list[dict]

    @property
    def pages(self) -> int:
        """Requests for pages (robots.txt is bookkeeping, not a page)."""
        return sum(1 for r in self.requests if _path(r["target"]) not in NOT_PAGES)

    @property
    def robots(self) -> int:
        return sum(1 for r in self.requests if _path(r["target"]) in NOT_PAGES)

    @property
    def span(self) -> float:
        """Seconds from the first request's arrival to the last's: the crawl without start-up."""
        if len(self.requests) < 2:
            return 0.0
        times = [r["time"] for r in self.requests]
        return max(times) - min(times)

    @property
    def distinct_pages(self) -> int:
        return len({r["target"] for r in self.requests if _path(r["target"]) not in NOT_PAGES})


def _path(target: str) -> str:
    return target.split("?", 1)[0]


class RequestLog:
    """Reads the site's JSON-lines request log incrementally, one crawl at a time."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._offset = 0

    def mark(self) -> None:
        """Forget everything logged so far."""
        self._offset = self.path.stat().st_size if self.path.exists() else 0

    def since_mark(self) -> Window:
        if not self.path.exists():
            return Window([])
        with self.path.open("rb") as f:
            f.seek(self._offset)
            data = f.read()
        lines = data.decode("utf-8").splitlines()
        # The server writes one whole line per request; a torn last line cannot happen once the
        # crawler has exited, but skip one rather than fail the benchmark.
        return Window([json.loads(line) for line in lines if line.strip().endswith("}")])


def serve_bulk(workdir: Path, articles: int) -> tuple[SiteProcess, RequestLog]:
    """Start the bulk site (N articles) in its own process; the caller stops it. Its pages are
    made before it answers, so no crawl pays for generating them."""
    log_path = Path(workdir) / "site-requests.jsonl"
    site = SiteProcess("bulk", log_path, articles=articles, prerender=True,
                       python=PYTHON).start()
    return site, RequestLog(log_path)


@dataclass
class Timed:
    seconds: float
    cpu: float          # user + system seconds of the command and its children
    returncode: int
    stdout: str
    stderr: str


def run_timed(args: list[str], *, cwd: Path | None = None, env: dict | None = None) -> Timed:
    """Run a command to completion; measure its wall time (interpreter start-up included) and
    its CPU time, which a busy shared machine disturbs far less than the wall clock."""
    full_env = {**os.environ, **(env or {})}
    before = _children_cpu()
    started = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd or REPO_ROOT, env=full_env, capture_output=True,
                          text=True, check=False)
    wall = time.perf_counter() - started
    return Timed(wall, _children_cpu() - before, proc.returncode, proc.stdout, proc.stderr)


def _children_cpu() -> float:
    # Counts waited-for children only: the site server, still running, is not included.
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def rate(pages: int, seconds: float) -> float:
    return pages / seconds if seconds > 0 else 0.0


PROJECT_PACKAGES = ("crawler", "warc", "storage", "govarchive", "scheduler")


def profile_report(profile_path: Path, *, pages: int, top: int = 25, sort: str = "cumulative",
                   project_only: bool = False) -> str:
    """The top entries of a cProfile dump, with the cost per page beside each.

    ``project_only`` keeps the project's own functions: by cumulative time the whole list
    would otherwise be the event loop's dispatch frames, each at 100 %.
    """
    out = io.StringIO()
    stats = pstats.Stats(str(profile_path), stream=out)
    stats.sort_stats(sort)
    width = 90
    rows = []
    # pstats keeps (file, line, name) -> (calls, primitive calls, tottime, cumtime, callers).
    own = tuple(str(REPO_ROOT / name) + os.sep for name in PROJECT_PACKAGES)
    for func, (cc, nc, tt, ct, _callers) in stats.stats.items():
        if project_only and not func[0].startswith(own):
            continue
        rows.append((func, nc, tt, ct))
    key = 3 if sort == "cumulative" else 2
    rows.sort(key=lambda r: r[key], reverse=True)
    lines = [f"{'calls':>9} {'tottime s':>10} {'cumtime s':>10} {'ms/page':>8}  function"]
    for (filename, line, name), calls, tt, ct in rows[:top]:
        where = _short(filename)
        label = f"{where}:{line}({name})" if line else name
        per_page = (ct if sort == "cumulative" else tt) * 1000 / pages if pages else 0.0
        lines.append(f"{calls:>9} {tt:>10.2f} {ct:>10.2f} {per_page:>8.2f}  {label[:width]}")
    return "\n".join(lines)


def _short(filename: str) -> str:
    """A profile entry's file, relative to the repository or to site-packages."""
    for marker in (str(REPO_ROOT) + os.sep, "site-packages" + os.sep, "lib/python3.11/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def write_bulk_config(folder: Path, start_url: str, *, concurrency: int, max_list_pages: int,
                      source: str = "bench") -> Path:
    """govarchive.toml for one source over the bulk site: no delay (a local server), robots.txt
    still obeyed (one request more than a bare spider makes)."""
    config = folder / "govarchive.toml"
    config.write_text(f"""\
[storage]
url = "sqlite:///{folder / 'govarchive.db'}"

[archive]
dir = "{folder / 'archive'}"
collection = "bench"

[crawl]
delay = 0
autothrottle = false
concurrency = {concurrency}
concurrency_per_host = {concurrency}
allow_private_addresses = true

[[sources]]
name = "{source}"
start_urls = ["{start_url}"]
max_list_pages = {max_list_pages}
""", encoding="utf-8")
    return config

