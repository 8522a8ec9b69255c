"""Database faults said in words: a SQLite write lock held by another process (waited for up
to the URL's ``timeout``, then "the database is locked by another process"), and a PostgreSQL
connection lost mid-transaction or a server away (reconnected and retried, then given up)."""

from __future__ import annotations

import logging
import socket
import sqlite3
import threading
import time
import uuid

import pytest
import sqlalchemy as sa

from govarchive.storage import StorageError, Store
from tests.builders import T0, FakeCrawl
from tests.conftest import _postgres_url


@pytest.fixture
def sqlite_path(tmp_path):
    path = tmp_path / "govarchive.db"
    with Store(f"sqlite:///{path}") as store:
        store.migrate()
    return path


def hold_write_lock(path, seconds: float) -> threading.Thread:
    """Another connection holds the write lock (BEGIN IMMEDIATE) for ``seconds``."""
    taken = threading.Event()

    def hold():
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        taken.set()
        time.sleep(seconds)
        other.execute("ROLLBACK")
        other.close()

    thread = threading.Thread(target=hold)
    thread.start()
    taken.wait(5)
    return thread


def test_a_write_waits_for_the_lock_then_fails_saying_the_database_is_locked(sqlite_path):
    holder = hold_write_lock(sqlite_path, 3)
    try:
        with Store(f"sqlite:///{sqlite_path}?timeout=0.5") as store:
            started = time.monotonic()
            with pytest.raises(StorageError) as raised:
                store.start_run(["govcn"])
            waited = time.monotonic() - started
    finally:
        holder.join()
    assert str(raised.value).startswith(
        "the database is locked by another process (waited 0.5 s): sqlite:///")
    assert 0.4 <= waited < 2.5


def test_a_write_waits_for_a_lock_held_shorter_than_the_timeout(sqlite_path):
    holder = hold_write_lock(sqlite_path, 0.5)
    try:
        with Store(f"sqlite:///{sqlite_path}?timeout=10") as store:
            run_id = store.start_run(["govcn"])
    finally:
        holder.join()
    assert [r["id"] for r in Store(f"sqlite:///{sqlite_path}").list_runs()] == [run_id]


def test_a_timeout_that_is_not_a_number_is_named():
    with pytest.raises(StorageError, match=r"invalid timeout='soon' in database URL"):
        Store("sqlite:///x.db?timeout=soon")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_ingest_gives_up_after_the_server_stays_away_saying_for_how_long(caplog):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere"
    store = Store(url, reconnect_seconds=1.2)
    crawl = FakeCrawl(store)
    captures, articles = crawl.batch("http://gov.example/a.htm", T0)
    caplog.set_level(logging.WARNING, logger="govarchive.storage.store")
    started = time.monotonic()
    with pytest.raises(StorageError, match=r"stayed unreachable for 1.2 s"):
        store.ingest(captures, articles)
    assert 1.1 <= time.monotonic() - started < 10
    retries = [r for r in caplog.records if "lost the database connection" in r.message]
    assert len(retries) >= 2
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in retries)


@pytest.mark.postgres
def test_an_ingest_whose_backend_is_terminated_mid_transaction_is_retried(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    name = f"gv-faults-{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(_postgres_url())
    with Store(f"{database_url}&application_name={name}") as store:
        store.migrate()
        crawl = FakeCrawl(store)
        crawl.article("http://gov.example/first.htm", T0)
        terminated = []

        def terminate_once(conn, cursor, statement, *_args) -> None:
            # The batch's first insert: the transaction is open when its backend goes.
            if not terminated and statement.lstrip().upper().startswith("INSERT"):
                with admin.begin() as other:
                    terminated.extend(other.execute(sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = :name"), {"name": name}).scalars())

        sa.event.listen(store._engine, "before_cursor_execute", terminate_once)
        second = crawl.article("http://gov.example/second.htm", T0)
        sa.event.remove(store._engine, "before_cursor_execute", terminate_once)
        assert terminated and all(terminated)
        assert second.result.new_articles == 1
        urls = sorted(r["url"] for r in store.iter_export())
        assert urls == ["http://gov.example/first.htm", "http://gov.example/second.htm"]
        assert store.count_captures() == 2
    admin.dispose()
