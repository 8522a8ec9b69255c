"""``serve`` queuing runs in PostgreSQL (``[service] workers = "procrastinate"``) and three
``govarchive worker`` processes running them: every due run made once, no two runs of one
politeness group at once (from the sites' own request logs), a SIGKILLed worker's run made
again by another, ``serve`` SIGHUP and SIGTERM as before. Every wait polls with a deadline."""

from __future__ import annotations

import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import ClassVar

import pytest

from govarchive.processes import process_alive
from tests.site.content import Response, error_page, html_content_type, split_target
from tests.test_scheduler_service import (
    GROWING_RULES,
    PROXY_VARS,
    Serve,
    migrated,
    runs_of,
    wait_until,
    write_config,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


class SlowSections:
    """Sections ``/<name>/`` whose list shows one more article each read; article pages take
    ``delay`` seconds, so a run lasts long enough to overlap another if it were let."""

    name = "slow-sections"
    charset = "utf-8"
    expected: ClassVar[dict] = {}

    def __init__(self, delay: float):
        self.delay = delay
        self._lock = threading.Lock()
        self.reads: dict[str, int] = {}

    def respond(self, target: str) -> Response:
        path, _ = split_target(target)
        if path == "/robots.txt":
            return Response(body=b"User-agent: *\nDisallow: /private/\n", content_type="text/plain")
        match = re.fullmatch(r"/([a-z0-9-]+)/(index\.htm|(\d+)\.htm)", path)
        if not match:
            return error_page(404)
        section = match.group(1)
        if match.group(3) is None:
            with self._lock:
                count = self.reads[section] = self.reads.get(section, 0) + 1
            items = "".join(f'<li><a href="/{section}/{n}.htm">{section} 第{n}号通知</a></li>'
                            for n in range(count, 0, -1))
            body = f"<html><body><ul class='list'>{items}</ul></body></html>"
            return Response(body=body.encode(), content_type=html_content_type("utf-8"))
        n = int(match.group(3))
        body = (f"<html><head><title>{section} {n}</title></head><body><h1>{section} 第{n}号通知"
                f"</h1><span class='date'>2026-11-{(n % 28) + 1:02d} 09:00</span><div id='content'>"
                f"<p>{f'{section} 第{n}号通知的正文。' * 40}</p></div></body></html>")
        return Response(body=body.encode(), content_type=html_content_type("utf-8"),
                        delay=self.delay)


class Worker(Serve):
    """A ``govarchive worker --node NAME`` process; its stderr goes to ``NAME.log``."""

    def __init__(self, config: Path, node: str):
        self.config = config
        self.node = node
        self.log_path = config.parent / f"{node}.log"
        env = {k: v for k, v in os.environ.items()
               if k not in PROXY_VARS and not k.startswith("GOVARCHIVE_")}
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()/kill()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "govarchive", "--config", str(config), "worker",
             "--concurrency", "1", "--node", node],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._log, env=env,
        )


@pytest.fixture
def processes():
    started: list[Serve] = []
    yield started
    for process in started:
        process.kill()


def source(server, host: str, name: str, schedule: str) -> dict:
    return {"name": name, "start_urls": [f"http://{host}:{server.port}/{name}/index.htm"],
            "schedule": schedule, "rules": GROWING_RULES}


def wait_logged(predicate, timeout: float, what: str, workers: list[Worker]):
    """``wait_until``, saying on a timeout what the workers logged (their last lines)."""
    try:
        return wait_until(predicate, timeout, what)
    except AssertionError as timed_out:
        logs = "\n".join(f"--- {w.node}:\n{w.log()[-4000:]}" for w in workers)
        raise AssertionError(f"{timed_out}; the workers said:\n{logs}") from None


JOB_DONE = re.compile(r"job (\d+): run (\d+) of (\S+) on (\S+): (\w+)")


def done_jobs(workers: list[Worker]) -> dict[int, list[tuple[int, str, str, str]]]:
    """{job id: [(run id, source, node, status) for each run of it a worker finished]}"""
    found = defaultdict(list)
    for worker in workers:
        for match in JOB_DONE.finditer(worker.log()):
            job, run, name, node, status = match.groups()
            found[int(job)].append((int(run), name, node, status))
    return found


