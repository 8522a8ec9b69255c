"""Notifications through real channels on loopback: Apprise's json:// and mailto:// (to an
aiosmtpd server the test starts), `govarchive notify --once/--status`, a `notify --once`
killed mid-delivery, and the service's delivery rounds."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from types import SimpleNamespace

import pytest

from govarchive.notify import deliver_due
from govarchive.scheduler import Service
from govarchive.settings import load_settings
from govarchive.storage import Store
from tests.builders import T0, FakeCrawl, add_change_event
from tests.crawling import invoke
from tests.notify_receivers import JsonReceiver, SmtpReceiver, write_watch_config

PROXY_VARS = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch):
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def receiver():
    server = JsonReceiver()
    yield server
    server.close()


def three_articles(store) -> list[int]:
    store.set_sources({"a": "来源a", "b": "来源b"})
    crawl = FakeCrawl(store, source="a", base="https://example.org")
    ids = [crawl.article(f"/a/{n}.htm", T0, title=f"第{n}号通知", body_text=f"正文{n}。" * 5)
           .article_id for n in (1, 2, 3)]
    # The articles' own "new" events go to no watch: each test sees only the events it adds.
    store.deliveries.fan_out([], now=T0)
    return ids


def test_apprise_json_and_mail_receive_each_event(store, database_url, tmp_path, receiver):
    smtp = SmtpReceiver()
    try:
        mail = (f"mailto://127.0.0.1:{smtp.port}?from=archive@example.org"
                "&to=desk@example.org")
        json_url = receiver.url.replace("http://", "json://")
        path = write_watch_config(tmp_path, database_url, f"""
