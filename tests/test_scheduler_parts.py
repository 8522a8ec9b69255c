"""The service's parts in process: job reconciliation, alerts and the webhook, locks, run
logs, /healthz and /metrics, the [service] settings, and the storage queries behind them."""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from govarchive.processes import FileLock
from govarchive.scheduler import jobs
from govarchive.scheduler.alerts import Webhook, alert_for
from govarchive.scheduler.health import HealthServer, ServiceState
from govarchive.scheduler.lock import scheduler_lock
from govarchive.scheduler.runner import describe_exit, log_tail, prune_logs
from govarchive.settings import ServiceSettings, SourceSettings, load_settings
from govarchive.storage import Store

ROOT = Path(__file__).resolve().parents[1]


def source(name: str, schedule: str | None, timezone: str = "Asia/Shanghai") -> SourceSettings:
    return SourceSettings(name=name, start_urls=["https://www.gov.cn/x/"], schedule=schedule,
                          timezone=timezone)


# ---- jobs ---------------------------------------------------------------------------------


class _Stored:
    """An AsyncIOScheduler on an event loop that never runs: nothing fires, so the jobs it
    keeps in the database are exactly what reconciliation made of them."""

    def __enter__(self):
        return self

    def __init__(self, store: Store):
        self.loop = asyncio.new_event_loop()
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=store.jobstore_engine(),
                                                     tablename=store.jobs_table)},
            timezone=UTC, event_loop=self.loop,
        )
        self.scheduler.start(paused=True)

    def __exit__(self, *exc):
        self.scheduler.shutdown(wait=False)
        self.loop.close()


def test_triggers_for_intervals_and_cron_in_the_sources_timezone():
    every = jobs.build_trigger(source("a", "every 20s"))
    assert every.interval == timedelta(seconds=20)
    cron = jobs.build_trigger(source("b", "30 8 * * *", "Asia/Shanghai"))
    after = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    assert cron.get_next_fire_time(None, after) == datetime(2026, 1, 1, 0, 30, tzinfo=UTC)


def test_spread_interval_schedules_fall_due_at_fixed_offsets_across_the_interval():
    names = [f"s{n}" for n in range(200)]
    after = datetime(2026, 6, 1, 12, 0, 3, tzinfo=UTC)
    due = [jobs.build_trigger(source(n, "every 10m"), spread=True).get_next_fire_time(None, after)
           for n in names]
    # Each within the next interval, at its own offset: not all in the same second.
    assert all(after < t <= after + timedelta(minutes=10) for t in due)
    assert len({t.replace(microsecond=0) for t in due}) > 150
    busiest_minute = max(sum(1 for t in due if t.minute == m) for m in range(60))
    assert busiest_minute < 40
    # The same offset after a restart (counted from a fixed moment, not from "now").
    again = jobs.build_trigger(source("s7", "every 10m"), spread=True)
    assert again.get_next_fire_time(None, after) == due[7]
    assert (due[7] - jobs.SPREAD_ANCHOR) % timedelta(minutes=10) == \
        jobs.spread_offset("s7", timedelta(minutes=10))
    # Without spreading, or for cron lines, times are as written.
    plain = jobs.build_trigger(source("s7", "every 10m"))
    assert plain.start_date > after
    cron = jobs.build_trigger(source("b", "30 8 * * *", "Asia/Shanghai"), spread=True)
    assert cron.get_next_fire_time(None, after).minute == 30
    assert jobs.job_label(source("s7", "every 10m"), spread=True) != \
        jobs.job_label(source("s7", "every 10m"))
    assert jobs.job_label(source("b", "0 3 * * *"), spread=True) == \
        jobs.job_label(source("b", "0 3 * * *"))


