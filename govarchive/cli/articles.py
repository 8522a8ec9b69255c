"""``govarchive articles show|history|diff``: one article, its versions and its status events."""

from __future__ import annotations

import json

import click

from govarchive.cli.context import App, open_store, pass_app
from govarchive.cli.output import Failure, format_record
from govarchive.times import local_text

_DIFF_STYLES = {"delete": {"fg": "red", "strikethrough": True}, "insert": {"fg": "green"}}
_DIFF_MARKS = {"delete": ("[-", "-]"), "insert": ("{+", "+}")}


@click.group()
def articles() -> None:
    """Read stored articles: one record, its history, the differences between versions."""


def _missing(article_id: int) -> Failure:
    return Failure(f"error: no article with id {article_id} (see `govarchive export`)", 1)


@articles.command()
@click.argument("article_id", metavar="ID", type=int)
@click.option("--at-version", "version_n", metavar="N", type=click.IntRange(min=1),
              help="Show version N's content instead of the current one.")
@click.option("--json", "as_json", is_flag=True, help="Print the export record as JSON.")
@pass_app
def show(app: App, article_id: int, version_n: int | None, as_json: bool) -> None:
    """Print one article (the export record; --at-version N: that version's content)."""
    with open_store(app.settings) as store:
        record = store.get_article(article_id)
        if record is None:
            raise _missing(article_id)
        if version_n is not None:
            content = store.article_version(article_id, version_n)
            if content is None:
                raise Failure(f"error: article {article_id} has no version {version_n} "
                              f"(it has {len(record['versions'])})", 1)
            record = {"id": record["id"], "source": record["source"], "url": record["url"],
                      **content}
    if as_json:
        click.echo(json.dumps(record, ensure_ascii=False))
    else:
        click.echo(format_record(record))


@articles.command()
@click.argument("article_id", metavar="ID", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON.")
@pass_app
def history(app: App, article_id: int, as_json: bool) -> None:
    """Versions and status events (gone, removed, restored, delisted, ...), oldest first."""
    with open_store(app.settings) as store:
        found = store.article_history(article_id)
    if found is None:
        raise _missing(article_id)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False))
        return
    click.echo(f"article {found['id']} ({found['status']}) {found['url']}")
    for entry in found["timeline"]:
        warc = entry.get("warc")
        where = f"  [{warc['file']}@{warc['offset']}]" if warc else ""
        if entry["type"] == "version":
            what = f"version {entry['n']}"
            if entry["n"] == 1:
                what += " (first capture)"
            elif entry["revert_of"]:
                what += f" reverts version {entry['revert_of']}: {', '.join(entry['changed'])}"
            else:
                what += f" changed: {', '.join(entry['changed'])}"
        else:
            what = entry["kind"]
            detail = entry.get("detail")
            if detail:
                what += f" ({detail})"
            if entry.get("url") and entry["url"] != found["url"]:
                what += f" at {entry['url']}"
        click.echo(f"{local_text(entry['at'])}  {what}{where}")


@articles.command()
@click.argument("article_id", metavar="ID", type=int)
@click.option("--from", "from_n", metavar="N", type=click.IntRange(min=1),
              help="Older version (default: the one before --to).")
@click.option("--to", "to_n", metavar="M", type=click.IntRange(min=1),
              help="Newer version (default: the latest).")
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON.")
@click.option("--color/--no-color", default=None,
              help="Colour insertions and deletions (default: when writing to a terminal).")
@pass_app
def diff(app: App, article_id: int, from_n: int | None, to_n: int | None, as_json: bool,
         color: bool | None) -> None:
    """Character-level differences of each changed field between two versions."""
    with open_store(app.settings) as store:
        found = store.article_diff(article_id, from_n, to_n)
        if found is None and store.get_article(article_id) is None:
            raise _missing(article_id)
    if found is None:
        raise Failure(f"error: article {article_id} has no version "
                      f"{from_n if from_n is not None else ''} {to_n or ''}".rstrip(), 1)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False))
        return
    click.echo(f"article {article_id}: version {found['from']} -> {found['to']}")
    if not found["changed"]:
        click.echo("no differences")
        return
    for field in found["changed"]:
        click.echo(f"--- {field}")
        click.echo(render_diff(found["fields"][field], color))


def render_diff(ops: list[list[str]], color: bool | None) -> str:
    """Insertions and deletions coloured (``click.style``; stripped by click when the output
    is not a terminal and colour was not asked for) and also bracketed, so the diff reads the
    same without colour: ``[-deleted-]{+inserted+}``."""
    parts = []
    for op, text in ops:
        if op == "equal":
            parts.append(text)
            continue
        start, end = _DIFF_MARKS[op]
        marked = f"{start}{text}{end}"
        parts.append(click.style(marked, **_DIFF_STYLES[op]) if color is not False else marked)
    out = "".join(parts)
    if color:
        # click.echo strips ANSI codes when stdout is not a terminal unless told otherwise.
        click.get_current_context().color = True
    return out
