"""PostgreSQL going away in the middle of a crawl: the crawl's backends are terminated again
and again (``pg_terminate_backend``, which unlike a server restart leaves other tests' sessions
alone); the storing side reconnects and retries, the run ends ``ok``, every article is
stored, and the database and the archive agree."""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy as sa

from govarchive.storage import Store
from tests.conftest import _postgres_url
from tests.crawling import make_project, site_source
from tests.site.bulk import BulkSite
from tests.test_run_liveness_e2e import start_crawl

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def terminate_while(name: str, running: threading.Event, stop: threading.Event) -> list[int]:
    """Terminate every backend named ``name`` every 0.2 s until ``stop``; the pids hit."""
    hit: list[int] = []
    admin = sa.create_engine(_postgres_url())

    def loop():
        running.wait(60)
        while not stop.wait(0.2):
            with admin.begin() as conn:
                # In the select list, so only the rows the WHERE kept are terminated.
                hit.extend(conn.execute(sa.text(
                    "SELECT pid FROM (SELECT pid, pg_terminate_backend(pid) AS done "
                    "FROM pg_stat_activity WHERE application_name = :name) AS hit "
                    "WHERE done"), {"name": name}).scalars())
        admin.dispose()

    threading.Thread(target=loop, daemon=True).start()
    return hit


def test_a_crawl_whose_database_connections_are_terminated_finishes_with_everything_stored(
    tmp_path, database_url, site_server
):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    site = BulkSite(60)
    server = site_server(site)
    name = f"gv-crawl-{uuid.uuid4().hex[:8]}"
    url = f"{database_url}&application_name={name}"
    project = make_project(tmp_path, [site_source("bulk", server)], storage_url=url,
                           crawl={"delay": 0.1, "concurrency_per_host": 2})
    running, stop = threading.Event(), threading.Event()
    hit = terminate_while(name, running, stop)
    crawl = start_crawl(project, "bulk")
    try:
        with Store(database_url) as store:
            while crawl.poll() is None and len(server.requests) < 10:
                threading.Event().wait(0.1)
            running.set()
            threading.Event().wait(4)  # batches are stored every 2 s: several get hit
            stop.set()
            assert crawl.wait(180) == 0
    finally:
        stop.set()
        if crawl.poll() is None:
            crawl.kill()
    assert hit, "no backend of the crawl was terminated"
    [run] = project.runs()
    assert run["status"] == "ok", run
    assert run["new_articles"] == 60
    assert len(project.export()) == 60
    check = project.run("warc", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    with Store(database_url) as store:
        stored = {c.record_id for c in store.iter_captures()}
    from govarchive.warc import iter_captures

    archived = {c.record_id for c in iter_captures(project.archive_dir)}
    assert archived and archived == stored
