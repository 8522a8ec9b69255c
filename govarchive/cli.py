"""The ``govarchive`` command line: messages to stderr, data to stdout.

Exit codes: 0 done, 1 the work failed, 2 bad usage or bad configuration.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click

from govarchive import __version__
from govarchive.cli_output import (
    DateParam,
    Failure,
    cell,
    format_record,
    format_table,
    json_value,
    safe_url,
    write_atomically,
    write_stdout,
)
from govarchive.settings import ConfigError, Settings, UnknownSourceError, load_settings

EXPORT_FORMATS = ("jsonl", "csv", "parquet")


class App:
    """What the global options decide; settings are loaded on first use, so ``extract``
    works without a config file."""

    def __init__(self, config: Path | None, verbose: int):
        self.config, self.verbose = config, verbose
        self._settings: Settings | None = None
        self.log_handler: logging.Handler | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.config)
            except ConfigError as exc:
                raise Failure(str(exc), 2) from None
        return self._settings

    def source(self, name: str):
        try:
            return self.settings.source(name)
        except UnknownSourceError as exc:
            raise Failure(f"error: {exc}", 2) from None


pass_app = click.make_pass_decorator(App)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Config file (default: $GOVARCHIVE_CONFIG, else ./govarchive.toml).",
)
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.version_option(__version__, prog_name="govarchive")
@click.pass_context
def cli(ctx: click.Context, config: Path | None, verbose: int) -> None:
    """Archive government news sections: crawl, keep every response as WARC, track changes."""
    ctx.obj = App(config, verbose)
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    if not root.handlers:  # an embedding program (or pytest) may have set up logging already
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        ctx.call_on_close(lambda: root.removeHandler(handler))
        ctx.obj.log_handler = handler


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="govarchive")


@contextmanager
def open_store(settings: Settings) -> Iterator:
    """A ``storage.Store`` for the configured database, closed afterwards;
    storage errors end the command with ``error: ...`` and exit code 1."""
    from govarchive import storage

    try:
        store = storage.Store(settings.storage.url)
        try:
            yield store
        finally:
            store.close()
    except storage.StorageError as exc:
        raise Failure(f"error: {exc}", 1) from None


# ---- init, sources, crawl -----------------------------------------------------------------


@cli.command()
@pass_app
def init(app: App) -> None:
    """Create the archive folders and the database, migrated to the newest schema (idempotent)."""
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
    with open_store(settings) as store:
        store.migrate()
    click.echo(f"archive: {settings.archive.collection_path}", err=True)
    click.echo(
        f"database: {database_file or safe_url(settings.storage.url)} (up to date)", err=True
    )


@cli.command()
@click.option("--check", is_flag=True, help="Validate every source's rules; fetches nothing.")
@pass_app
def sources(app: App, check: bool) -> None:
    """List the configured sources."""
    configured = app.settings.sources
    rows = [("NAME", "TITLE", "SCHEDULE", "START URLS")]
    for source in configured:
        rows.append(
            (
                source.name,
                source.title,
                source.schedule or "(on demand)",
                " ".join(source.start_urls),
            )
        )
    click.echo(format_table(rows))
    if not configured:
        click.echo(f"no sources in {app.settings.config_path}: add a [[sources]] table", err=True)
    if check:
        # load_settings compiled every rule already; report what each source relies on.
        for source in configured:
            rules = source.rules.model_dump(exclude_none=True)
            detail = ", ".join(rules) if rules else "none (found automatically)"
            click.echo(f"ok {source.name}: rules {detail}", err=True)


@cli.command()
@click.argument("source_names", metavar="SOURCE...", nargs=-1)
@click.option("--all", "all_sources", is_flag=True, help="Crawl every configured source.")
@click.option(
    "--max-list-pages",
    type=click.IntRange(min=1),
    default=None,
    help="Pages of each section to walk (default: each source's max_list_pages).",
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

    if app.log_handler is not None:
        # Scrapy installs its own root handler; ours as well would print every line twice.
        logging.getLogger().removeHandler(app.log_handler)
    try:
        summary = run_crawl(
            settings, names, max_list_pages=max_list_pages, verbose=app.verbose > 0, run_id=run_id,
            revisit=revisit,
        )
    except storage.StorageError as exc:
        raise Failure(f"error: {exc}", 1) from None
    click.echo(summary.summary_text(), err=True)
    click.get_current_context().exit(summary.exit_code)


# ---- extract ------------------------------------------------------------------------------


@cli.command()
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


# ---- export, runs -------------------------------------------------------------------------


@cli.command()
@click.option(
    "--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="jsonl", show_default=True
)
@click.option("--source", "source_name", metavar="S", help="Only this source's articles.")
@click.option(
    "--since",
    type=DateParam(),
    help="Only articles changed since DATE (UTC unless an offset is given).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE (atomically) instead of stdout.",
)
@pass_app
def export(
    app: App, fmt: str, source_name: str | None, since: datetime | None, output: Path | None
) -> None:
    """Export every article: one JSON record a line, CSV rows, or a Parquet file."""
    if fmt != "jsonl":
        from govarchive.cli_search import export_table

        return export_table(app, fmt, source_name, since, output)
    with open_store(app.settings) as store:
        records = store.iter_export(source=source_name, since=since)
        if output is None:
            write_stdout(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
            return
        count = write_atomically(
            output, (json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        )
    click.echo(f"exported {count} articles to {output}", err=True)


RUN_COLUMNS = (
    "id",
    "source",
    "status",
    "started_at",
    "finished_at",
    "requests",
    "new_articles",
    "new_versions",
    "removed",
    "bytes_archived",
    "error",
)


@cli.command()
@click.option("--source", "source_name", metavar="S", help="Only runs of this source.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, newest first.")
@pass_app
def runs(app: App, source_name: str | None, limit: int, as_json: bool) -> None:
    """List recent crawl runs, newest first."""
    with open_store(app.settings) as store:
        found = [dict(r) for r in store.list_runs(source=source_name, limit=limit)]
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, indent=2, default=json_value))
        return
    rows = [tuple(c.upper().replace("_", " ") for c in RUN_COLUMNS)]
    for run in found:
        rows.append(tuple(cell(run.get(c)) for c in RUN_COLUMNS))
    click.echo(format_table(rows))


if __name__ == "__main__":
    main()

from govarchive.cli_serve import serve  # noqa: E402

cli.add_command(serve)

from govarchive.cli_archive import replay as _replay_group
from govarchive.cli_archive import warc as _warc_group

cli.add_command(_warc_group)
cli.add_command(_replay_group)

from govarchive.cli_articles import articles as _articles_group  # noqa: E402

cli.add_command(_articles_group)

from govarchive.cli_search import search as _search_command  # noqa: E402

_articles_group.add_command(_search_command)

from govarchive.cli_web import web as _web_command  # noqa: E402

cli.add_command(_web_command)
