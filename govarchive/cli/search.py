"""``govarchive articles search``: full-text search with filters."""

from __future__ import annotations

import json
from datetime import datetime

import click

from govarchive.cli.context import App, open_store, pass_app
from govarchive.cli.output import Failure, WhenParam, cell, format_table, write_stdout
from govarchive.times import in_zone


@click.command()
@click.argument("query", metavar="QUERY")
@click.option("--source", "source_name", metavar="S", help="Only this source's articles.")
@click.option("--published-since", "since", type=WhenParam(),
              help="Published on or after DATE (a day or time, read in the source's timezone, "
                   "default Asia/Shanghai, unless it has an offset).")
@click.option("--published-until", "until", type=WhenParam(),
              help="Published on or before DATE (a day counts to its end).")
@click.option("--status", type=click.Choice(["live", "removed"]), help="Only live or removed ones.")
@click.option("--origin", metavar="NAME", help="Only articles from this 来源 (exact).")
@click.option("--sort", type=click.Choice(["relevance", "date"]),
              help="Order: the newest 300 hits by relevance, then the rest newest first "
                   "(default with a query); or all newest first.")
@click.option("--exact-total", is_flag=True,
              help="Count every hit (slow for common words); otherwise counting stops past 300.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many hits.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the counts and hits as one JSON object (instead of a table).")
@click.option("--csv", "as_csv", is_flag=True, help="Print the hits as CSV rows (instead of a table).")
@pass_app
def search(app: App, query: str, source_name: str | None, since, until, status: str | None,
           origin: str | None, sort: str | None, exact_total: bool, limit: int, offset: int,
           as_json: bool, as_csv: bool) -> None:
    """Full-text search of titles and bodies.

    Words separated by spaces must all occur; "quoted words" must occur together, in order.
    Chinese words of any length are found (两字词 included); an empty QUERY lists every
    article matching the filters, newest first.
    """
    from govarchive.storage import SEARCH_PAGE_LIMIT, SearchQueryError

    if as_json and as_csv:
        raise click.UsageError("--json and --csv are two outputs: choose one")
    zone = app.timezone(source_name)
    # Days stay days (the store counts a whole day in the zone); times get the zone.
    since, until = (in_zone(v, zone) if isinstance(v, datetime) else v for v in (since, until))
    options = {"source": source_name, "since": since, "until": until, "status": status,
               "origin": origin, "sort": sort, "timezone": zone, "exact_total": exact_total}
    items: list[dict] = []
    page: dict = {"total": 0, "total_exact": True, "ranked": 0}
    with open_store(app.settings) as store:
        app.check_source(store, source_name)
        try:
            while len(items) < limit:
                page = store.search(query, limit=min(SEARCH_PAGE_LIMIT, limit - len(items)),
                                    offset=offset + len(items), **options)
                items.extend(page["items"])
                if len(page["items"]) < SEARCH_PAGE_LIMIT:
                    break
        except SearchQueryError as exc:
            raise Failure(f"error: {exc}", 2) from None
    if as_json:
        counts = {key: page[key] for key in ("total", "total_exact", "ranked")}
        click.echo(json.dumps({**counts, "items": items}, ensure_ascii=False))
    elif as_csv:
        from govarchive.storage import csv_lines

        write_stdout(csv_lines(items))
    else:
        _print_table(page, offset, items)


def _print_table(counts: dict, offset: int, items: list[dict]) -> None:
    if items:
        rows = [("id", "published", "source", "status", "title", "snippet")]
        rows += [
            (cell(r["id"]), cell((r["published_at"] or "")[:10] or None), r["source"],
             r["status"], cell(r["title"]), r["snippet"])
            for r in items
        ]
        click.echo(format_table(rows))
    shown = f"{offset + 1}-{offset + len(items)}" if items else "none"
    total, exact, ranked = counts["total"], counts["total_exact"], counts["ranked"]
    order = (f" (the newest {ranked} by relevance, the rest newest first)"
             if ranked and (ranked < total or not exact) else "")
    click.echo(f"{total}{'' if exact else '+'} found, showing {shown}{order}", err=True)
