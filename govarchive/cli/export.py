"""``govarchive export`` (JSON lines, CSV, Parquet) and ``govarchive runs``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from govarchive.cli.context import App, open_store, pass_app
from govarchive.cli.output import (
    Failure,
    WhenParam,
    cell,
    format_table,
    json_value,
    write_atomically,
    write_file_atomically,
    write_stdout,
)
from govarchive.processes import process_alive, this_node
from govarchive.times import in_zone

EXPORT_FORMATS = ("jsonl", "csv", "parquet")

@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="jsonl", show_default=True
)
@click.option("--source", "source_name", metavar="S", help="Only this source's articles.")
@click.option(
    "--changed-since",
    "changed_since",
    type=WhenParam(),
    help="Only articles first seen or changed since DATE (a day or time in the source's "
    "timezone, default Asia/Shanghai, unless it has an offset).",
)
@click.option(
    "--bom",
    is_flag=True,
    help="Start CSV with a UTF-8 byte order mark, so Excel on Chinese Windows reads the "
    "Chinese text right (--format csv only).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE (atomically) instead of stdout.",
)
@pass_app
def export(
    app: App, fmt: str, source_name: str | None, changed_since, bom: bool, output: Path | None
) -> None:
    """Export every article: one JSON record a line, CSV rows, or a Parquet file."""
    if bom and fmt != "csv":
        raise click.UsageError("--bom goes with --format csv")
    since = in_zone(changed_since, app.timezone(source_name)) if changed_since else None
    if fmt != "jsonl":
        return export_table(app, fmt, source_name, since, output, bom=bom)
    with open_store(app.settings) as store:
        app.check_source(store, source_name)
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


@click.command()
@click.option("--source", "source_name", metavar="S", help="Only runs of this source.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, newest first.")
@pass_app
def runs(app: App, source_name: str | None, limit: int, as_json: bool) -> None:
    """List recent crawl runs, newest first (times in local time; --json: ISO 8601 UTC).

    Runs whose process died (killed, out of memory, power cut) are closed as failed first."""
    with open_store(app.settings) as store:
        app.check_source(store, source_name)
        store.close_dead_runs(node=this_node(), is_alive=process_alive)
        found = [dict(r) for r in store.list_runs(source=source_name, limit=limit)]
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, indent=2, default=json_value))
        return
    rows = [tuple(c.upper().replace("_", " ") for c in RUN_COLUMNS)]
    for run in found:
        rows.append(tuple(cell(run.get(c), c) for c in RUN_COLUMNS))
    click.echo(format_table(rows))


def export_table(app: App, fmt: str, source: str | None, since: datetime | None,
                 output: Path | None, *, bom: bool = False) -> None:
    """``govarchive export --format csv|parquet``: streamed, written atomically to ``output``."""
    from govarchive.storage import csv_lines, write_parquet

    with open_store(app.settings) as store:
        app.check_source(store, source)
        records = store.iter_export(source=source, since=since)
        if fmt == "csv":
            if output is None:
                write_stdout(csv_lines(records, bom=bom))
                return
            count = write_atomically(output, csv_lines(records, bom=bom)) - 1
        else:
            if output is None:
                raise Failure("error: --format parquet writes a file: give -o FILE.parquet", 2)
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                raise Failure("error: --format parquet needs pyarrow: "
                              "pip install 'govarchive[parquet]'", 2) from None
            count = write_file_atomically(output, lambda path: write_parquet(records, str(path)))
    click.echo(f"exported {count} articles to {output}", err=True)
