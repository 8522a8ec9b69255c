"""The crawl's worker processes (extraction pool, ingest worker) never outlive the crawl: a
crawl killed outright (SIGKILL, the out-of-memory killer) takes them with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

SCRIPT = textwrap.dedent("""
    import sys, time
    from govarchive.crawler.extraction_pool import ExtractionWorkers
    from govarchive.crawler.ingest_worker import IngestWorker

    if __name__ == "__main__":
        pool = ExtractionWorkers(2)
        ingest = IngestWorker(sys.argv[1])
        ingest.executor.submit(int).result()  # its process is up
        pids = [w.process.pid for w in pool._workers] + list(ingest.executor._processes)
        print(" ".join(map(str, pids)), flush=True)
        time.sleep(600)
""")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(sys.platform != "linux", reason="the parent-death signal is Linux's")
def test_workers_exit_when_the_crawl_process_is_killed(tmp_path):
    script = tmp_path / "crawl_like.py"
    script.write_text(SCRIPT, encoding="utf-8")
    database = f"sqlite:///{tmp_path / 'govarchive.db'}"
    crawl = subprocess.Popen([sys.executable, str(script), database], stdout=subprocess.PIPE,
                             text=True, cwd=tmp_path)
    try:
        pids = [int(pid) for pid in crawl.stdout.readline().split()]
        assert len(pids) == 3 and all(_alive(pid) for pid in pids)
        os.kill(crawl.pid, signal.SIGKILL)
        crawl.wait(10)
        deadline = time.monotonic() + 15
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [pid for pid in pids if _alive(pid)] == []
    finally:
        if crawl.poll() is None:
            crawl.kill()
