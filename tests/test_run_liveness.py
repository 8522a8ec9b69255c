"""Runs tell the truth after a crash: who runs a run, its heartbeat, closing dead runs, and
the per-source crawl lock (storage and the liveness probe; crawls are in
tests/test_run_liveness_e2e.py)."""

from __future__ import annotations

import collections
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from govarchive.processes import process_alive, process_started_at, this_node
from govarchive.storage import RunOwner, Store


def me() -> RunOwner:
    return RunOwner(os.getpid(), this_node(), process_started_at(os.getpid()))


def status(store: Store, run_id: int) -> tuple[str, str | None]:
    run = store.get_run(run_id)
    return run["status"], run["error"]


def test_a_run_records_its_process_and_heartbeat(store):
    run_id = store.start_run(["s"], me())
    [run] = store.running_runs("s")
    assert (run.id, run.pid, run.node) == (run_id, os.getpid(), this_node())
    assert run.pid_started_at == process_started_at(os.getpid())
    first = run.heartbeat_at
    assert first is not None
    store.beat([run_id])
    assert store.running_runs("s")[0].heartbeat_at > first
    store.finish_run(run_id, status="ok", counts={}, error=None)
    assert store.running_runs("s") == []


def test_a_run_whose_process_is_gone_on_this_node_is_closed(store):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: its pid names no process now
    gone = store.start_run(["s"], RunOwner(child.pid, this_node(), None))
    alive = store.start_run(["s"], me())
    closed = store.close_dead_runs(node=this_node(), is_alive=process_alive)
    assert closed == [gone]
    state, error = status(store, gone)
    assert state == "failed" and error.startswith("process died")
    assert str(child.pid) in error
    assert store.get_run(gone)["finished_at"] is not None
    assert status(store, alive) == ("running", None)


def test_a_reused_pid_is_not_taken_for_alive(store):
    """The pid is alive, but that process started an hour after the run's process did: the
    pid was reused by another program."""
    started = process_started_at(os.getpid())
    assert started is not None
    assert process_alive(os.getpid(), started)
    assert not process_alive(os.getpid(), started - timedelta(hours=1))
    earlier_process = RunOwner(os.getpid(), this_node(), started - timedelta(hours=1))
    reused = store.start_run(["s"], earlier_process)
    assert store.close_dead_runs(node=this_node(), is_alive=process_alive) == [reused]
    assert status(store, reused)[0] == "failed"


def test_a_stale_heartbeat_from_another_node_is_closed(store, database_url):
    def never_asked(pid, started):
        raise AssertionError("a process on another node cannot be asked")

    ten_minutes_ago = datetime.now(UTC) - timedelta(minutes=10)
    with Store(database_url, clock=lambda: ten_minutes_ago) as earlier:
        stale = earlier.start_run(["s"], RunOwner(4242, "other-host", None))
        beating = earlier.start_run(["s"], RunOwner(4243, "other-host", None))
    store.beat([beating])  # its process said it was alive just now
    assert store.close_dead_runs(node=this_node(), is_alive=never_asked) == [stale]
    state, error = status(store, stale)
    assert state == "failed"
    assert error.startswith("process died: no heartbeat from other-host since ")
    assert status(store, beating) == ("running", None)


def test_closing_dead_runs_of_one_source_leaves_other_sources(store):
    other = RunOwner(1, "other-host", None)
    a = store.start_run(["a"], other)
    b = store.start_run(["b"], other)
    later = datetime.now(UTC) + timedelta(hours=1)
    assert store.close_dead_runs(node=this_node(), is_alive=process_alive, source="a",
                                 now=later) == [a]
    assert status(store, b)[0] == "running"


def test_a_finished_run_is_never_closed_as_dead(store):
    run_id = store.start_run(["s"], RunOwner(1, "other-host", None))
    store.finish_run(run_id, status="ok", counts={}, error=None)
    later = datetime.now(UTC) + timedelta(hours=1)
    assert store.close_dead_runs(node=this_node(), is_alive=process_alive, now=later) == []
    assert status(store, run_id) == ("ok", None)


def test_a_claimed_run_names_the_process_that_crawls_it(store, tmp_path):
    run_id = store.start_scheduled_run("s", lambda n: str(tmp_path / f"{n}.log"))
    store.claim_run(run_id, RunOwner(123, "crawler-host", None))
    [running] = store.running_runs()
    assert (running.id, running.pid, running.node) == (run_id, 123, "crawler-host")
    with pytest.raises(ValueError, match="no run with id"):
        store.claim_run(run_id + 100, me())


def test_the_crawl_lock_admits_one_holder_per_source(store):
    first, second, other = store.crawl_lock("s"), store.crawl_lock("s"), store.crawl_lock("t")
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        assert other.try_acquire()
        first.release()
        assert second.try_acquire()
    finally:
        for lock in (first, second, other):
            lock.release()


def test_a_process_holds_all_its_crawl_locks_on_one_connection(store, database_url):
    """`crawl --all` holds every source's lock for the whole crawl: with a connection per lock,
    300 sources needed 300 connections (PostgreSQL allows 100 by default)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the crawl locks are PostgreSQL advisory locks only there")
    import sqlalchemy as sa

    locks = [store.crawl_lock(f"source-{n}") for n in range(150)]
    other = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    held = sa.text("SELECT pid, objid FROM pg_locks WHERE locktype = 'advisory' AND granted")

    def advisory_locks() -> dict[int, int]:
        """{holder pid: advisory locks it holds}"""
        with other.connect() as conn:
            return dict(collections.Counter(pid for pid, _ in conn.execute(held)))

    try:
        before = advisory_locks()
        assert all(lock.try_acquire() for lock in locks)
        grown = {pid: n - before.get(pid, 0) for pid, n in advisory_locks().items()
                 if n != before.get(pid, 0)}
        [(session, count)] = grown.items()
        assert count == 150
        # Another session (another process) is refused each of them.
        key = locks[0]._session._held[locks[0]._name]
        with other.connect() as conn:
            assert not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"),
                                    {"k": key}).scalar_one()
        for lock in locks[:149]:
            lock.release()
        assert advisory_locks().get(session) == 1
        locks[149].release()
        # The last lock let go closes the session's connection (no idle connection kept).
        assert session not in advisory_locks()
        with other.connect() as conn:
            assert session not in conn.execute(
                sa.text("SELECT pid FROM pg_stat_activity")).scalars().all()
        assert locks[0].try_acquire()
    finally:
        for lock in locks:
            lock.release()
        other.dispose()


def test_a_scheduled_run_is_owned_by_the_service_until_its_crawl_claims_it(store):
    # A service killed after making the run and before its crawl child claimed it: the run
    # names the service's process, so it is closed at once, not only when its heartbeat ages.
    service = subprocess.Popen([sys.executable, "-c", "pass"])
    service.wait()
    orphan = store.start_scheduled_run("s", lambda n: f"/tmp/{n}.log", None, service.pid)
    live = store.start_scheduled_run("s", lambda n: f"/tmp/{n}.log", None, os.getpid())
    assert store.close_dead_runs(node=this_node(), is_alive=process_alive) == [orphan]
    assert status(store, live) == ("running", None)
