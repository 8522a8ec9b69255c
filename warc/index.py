"""CDXJ indexes of closed WARC files, kept where pywb's ``wayback`` looks for them.

A collection is ``<root>/collections/<name>/{archive,indexes}``. Each closed file
``archive/X.warc.gz`` gets ``indexes/X.warc.gz.cdxj`` (sorted, written by ``cdxj-indexer``);
pywb loads every ``*.cdxj`` in ``indexes/``, so the collection is served as it is. One index per
file means closing a file never rewrites the indexes of the others.
"""

from __future__ import annotations

import bisect
import io
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import ClassVar

import surt
from cdxj_indexer.bufferiter import concur_req_resp, join_req_resp
from cdxj_indexer.main import CDXJIndexer, SortingWriter

log = logging.getLogger(__name__)

INDEX_SUFFIX = ".cdxj"


class _Indexer(CDXJIndexer):
    # pywb's choice of records, held here: importing the wacz package appends "warcinfo" to
    # CDXJIndexer.DEFAULT_RECORDS for every indexer in the process.
    DEFAULT_RECORDS: ClassVar[list[str]] = ["response", "revisit", "resource", "metadata"]


WARC_SUFFIXES = (".warc.gz", ".warc", ".arc.gz")


def indexes_dir(archive_dir: Path | str) -> Path:
    """The collection's ``indexes/`` next to its ``archive/``."""
    return Path(archive_dir).parent / "indexes"


def index_path(archive_dir: Path | str, name: str) -> Path:
    return indexes_dir(archive_dir) / f"{name}{INDEX_SUFFIX}"


def closed_files(archive_dir: Path | str) -> list[str]:
    """Names of the finished WARC files in ``archive_dir`` (never ``*.open``), sorted."""
    folder = Path(archive_dir)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.name.endswith(WARC_SUFFIXES))


def index_file(archive_dir: Path | str, name: str) -> Path:
    """(Re)write the CDXJ index of one closed file; the old index stays until the new is whole."""
    source = Path(archive_dir) / name
    # post_append pairs each response with its request (method, POST bodies) as pywb does.
    return _replace_index(archive_dir, name, lambda partial: _Indexer(
        str(partial), [str(source)], sort=True, post_append=True).process_all())


