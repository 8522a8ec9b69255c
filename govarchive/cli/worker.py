"""``govarchive worker``: runs the runs ``serve`` queued, on this machine (PostgreSQL and
``[service] workers = "procrastinate"``)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from govarchive.cli.output import Failure


def queue_conninfo(settings) -> str:
    """The libpq connection string of the PostgreSQL database the queue lives in (the
    storage database, its ``search_path`` included); a clear error for any other."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.storage.url)
    if url.get_backend_name() != "postgresql":
        raise Failure(
            f'error: [service] workers = "procrastinate" needs PostgreSQL, but [storage] url in '
            f"{settings.config_path} is {url.get_backend_name()}; set url = "
            '"postgresql+psycopg://user@host/db", or workers = "warm"', 2)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def service_logging(app) -> None:
    """A service's log says what it decided, and when."""
    root = logging.getLogger()
    if app.verbose == 0:
        root.setLevel(logging.INFO)
    if app.log_handler is not None:
        app.log_handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
    if app.verbose < 2:
        # APScheduler logs every job start and end at INFO, alembic every schema check and
        # Procrastinate every job; the service logs its runs itself.
        for chatty in ("apscheduler", "alembic", "procrastinate"):
            logging.getLogger(chatty).setLevel(logging.WARNING)


@click.command()
@click.option("--concurrency", type=click.IntRange(min=1), default=None,
              help="Runs at once on this machine (default: [service] max_concurrent_runs, else "
                   "two per core, at most one per 512 MB of memory).")
@click.option("--node", default=None, metavar="NAME",
              help="This worker's name in runs (`runs --json` node) and WARC file names "
                   "(default: $GOVARCHIVE_NODE, else the host name). Give each worker sharing "
                   "an archive folder its own.")
@click.pass_obj
def worker(app, concurrency: int | None, node: str | None) -> None:
    """Run the runs `serve` queues, on this machine, until stopped.

    Needs PostgreSQL and [service] workers = "procrastinate". Start any number, on any machine
    that reaches the database and the archive folder: each queued run is made once, one at a
    time per politeness group (sources whose start pages share a host). A worker not heard
    from for [service] stall_timeout has its runs made again by another; one that loses the
    database stops its crawls. SIGTERM or SIGINT stop it gracefully (crawls close their WARC
    files and are recorded); SIGHUP reloads the configuration.
    """
    from govarchive.processes import NODE_ENV

    if node is not None:
        if not node.strip():
            raise click.BadParameter("give a name", param_hint="--node")
        # For this process and its crawls: their runs and WARC files carry it.
        os.environ[NODE_ENV] = node
    settings = app.settings
    if settings.service.workers != "procrastinate":
        raise Failure(
            f'error: [service] workers is "{settings.service.workers}" in '
            f'{settings.config_path}: set workers = "procrastinate" (and the same for `serve`) '
            "to run queued runs with `govarchive worker`", 2)
    conninfo = queue_conninfo(settings)
    service_logging(app)
    from govarchive import storage
    from govarchive.scheduler import default_max_concurrent_runs, work
    from govarchive.settings import load_settings

    concurrency = (concurrency or settings.service.max_concurrent_runs
                   or default_max_concurrent_runs())
    try:
        store = storage.Store(settings.storage.url)
        try:
            store.jobstore_engine()  # fails early, saying to run `govarchive init`, if needed
            code = work(settings, store, conninfo=conninfo, concurrency=concurrency,
                        reload_settings=load_settings, worker_command=crawl_worker_command)
        finally:
            store.close()
    except storage.StorageError as exc:
        raise Failure(f"error: {exc}", 1) from None
    click.get_current_context().exit(code)


def crawl_worker_command(config_path: Path) -> list[str]:
    """How the service starts a warm crawl worker (``govarchive.crawl_worker``)."""
    return [sys.executable, "-m", "govarchive.crawl_worker", "--config", str(config_path)]
