"""SIGKILL chaos: crawls and the service killed at random moments, then recovery checked.

Usage: python bench/chaos.py [--kills 20] [--articles 300] [--seed N] [--keep DIR]

Serves the generated bulk section (tests/site/bulk.py) from its own process and crawls it once
cleanly (the reference). Then, in a fresh folder, ``--kills`` times: starts either
``govarchive crawl --all`` or ``govarchive serve`` (a schedule of every 2 s), waits a random
moment within the clean crawl's duration, and SIGKILLs the whole process tree (its process
group and every descendant, the service's crawl children included). Then recovers with one
normal ``govarchive crawl --all`` and checks, printing each figure:

* ``warc check``: ``govarchive warc check`` (every file valid, every stored version's WARC
  pointer resolves) exits 0;
* ``.open`` files left in the archive after recovery: 0;
* versions whose pointer resolves, of all stored versions (``warc check`` reports the others);
* the next run after recovery completes (``ok`` or ``empty``);
* runs left ``running`` in the database (liveness closes killed ones as "process died"): 0;
* the articles (url, title, body) equal the clean crawl's.

Exit code 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PYTHON, REPO_ROOT, serve_bulk

SOURCE = "bench"


def write_config(folder: Path, start_url: str) -> Path:
    config = folder / "govarchive.toml"
    config.write_text(f"""\
[storage]
url = "sqlite:///{folder / 'govarchive.db'}"

[archive]
dir = "{folder / 'archive'}"
collection = "chaos"

[crawl]
delay = 0
autothrottle = false
concurrency = 4
concurrency_per_host = 4
allow_private_addresses = true
retries = 0

[service]
health_port = 0
standby_poll = "0.5s"
stop_grace = "5s"
misfire_grace_time = "1h"

[[sources]]
name = "{SOURCE}"
start_urls = ["{start_url}"]
schedule = "every 2s"
max_list_pages = 100
""", encoding="utf-8")
    return config


def env() -> dict:
    values = {k: v for k, v in os.environ.items() if not k.startswith("GOVARCHIVE_")}
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        values.pop(name, None)
    values["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + values.get("PYTHONPATH", "")
    return values


def govarchive(config: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "govarchive", "--config", str(config), *args],
                          capture_output=True, text=True, env=env(), cwd=config.parent,
                          timeout=timeout, check=False)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (the service starts its crawls in sessions of their own,
    so killing its process group alone would leave them running)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(process: subprocess.Popen) -> None:
    below = descendants(process.pid)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for pid in below:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(30)
    for pid in below:  # the service's crawl children: reaped by init, wait until gone
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)


def articles(config: Path) -> set[tuple[str, str, str]]:
    done = govarchive(config, "export")
    if done.returncode != 0:
        raise SystemExit(f"export failed:\n{done.stderr}")
    records = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return {(r["url"], r.get("title") or "", r.get("body_text") or "") for r in records}


def stored_runs(config: Path) -> tuple[list[dict], int]:
    """Runs as stored, read without ``govarchive runs`` (which would close dead ones), and
    the number of article versions."""
    from govarchive.storage import Store

    with Store(f"sqlite:///{config.parent / 'govarchive.db'}") as store:
        runs = store.list_runs(limit=10_000)
        versions = sum(1 for _ in store.iter_version_pointers())
    return runs, versions


def chaos(folder: Path, start_url: str, kills: int, window: float, rng: random.Random) -> dict:
    config = write_config(folder, start_url)
    if govarchive(config, "init").returncode != 0:
        raise SystemExit("init failed")
    killed = {"crawl": 0, "serve": 0}
    for n in range(kills):
        target = rng.choice(("crawl", "serve"))
        args = ("crawl", "--all") if target == "crawl" else ("serve",)
        process = subprocess.Popen(
            [PYTHON, "-m", "govarchive", "--config", str(config), *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=env(), cwd=folder, start_new_session=True,
        )
        # The service's first run starts 2 s after it does: give it time to get there.
        moment = rng.uniform(0.3, window) + (2.0 if target == "serve" else 0.0)
        time.sleep(moment)
        finished = process.poll() is not None
        kill_tree(process)
        killed[target] += 1
        print(f"kill {n + 1:>2}/{kills}: {target:<5} at {moment:5.1f} s"
              + (" (had already exited)" if finished else ""), flush=True)
    recovery = govarchive(config, "crawl", "--all")
    open_left = sorted(p.name for p in (folder / "archive").rglob("*.open"))
    check = govarchive(config, "warc", "check")
    following = govarchive(config, "crawl", "--all")
    runs, versions = stored_runs(config)
    faults = [line for line in check.stdout.splitlines() if line.strip()]
    return {
        "killed": killed, "recovery_rc": recovery.returncode,
        "recovery_status": runs[1]["status"] if len(runs) > 1 else "none",
        "warc_check_rc": check.returncode, "warc_faults": len(faults), "open_left": open_left,
        "versions": versions,
        "next_rc": following.returncode, "next_status": runs[0]["status"] if runs else "none",
        "running": [r["id"] for r in runs if r["status"] == "running"],
        "failed_process_died": sum(1 for r in runs if (r["error"] or "").startswith(
            "process died")),
        "runs": len(runs), "articles": articles(config),
        "stderr": recovery.stderr + following.stderr + check.stdout[-2000:],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs to deliver")
    parser.add_argument("--articles", type=int, default=300, help="articles of the bulk site")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: time)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the folders here")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="chaos-", dir=args.keep))
    site, _log = serve_bulk(work, args.articles)
    try:
        start_url = site.base_url + "/lianbo/bulk/index.htm"
        clean_dir = work / "clean"
        clean_dir.mkdir()
        clean_config = write_config(clean_dir, start_url)
        govarchive(clean_config, "init")
        started = time.monotonic()
        clean_run = govarchive(clean_config, "crawl", "--all")
        window = time.monotonic() - started
        if clean_run.returncode != 0:
            raise SystemExit(f"the clean crawl failed:\n{clean_run.stderr}")
        reference = articles(clean_config)
        print(f"clean crawl: {len(reference)} articles in {window:.1f} s (seed {seed})")
        chaos_dir = work / "chaos"
        chaos_dir.mkdir()
        result = chaos(chaos_dir, start_url, args.kills, window, rng)
    finally:
        site.stop()
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    same = result["articles"] == reference
    checks = {
        "warc check passes": result["warc_check_rc"] == 0,
        "no .open left after recovery": not result["open_left"],
        "recovery run completes": result["recovery_rc"] == 0,
        "next run completes": result["next_rc"] == 0
        and result["next_status"] in ("ok", "empty"),
        "no run left running": not result["running"],
        "articles equal the clean crawl's": same,
    }
    killed = result["killed"]
    print(f"kills: {args.kills} ({killed['crawl']} crawl --all, {killed['serve']} serve)")
    print(f"recovery crawl: exit {result['recovery_rc']}, {result['recovery_status']}")
    print(f"warc check: exit {result['warc_check_rc']}, {result['warc_faults']} fault line(s)")
    print(f".open files left: {len(result['open_left'])}")
    print(f"article versions stored: {result['versions']}, all resolve: "
          f"{result['warc_check_rc'] == 0}")
    print(f"next run: exit {result['next_rc']}, {result['next_status']}")
    print(f"runs: {result['runs']}, left running: {len(result['running'])}, "
          f"failed as 'process died': {result['failed_process_died']}")
    print(f"articles: {len(result['articles'])} (clean crawl {len(reference)}), "
          f"equal: {same}")
    for name, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    if not all(checks.values()):
        print(result["stderr"][-4000:], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