def test_reconcile_adds_changes_removes_and_keeps_an_owed_run(store):
    options = jobs.JobOptions(misfire_grace_time=3600)
    now = datetime.now(UTC)
    with _Stored(store) as stored:
        scheduler = stored.scheduler
        first = jobs.reconcile(scheduler, [source("a", "every 1h"), source("b", "0 3 * * *"),
                                           source("manual", None)], options)
        assert (first.added, first.changed, first.removed) == (["a", "b"], [], [])
        job = scheduler.get_job("source:a")
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 3600)
        assert timedelta(minutes=59) < job.next_run_time - now <= timedelta(hours=1, seconds=5)
        owed = now - timedelta(minutes=10)  # as if the service had been down past this
        scheduler.modify_job("source:a", next_run_time=owed)

    with _Stored(store) as stored:  # a restart: jobs come back from the database
        scheduler = stored.scheduler
        again = jobs.reconcile(scheduler, [source("a", "every 1h"), source("b", "0 3 * * *")],
                               options)
        assert again.unchanged == ["a", "b"] and not again.changed
        assert scheduler.get_job("source:a").next_run_time == owed

        changed = jobs.reconcile(
            scheduler, [source("a", "every 2h"), source("c", "every 5m")],
            jobs.JobOptions(misfire_grace_time=600),
        )
        assert (changed.added, changed.changed, changed.removed) == (["c"], ["a"], ["b"])
        job = scheduler.get_job("source:a")
        assert job.next_run_time == owed  # the owed run survives the schedule change
        assert job.trigger.interval == timedelta(hours=2)
        assert job.misfire_grace_time == 600
        assert scheduler.get_job("source:b") is None

        later = jobs.reconcile(scheduler, [source("a", "every 2h"), source("c", "every 10m")],
                               jobs.JobOptions(misfire_grace_time=600))
        assert later.changed == ["c"]
        delay = scheduler.get_job("source:c").next_run_time - datetime.now(UTC)
        assert timedelta(minutes=9) < delay <= timedelta(minutes=10)
        assert set(jobs.next_runs(scheduler)) == {"a", "c"}


def test_the_job_function_awaits_the_registered_handler():
    seen = []

    async def handler(name):
        seen.append(name)

    jobs.set_run_handler(handler)
    try:
        asyncio.run(jobs.run_scheduled("a"))
    finally:
        jobs.set_run_handler(None)
    assert seen == ["a"]
    with pytest.raises(RuntimeError, match="no service"):
        asyncio.run(jobs.run_scheduled("a"))


# ---- alerts -------------------------------------------------------------------------------


def _run(status: str, error: str | None = None) -> dict:
    return {"id": 7, "status": status, "error": error}


@pytest.mark.parametrize("status", ["failed", "timeout", "blocked"])
def test_bad_runs_alert(status):
    alert = alert_for("s", _run(status, "why"), lambda n: [], 3)
    assert alert.event == f"run_{status}" and alert.message == f"run 7 of s {status}: why"


NO_LINKS_ERROR = "no article links found on http://gov.example/list/index.htm"


def test_runs_without_article_links_alert_once_when_the_streak_reaches_the_threshold():
    no_links = ("failed", NO_LINKS_ERROR)

    def decide(history):
        return alert_for("s", _run(*history[0]), lambda n: history[:n], 3)

    assert decide([("ok", None)]) is None
    assert decide([no_links, no_links, ("ok", None)]) is None
    assert decide([no_links, no_links, no_links, ("ok", None)]).event == "runs_no_links"
    alert = decide([no_links, no_links, no_links])  # the first three runs
    assert alert.event == "runs_no_links" and NO_LINKS_ERROR in alert.message
    assert decide([no_links] * 4) is None  # already alerted
    # Another failure between breaks the streak; and it alerts at once, as a failure.
    assert decide([no_links, no_links, ("failed", "crawl stopped"), no_links]) is None
    assert decide([("failed", "crawl stopped"), no_links]).event == "run_failed"
    assert alert_for("s", _run(*no_links), lambda n: [no_links] * n, 0) is None  # disabled


def test_a_quiet_run_never_alerts():
    # Nothing new found for many runs ("ok" now; "empty" in runs recorded before).
    for status in ("ok", "empty"):
        history = [(status, None)] * 5
        assert alert_for("s", _run(status), lambda n, h=history: h[:n], 1) is None


def test_the_scheduler_and_the_crawler_use_the_same_words_for_no_links():
    from govarchive.crawler.run import NO_LINKS
    from govarchive.scheduler.alerts import NO_LINKS as ALERT_NO_LINKS

    assert NO_LINKS == ALERT_NO_LINKS


class _Receiver:
    """A webhook endpoint answering the given statuses in turn (then 204), optionally slowly."""

    def __init__(self, statuses=(), delay: float = 0.0):
        self.bodies: list[dict] = []
        self.hits = 0
        receiver, answers = self, list(statuses)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.hits += 1
                time.sleep(delay)  # a slow endpoint, on purpose
                status = answers.pop(0) if answers else 204
                if status < 300:
                    receiver.bodies.append(body)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_webhook_retries_then_delivers():
    receiver = _Receiver(statuses=[500, 503])

    async def main():
        hook = Webhook(receiver.url, timeout=5, retries=3, backoff=0.01)
        hook.start()
        hook.post({"event": "run_failed", "n": 1})
        await hook.aclose(10)
        return hook

    try:
        hook = asyncio.run(main())
    finally:
        receiver.close()
    assert receiver.hits == 3 and receiver.bodies == [{"event": "run_failed", "n": 1}]
    assert (hook.delivered, hook.failed) == (1, 0)


