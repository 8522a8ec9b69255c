"""``govarchive articles search``: full-text search with filters."""

from __future__ import annotations

import json
from datetime import date, datetime

import click

from govarchive.cli.context import App, open_store, pass_app
from govarchive.cli.output import Failure, cell, format_table, write_stdout
from govarchive.times import DEFAULT_TIMEZONE

SEARCH_FORMATS = ("table", "json", "csv")


class DayOrTimeParam(click.ParamType):
    """YYYY-MM-DD (a whole day in the source's timezone) or an ISO 8601 time (UTC unless it
    has an offset)."""

    name = "DATE"

    def convert(self, value, param, ctx):
        if isinstance(value, (date, datetime)):
            return value
        try:
            return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            self.fail(
                f"{value!r} is not a date: write YYYY-MM-DD or YYYY-MM-DDThh:mm[+08:00]", param, ctx
            )


def _timezone(app: App, source: str | None) -> str:
    if source is None:
        return DEFAULT_TIMEZONE
    configured = {s.name: s.timezone for s in app.settings.sources}
    return configured.get(source, DEFAULT_TIMEZONE)


@click.command()
@click.argument("query", metavar="QUERY")
@click.option("--source", "source_name", metavar="S", help="Only this source's articles.")
@click.option("--since", type=DayOrTimeParam(), help="Published on or after DATE.")
@click.option("--until", type=DayOrTimeParam(), help="Published on or before DATE.")
@click.option("--status", type=click.Choice(["live", "removed"]), help="Only live or removed ones.")
@click.option("--origin", metavar="NAME", help="Only articles from this 来源 (exact).")
@click.option("--sort", type=click.Choice(["relevance", "date"]),
              help="Order: the newest 300 hits by relevance, then the rest newest first "
                   "(default with a query); or all newest first.")
@click.option("--exact-total", is_flag=True,
              help="Count every hit (slow for common words); otherwise counting stops past 300.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many hits.")
@click.option("--format", "fmt", type=click.Choice(SEARCH_FORMATS), default="table",
              show_default=True)
@pass_app
def search(app: App, query: str, source_name: str | None, since, until, status: str | None,
           origin: str | None, sort: str | None, exact_total: bool, limit: int, offset: int,
           fmt: str) -> None:
    """Full-text search of titles and bodies.

    Words separated by spaces must all occur; "quoted words" must occur together, in order.
    Chinese words of any length are found (两字词 included); an empty QUERY lists every
    article matching the filters, newest first.
    """
    from govarchive.storage import SEARCH_PAGE_LIMIT, SearchQueryError

    options = {"source": source_name, "since": since, "until": until, "status": status,
               "origin": origin, "sort": sort, "timezone": _timezone(app, source_name),
               "exact_total": exact_total}
    items: list[dict] = []
    page: dict = {"total": 0, "total_exact": True, "ranked": 0}
    with open_store(app.settings) as store:
        try:
            while len(items) < limit:
                page = store.search(query, limit=min(SEARCH_PAGE_LIMIT, limit - len(items)),
                                    offset=offset + len(items), **options)
                items.extend(page["items"])
                if len(page["items"]) < SEARCH_PAGE_LIMIT:
                    break
        except SearchQueryError as exc:
            raise Failure(f"error: {exc}", 2) from None
    if fmt == "json":
        counts = {key: page[key] for key in ("total", "total_exact", "ranked")}
        click.echo(json.dumps({**counts, "items": items}, ensure_ascii=False))
    elif fmt == "csv":
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
