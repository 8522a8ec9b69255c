"""``govarchive init``, ``crawl`` and ``extract``: setting up and fetching."""

from __future__ import annotations

import json
import logging
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from govarchive.cli.context import App, open_store, pass_app
from govarchive.cli.output import Failure, format_record, safe_url
from govarchive.processes import process_alive, this_node
from govarchive.settings import DEFAULT_CONFIG_NAME, example_config
from govarchive.times import local_text

# ---- init, crawl -----------------------------------------------------------------------


@click.command()
@click.option(
    "--example-config",
    "example_path",
    is_flag=False,
    flag_value=DEFAULT_CONFIG_NAME,
    default=None,
    metavar="[PATH]",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Only write a commented starter config to PATH (default: ./govarchive.toml); "
    "never overwrites a file (exit 1 if PATH exists).",
)
@pass_app
def init(app: App, example_path: Path | None) -> None:
    """Create the archive folders and the database, migrated to the newest schema (idempotent).

    With --example-config, write a starter config instead: nothing else is created."""
    if example_path is not None:
        _write_example_config(example_path)
        return
    settings = app.settings
    folders = [settings.archive.archive_path, settings.archive.indexes_path]
    database_file = settings.storage.sqlite_path
    if database_file is not None:
        folders.append(database_file.parent)
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise Failure(f"error: cannot create {folder}: {exc.strerror}", 1) from None
    with open_store(settings, create=True) as store:
        store.migrate()
    if settings.service.workers == "procrastinate":  # the run queue's tables (PostgreSQL)
        from govarchive.cli.worker import queue_conninfo
        from govarchive.scheduler import ensure_queue_schema

        if ensure_queue_schema(queue_conninfo(settings)):
            click.echo("run queue: made Procrastinate's tables", err=True)
    click.echo(f"archive: {settings.archive.collection_path}", err=True)
    click.echo(
        f"database: {database_file or safe_url(settings.storage.url)} (up to date)", err=True
    )


def _write_example_config(path: Path) -> None:
    try:
        with path.open("xb") as file:  # "x": an existing config is someone's work, keep it
            file.write(example_config())
    except FileExistsError:
        raise Failure(
            f"error: {path} exists; not overwriting it (remove it or name another PATH)", 1
        ) from None
    except OSError as exc:
        raise Failure(f"error: cannot write {path}: {exc.strerror}", 1) from None
    click.echo(f"wrote {path}", err=True)
    click.echo(
        f"next: edit its [[sources]], then run: govarchive --config {shlex.quote(str(path))} init",
        err=True,
    )


@click.command()
@click.argument("source_names", metavar="SOURCE...", nargs=-1)
@click.option("--all", "all_sources", is_flag=True, help="Crawl every configured source.")
@click.option(
    "--max-list-pages",
    type=click.IntRange(min=1),
    default=None,
    help="Pages of each section to walk (default: each source's max_list_pages); given, "
    "every section is walked in full: no conditional first page, no stop at known links.",
)
@click.option(
    "--run-id",
    type=click.IntRange(min=1),
    default=None,
    help="Record into this existing run (the scheduler's; one source only).",
)
@click.option(
    "--revisit",
    type=click.Choice(["due", "all", "none"]),
    default="due",
    show_default=True,
    help="Fetch known articles again: those due by age ([sources.tracking] revisit), all, or none.",
)
@pass_app
def crawl(
    app: App,
    source_names: tuple[str, ...],
    all_sources: bool,
    max_list_pages: int | None,
    run_id: int | None,
    revisit: str,
) -> None:
    """Run one crawl of the named sources now, in the foreground."""
    if bool(source_names) == all_sources:
        raise click.UsageError("name the sources to crawl, or pass --all (not both)")
    settings = app.settings
    if all_sources:
        names = [s.name for s in settings.sources]
        if not names:
            raise Failure(
                f"error: no sources in {settings.config_path}: add a [[sources]] table", 2
            )
    else:
        names = list(dict.fromkeys(source_names))
        for name in names:
            app.source(name)
    if run_id is not None and len(names) != 1:
        raise click.UsageError("--run-id needs exactly one source")
    from govarchive import storage
    from govarchive.crawler.run import run_crawl

    with open_store(settings) as store, source_locks(store, names, skip_held=all_sources) as names:
        for name in names:
            closed = store.close_dead_runs(node=this_node(), is_alive=process_alive, source=name)
            if closed:
                click.echo(f"closed run(s) {', '.join(map(str, closed))} of {name} as failed: "
                           "process died", err=True)
        if app.log_handler is not None:
            # Scrapy installs its own root handler; ours as well would print every line twice.
            logging.getLogger().removeHandler(app.log_handler)
        try:
            summary = run_crawl(
                settings, names, max_list_pages=max_list_pages, verbose=app.verbose > 0,
                run_id=run_id, revisit=revisit,
            )
        except storage.StorageError as exc:
            raise Failure(f"error: {exc}", 1) from None
    click.echo(summary.summary_text(), err=True)
    click.get_current_context().exit(summary.exit_code)


def holder_text(store, source: str) -> str:
    """Who crawls ``source`` now: its running run whose process is alive, as people read it."""
    node = this_node()
    running = store.running_runs(source)
    alive = [r for r in running if r.node != node or r.pid is None
             or process_alive(r.pid, r.pid_started_at)]
    if not alive:
        return "another process (its run is not recorded yet)"
    run = alive[0]
    who = f"pid {run.pid} on {run.node}" if run.pid is not None else "a process"
    return f"run {run.id} ({who} since {local_text(run.started_at)})"


@contextmanager
def source_locks(store, names: list[str], *, skip_held: bool) -> Iterator[list[str]]:
    """Hold every source's crawl lock (one crawl of a source at a time, across processes)
    while the crawl runs. A source another process crawls ends the command with exit code 2,
    or, with ``skip_held`` (``--all``), is left out with a warning."""
    held: list[str] = []
    locks = []
    try:
        free = []
        for name in names:
            lock = store.crawl_lock(name)
            if lock.try_acquire():
                locks.append(lock)
                free.append(name)
            else:
                held.append(f'source "{name}" is being crawled by {holder_text(store, name)}')
        if held and not (skip_held and free):
            raise Failure("\n".join(f"error: {line}" for line in held), 2)
        for line in held:
            click.echo(f"warning: {line}; skipping it", err=True)
        yield free
    finally:
        for lock in locks:
            lock.release()


# ---- extract ------------------------------------------------------------------------------


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--url", help="The page's address, for resolving links (default: the file's file:// URL)."
)
@click.option("--source", "source_name", metavar="S", help="Use this source's rules and timezone.")
@click.option("--json", "as_json", is_flag=True, help="Print the record as JSON.")
@pass_app
def extract(app: App, file: Path, url: str | None, source_name: str | None, as_json: bool) -> None:
    """Parse one saved page and print the article fields."""
    from govarchive.crawler.extract import NotHTMLError, extract_article

    options = {}
    if source_name:
        source = app.source(source_name)
        options = {"rules": source.rules.extract_rules(), "timezone": source.timezone}
    try:
        article = extract_article(file.read_bytes(), url or file.resolve().as_uri(), **options)
    except NotHTMLError as exc:
        raise Failure(f"error: {file} is not an HTML page: {exc}", 1) from None
    except OSError as exc:
        raise Failure(f"error: cannot read {file}: {exc.strerror}", 1) from None
    record = article.to_record()
    if as_json:
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    click.echo(format_record(record))
