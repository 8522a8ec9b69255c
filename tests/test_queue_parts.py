"""The run queue's parts in process (scheduler.queue, scheduler.queue_worker): Procrastinate's
schema in the test's own schema, one waiting job per source, one running job per politeness
group, stalled jobs queued again, and a worker fencing itself when the database is gone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace

import psycopg
import pytest

from govarchive.cli.worker import queue_conninfo
from govarchive.scheduler.queue import (
    QUEUE,
    WHERE_QUEUE_IS,
    Dispatcher,
    _lock_key,
    ensure_schema,
    make_app,
    retry_stalled,
)
from govarchive.scheduler.queue_worker import QueueWorker
from govarchive.settings import ServiceSettings

pytestmark = pytest.mark.postgres

DUE = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def src(name: str, url: str):
    return SimpleNamespace(name=name, start_urls=(url,))


SOURCES = [src("a-one", "http://127.0.0.2:8001/a/"), src("a-two", "http://127.0.0.2:8002/b/"),
           src("b-one", "http://127.0.0.3:8001/c/")]


@pytest.fixture
def conninfo(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("the run queue lives in PostgreSQL")
    return queue_conninfo(SimpleNamespace(storage=SimpleNamespace(url=database_url),
                                          config_path="govarchive.toml"))


def test_the_schema_is_made_once_in_the_connections_own_schema(conninfo):
    assert ensure_schema(conninfo) is True
    assert ensure_schema(conninfo) is False
    with psycopg.connect(conninfo) as conn:
        schema = conn.execute("SELECT current_schema()").fetchone()[0]
        found = conn.execute("SELECT to_regclass(%s)", [f"{schema}.procrastinate_jobs"])
        assert found.fetchone()[0] is not None
        assert schema.startswith("t_")  # the test's schema, not public


def test_sqlite_is_refused_with_a_hint():
    from govarchive.cli.output import Failure

    settings = SimpleNamespace(storage=SimpleNamespace(url="sqlite:///x.db"),
                               config_path="govarchive.toml")
    with pytest.raises(Failure, match='needs PostgreSQL.*workers = "warm"'):
        queue_conninfo(settings)


async def _fetch(app, worker_id):
    return await app.job_manager.fetch_job(queues=[QUEUE], worker_id=worker_id)


def test_one_waiting_job_per_source_and_one_running_job_per_group(conninfo):
    async def scenario():
        dispatcher = Dispatcher(conninfo)
        try:
            first = await dispatcher.defer("a-one", DUE, SOURCES)
            assert await dispatcher.defer("a-one", DUE, SOURCES) is None  # merged
            second = await dispatcher.defer("a-two", DUE, SOURCES)
            other = await dispatcher.defer("b-one", DUE, SOURCES)
            app = dispatcher.app
            worker = await app.job_manager.register_worker()
            got = [(await _fetch(app, worker)).id for _ in range(2)]
            # a-two shares a-one's host: it waits while a-one runs.
            assert got == [first, other]
            assert await _fetch(app, worker) is None
            await app.job_manager.finish_job_by_id_async(first, _status("succeeded"), False)
            assert (await _fetch(app, worker)).id == second
        finally:
            await dispatcher.aclose()

    asyncio.run(scenario())


def _status(value: str):
    from procrastinate.jobs import Status

    return Status(value)


def test_a_stalled_workers_job_is_queued_again_and_a_newer_duplicate_cancelled(conninfo):
    async def scenario():
        dispatcher = Dispatcher(conninfo)
        try:
            app = dispatcher.app
            stalled, dead = await _running_on_a_worker(dispatcher, "a-one")
            newer = await dispatcher.defer("a-one", DUE, SOURCES)  # the next firing
            assert await retry_stalled(app, 6.0, conninfo) == []  # still beating
            await _stall(app, dead)
            assert await retry_stalled(app, 6.0, conninfo) == [stalled]
            alive = await app.job_manager.register_worker()
            assert (await _fetch(app, alive)).id == stalled
            assert await _fetch(app, alive) is None
            (job,) = await app.job_manager.list_jobs_async(id=newer)
            assert job.status == "cancelled"
        finally:
            await dispatcher.aclose()

    asyncio.run(scenario())


def test_workers_looking_for_stalled_jobs_at_once_put_the_job_back_once(conninfo):
    """Every worker looks for stalled jobs. Two at once used to act on what each had read
    before the other acted: the slower one cancelled, as a duplicate of itself, the job the
    other had just put back, and the run was never made again."""
    async def scenario():
        dispatcher = Dispatcher(conninfo)
        slower = make_app(conninfo)
        try:
            app = dispatcher.app
            stalled, dead = await _running_on_a_worker(dispatcher, "a-one")
            newer = await dispatcher.defer("a-one", DUE, SOURCES)  # the next firing
            await _stall(app, dead)
            list_jobs = slower.job_manager.list_jobs_async

            async def list_jobs_late(**kwargs):
                await asyncio.sleep(0.5)  # a busy machine: the other pass goes on meanwhile
                return await list_jobs(**kwargs)

            slower.job_manager.list_jobs_async = list_jobs_late
            async with slower.open_async():
                passes = await asyncio.gather(retry_stalled(slower, 6.0, conninfo),
                                              _later(0.1, retry_stalled(app, 6.0, conninfo)))
            assert sorted(passes) == [[], [stalled]]
            assert await _statuses(app) == {stalled: "todo", newer: "cancelled"}
        finally:
            await dispatcher.aclose()

    asyncio.run(scenario())


def test_one_pass_at_a_time_and_a_job_taken_again_is_not_put_back_twice(conninfo):
    """One worker's pass at a time (an advisory lock): while another holds it, a pass does
    nothing, and a holder cut off mid-pass lets it go after the stall timeout; the next pass
    reads afresh and leaves alone a job a live worker took since."""
    async def scenario():
        dispatcher = Dispatcher(conninfo)
        try:
            app = dispatcher.app
            stalled, dead = await _running_on_a_worker(dispatcher, "a-one")
            await _stall(app, dead)
            # Another worker's pass, cut off from the network before it ended: its session
            # lingers, idle in its transaction, until the server ends it.
            holder = psycopg.connect(conninfo)
            try:
                where = holder.execute(WHERE_QUEUE_IS).fetchone()[0]
                holder.execute("SET LOCAL idle_in_transaction_session_timeout = 1000")
                holder.execute("SELECT pg_advisory_xact_lock(%s)",
                               [_lock_key("retry-stalled", where)])
                assert await retry_stalled(app, 6.0, conninfo) == []
                (job,) = await app.job_manager.list_jobs_async(id=stalled)
                assert job.status == "doing"
                await asyncio.sleep(1.5)
                assert await retry_stalled(app, 6.0, conninfo) == [stalled]
                with pytest.raises(psycopg.errors.IdleInTransactionSessionTimeout):
                    holder.execute("SELECT 1")  # the server ended that session
            finally:
                holder.close()
            alive = await app.job_manager.register_worker()
            assert (await _fetch(app, alive)).id == stalled
            assert await retry_stalled(app, 6.0, conninfo) == []
            (job,) = await app.job_manager.list_jobs_async(id=stalled)
            assert (job.status, job.attempts) == ("doing", 1)
            # A pass holds the lock on those terms itself: one that hangs longer than the
            # stall timeout has its session ended by the server.
            find = app.job_manager.get_stalled_jobs

            async def find_hanging(**kwargs):
                await asyncio.sleep(1.5)
                return await find(**kwargs)

            app.job_manager.get_stalled_jobs = find_hanging
            with pytest.raises(psycopg.errors.IdleInTransactionSessionTimeout):
                await retry_stalled(app, 1.0, conninfo)
        finally:
            await dispatcher.aclose()

    asyncio.run(scenario())


def test_a_run_queued_again_while_the_stalled_job_is_put_back_is_cancelled_too(conninfo):
    """``serve`` may queue the source again between the cancel of its queued run and the
    stalled job's put back: that one is cancelled as well, the stalled job still makes it."""
    async def scenario():
        dispatcher = Dispatcher(conninfo)
        try:
            app = dispatcher.app
            stalled, dead = await _running_on_a_worker(dispatcher, "a-one")
            newer = [await dispatcher.defer("a-one", DUE, SOURCES)]
            cancel = app.job_manager.cancel_job_by_id_async

            async def cancel_then_serve_fires(job_id, **kwargs):
                done = await cancel(job_id, **kwargs)
                if len(newer) == 1:
                    newer.append(await dispatcher.defer("a-one", DUE, SOURCES))
                return done

            app.job_manager.cancel_job_by_id_async = cancel_then_serve_fires
            await _stall(app, dead)
            assert await retry_stalled(app, 6.0, conninfo) == [stalled]
            assert await _statuses(app) == {stalled: "todo", newer[0]: "cancelled",
                                            newer[1]: "cancelled"}
        finally:
            await dispatcher.aclose()

    asyncio.run(scenario())


