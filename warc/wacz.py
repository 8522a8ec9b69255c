"""Packaging WARC files as a WACZ (1.1.1) with the ``wacz`` package.

``wacz create`` streams each WARC file into the zip and writes the CDXJ index, the page list
and ``datapackage.json`` / ``datapackage-digest.json`` with sha256 digests. We hand it our own
page list: one page per article, at its latest capture, with the article's title. The package
reports progress with ``print()``; that goes nowhere, and only its complaints come out, as
warnings on this module's logger (or in the error when packaging fails).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from warcio.exceptions import ArchiveLoadFailed

from govarchive.warc.reader import read_record
from govarchive.warc.writer import RecordLocation

PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "Articles"}
DEFAULT_COLLECTION = "govarchive"
# How the wacz package's printed lines that report a problem begin (the rest is progress).
_COMPLAINTS = ("Invalid", "Unable", "Warning", "Ignoring", "Skipping", "Page data not",
               "Not Signed", "Traceback")

log = logging.getLogger(__name__)


class WaczError(RuntimeError):
    pass


@dataclass(frozen=True)
class Page:
    url: str
    ts: str  # ISO 8601, whole seconds (what the index can match)
    title: str | None


def page_for_record(archive_dir: Path, record: dict) -> Page | None:
    """The page of an export record: its latest version's capture, read from the archive."""
    versions = record.get("versions") or []
    if not versions:
        return None
    pointer = versions[-1]["warc"]
    archived = read_record(
        archive_dir, RecordLocation(pointer["file"], pointer["offset"], pointer["length"])
    )
    date = archived.rec_headers.get_header("WARC-Date") or ""
    return Page(archived.target_uri or record["url"], date[:19] + "Z", record.get("title"))


def package_title(collection: str | None) -> str:
    """The title a WACZ of ``collection`` (a collection or a source name) gets."""
    if not collection or collection == DEFAULT_COLLECTION:
        return DEFAULT_COLLECTION
    return f"{DEFAULT_COLLECTION}: {collection}"


def write_wacz(
    out: Path,
    warc_paths: Iterable[Path],
    pages: Iterable[Page],
    *,
    collection: str | None = None,
    title: str | None = None,
    description: str | None = None,
) -> int:
    """Write ``out`` (atomically: a partial file never takes its name); returns the page count.

    ``title`` defaults to :func:`package_title` of ``collection``.
    """
    warc_paths = [str(p) for p in warc_paths]
    if not warc_paths:
        raise WaczError("no WARC files to package")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from wacz.main import main as wacz_main

    count = 0
    with tempfile.TemporaryDirectory(prefix=".wacz-", dir=out.parent) as scratch:
        pages_path = Path(scratch) / "pages.jsonl"
        with open(pages_path, "w", encoding="utf-8") as f:
            f.write(json.dumps(PAGES_HEADER) + "\n")
            for page in pages:
                line = {"url": page.url, "ts": page.ts, "title": page.title or page.url}
                f.write(json.dumps(line, ensure_ascii=False) + "\n")
                count += 1
        partial = Path(scratch) / "out.wacz"
        args = ["create", "-o", str(partial), "-p", str(pages_path),
                f"--title={title or package_title(collection)}"]
        if description:
            args += ["--desc", description]
        try:
            status, printed = _quietly(wacz_main, [*args, *warc_paths])
        except ArchiveLoadFailed as exc:
            raise WaczError(f"wacz create failed: {exc}") from exc
        complaints = [line for line in printed.splitlines() if line.startswith(_COMPLAINTS)]
        if status not in (0, None) or not partial.exists():
            said = "; ".join(complaints or printed.strip().splitlines()[-3:])
            raise WaczError(f"wacz create failed (exit {status})" + (f": {said}" if said else ""))
        for line in complaints:
            log.warning("wacz: %s", line)
        os.replace(partial, out)
    return count


def _quietly(main, args: list[str]) -> tuple[int | None, str]:
    """Run the wacz command line with what it prints (stdout and stderr) captured; its
    argparse exits with SystemExit, which becomes the exit status here."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        try:
            status = main(args)
        except SystemExit as exc:  # sys.exit(n), sys.exit("message") or sys.exit()
            if isinstance(exc.code, str):
                printed.write(exc.code)
            status = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    return status, printed.getvalue()
