"""Recovering WARC files left ``.open`` by a crawl that did not close them (crash, kill -9).

Each left-over ``X.warc.gz.open`` is cut back to its last complete exchange, renamed to
``X.warc.gz`` and indexed. The writer flushes only at exchange ends and the database never
points past a flush, so nothing a stored row points at is ever cut.
"""

from __future__ import annotations

import io
import logging
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from govarchive.warc.index import index_file
from govarchive.warc.members import Member, scan_file
from govarchive.warc.rotating import node_label

log = logging.getLogger(__name__)

OPEN_SUFFIX = ".open"
# WarcWriter names files PREFIX-STAMP-SERIAL[-NODE]-PID.warc.gz(.open); STAMP has 20 digits
# (to the microsecond), SERIAL 5 and NODE none of "-" (rotating.node_label).
_WRITER = re.compile(
    r"-\d{20}-\d{5,}(?:-(?P<node>[A-Za-z0-9_.]+))?-(?P<pid>\d+)\.warc\.gz\.open$")
_WRITER_PID = re.compile(r"-(\d+)\.warc\.gz\.open$")  # any other name ending in a pid


@dataclass(frozen=True)
class RecoveryReport:
    file: str  # the final name (without ".open")
    kept_bytes: int
    cut_bytes: int
    kept_records: int
    reason: str | None  # why bytes were cut (None: the file was whole)
    removed: bool = False  # nothing complete was left, so the file was deleted

    def describe(self) -> str:
        if self.removed:
            return f"{self.file}: no complete record; removed ({self.cut_bytes} bytes)"
        if not self.cut_bytes:
            return f"{self.file}: whole ({self.kept_records} records); closed and indexed"
        return (
            f"{self.file}: cut {self.cut_bytes} bytes after {self.kept_records} records "
            f"({self.reason}); closed and indexed"
        )


def _record_head(data: bytes) -> tuple[str, str | None, str | None]:
    """(WARC-Type, WARC-Record-ID, WARC-Concurrent-To) of one gzip member's record."""
    try:
        for record in ArchiveIterator(io.BytesIO(data)):
            headers = record.rec_headers
            return (
                record.rec_type,
                headers.get_header("WARC-Record-ID"),
                headers.get_header("WARC-Concurrent-To"),
            )
    except ArchiveLoadFailed:
        pass
    return "", None, None


def _exchange_end(f, members: list[Member]) -> tuple[int, str | None]:
    """How many leading members to keep: a last response whose request never made it to the
    disk is dropped as well, so every kept response has its request."""
    if not members:
        return 0, None
    last = members[-1]
    f.seek(last.offset)
    rec_type, _, _ = _record_head(_inflate(f.read(last.length)))
    if rec_type == "response":
        return len(members) - 1, "a response without its request record"
    return len(members), None


def _inflate(member: bytes) -> bytes:
    return zlib.decompress(member, 31)


def recover_file(path: Path | str, *, index: bool = True) -> RecoveryReport:
    """Cut one ``*.open`` file back to its last complete exchange, rename it, index it."""
    path = Path(path)
    final = path.with_name(path.name[: -len(OPEN_SUFFIX)])
    with open(path, "rb") as f:
        scan = scan_file(f)
        keep_count, lone_reason = _exchange_end(f, scan.members)
    kept = scan.members[:keep_count]
    keep = kept[-1].offset + kept[-1].length if kept else 0
    reason = scan.error if scan.end < scan.size else None
    if keep < scan.end:
        reason = f"{lone_reason}; {reason}" if reason else lone_reason
    cut = scan.size - keep
    # Only the warcinfo record left: nothing was archived, the file has no use.
    if keep_count <= 1:
        path.unlink()
        report = RecoveryReport(final.name, 0, scan.size, 0, reason, removed=True)
        log.warning("recovered %s", report.describe())
        return report
    if cut:
        os.truncate(path, keep)
    with open(path, "rb+") as f:
        os.fsync(f.fileno())
    if final.exists():
        raise FileExistsError(f"cannot recover {path}: {final} exists already")
    path.rename(final)
    if index:
        index_file(final.parent, final.name)
    report = RecoveryReport(final.name, keep, cut, keep_count, reason)
    if cut:
        log.warning("recovered %s", report.describe())
    else:
        log.info("recovered %s", report.describe())
    return report


def recover_open_files(archive_dir: Path | str, *, index: bool = True,
                       node: str | None = None) -> list[RecoveryReport]:
    """Recover every ``*.open`` file in ``archive_dir``.

    Files whose writer process (the pid in the name) is still running are left alone, so a
    crawl starting next to another one never cuts that one's file. With ``node``, a file whose
    name carries another node is left alone too: on a folder shared by several machines a
    pid means something only on its own machine. (Files named before names carried a node
    are recovered by any node, as before.)
    """
    folder = Path(archive_dir)
    if not folder.is_dir():
        return []
    reports = []
    mine = node_label(node) if node else None
    for path in sorted(folder.glob(f"*{OPEN_SUFFIX}")):
        writer_node = _writer_node(path.name)
        if mine is not None and writer_node is not None and writer_node != mine:
            log.debug("not recovering %s: node %s writes it", path.name, writer_node)
            continue
        pid = _writer_pid(path.name)
        if pid is not None and _alive(pid):
            # Another crawl (the scheduler runs them as child processes) is writing it.
            log.debug("not recovering %s: process %d is still writing it", path.name, pid)
            continue
        try:
            reports.append(recover_file(path, index=index))
        except FileNotFoundError:
            # Another crawl starting at the same moment recovered it first.
            log.debug("%s was recovered by another process", path.name)
    return reports


def _writer_pid(name: str) -> int | None:
    match = _WRITER.search(name) or _WRITER_PID.search(name)
    return int(match.group(match.lastindex)) if match else None


def _writer_node(name: str) -> str | None:
    match = _WRITER.search(name)
    return match.group("node") if match else None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        # Several crawlers share a process (one per source): a file with our pid may be a
        # sibling's. A left-over of an earlier process that had our pid waits for the next run.
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True
