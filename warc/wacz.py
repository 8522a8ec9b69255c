"""Packaging WARC files as a WACZ (1.1.1) with the ``wacz`` package.

``wacz create`` streams each WARC file into the zip and writes the CDXJ index, the page list
and ``datapackage.json`` / ``datapackage-digest.json`` with sha256 digests. We hand it our own
page list: one page per article, at its latest capture, with the article's title.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from govarchive.warc.reader import read_record
from govarchive.warc.writer import RecordLocation

PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "Articles"}


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


def write_wacz(
    out: Path,
    warc_paths: Iterable[Path],
    pages: Iterable[Page],
    *,
    title: str = "govarchive",
    description: str | None = None,
) -> int:
    """Write ``out`` (atomically: a partial file never takes its name); returns the page count."""
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
        args = ["create", "-o", str(partial), "-p", str(pages_path), "--title", title]
        if description:
            args += ["--desc", description]
        # The wacz package reports progress with print(): keep stdout for data.
        with contextlib.redirect_stdout(sys.stderr):
            status = wacz_main([*args, *warc_paths])
        if status not in (0, None) or not partial.exists():
            raise WaczError(f"wacz create failed (exit {status})")
        os.replace(partial, out)
    return count