def _replace_index(archive_dir: Path | str, name: str, write: Callable[[Path], None]) -> Path:
    """Have ``write`` make the index of ``name`` in a partial file, then put it in place: a
    reader sees the old index or the new one, never half of one."""
    target = index_path(archive_dir, name)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        write(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


class RecordIndex:
    """The CDXJ index of one WARC file, made while the file is being written.

    Indexing a finished file reads it all back: decompressing and parsing every record again,
    all of it at the end of the crawl, in proportion to the file. The writer
    hands each record it has just written to :meth:`add` instead, and the lines come from
    cdxj-indexer's own code (its record pairing, fields and sorted writer), fed the record
    objects that were written rather than ones read back: the index is the one
    :func:`index_file` writes for the finished file (the tests compare the two).
    """

    def __init__(self, file_name: str):
        self._indexer = _Indexer(None, [], sort=True, post_append=True)
        self._indexer.curr_filename = file_name
        self._lines: list[str] = []
        self._held = None  # the last record, until we know whether the next one pairs with it

    def add(self, record, offset: int, length: int, body: bytes = b"") -> None:
        """A record just written at ``offset`` (its gzip member ``length`` bytes long), with
        the payload it was written with (read only to pair a POST with its response)."""
        record.file_offset, record.file_length = offset, length
        record.buffered_stream = io.BytesIO(body)
        # As cdxj_indexer.bufferiter.buffering_record_iter pairs records read in order.
        request, response = concur_req_resp(self._held, record)
        if request is None or response is None:
            self._release()
            self._held = record
            return
        join_req_resp(request, response, True, self._indexer.get_url_key)
        self._emit(self._held)
        self._emit(record)
        self._held = None

    def _release(self) -> None:
        if self._held is not None:
            self._emit(self._held)
            self._held = None

    def _emit(self, record) -> None:
        record.buffered_stream = None
        if self._indexer.filter_record(record):
            self._indexer.process_index_entry(None, record, self._indexer.curr_filename, self)

    def write(self, line: str) -> None:  # the indexer's output
        self._lines.append(line)

    def save(self, archive_dir: Path | str) -> Path:
        """Write the index of the (closed) file, sorted as cdxj-indexer sorts it."""
        self._release()

        def write(partial: Path) -> None:
            with open(partial, "w", encoding="utf-8") as out:
                lines = SortingWriter(out)
                for line in self._lines:
                    lines.write(line)
                lines.flush()

        return _replace_index(archive_dir, self._indexer.curr_filename, write)


def index_missing(archive_dir: Path | str) -> list[Path]:
    """Index every closed file that has no index yet (or an index older than the file)."""
    written = []
    for name in closed_files(archive_dir):
        target = index_path(archive_dir, name)
        source = Path(archive_dir) / name
        if not target.exists() or target.stat().st_mtime < source.stat().st_mtime:
            written.append(index_file(archive_dir, name))
    return written


def rebuild_indexes(archive_dir: Path | str) -> tuple[list[Path], list[Path]]:
    """Index every closed file again and drop indexes whose file is gone.

    Returns (written, removed).
    """
    names = closed_files(archive_dir)
    written = [index_file(archive_dir, name) for name in names]
    removed = []
    folder = indexes_dir(archive_dir)
    if folder.is_dir():
        wanted = {f"{name}{INDEX_SUFFIX}" for name in names}
        for path in folder.iterdir():
            # Only our own per-file indexes: a hand-made index.cdxj is the user's business.
            ours = path.name.removesuffix(INDEX_SUFFIX).endswith(WARC_SUFFIXES)
            if path.name.endswith(INDEX_SUFFIX) and ours and path.name not in wanted:
                path.unlink()
                removed.append(path)
    return written, removed


@dataclass(frozen=True)
class IndexEntry:
    urlkey: str
    timestamp: str  # YYYYMMDDhhmmss
    fields: dict

    @property
    def url(self) -> str:
        return self.fields.get("url", "")

    @property
    def file(self) -> str:
        return self.fields["filename"]

    @property
    def offset(self) -> int:
        return int(self.fields["offset"])

    @property
    def length(self) -> int:
        return int(self.fields["length"])

    @property
    def mime(self) -> str:
        return self.fields.get("mime", "")

    @property
    def status(self) -> str | None:
        return self.fields.get("status")


def parse_line(line: str) -> IndexEntry:
    urlkey, timestamp, rest = line.rstrip("\n").split(" ", 2)
    return IndexEntry(urlkey, timestamp, json.loads(rest))


def iter_entries(archive_dir: Path | str) -> Iterator[IndexEntry]:
    folder = indexes_dir(archive_dir)
    if not folder.is_dir():
        return
    for path in sorted(folder.glob(f"*{INDEX_SUFFIX}")):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip() and not line.startswith(" "):
                    yield parse_line(line)


def url_key(url: str) -> str:
    """The SURT key cdxj-indexer and pywb use for ``url``."""
    try:
        return surt.surt(url)
    except ValueError:  # cdxj-indexer falls back to the URL itself as well
        return url


def lookup(archive_dir: Path | str, url: str) -> list[IndexEntry]:
    """Every capture of ``url`` in the collection's indexes, oldest first (requests left out)."""
    key = url_key(url)
    found = []
    folder = indexes_dir(archive_dir)
    if not folder.is_dir():
        return found
    prefix = key + " "
    for path in sorted(folder.glob(f"*{INDEX_SUFFIX}")):
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()  # one file's index: small next to the file it indexes
        start = bisect.bisect_left(lines, prefix)
        for line in lines[start:]:
            if not line.startswith(prefix):
                break
            entry = parse_line(line)
            if entry.mime != "warc/request" and entry.fields.get("method", "GET") != "HEAD":
                found.append(entry)
    found.sort(key=lambda e: e.timestamp)
    return found


def nearest(entries: list[IndexEntry], timestamp: str | None) -> IndexEntry | None:
    """The capture closest in time to ``timestamp`` (the newest when it is None)."""
    if not entries:
        return None
    if timestamp is None:
        return entries[-1]
    target = _moment(timestamp)
    return min(
        entries, key=lambda e: (abs((_moment(e.timestamp) - target).total_seconds()), e.timestamp)
    )


def _moment(timestamp: str) -> datetime:
    """A 4 to 14 digit timestamp; missing digits are the earliest moment they allow."""
    digits = (timestamp + "0101000000"[len(timestamp) - 4 :]) if len(timestamp) < 14 else timestamp
    return datetime.strptime(digits[:14], "%Y%m%d%H%M%S")