async def _running_on_a_worker(dispatcher: Dispatcher, source: str) -> tuple[int, int]:
    """A run of ``source`` queued and taken by a new worker: (job id, worker id)."""
    job_id = await dispatcher.defer(source, DUE, SOURCES)
    worker = await dispatcher.app.job_manager.register_worker()
    assert (await _fetch(dispatcher.app, worker)).id == job_id
    return job_id, worker


async def _statuses(app) -> dict[int, str]:
    return {job.id: job.status for job in await app.job_manager.list_jobs_async(queue=QUEUE)}


async def _later(delay: float, pass_):
    await asyncio.sleep(delay)
    return await pass_


async def _stall(app, worker_id: int) -> None:
    await app.connector.execute_query_async(
        "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 minute' "
        "WHERE id = %(id)s", id=worker_id)


def test_a_fetch_that_loses_the_race_for_a_groups_lock_is_no_job_not_an_error(conninfo):
    """Two jobs of one group whose ids were committed out of order: one worker takes the
    later, another the earlier at once; the lock's index lets only one run. The loser's
    fetch finds no job (it used to raise UniqueViolation and end the whole worker)."""
    insert = ("INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args) "
              "VALUES (%s, 'govarchive.run_source', 'group:h', '{}') RETURNING id")

    async def scenario():
        dispatcher = Dispatcher(conninfo)
        try:
            await dispatcher.defer("b-one", DUE, SOURCES)  # opens the app, makes the schema
            app = dispatcher.app
            worker = await app.job_manager.register_worker()
            assert (await _fetch(app, worker)).task_kwargs["source"] == "b-one"
            with psycopg.connect(conninfo) as late, psycopg.connect(conninfo) as winner:
                earlier = late.execute(insert, [QUEUE]).fetchone()[0]  # not committed yet
                later = winner.execute(insert, [QUEUE]).fetchone()[0]
                winner.commit()
                taken = winner.execute("SELECT id FROM procrastinate_fetch_job_v2(%s, %s)",
                                       [[QUEUE], worker]).fetchone()[0]
                assert taken == later > earlier
                late.commit()  # `earlier` now looks free to a fresh snapshot
                losing = asyncio.create_task(_fetch(app, worker))
                await asyncio.sleep(0.5)  # it waits on the winner's entry in the lock index
                assert not losing.done()
                winner.commit()
                assert await losing is None
            (job,) = await app.job_manager.list_jobs_async(id=earlier)
            assert job.status == "todo"  # still waiting for its group, not lost
        finally:
            await dispatcher.aclose()

    asyncio.run(scenario())