def test_webhook_gives_up_after_its_retries():
    receiver = _Receiver(statuses=[500] * 10)

    async def main():
        hook = Webhook(receiver.url, timeout=5, retries=2, backoff=0.01)
        hook.start()
        hook.post({"event": "x"})
        await hook.aclose(10)
        return hook

    try:
        hook = asyncio.run(main())
    finally:
        receiver.close()
    assert receiver.hits == 3 and (hook.delivered, hook.failed) == (0, 1)


def test_posting_never_waits_for_a_slow_webhook_and_a_full_queue_drops_the_oldest():
    receiver = _Receiver(delay=1.0)

    async def main():
        hook = Webhook(receiver.url, timeout=5, retries=0)
        hook.start()
        began = time.monotonic()
        for n in range(150):
            hook.post({"n": n})
        posting = time.monotonic() - began
        while receiver.hits == 0:  # the loop stays free while a POST is in flight
            await asyncio.sleep(0.01)
        await hook.aclose(0.1)
        return hook, posting

    try:
        hook, posting = asyncio.run(main())
    finally:
        receiver.close()
    assert posting < 0.1
    assert hook.dropped >= 49  # 100 fit in the queue, and the worker may have taken one


# ---- locks --------------------------------------------------------------------------------


def test_the_file_lock_admits_one_holder_at_a_time(tmp_path):
    path = tmp_path / "govarchive.db.lock"
    first, second = FileLock(path), FileLock(path)
    assert first.try_acquire() and first.still_held()
    assert not second.try_acquire()
    assert path.read_text().strip() == str(os.getpid())
    first.release()
    assert second.try_acquire()
    second.release()


def test_the_lock_fits_the_database(tmp_path):
    settings = load_settings(_config(tmp_path), env={})
    lock = scheduler_lock(settings, None)
    assert isinstance(lock, FileLock)
    assert lock.path == tmp_path / "data" / "govarchive.db.lock"


