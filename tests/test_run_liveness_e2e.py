"""Runs tell the truth after a crash, end to end: a crawl killed with SIGKILL shows as failed
("process died") in the next `govarchive runs`, and one source is crawled by one process at a
time (a second crawl exits 2 naming the holder; the lock goes with a killed holder)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest

from govarchive.storage import Store
from tests.crawling import REPO, Project, make_project, site_source
from tests.site.bulk import BulkSite
from tests.test_scheduler_service import Serve, wait_until, write_config

pytestmark = pytest.mark.slow  # crawls and services in subprocesses

HELD = 20.0  # seconds the second list page takes: the crawl is mid-way meanwhile


def slow_bulk_site(site_server):
    """A bulk section whose second list page answers after HELD seconds."""
    site = BulkSite(60)
    server = site_server(site)
    server.override(site.list_path(1), delay=HELD)
    return server


def start_crawl(project: Project, *args: str) -> subprocess.Popen:
    """``govarchive crawl ARGS`` in a process group of its own (so it can be killed whole)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVARCHIVE_")}
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        env.pop(name, None)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.Popen(
        [sys.executable, "-m", "govarchive", "--config", str(project.config), "crawl", *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=env, cwd=project.root, start_new_session=True,
    )


def kill_group(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)


def wait_for_running_run(store: Store, source: str, server, pid: int | None = None):
    """The source's run once it is crawling: recorded with its process, requests made."""
    def crawling():
        running = [r for r in store.running_runs(source) if r.pid is not None]
        if pid is not None:
            running = [r for r in running if r.pid == pid]
        return running[0] if running and len(server.requests) >= 5 else None

    return wait_until(crawling, 90, f"a running run of {source} with requests", interval=0.2)


@pytest.fixture
def project_on(tmp_path, database_url, site_server):
    server = slow_bulk_site(site_server)
    project = make_project(tmp_path, [site_source("bulk", server)], storage_url=database_url,
                           crawl={"timeout": HELD + 10})
    with Store(database_url) as store:
        yield project, store, server


def test_a_sigkilled_crawl_shows_failed_process_died_in_the_next_runs(project_on):
    project, store, server = project_on
    crawl = start_crawl(project, "bulk")
    try:
        run = wait_for_running_run(store, "bulk", server, crawl.pid)
    finally:
        kill_group(crawl)
    [listed] = [r for r in project.runs() if r["id"] == run.id]
    assert listed["status"] == "failed"
    assert listed["error"].startswith("process died")
    assert listed["finished_at"] is not None


def test_a_second_crawl_of_a_source_exits_2_naming_the_holder_until_the_holder_dies(
    project_on,
):
    project, store, server = project_on
    first = start_crawl(project, "bulk")
    try:
        run = wait_for_running_run(store, "bulk", server, first.pid)
        second = project.crawl("bulk")
        assert second.returncode == 2, second.stderr
        assert re.search(
            rf'error: source "bulk" is being crawled by run {run.id} '
            rf"\(pid {first.pid} on {re.escape(run.node)} since \d{{4}}-", second.stderr
        ), second.stderr
        assert [r["id"] for r in store.list_runs()] == [run.id]  # it recorded nothing
    finally:
        kill_group(first)
    server.override(BulkSite(60).list_path(1))  # fast again
    third = project.crawl("bulk", "--max-list-pages", "1")
    assert third.returncode == 0, third.stderr
    assert f"closed run(s) {run.id} of bulk as failed: process died" in third.stderr
    runs = {r["id"]: r for r in project.runs()}
    assert runs[run.id]["status"] == "failed"
    assert [r["status"] for r in runs.values() if r["id"] != run.id] == ["ok"]


def test_a_cli_crawl_while_the_service_crawls_the_source_exits_2_naming_the_holder(
    tmp_path, site_server
):
    server = slow_bulk_site(site_server)
    url = f"sqlite:///{tmp_path / 'data/govarchive.db'}"
    config = write_config(tmp_path, url, [site_source("bulk", server, schedule="every 2s")])
    project = Project(tmp_path, config, url)
    assert project.run("init").returncode == 0
    serve = Serve(config)
    store = Store(url)
    try:
        # The first run starts 2 s after the service, which owns it until its crawl child
        # claims it.
        run = wait_until(lambda: next((r for r in store.running_runs("bulk")
                                       if r.pid not in (None, serve.process.pid)), None), 90,
                         "the service's run, claimed by its crawl child")
        cli = project.crawl("bulk")
        assert cli.returncode == 2, cli.stderr
        assert f'error: source "bulk" is being crawled by run {run.id} (pid {run.pid} on ' \
            in cli.stderr
        assert [r["id"] for r in store.list_runs()] == [run.id]
        os.killpg(run.pid, signal.SIGKILL)  # the crawl child: no graceful stop to wait for
    finally:
        serve.kill()
        store.close()


def test_the_service_skips_a_scheduled_run_of_a_source_a_cli_crawl_holds(tmp_path, site_server):
    server = slow_bulk_site(site_server)
    url = f"sqlite:///{tmp_path / 'data/govarchive.db'}"
    config = write_config(tmp_path, url, [site_source("bulk", server, schedule="every 2s")])
    project = Project(tmp_path, config, url)
    assert project.run("init").returncode == 0
    store = Store(url)
    crawl = start_crawl(project, "bulk")
    serve = None
    try:
        run = wait_for_running_run(store, "bulk", server, crawl.pid)
        serve = Serve(config)
        serve.wait_for_log(rf"bulk is being crawled by run {run.id} \(pid {crawl.pid} on .*\): "
                           "skipping this scheduled run")
        assert [r["id"] for r in store.list_runs()] == [run.id]  # the service recorded nothing
    finally:
        kill_group(crawl)
        if serve is not None:
            serve.kill()
        store.close()
