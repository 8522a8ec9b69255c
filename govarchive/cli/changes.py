"""``govarchive changes``: the change feed (new, edited, removed, restored, delisted and moved
articles), newest first."""

from __future__ import annotations

import json

import click

from govarchive.cli.context import App, open_store, pass_app
from govarchive.cli.output import Failure, WhenParam, format_table, write_stdout
from govarchive.times import in_zone, local_text

# The kinds of the change feed (storage.models.CHANGE_KINDS), as the table names them.
KIND_LABELS = {
    "new": "新增 new", "edited": "修改 edited", "removed": "删除 removed",
    "restored": "恢复 restored", "delisted": "移出列表 delisted", "moved": "迁移 moved",
}
# The store gives at most this many events a call; a larger --limit pages on.
STORE_PAGE = 500


@click.command()
@click.option("--since", type=WhenParam(),
              help="Only changes seen on or after DATE (a day or time in the source's timezone, "
                   "default Asia/Shanghai, unless it has an offset).")
@click.option("--source", "source_name", metavar="S", help="Only this source's changes.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(list(KIND_LABELS)),
              help="Only changes of this kind (repeat for several).")
@click.option("--query", metavar="Q",
              help='Only changes of articles this search finds (words all occur, "a phrase").')
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="At most this many changes.")
@click.option("--undelivered", is_flag=True,
              help="Instead: the changes still owed to a [[watches]] entry (as `notify --status`).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object a line (times in ISO 8601 UTC) instead of a table.")
@pass_app
def changes(app: App, since, source_name: str | None, kinds: tuple[str, ...],
            query: str | None, limit: int, undelivered: bool, as_json: bool) -> None:
    """List the changes seen in the archived articles, newest first.

    The table shows local time, the kind (新增 new, 修改 edited, 删除 removed, 恢复 restored,
    移出列表 delisted, 迁移 moved), the source, the title and what changed.
    """
    from govarchive.storage import SearchQueryError

    if undelivered:
        if since or source_name or kinds or query:
            raise click.UsageError("--undelivered lists every pending delivery: drop the filters")
        from govarchive.cli.notify import show_pending

        return show_pending(app, None, as_json)
    since = in_zone(since, app.timezone(source_name)) if since else None
    events: list[dict] = []
    with open_store(app.settings) as store:
        app.check_source(store, source_name)
        before_id = None
        try:
            while len(events) < limit:
                wanted = min(STORE_PAGE, limit - len(events))
                page = store.list_changes(
                    since=since, source=source_name, kinds=list(kinds) or None, query=query,
                    limit=wanted, before_id=before_id)
                events += page
                if len(page) < wanted:
                    break
                before_id = page[-1]["id"]
        except SearchQueryError as exc:
            raise Failure(f"error: --query: {exc}", 2) from None
    if as_json:
        write_stdout(json.dumps(e, ensure_ascii=False) + "\n" for e in events)
        return
    click.echo(format_table(change_rows(events)))
    click.echo(f"{len(events)} changes", err=True)


def change_rows(events: list[dict]) -> list[tuple[str, ...]]:
    """The table: a header, then one row an event."""
    rows = [("ID", "TIME", "KIND", "SOURCE", "TITLE", "WHAT CHANGED")]
    for event in events:
        rows.append((
            str(event["id"]), local_text(event["at"]),
            KIND_LABELS.get(event["kind"], event["kind"]),
            event.get("source_title") or event["source"], event.get("title") or event["url"],
            event.get("summary") or event.get("detail") or "-",
        ))
    return rows
