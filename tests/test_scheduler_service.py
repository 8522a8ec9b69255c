"""``govarchive serve`` end to end: real service processes, real crawl children, local sites,
short schedules. Every wait polls for a condition with a deadline."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import sqlalchemy as sa
from warcio.archiveiterator import ArchiveIterator

from govarchive.storage import Store
from tests.site.content import Response, error_page, html_content_type, split_target

pytestmark = pytest.mark.slow  # real service processes running crawls

REPO = Path(__file__).resolve().parents[1]
PROXY_VARS = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")


# ---- helpers ----------------------------------------------------------------------------------


def wait_until(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class GrowingSite:
    """Sections whose list page shows one more article each time it is read, so every crawl
    finds something new (an ``ok`` run). Section ``s`` lives under ``/s/``."""

    name = "growing"
    charset = "utf-8"
    expected: ClassVar[dict] = {}

    def __init__(self):
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
            items = "".join(
                f'<li><a href="/{section}/{n}.htm">{section} 第{n}号通知</a></li>'
                for n in range(count, 0, -1)
            )
            body = f"<html><body><h2>{section}</h2><ul class='list'>{items}</ul></body></html>"
        else:
            n = int(match.group(3))
            text = f"{section} 第{n}号通知的正文。" * 40
            body = (
                f"<html><head><title>{section} {n}</title></head><body>"
                f"<h1>{section} 第{n}号通知</h1><span class='date'>2026-11-{(n % 28) + 1:02d} "
                f"09:00</span><div id='content'><p>{text}</p></div></body></html>"
            )
        return Response(body=body.encode(), content_type=html_content_type("utf-8"))


def write_config(folder: Path, database_url: str, sources: list[dict], **service) -> Path:
    service = {
        "health_port": 0,
        "standby_poll": "0.5s",
        "stop_grace": "10s",
        "run_timeout": "60s",
        "misfire_grace_time": "1h",
        **service,
    }
    lines = [
        f"[storage]\nurl = {json.dumps(database_url)}",
        '[archive]\ndir = "data/archive"',
        "[crawl]\ndelay = 0\nautothrottle = false\nallow_private_addresses = true\nretries = 0",
        "[service]",
        *(f"{key} = {json.dumps(value)}" for key, value in service.items()),
    ]
    for source in sources:
        lines.append("[[sources]]")
        for key in ("name", "start_urls", "schedule"):
            if key in source:
                lines.append(f"{key} = {json.dumps(source[key], ensure_ascii=False)}")
        if source.get("rules"):
            lines.append("[sources.rules]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in source["rules"].items()]
    path = folder / "govarchive.toml"
    # Written beside and renamed over, as editors save: a run starting while a running service's
    # config is rewritten reads the old file or the new one, never half of one.
    partial = path.with_suffix(".toml.partial")
    partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
    partial.replace(path)
    return path


GROWING_RULES = {"article_links": "ul.list li a", "title": "h1", "body": "#content",
                 "published": ".date"}


def growing_source(site, name: str, schedule: str) -> dict:
    return {"name": name, "start_urls": [site.url(f"/{name}/index.htm")], "schedule": schedule,
            "rules": GROWING_RULES}


class Serve:
    """A ``govarchive serve`` process; its stderr (the service log) goes to a file."""

    def __init__(self, config: Path, name: str = "serve"):
        self.config = config
        self.log_path = config.parent / f"{name}.log"
        env = {k: v for k, v in os.environ.items()
               if k not in PROXY_VARS and not k.startswith("GOVARCHIVE_")}
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in wait()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "govarchive", "--config", str(config), "serve"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._log, env=env,
        )

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for_log(self, pattern: str, timeout: float = 60.0) -> re.Match:
        def found():
            if self.process.poll() is not None and not re.search(pattern, self.log()):
                raise AssertionError(f"serve exited ({self.process.returncode}):\n{self.log()}")
            return re.search(pattern, self.log())

        return wait_until(found, timeout, f"{pattern!r} in the service log")

    @property
    def health_url(self) -> str:
        port = self.wait_for_log(r"health: http://127\.0\.0\.1:(\d+)/healthz").group(1)
        return f"http://127.0.0.1:{port}"

    def get(self, path: str) -> tuple[int, bytes]:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(self.health_url + path, timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def healthz(self) -> dict:
        return json.loads(self.get("/healthz")[1])

    def stop(self, sig=signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        finally:
            self._log.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._log.close()


@pytest.fixture
def services():
    started: list[Serve] = []

    def start(config: Path, name: str = "serve") -> Serve:
        serve = Serve(config, name)
        started.append(serve)
        return serve

    yield start
    for serve in started:
        serve.kill()


def migrated(database_url: str) -> Store:
    store = Store(database_url)
    store.migrate()
    return store


def runs_of(store: Store, source: str | None = None) -> list[dict]:
    return sorted(store.list_runs(source=source, limit=1000), key=lambda r: r["id"])


def finished(runs: list[dict]) -> list[dict]:
    return [r for r in runs if r["status"] != "running"]


def assert_no_overlap(runs: list[dict]) -> None:
    for before, after in itertools.pairwise(runs):
        assert before["finished_at"] is not None, before
        assert datetime.fromisoformat(after["started_at"]) >= datetime.fromisoformat(
            before["finished_at"]
        ), (before, after)


def archive_files(config: Path) -> tuple[list[Path], list[Path]]:
    folder = config.parent / "data/archive/collections/govarchive/archive"
    return sorted(folder.glob("*.warc.gz")), sorted(folder.glob("*.open"))


def assert_readable(warc: Path) -> int:
    with warc.open("rb") as f:
        count = sum(1 for record in ArchiveIterator(f) if record.content_stream().read() or True)
    assert count > 0, warc
    return count


# ---- acceptance -------------------------------------------------------------------------------


def test_three_sources_every_5s_run_often_never_overlap_all_ok(tmp_path, site_server, services):
    site = site_server(GrowingSite())
    url = f"sqlite:///{tmp_path / 'data/govarchive.db'}"
    store = migrated(url)
    names = ["alpha", "beta", "gamma"]
    config = write_config(tmp_path, url, [growing_source(site, n, "every 5s") for n in names])
    serve = services(config)
    serve.wait_for_log(r"jobs: added alpha, beta, gamma")
    began = time.monotonic()

    def served_30s_and_each_ran_3_times():
        ran = [len(finished(runs_of(store, n))) for n in names]
        return time.monotonic() - began > 30 and min(ran) >= 3

    # A busy machine makes runs slower than 5 s (then due runs are skipped, not overlapped):
    # serve at least 30 s, and until each source has run three times.
    wait_until(served_30s_and_each_ran_3_times, 120, "30 s and three runs of each source")
    health = serve.healthz()
    assert health["role"] == "leader" and health["status"] == "ok"
    assert set(health["next_runs"]) == set(names)
    # Make the schedules hourly and let the runs in progress finish, so none is cut short
    # (the sources stay in the file: a crawl starting meanwhile reads it).
    write_config(tmp_path, url, [growing_source(site, n, "every 1h") for n in names])
    serve.process.send_signal(signal.SIGHUP)
    serve.wait_for_log(r"jobs: changed alpha, beta, gamma")
    # /healthz refreshes its list of runs once a second; a run fired just before the SIGHUP is
    # already `running` in the database.
    wait_until(lambda: not serve.healthz()["running"]
               and all(r["status"] != "running" for r in runs_of(store)), 90,
               "the last runs to finish")
    status, metrics = serve.get("/metrics")
    assert status == 200
    assert re.search(rb'govarchive_runs_total\{source="alpha",status="ok"\} [1-9]', metrics)
    assert b"govarchive_scheduler_leader 1.0" in metrics
    assert serve.stop() == 0
    for name in names:
        runs = runs_of(store, name)
        assert len(runs) >= 3, runs
        assert [r["status"] for r in runs] == ["ok"] * len(runs), [
            (r["id"], r["status"], r["scheduled_for"], store.get_run(r["id"])["error"])
            for r in runs]
        assert_no_overlap(runs)
        assert all(Path(store.get_run(r["id"])["log_path"]).is_file() for r in runs)
    store.close()


def test_a_child_killed_mid_crawl_is_failed_and_the_archive_stays_sound(
    tmp_path, govcn_site, services
):
    url = f"sqlite:///{tmp_path / 'data/govarchive.db'}"
    store = migrated(url)
    slow = sorted(govcn_site.expected["articles"])[3]
    govcn_site.override(slow, delay=30)
    start = govcn_site.url(govcn_site.expected["start"])
    config = write_config(tmp_path, url, [{"name": "govcn", "start_urls": [start],
                                           "schedule": "every 2s"}])
    serve = services(config)
    wait_until(lambda: govcn_site.requested(slow), 90, "the crawl to reach the slow page")
    running = wait_until(lambda: serve.healthz()["running"], 30, "the run in /healthz")
    os.kill(running[0]["pid"], signal.SIGKILL)
    govcn_site.reset(slow)
    killed = running[0]["run_id"]
    wait_until(lambda: store.get_run(killed)["status"] != "running", 30, "the killed run closed")
    run = store.get_run(killed)
    assert run["status"] == "failed"
    assert "killed by SIGKILL" in run["error"]
    nxt = wait_until(
        lambda: [r for r in finished(runs_of(store)) if r["id"] > killed], 90, "the next run"
    )
    assert nxt[0]["status"] in ("ok", "empty"), nxt[0]
    assert serve.stop() == 0
    closed, open_files = archive_files(config)
    assert closed, "the next run closed its WARC file"
    for warc in closed:  # never a corrupt .warc.gz; the killed run's file may stay .open
        assert_readable(warc)
    assert len(open_files) <= 1
    store.close()


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_two_serve_processes_make_one_scheduler_and_the_standby_takes_over(
    tmp_path, database_url, site_server, services
):
    site = site_server(GrowingSite())
    store = migrated(database_url)
    config = write_config(tmp_path, database_url, [growing_source(site, "solo", "every 2s")])
    first = services(config, "first")
    first.wait_for_log(r"scheduler: holding")
    second = services(config, "second")
    second.wait_for_log(r"standby: another govarchive scheduler holds")
    assert second.healthz()["role"] == "standby"
    wait_until(lambda: len(finished(runs_of(store))) >= 2, 90, "two runs")
    runs = finished(runs_of(store))
    assert_no_overlap(runs)
    assert all(f"run {r['id']} of solo started" in first.log() for r in runs)
    assert "of solo started" not in second.log()

    first.kill()  # SIGKILL: the lock goes with the process
    second.wait_for_log(r"taking over")
    last = runs[-1]["id"]
    wait_until(lambda: re.search(r"run (\d+) of solo: ok", second.log()), 90,
               "a run by the new scheduler")
    taken = [r for r in runs_of(store) if r["id"] > last]
    assert any(f"run {r['id']} of solo started" in second.log() for r in taken)
    assert second.stop() == 0
    # The first scheduler's last child died with it or was closed by the second one.
    assert all(r["status"] != "running" for r in runs_of(store))
    assert_no_overlap(finished(runs_of(store)))
    store.close()


def test_sigterm_during_a_crawl_exits_0_with_the_run_recorded_and_warcs_closed(
    tmp_path, govcn_site, services
):
    url = f"sqlite:///{tmp_path / 'data/govarchive.db'}"
    store = migrated(url)
    slow = sorted(govcn_site.expected["articles"])[5]
    govcn_site.override(slow, delay=3)
    start = govcn_site.url(govcn_site.expected["start"])
    config = write_config(tmp_path, url, [{"name": "govcn", "start_urls": [start],
                                           "schedule": "every 1s"}], stop_grace="15s")
    serve = services(config)
    wait_until(lambda: govcn_site.requested(slow), 90, "a crawl in progress")
    began = time.monotonic()
    assert serve.stop(timeout=60) == 0
    assert time.monotonic() - began < 15 + 10  # stop_grace, and the service's own exit
    runs = runs_of(store)
    assert runs and all(r["status"] != "running" for r in runs), runs
    assert runs[-1]["requests"] > 0  # the child recorded its own run on the way out
    closed, open_files = archive_files(config)
    assert open_files == []
    assert closed and all(assert_readable(w) for w in closed)
    assert "stopping the crawl (shutdown)" in serve.log()
    store.close()


class WebhookReceiver:
    def __init__(self, fail_first: int = 0):
        self.payloads: list[dict] = []
        self.attempts = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.attempts += 1
                if receiver.attempts <= fail_first:
                    self.send_response(503)
                else:
                    receiver.payloads.append(json.loads(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook():
    receivers: list[WebhookReceiver] = []

    def start(**options) -> WebhookReceiver:
        receivers.append(WebhookReceiver(**options))
        return receivers[-1]

    yield start
    for receiver in receivers:
        receiver.close()


def test_a_site_answering_412_makes_a_blocked_run_and_a_webhook_alert(
    tmp_path, govcn_site, services, webhook
):
    hook = webhook(fail_first=1)  # the first POST fails: the alert is retried
    govcn_site.block("*", "412")
    url = f"sqlite:///{tmp_path / 'data/govarchive.db'}"
    store = migrated(url)
    start = govcn_site.url(govcn_site.expected["start"])
    config = write_config(tmp_path, url, [{"name": "govcn", "start_urls": [start],
                                           "schedule": "every 1s"}], webhook_url=hook.url)
    serve = services(config)
    wait_until(lambda: hook.payloads, 90, "the webhook alert")
    assert serve.stop() == 0
    alert = hook.payloads[0]
    assert alert["event"] == "run_blocked" and alert["source"] == "govcn"
    assert alert["run"]["status"] == "blocked"
    assert hook.attempts >= 2
    assert store.get_run(alert["run"]["id"])["status"] == "blocked"
    assert "ALERT run_blocked" in serve.log()
    store.close()


def test_a_run_past_its_timeout_is_stopped_and_recorded_as_timeout(
    tmp_path, govcn_site, services, webhook
):
    hook = webhook()
    govcn_site.override(govcn_site.expected["start"], delay=30)
    url = f"sqlite:///{tmp_path / 'data/govarchive.db'}"
    store = migrated(url)
    start = govcn_site.url(govcn_site.expected["start"])
    config = write_config(tmp_path, url, [{"name": "govcn", "start_urls": [start],
                                           "schedule": "every 1s"}],
                          run_timeout="3s", stop_grace="3s", webhook_url=hook.url)
    serve = services(config)
    wait_until(lambda: hook.payloads, 90, "the timeout alert")
    assert serve.stop() == 0
    alert = hook.payloads[0]
    assert alert["event"] == "run_timeout"
    run = store.get_run(alert["run"]["id"])
    assert run["status"] == "timeout"
    assert "service.run_timeout" in run["error"]
    store.close()


def test_restart_keeps_the_owed_catch_up_run_and_sighup_reconciles(
    tmp_path, site_server, services
):
    site = site_server(GrowingSite())
    url = f"sqlite:///{tmp_path / 'data/govarchive.db'}"
    store = migrated(url)
    config = write_config(tmp_path, url, [growing_source(site, "aa", "every 2s")])
    serve = services(config, "first")
    wait_until(lambda: finished(runs_of(store, "aa")), 90, "a first run")
    due = wait_until(lambda: serve.healthz()["next_runs"].get("aa"), 30, "the next run time")
    assert serve.stop() == 0
    before = len(runs_of(store, "aa"))
    # Down until the next run is owed; meanwhile the schedule becomes hourly and a source
    # is added. The owed time is the one the job store kept: runs skipped while the first
    # run was still going have moved it past what /healthz said earlier.
    with store.jobstore_engine().connect() as conn:
        stored = conn.execute(sa.text(
            "SELECT next_run_time FROM scheduler_jobs WHERE id = 'source:aa'")).scalar()
    owed = max(datetime.fromisoformat(due).timestamp(), stored or 0) + 0.2
    wait_until(lambda: time.time() > owed, 30, "the downtime to pass the next run time")
    write_config(tmp_path, url, [growing_source(site, "aa", "every 1h"),
                                 growing_source(site, "bb", "every 1h")])
    serve = services(config, "second")
    serve.wait_for_log(r"jobs: added bb; changed aa")
    wait_until(lambda: len(finished(runs_of(store, "aa"))) > before, 60, "the owed run of aa")
    assert runs_of(store, "bb") == []

    write_config(tmp_path, url, [growing_source(site, "bb", "every 1s")])
    serve.process.send_signal(signal.SIGHUP)
    serve.wait_for_log(r"jobs: changed bb; removed aa")
    wait_until(lambda: finished(runs_of(store, "bb")), 60, "a run of bb after SIGHUP")
    health = serve.healthz()
    assert list(health["next_runs"]) == ["bb"]
    write_config(tmp_path, url, [{"name": "bad", "schedule": "every 1s"}])
    serve.process.send_signal(signal.SIGHUP)
    serve.wait_for_log(r"SIGHUP: keeping the running configuration: config error")
    assert serve.stop() == 0
    store.close()


def test_runs_a_crash_left_running_are_failed_at_start_manual_ones_kept(tmp_path, services):
    url = f"sqlite:///{tmp_path / 'data/govarchive.db'}"
    store = migrated(url)
    scheduled = store.start_scheduled_run("gone", lambda run_id: str(tmp_path / f"{run_id}.log"))
    manual = store.start_run(["gone"])
    config = write_config(tmp_path, url, [])
    serve = services(config)
    serve.wait_for_log(r"closed 1 run\(s\) left running by a previous scheduler as failed: 1")
    assert serve.stop() == 0
    assert store.get_run(scheduled)["status"] == "failed"
    assert "closed when the next scheduler started" in store.get_run(scheduled)["error"]
    assert store.get_run(manual)["status"] == "running"
    store.close()