def assert_group_served_one_run_at_a_time(server, runs: list[dict], names: list[str],
                                          killed: int) -> None:
    """The group's runs never overlapped: neither their rows' start-finish spans nor the
    times their host saw their requests. The ``killed`` run's row was closed only when its
    death was noticed: its requests are those of its section before the next run of it."""
    group = sorted((r for r in runs if r["source"] in names), key=lambda r: r["started_at"])
    spans = {r["id"]: [datetime.fromisoformat(r["started_at"]).timestamp(),
                       datetime.fromisoformat(r["finished_at"]).timestamp()] for r in group}
    for run in group:
        later = [spans[r["id"]][0] for r in group
                 if r["source"] == run["source"] and spans[r["id"]][0] > spans[run["id"]][0]]
        if run["id"] == killed and later:
            spans[killed][1] = min(later)
    rows = sorted((*spans[r["id"]], r["source"]) for r in group)
    for (_, end, before), (start, _, after) in itertools.pairwise(rows):
        assert start >= end, f"runs of {before} and {after} overlapped: {rows}"
    requests = [(r.time, r.path.split("/")[1]) for r in server.requests if r.path != "/robots.txt"]
    # Each request belongs to one run of its section: the one whose span holds it, else the
    # nearest within half a second (the rows' times and the site's clock differ a little).
    # Warm runs of one source can follow each other within that half second.
    by_run: dict[int, list[float]] = defaultdict(list)
    for when, section in requests:
        near = [(0 if begin <= when <= end else min(abs(when - begin), abs(when - end)),
                 run["id"])
                for run in group if run["source"] == section
                for begin, end in [spans[run["id"]]] if begin - 0.5 <= when <= end + 0.5]
        if near:
            by_run[min(near)[1]].append(when)
    seen = [(min(times), max(times), run["source"])
            for run in group if (times := by_run.get(run["id"]))]
    for (_, end, before), (start, _, after) in itertools.pairwise(sorted(seen)):
        assert start >= end, f"the host saw {before} and {after} at once: {sorted(seen)}"
    for when, section in requests:  # none outside a run of its section
        assert any(section == source and low <= when <= high for low, high, source in seen), (
            f"a request of {section} at {when} outside its runs: {sorted(seen)}")


def test_serve_and_three_workers_run_each_due_run_once_one_per_group(
    tmp_path, database_url, site_server, processes
):
    if not database_url.startswith("postgresql"):
        pytest.skip("the run queue lives in PostgreSQL")
    # Politeness group 127.0.0.2: three sections of one site; group 127.0.0.3: two.
    first = site_server(SlowSections(delay=0.4), host="127.0.0.2")
    second = site_server(SlowSections(delay=0.4), host="127.0.0.3")
    group_a, group_b = ["a-one", "a-two", "a-three"], ["b-one", "b-two"]
    sources = ([source(first, "127.0.0.2", n, "every 2s") for n in group_a]
               + [source(second, "127.0.0.3", n, "every 2s") for n in group_b])
    store = migrated(database_url)
    service = {"workers": "procrastinate", "stall_timeout": "6s"}
    config = write_config(tmp_path, database_url, sources, **service)
    serve = Serve(config)
    processes.append(serve)
    serve.wait_for_log(r"jobs: added")
    workers = [Worker(config, f"node-{n}") for n in (1, 2, 3)]
    processes.extend(workers)
    for worker in workers:
        worker.wait_for_log(r"taking runs from the queue")

    # A worker in the middle of a run is SIGKILLed: its job is made again by another.
    def a_worker_mid_run():
        for run in runs_of(store):
            worker = next((w for w in workers if w.node == run["node"]), None)
            began = datetime.fromisoformat(run["started_at"]).timestamp()
            if run["status"] != "running" or worker is None:
                continue
            started = re.findall(r"job (\d+): a run of", worker.log())
            crawling = any(r.path.startswith(f"/{run['source']}/") and r.time > began
                           for server in (first, second) for r in server.requests)
            if (started and not re.search(rf"job {started[-1]}: run ", worker.log())
                    and crawling):
                return worker, run, int(started[-1])
        return None

    victim, victim_run, job = wait_until(a_worker_mid_run, 90, "a run on a worker")
    victim.kill()
    serve_log_job = re.search(rf"queued as job {job} ", serve.log())
    assert serve_log_job, serve.log()
    others = [w for w in workers if w is not victim]
    retried = wait_logged(lambda: done_jobs(others).get(job), 90, f"job {job} made again",
                          others)
    assert retried[0][2] != victim.node and retried[0][1] == victim_run["source"]
    assert any(f"job {job} ({victim_run['source']}) was running on a worker that stopped "
               "answering" in w.log() for w in others)
    # The killed worker's run is closed as failed (its crawl stopped when it lost its parent,
    # or the heartbeat limit closes it), never left running.
    wait_until(lambda: store.get_run(victim_run["id"])["status"] != "running", 120,
               "the killed worker's run closed")
    assert store.get_run(victim_run["id"])["status"] == "failed"

    # Run a while longer, then SIGHUP to hourly schedules (as before: reconciled) and let the
    # queue empty.
    wait_until(lambda: len(done_jobs(others)) >= 6, 180, "six jobs done")
    config = write_config(tmp_path, database_url,
                          [{**s, "schedule": "every 1h"} for s in sources], **service)
    serve.process.send_signal(signal.SIGHUP)
    serve.wait_for_log(r"jobs: changed")

    def queued() -> set[int]:
        """Jobs serve queued, less those cancelled for a stalled job of their source."""
        cancelled = {int(j) for w in others
                     for found in re.findall(r"cancelled job\(s\) ([\d, ]+) queued", w.log())
                     for j in found.split(",")}
        return {int(j) for j in re.findall(r"queued as job (\d+) ", serve.log())} - cancelled

    wait_until(lambda: queued() <= set(done_jobs(others)), 180, "every queued job done")
    assert serve.stop() == 0
    for worker in others:
        assert worker.stop(timeout=60) == 0, worker.log()

    jobs = done_jobs(others)
    # Every queued run made exactly once (the killed one once more, elsewhere).
    assert queued() == set(jobs)
    assert all(len(runs) == 1 for runs in jobs.values()), jobs
    runs = runs_of(store)
    by_id = {r["id"]: r for r in runs}
    made = [run for job_runs in jobs.values() for run in job_runs]
    assert {run_id for run_id, *_ in made} | {victim_run["id"]} == set(by_id)
    assert all(by_id[run_id]["status"] == "ok" for run_id, *_ in made), runs
    assert all(r["status"] != "running" for r in runs)
    # Each run on the node that made it; both other workers took a share.
    assert {node for *_, node, _ in made} == {w.node for w in others}
    assert all(by_id[run_id]["node"] == node for run_id, _, node, _ in made)
    assert_group_served_one_run_at_a_time(first, runs, group_a, victim_run["id"])
    assert_group_served_one_run_at_a_time(second, runs, group_b, victim_run["id"])
    # The WARC files carry the node that wrote them.
    warcs = list((tmp_path / "data/archive/collections/govarchive/archive").glob("*.warc.gz"))
    assert {w.node for w in others} <= {re.search(r"-(node_\d)-\d+\.warc\.gz$", p.name).group(1)
                                         .replace("_", "-") for p in warcs}
    store.close()