def test_the_postgresql_lock_admits_one_session(store, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("advisory locks are PostgreSQL's")
    first, second = store.advisory_lock("test-lock"), store.advisory_lock("test-lock")
    try:
        assert first.try_acquire() and first.still_held()
        assert not second.try_acquire()
        first.release()
        assert not first.still_held()
        assert second.try_acquire()
    finally:
        first.dispose()
        second.dispose()


def test_a_postgresql_lock_whose_session_died_is_no_longer_held(store, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("advisory locks are PostgreSQL's")
    lock = store.advisory_lock("test-lost")
    other = store.advisory_lock("test-lost")
    try:
        assert lock.try_acquire()
        session = lock._conn.execute(sa.text("select pg_backend_pid()")).scalar_one()
        engine = sa.create_engine(database_url)
        with engine.connect() as conn:  # what a database restart does to the session
            conn.execute(sa.text("select pg_terminate_backend(:pid)"), {"pid": session})
        engine.dispose()
        assert not lock.still_held()
        assert other.try_acquire()  # so the leader must stop: another one can take over
    finally:
        lock.dispose()
        other.dispose()


# ---- run logs and exits -------------------------------------------------------------------


def test_old_run_logs_are_pruned(tmp_path):
    month = tmp_path / "2020-01"
    month.mkdir()
    old, new = month / "a-1.log", tmp_path / "2026-11" / "a-2.log"
    new.parent.mkdir()
    old.write_text("x")
    new.write_text("last line\n\n")
    os.utime(old, (time.time() - 10 * 86400,) * 2)
    assert prune_logs(tmp_path, 86400) == 1
    assert not month.exists() and new.exists()
    assert log_tail(str(new)) == "last line"
    crash = tmp_path / "crash.log"
    crash.write_text("Traceback (most recent call last):\n  File x\n"
                     "sqlalchemy.exc.OperationalError: no such column: x\n[SQL: SELECT x]\n"
                     "(Background on this error at: https://sqlalche.me/e/21/e3q8)\n")
    assert log_tail(str(crash)) == "sqlalchemy.exc.OperationalError: no such column: x"


def test_exit_descriptions():
    assert "killed by SIGKILL" in describe_exit(-9)
    assert "exited with code 2" in describe_exit(2)


# ---- settings -----------------------------------------------------------------------------


def _config(folder: Path, text: str = "") -> Path:
    path = folder / "govarchive.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_service_settings_defaults_and_paths(tmp_path):
    settings = load_settings(_config(tmp_path, '[service]\nrun_timeout = "30m"\n'), env={})
    service = settings.service
    assert service.run_timeout == 1800 and service.misfire_grace_time == 86400
    assert service.health_host == "127.0.0.1" and service.webhook_url is None
    assert service.log_dir == tmp_path / "data" / "logs"


def test_every_service_setting_is_documented_in_the_example_config():
    text = (ROOT / "deploy" / "govarchive.toml").read_text(encoding="utf-8")
    assert "[service]" in text
    assert [key for key in ServiceSettings.model_fields if key not in text] == []


# ---- health and metrics -------------------------------------------------------------------


def test_healthz_and_metrics(store, tmp_path):
    run_id = store.start_scheduled_run("s", lambda n: str(tmp_path / f"{n}.log"))
    store.finish_run(run_id, status="ok", counts={"bytes_archived": 10}, error=None)
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "a.warc.gz").write_bytes(b"x" * 123)
    state = ServiceState(role="leader", next_runs={"s": datetime(2030, 1, 1, tzinfo=UTC)})
    server = HealthServer(state, store, archive)
    port = server.start("127.0.0.1", 0)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            health = json.load(response)
        assert health["role"] == "leader" and health["status"] == "ok"
        assert health["next_runs"] == {"s": "2030-01-01T00:00:00+00:00"}
        with opener.open(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            metrics = response.read().decode()
        assert 'govarchive_runs_total{source="s",status="ok"} 1.0' in metrics
        assert 'govarchive_run_archived_bytes_total{source="s"} 10.0' in metrics
        assert re.search(r'govarchive_last_success_timestamp_seconds\{source="s"\} 1\.\d+e\+09',
                         metrics)
        assert "govarchive_archive_bytes 123.0" in metrics
        assert "govarchive_scheduler_leader 1.0" in metrics
        state.heartbeat -= 60  # a loop that stopped beating
        with pytest.raises(urllib.error.HTTPError) as answer:
            opener.open(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert answer.value.code == 503
    finally:
        server.stop()


# ---- storage ------------------------------------------------------------------------------


def test_closing_runs_keeps_counts_and_only_touches_scheduled_running_ones(store, tmp_path):
    def log_path(n):
        return str(tmp_path / f"{n}.log")

    done = store.start_scheduled_run("s", log_path)
    store.finish_run(done, status="failed", counts={"requests": 4}, error="crawl stopped")
    assert store.close_run(done, status="timeout", error="too long")
    run = store.get_run(done)
    assert (run["status"], run["requests"], run["error"]) == ("timeout", 4, "too long")
    assert run["log_path"] == log_path(done) and run["scheduled"]
    assert not store.close_run(done, status="failed", error="x", only_running=True)

    abandoned = store.start_scheduled_run("s", log_path)
    manual = store.start_run(["s"])
    assert store.close_abandoned_runs("crashed") == [abandoned]
    assert store.get_run(abandoned)["status"] == "failed"
    assert store.get_run(abandoned)["finished_at"] is not None
    assert store.get_run(manual)["status"] == "running"
    assert store.recent_runs("s", 5) == [("failed", "crashed"), ("timeout", "too long")]
    with pytest.raises(ValueError):
        store.close_run(done, status="running", error=None)


# ---- bounded work ---------------------------------------------------------------------------


def test_the_service_runs_at_most_max_concurrent_runs_in_due_order(store, tmp_path):
    from types import SimpleNamespace

    from govarchive.scheduler import Service
    from govarchive.scheduler.service import default_max_concurrent_runs

    names = [f"s{n}" for n in range(6)]
    # Each on a host of its own: sources sharing a host would take turns (politeness).
    sources = "".join(f'[[sources]]\nname = "{name}"\nstart_urls = ["https://{name}.example.org/"]\n'
                      f'schedule = "every 1d"\n' for name in names)
    settings = load_settings(_config(tmp_path, f'[service]\nmax_concurrent_runs = 2\n{sources}'),
                             env={})
    assert 1 <= default_max_concurrent_runs() <= 2 * (os.cpu_count() or 1)

    class SlowRunner:
        def __init__(self):
            self.active, self.settings = {}, settings
            self.running, self.most, self.started, self.due = 0, 0, [], {}

        async def run(self, source, stopping, scheduled_for=None):
            self.started.append(source)
            self.due[source] = scheduled_for
            self.running += 1
            self.most = max(self.most, self.running)
            await asyncio.sleep(0.05)
            self.running -= 1
            run = {"status": "ok", "requests": 1, "new_articles": 0, "new_versions": 0}
            return SimpleNamespace(run_id=1, stopped=None, run=run)

    async def scenario():
        service = Service(settings, store, reload_settings=load_settings)
        service.runner = runner = SlowRunner()
        service._crawled_elsewhere = lambda source: None
        fired = datetime.now(UTC)
        await asyncio.gather(*(service._run_source(name) for name in names))
        return service, runner, fired

    service, runner, fired = asyncio.run(scenario())
    assert service.max_concurrent_runs == 2
    assert runner.most == 2  # never more than the limit at once
    assert runner.started == names  # all of them, in the order they fell due
    # Each run knows when it was due, before it waited for its slot.
    assert all(fired <= runner.due[name] <= fired + timedelta(seconds=1) for name in names)


def test_a_scheduled_run_records_when_it_was_due(store):
    due = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    run_id = store.start_scheduled_run("s", lambda n: f"/tmp/{n}.log", due)
    assert store.get_run(run_id)["scheduled_for"] == due.isoformat()
    assert store.list_runs()[0]["scheduled_for"] == due.isoformat()


def test_the_archive_folder_is_counted_at_most_every_max_age_and_never_on_a_scrapes_time(
        tmp_path):
    """An archive folder gains a file per run: /metrics reports the last count, and a count
    older than max_age is made again beside the scrape."""
    from govarchive.scheduler.health import FolderBytes

    now = [0.0]
    (tmp_path / "a.warc.gz").write_bytes(b"x" * 100)
    size = FolderBytes(tmp_path, max_age=300, clock=lambda: now[0])
    assert size.value() == 100  # the first scrape waits for the first count
    (tmp_path / "b.warc.gz").write_bytes(b"x" * 20)
    now[0] = 299
    assert size.value() == 100  # not counted again yet
    now[0] = 301
    size.value()  # starts a count in a thread; answers with the last one meanwhile
    deadline = time.monotonic() + 10
    while size.value() != 120:
        assert time.monotonic() < deadline, "the count in the background never finished"
        time.sleep(0.01)
    assert FolderBytes(tmp_path / "missing").value() == 0


def test_a_run_that_cannot_be_queued_says_why():
    """Procrastinate's error says only "Database error."; the service's log line gives the
    error that caused it."""
    from procrastinate.exceptions import ConnectorException

    from govarchive.scheduler.service import error_text

    try:
        try:
            raise TimeoutError("couldn't get a connection after 30.00 sec")
        except TimeoutError as cause:
            raise ConnectorException() from cause
    except ConnectorException as exc:
        text = error_text(exc)
    assert text == ("ConnectorException: Database error.; caused by TimeoutError: couldn't get "
                    "a connection after 30.00 sec")


def test_a_run_waiting_to_be_queued_when_the_service_stops_ends_quietly(store, tmp_path, caplog):
    """With the run queue, a due run waits for a database connection to be queued; the stop
    cuts that wait. It ends with one INFO line, not a traceback APScheduler would log."""
    from govarchive.scheduler import Service

    settings = load_settings(_config(tmp_path, '[[sources]]\nname = "s"\n'
                                     'start_urls = ["https://s.example.org/"]\n'
                                     'schedule = "every 1d"\n'), env={})

    class StuckDispatch:
        async def defer(self, source, due, sources):
            await asyncio.Event().wait()  # the pool never hands out a connection

    async def scenario():
        service = Service(settings, store, reload_settings=load_settings,
                          dispatch=StuckDispatch())
        queued = asyncio.ensure_future(service._run_source("s"))
        await asyncio.sleep(0.05)
        service._stopping.set()
        queued.cancel()
        return await queued

    with caplog.at_level("INFO", logger="govarchive.scheduler.service"):
        assert asyncio.run(scenario()) is None
    assert "s: not queued, the service is stopping" in caplog.text

    async def cancelled_while_running():  # not stopping: a cancellation is not swallowed
        service = Service(settings, store, reload_settings=load_settings,
                          dispatch=StuckDispatch())
        queued = asyncio.ensure_future(service._run_source("s"))
        await asyncio.sleep(0.05)
        queued.cancel()
        await queued

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(cancelled_while_running())