[[watches]]
name = "desk"
notify = ["{json_url}", "{mail}"]
""")
        settings = load_settings(path, env={})
        first, second, _ = three_articles(store)
        edit = add_change_event(store, first, "edited", summary="正文: 二十 → 十五")
        add_change_event(store, second, "new")  # not watched: "new" is left out by default
        removal = add_change_event(store, second, "removed", detail="404")
        report = deliver_due(settings, store)
        assert (report.messages, report.failures) == (2, [])
    finally:
        smtp.close()
    titles = [body["title"] for body in receiver.bodies]  # Apprise's json:// body
    assert titles == ["【修改】来源a：第1号通知", "【删除】来源a：第2号通知"]
    assert "变化：正文: 二十 → 十五" in receiver.bodies[0]["message"]
    assert [subject for subject, _ in smtp.messages] == titles
    assert f"https://archive.example.org/articles/{first}" in smtp.messages[0][1]
    assert store.deliveries.pending() == [] and edit < removal


def test_notify_once_exits_1_naming_the_watch_and_status_lists_what_is_owed(
        store, database_url, tmp_path, receiver):
    path = write_watch_config(tmp_path, database_url,
                              f'[[watches]]\nname = "desk"\nwebhook = "{receiver.url}"\n')
    first, _, _ = three_articles(store)
    event = add_change_event(store, first, "edited")
    receiver.status = 500
    result = invoke(path, "notify", "--once")
    assert result.exit_code == 1
    assert "error: watch desk: webhook answered HTTP 500 (pending; retried later)" in result.stderr
    status = invoke(path, "notify", "--status")
    assert status.exit_code == 0, status.output
    assert "desk" in status.stdout and "第1号通知" in status.stdout and "HTTP 500" in status.stdout
    listed = invoke(path, "notify", "--status", "--json")
    assert f'"id": {event}' in listed.stdout and '"attempts": 1' in listed.stdout
    assert invoke(path, "notify").exit_code == 2  # neither --once nor --status
    owed = invoke(path, "changes", "--undelivered", "--json")
    assert owed.exit_code == 0 and owed.stdout == listed.stdout
    assert invoke(path, "changes", "--undelivered", "--kind", "edited").exit_code == 2


@pytest.mark.slow
@pytest.mark.parametrize("command", [["notify", "--once"], ["serve"]])
def test_a_deliverer_killed_mid_delivery_delivers_the_rest_next_time(tmp_path, receiver, command):
    """SIGKILL of `notify --once` or of the service while a message is in flight: after a
    restart every event arrives, the one in flight once more (at least once)."""
    database_url = f"sqlite:///{tmp_path / 'govarchive.db'}"
    with Store(database_url) as store:
        store.migrate()
        articles = three_articles(store)
        events = [add_change_event(store, article_id, "edited") for article_id in articles]
    path = write_watch_config(tmp_path, database_url,
                              f'[[watches]]\nname = "w"\nwebhook = "{receiver.url}"\n')
    if command == ["serve"]:
        path.write_text(path.read_text(encoding="utf-8").replace(
            "[web]", "[service]\nhealth_port = 0\n[web]", 1), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS
           and not k.startswith("GOVARCHIVE_")}
    argv = [sys.executable, "-m", "govarchive", "--config", str(path), *command]

    receiver.hold_from = 2  # it takes the second event but does not answer
    process = subprocess.Popen(argv, env=env, cwd=tmp_path, stderr=subprocess.DEVNULL)
    try:
        receiver.wait_for(2)
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
    receiver.hold_from = None
    receiver.released.set()

    if command == ["serve"]:
        restarted = subprocess.Popen(argv, env=env, cwd=tmp_path, stderr=subprocess.DEVNULL)
        try:
            receiver.wait_for(4, timeout=120)  # the service delivers at start
        finally:
            restarted.send_signal(signal.SIGTERM)
            assert restarted.wait(60) == 0
    else:
        rerun = subprocess.run(argv, check=False, env=env, cwd=tmp_path, capture_output=True,
                               timeout=120)
        assert rerun.returncode == 0, rerun.stderr
    delivered = receiver.event_ids()
    # None lost; the one in flight when the process died is sent once more (at least once).
    assert delivered == [events[0], events[1], events[1], events[2]]
    with Store(database_url) as store:
        assert store.deliveries.pending() == []


def test_the_service_delivers_periodically_and_after_each_run(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'govarchive.db'}"
    with Store(database_url) as store:
        store.migrate()
        config = tmp_path / "govarchive.toml"
        config.write_text(f'[storage]\nurl = "{database_url}"\n[service]\nhealth_port = 0\n'
                          '[[sources]]\nname = "s"\nstart_urls = ["https://example.org/"]\n'
                          'schedule = "every 1d"\n', encoding="utf-8")
        settings = load_settings(config, env={})
        calls: list[tuple[str, object]] = []
        loop_thread = threading.get_ident()

        class FakeRunner:
            def __init__(self):
                self.active, self.settings = {}, None

            async def run(self, source, stopping, scheduled_for=None):
                run = {"status": "ok", "requests": 1, "new_articles": 1, "new_versions": 0}
                return SimpleNamespace(run_id=1, stopped=None, run=run)

        async def scenario(deliver_every: float, after_run: bool) -> int:
            service = Service(settings, store, reload_settings=load_settings,
                              deliver=lambda current: calls.append(
                                  ("thread" if threading.get_ident() != loop_thread else "loop",
                                   current)),
                              deliver_every=deliver_every)
            service.runner = FakeRunner()
            running = asyncio.create_task(service.run())
            while not calls:  # the first round, at start
                await asyncio.sleep(0.02)
            if after_run:
                await service._run_source("s")
            while len(calls) < (2 if after_run else 3):
                await asyncio.sleep(0.02)
            service.request_stop()
            return await running

        # On the clock: a round at start, then every deliver_every seconds.
        assert asyncio.run(asyncio.wait_for(scenario(0.1, after_run=False), 60)) == 0
        assert len(calls) >= 3
        calls.clear()
        # After a run, at once (the clock alone would wait an hour).
        assert asyncio.run(asyncio.wait_for(scenario(3600, after_run=True), 60)) == 0
        assert len(calls) == 2
    assert {where for where, _ in calls} == {"thread"}
    assert all(current is settings for _, current in calls)
