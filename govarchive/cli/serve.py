"""``govarchive serve``: the scheduler service, in the foreground."""

from __future__ import annotations

import click

from govarchive.cli.output import Failure
from govarchive.cli.worker import crawl_worker_command, queue_conninfo, service_logging


@click.command()
@click.pass_obj
def serve(app) -> None:
    """Run the scheduler service in the foreground: each source on its schedule.

    SIGTERM or SIGINT stop it gracefully (running crawls close their WARC files and are
    recorded); SIGHUP reloads the configuration. A second `serve` on the same database waits
    as a standby and takes over when the first one stops. With [service] workers =
    "procrastinate" (PostgreSQL) due runs are queued for `govarchive worker` processes.
    """
    settings = app.settings
    dispatch = None
    if settings.service.workers == "procrastinate":
        from govarchive.scheduler import Dispatcher

        dispatch = Dispatcher(queue_conninfo(settings))
    service_logging(app)
    from govarchive import storage
    from govarchive.notify import deliver_due
    from govarchive.scheduler import serve as run_service
    from govarchive.settings import load_settings

    scheduled = [s.name for s in settings.sources if s.schedule]
    if not scheduled:
        click.echo(
            f"warning: no source in {settings.config_path} has a schedule; "
            "add schedule = \"every 30m\" (or a cron line) to a [[sources]] table",
            err=True,
        )
    try:
        store = storage.Store(settings.storage.url)
        try:
            code = run_service(settings, store, reload_settings=load_settings,
                               deliver=lambda current: deliver_due(current, store),
                               dispatch=dispatch, worker_command=crawl_worker_command)
        finally:
            store.close()
    except storage.StorageError as exc:
        raise Failure(f"error: {exc}", 1) from None
    except OSError as exc:  # the lock file or the run log folder
        raise Failure(f"error: {exc}", 1) from None
    click.get_current_context().exit(code)
