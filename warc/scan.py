"""Reading every capture of a collection back, in capture order.

Records are read file by file with warcio and merged across files by WARC-Date, so a rebuild
sees the captures in the order they were fetched (a list page before the articles it linked,
a redirect before the page it led to).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from govarchive.warc.index import closed_files
from govarchive.warc.reader import decode_content
from govarchive.warc.writer import RecordLocation

CAPTURE_TYPES = ("response", "revisit", "resource")


@dataclass
class CapturedRecord:
    """One response, revisit or resource record: where it is and what it holds."""

    rec_type: str
    record_id: str
    url: str
    fetched_at: datetime
    location: RecordLocation
    status: int | None
    headers: list[tuple[str, str]]  # HTTP response headers in order (empty for resources)
    raw_payload: bytes  # as stored (still content-encoded)
    payload_digest: str | None
    refers_to: str | None = None  # WARC-Refers-To of a revisit
    # The request record written with it (WARC-Concurrent-To): a POST's method and body.
    request_method: str | None = None
    request_body: bytes = b""
    request_content_type: str | None = None

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for n, v in self.headers if n.lower() == name), None)

    def content(self) -> bytes:
        """The body with its Content-Encoding undone (what Scrapy hands a callback)."""
        return decode_content(self.raw_payload, self.header("Content-Encoding") or "")


def parse_warc_date(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


@dataclass(frozen=True)
class FileEnd:
    """Marks the end of one file in :func:`iter_captures` (``file_ends=True``): a crawler writes
    one source's files, so the end of a file is the end of (a part of) a run."""

    location: RecordLocation
    fetched_at: datetime  # of the file's last capture
    rec_type: str = "end"


def iter_file(
    archive_dir: Path | str, name: str, *, file_end: bool = False
) -> Iterator[CapturedRecord | FileEnd]:
    """The capture records of one file, in file order (then a :class:`FileEnd`)."""
    last = None
    for record in _records(archive_dir, name):
        last = record.fetched_at
        yield record
    if file_end and last is not None:
        yield FileEnd(RecordLocation(name, 1 << 62, 0), last)


def _records(archive_dir: Path | str, name: str) -> Iterator[CapturedRecord]:
    """The captures of a file, each with the request record that follows it (the writer puts
    a response's request right after it)."""
    pending: CapturedRecord | None = None
    for record in _file_records(archive_dir, name):
        if isinstance(record, CapturedRecord):
            if pending is not None:
                yield pending
            pending = record
        elif pending is not None and record[0] == pending.record_id:
            pending.request_method, pending.request_body, pending.request_content_type = record[1:]
    if pending is not None:
        yield pending


def _file_records(archive_dir: Path | str, name: str):
    with open(Path(archive_dir) / name, "rb") as f:
        iterator = ArchiveIterator(f)
        for record in iterator:
            if record.rec_type == "request":
                http = record.http_headers
                concurrent = record.rec_headers.get_header("WARC-Concurrent-To")
                body = record.raw_stream.read()
                iterator.read_to_end(record)
                if concurrent and http is not None:
                    yield (concurrent, http.protocol, body, http.get_header("Content-Type"))
                continue
            if record.rec_type not in CAPTURE_TYPES:
                continue
            raw = record.raw_stream.read()
            iterator.read_to_end(record)
            location = RecordLocation(
                name, iterator.get_record_offset(), iterator.get_record_length()
            )
            headers = record.rec_headers
            http = record.http_headers
            status = None
            if http is not None and record.rec_type != "resource":
                try:
                    status = int(http.get_statuscode())
                except (TypeError, ValueError):
                    status = None
            yield CapturedRecord(
                rec_type=record.rec_type,
                record_id=headers.get_header("WARC-Record-ID") or "",
                url=headers.get_header("WARC-Target-URI") or "",
                fetched_at=parse_warc_date(headers.get_header("WARC-Date")),
                location=location,
                status=status,
                headers=list(http.headers) if http is not None else [],
                raw_payload=raw,
                payload_digest=headers.get_header("WARC-Payload-Digest"),
                refers_to=headers.get_header("WARC-Refers-To"),
            )


def archive_size(archive_dir: Path | str) -> int:
    folder = Path(archive_dir)
    return sum((folder / name).stat().st_size for name in closed_files(folder))


def iter_captures(
    archive_dir: Path | str, *, file_ends: bool = False
) -> Iterator[CapturedRecord | FileEnd]:
    """Every capture record of the closed files in ``archive_dir``, oldest first (with a
    :class:`FileEnd` after each file's last record if ``file_ends``)."""
    files = [iter_file(archive_dir, name, file_end=file_ends) for name in closed_files(archive_dir)]
    yield from heapq.merge(
        *files, key=lambda r: (r.fetched_at, r.location.file, r.location.offset)
    )