def test_a_job_whose_worker_stalls_three_times_is_given_up(conninfo):
    async def scenario():
        dispatcher = Dispatcher(conninfo)
        try:
            job_id = await dispatcher.defer("a-one", DUE, SOURCES)
            app = dispatcher.app
            retried = []
            for _ in range(3):
                worker = await app.job_manager.register_worker()
                fetched = await _fetch(app, worker)
                assert fetched is not None and fetched.id == job_id
                await _stall(app, worker)
                retried.append(await retry_stalled(app, 6.0, conninfo))
            assert retried == [[job_id], [job_id], []]
            (job,) = await app.job_manager.list_jobs_async(id=job_id)
            assert job.status == "failed"
        finally:
            await dispatcher.aclose()

    asyncio.run(scenario())


def test_a_worker_that_cannot_reach_the_database_fences_itself():
    """No database behind the address: within a quarter of the stall timeout (and a probe)
    the worker asks to stop, exit code 1, with its crawls' SIGKILL brought forward."""
    settings = SimpleNamespace(
        service=ServiceSettings(stall_timeout=4, stop_grace=60), crawl=SimpleNamespace(
            user_agent="test"), sources=[], storage=SimpleNamespace(url="x"))

    async def scenario():
        worker = QueueWorker(settings, store=None, conninfo="postgresql://nobody@127.0.0.1:9/x",
                             concurrency=1, reload_settings=lambda path: settings)
        worker.runner.settings = SimpleNamespace(
            service=settings.service,
            model_copy=lambda update: SimpleNamespace(service=update["service"]))
        began = asyncio.get_running_loop().time()
        await asyncio.wait_for(worker._fence_watch(), 10)
        took = asyncio.get_running_loop().time() - began
        assert worker.fenced and worker.exit_code == 1 and worker._stop.is_set()
        assert 1.0 <= took < 4.0, took
        assert worker.runner.settings.service.stop_grace == 0.5

    asyncio.run(scenario())


def _config(tmp_path, url: str, workers: str = "procrastinate"):
    path = tmp_path / "govarchive.toml"
    path.write_text(f'[storage]\nurl = "{url}"\n[archive]\ndir = "{tmp_path / "archive"}"\n'
                    f'[service]\nworkers = "{workers}"\n', encoding="utf-8")
    return str(path)


def test_init_makes_the_queue_tables_once_and_worker_refuses_local_workers(
    tmp_path, database_url
):
    from click.testing import CliRunner

    from govarchive.cli import cli

    if not database_url.startswith("postgresql"):
        pytest.skip("the run queue lives in PostgreSQL")
    env = {"GOVARCHIVE_CONFIG": None, "GOVARCHIVE_STORAGE__URL": None}
    config = _config(tmp_path, database_url)
    first = CliRunner().invoke(cli, ["--config", config, "init"], env=env)
    assert first.exit_code == 0, first.output
    assert "run queue: made Procrastinate's tables" in first.output
    again = CliRunner().invoke(cli, ["--config", config, "init"], env=env)
    assert again.exit_code == 0 and "run queue" not in again.output
    local = CliRunner().invoke(cli, ["--config", _config(tmp_path, database_url, "warm"),
                                     "worker"], env=env)
    assert local.exit_code == 2
    assert 'set workers = "procrastinate"' in local.output