class TcpProxy:
    """Forwards 127.0.0.1:<port> to the database until ``cut()``: then every connection
    through it breaks and new ones are refused, as when a machine loses the network. A
    connection accepted while the cut is made is closed too (a leak there once let a cut-off
    worker still write to the database)."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._cut = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._cut:
                    for end in (client, upstream):
                        end.close()
                    return
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            try:  # wakes the accept() under way, so no connection gets through after this
                self.listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.listener.close()
            for end in self.sockets:
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def test_a_worker_that_loses_the_database_stops_its_crawl_and_another_makes_the_run(
    tmp_path, database_url, site_server, processes
):
    if not database_url.startswith("postgresql"):
        pytest.skip("the run queue lives in PostgreSQL")
    from sqlalchemy.engine import make_url

    site = site_server(SlowSections(delay=20), host="127.0.0.2")
    sources = [source(site, "127.0.0.2", "slow", "every 3s")]
    store = migrated(database_url)
    service = {"workers": "procrastinate", "stall_timeout": "8s"}
    config = write_config(tmp_path, database_url, sources, **service)
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    # The worker to be cut off reaches the database through the proxy; same archive folder.
    cut_off = tmp_path / "cut-off"
    cut_off.mkdir()
    (tmp_path / "data").mkdir()
    (cut_off / "data").symlink_to(tmp_path / "data", target_is_directory=True)
    proxied = write_config(cut_off, url.set(host="127.0.0.1", port=proxy.port)
                           .render_as_string(hide_password=False), sources, **service)
    fenced = Worker(proxied, "node-cut")
    processes.append(fenced)
    fenced.wait_for_log(r"taking runs from the queue")
    serve = Serve(config)
    processes.append(serve)
    wait_until(lambda: site.requests_for("/slow/1.htm"), 90, "the crawl at its slow page")
    (run,) = runs_of(store)
    assert run["node"] == "node-cut"
    # The process crawling it: a warm crawl worker of node-cut's.
    crawl_pid = int(re.search(rf"run {run['id']} of slow started \((?:worker )?pid (\d+)",
                              fenced.log()).group(1))
    job = int(re.findall(r"job (\d+): a run of slow", fenced.log())[-1])
    # A second worker, idle: the group's one job runs on node-cut.
    rescuer = Worker(config, "node-ok")
    processes.append(rescuer)
    rescuer.wait_for_log(r"taking runs from the queue")
    proxy.cut()
    cut_at = time.time()
    wait_until(lambda: not process_alive(crawl_pid, None), 30, "the cut-off crawl to stop")
    dead_at = time.time()
    assert dead_at - cut_at < 8, "stopped before the others may take its job for stalled"
    assert fenced.process.wait(30) == 1, fenced.log()
    assert "stopping this worker's crawls now" in fenced.log()
    wait_logged(lambda: f"job {job} (slow) was running on a worker" in rescuer.log(), 60,
                "the job queued again", [rescuer, fenced])
    wait_until(lambda: re.search(rf"job {job}: a run of slow .* on node-ok", rescuer.log()), 60,
               "the job made again")
    again = wait_until(lambda: [r for r in site.requests if r.time > cut_at], 60,
                       "the run made again at the site")
    assert again[0].time > dead_at  # never two crawls of the host at once
    wait_until(lambda: store.get_run(run["id"])["status"] != "running", 120,
               "the cut-off run closed")
    assert store.get_run(run["id"])["status"] == "failed"
    assert serve.stop() == 0
    assert rescuer.stop(timeout=60) == 0
    store.close()
