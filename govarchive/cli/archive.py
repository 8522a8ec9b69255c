"""``govarchive warc ...`` and ``govarchive replay ...``: the archive tools.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import click

from govarchive.cli.context import App, open_store, pass_app
from govarchive.cli.output import Failure, WhenParam, write_stdout
from govarchive.cli.web import exposure_warning
from govarchive.times import in_zone

# ---- warc -----------------------------------------------------------------------------------


@click.group()
def warc() -> None:
    """Check, index and package the WARC archive."""


@warc.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--no-database", is_flag=True, help="Do not check the database's WARC pointers.")
@pass_app
def check(app: App, files: tuple[Path, ...], no_database: bool) -> None:
    """Fidelity check of archive files (default: every closed file of the collection).

    Digests, gzip completeness, Content-Encoding and Content-Length against the body, a
    request for every response, an earlier record for every revisit, and a record for every
    article version in the database. Faults go to stdout; exit 1 if there are any.
    """
    from govarchive.warc import ArchiveCheck, closed_files

    archive_dir = app.settings.archive.archive_path
    paths = list(files) or [archive_dir / name for name in closed_files(archive_dir)]
    result = ArchiveCheck()
    for path in paths:
        result.check_file(path)
    pointers = 0
    if not no_database:
        names = {p.name for p in paths}
        with open_store(app.settings) as store:
            for pointer in store.iter_version_pointers():
                if files and pointer.warc_file not in names:
                    continue
                pointers += 1
                result.check_pointer(
                    archive_dir, pointer.warc_file, pointer.warc_offset, pointer.warc_length,
                    pointer.record_id, f"article {pointer.article_id} version {pointer.n}",
                )
    if result.faults:
        write_stdout(f"{fault}\n" for fault in result.faults)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    leftovers = sorted(p.name for p in archive_dir.glob("*.open")) if not files else []
    for name in leftovers:
        click.echo(f"note: {name} is open (being written, or left by a crash: "
                   "`govarchive warc index` recovers it)", err=True)
    verdict = f"{len(result.faults)} faults" if result.faults else "ok"
    if result.notes:
        verdict += f" ({len(result.notes)} responses kept as the server sent them, which do not decode)"
    click.echo(f"{verdict}: {result.files} files, {result.records} records, "
               f"{pointers} article version pointers checked", err=True)
    if result.faults:
        click.get_current_context().exit(1)


@warc.command()
@click.option("--node", default=None, metavar="NAME",
              help="Recover the left-over .open files of node NAME, a machine (or `worker "
                   "--node`) that no longer writes to the archive (default: this one's).")
@pass_app
def index(app: App, node: str | None) -> None:
    """(Re)build the CDXJ index of every closed file, recovering left-over .open files first
    (those written by this node: the archive folder may be shared by several)."""
    from govarchive.processes import this_node
    from govarchive.warc import rebuild_indexes, recover_open_files

    archive_dir = app.settings.archive.archive_path
    for report in recover_open_files(archive_dir, index=False, node=node or this_node()):
        click.echo(f"recovered {report.describe()}", err=True)
    written, removed = rebuild_indexes(archive_dir)
    click.echo(f"indexed {len(written)} files into {archive_dir.parent / 'indexes'}"
               + (f"; removed {len(removed)} stale indexes" if removed else ""), err=True)


@warc.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--source", "source_name", metavar="S", help="Only this source's articles.")
@click.option("--changed-since", "changed_since", type=WhenParam(),
              help="Only articles first seen or changed since DATE (a day or time in the "
                   "source's timezone, default Asia/Shanghai, unless it has an offset).")
@pass_app
def wacz(app: App, out: Path, source_name: str | None, changed_since) -> None:
    """Package the archive as a WACZ: its WARC files, index and one page per article."""
    from govarchive.warc import WaczError, closed_files, page_for_record, write_wacz

    since = in_zone(changed_since, app.timezone(source_name)) if changed_since else None
    configured = {s.name for s in app.settings.sources}
    archive_dir = app.settings.archive.archive_path
    with open_store(app.settings) as store:
        app.check_source(store, source_name)
        pages, files = [], set()
        for record in store.iter_export(source=source_name, since=since):
            page = page_for_record(archive_dir, record)
            if page is not None:
                pages.append(page)
                files.update(v["warc"]["file"] for v in record["versions"])
    if source_name is None and since is None:
        names = closed_files(archive_dir)  # everything: list pages and attachments as well
    else:
        # A crawler writes one source's files, so these also hold its list pages.
        names = sorted(files)
    # A source's package is titled by the source; the whole archive by its collection.
    title = app.source(source_name).title if source_name in configured else None
    try:
        count = write_wacz(out, [archive_dir / n for n in names], pages, title=title,
                           collection=source_name or app.settings.archive.collection)
    except WaczError as exc:
        raise Failure(f"error: {exc}", 1) from None
    click.echo(f"wrote {out}: {len(names)} WARC files, {count} pages", err=True)


# ---- replay ---------------------------------------------------------------------------------


@click.group()
def replay() -> None:
    """Browse captures, print them, and rebuild the database from the archive."""


@replay.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port to listen on (replay must be another origin than the web UI).")
@pass_app
def serve(app: App, host: str, port: int) -> None:
    """Serve the collection with pywb (framed replay) until interrupted."""
    from govarchive.warc import index_missing, wayback_command

    archive = app.settings.archive
    index_missing(archive.archive_path)
    try:
        command = wayback_command(archive.dir, host, port)
    except FileNotFoundError as exc:
        raise Failure(f"error: {exc}", 1) from None
    click.echo(f"replay: http://{host}:{port}/{archive.collection}/", err=True)
    warning = exposure_warning("replay", host, port)
    if warning:
        click.echo(warning, err=True)
    process = subprocess.Popen(command)
    # A service manager stops us with SIGTERM: pass it on, so pywb never outlives us.
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: process.terminate())
    try:
        code = process.wait()
    except KeyboardInterrupt:
        process.terminate()
        code = process.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
    if code not in (0, -signal.SIGTERM, -signal.SIGINT):
        raise Failure(f"error: wayback exited with {code}", 1)


@replay.command()
@click.argument("url")
@click.option("--at", "at", metavar="YYYYMMDDhhmmss", help="Capture nearest to this time.")
@click.option("--headers", is_flag=True, help="Print the archived HTTP headers first.")
@click.option("--raw", is_flag=True, help="Print the body bytes as archived (decompressed).")
@pass_app
def show(app: App, url: str, at: str | None, headers: bool, raw: bool) -> None:
    """Print the capture of URL nearest in time, decoded to text in its real charset."""
    from govarchive.crawler.extract import decode_html
    from govarchive.warc import NotArchivedError, find_capture

    if at is not None and (not at.isdigit() or not 4 <= len(at) <= 14):
        raise click.BadParameter("give 4 to 14 digits, YYYYMMDDhhmmss", param_hint="--at")
    try:
        found = find_capture(app.settings.archive.archive_path, url, at)
    except NotArchivedError as exc:
        raise Failure(f"error: {exc}", 1) from None
    entry = found.entry
    click.echo(f"{entry.url} captured {entry.timestamp} ({entry.file}:{entry.offset})", err=True)
    out = sys.stdout.buffer
    if headers:
        out.write(found.head().encode("utf-8", errors="replace"))
    if raw:
        out.write(found.record.content())
    else:
        out.write(found.text(decode_html).encode("utf-8"))
    out.flush()


@replay.command()
@click.option("--source", "source_name", metavar="S", help="Only this source's articles.")
@pass_app
def reparse(app: App, source_name: str | None) -> None:
    """Re-extract every capture from the archive, in capture order, into the database.

    Articles, versions and urls (of S, or all) are deleted and rebuilt; captures are kept.
    Nothing is fetched.
    """
    from govarchive.crawler.reparse import reparse as run_reparse
    from govarchive.warc import archive_size

    settings = app.settings
    if source_name:
        app.source(source_name)
    archive_dir = settings.archive.archive_path
    total = archive_size(archive_dir)
    with open_store(settings, create=True) as store, click.progressbar(
        length=total, label="reparse", file=sys.stderr, show_pos=False
    ) as bar:
        stats = run_reparse(
            store, settings.sources, archive_dir, only_source=source_name,
            progress=lambda capture: bar.update(capture.location.length),
        )
    click.echo(stats.summary(), err=True)
