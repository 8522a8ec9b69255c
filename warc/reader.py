"""Reading one record back from its :class:`~warc.writer.RecordLocation`."""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders

from govarchive.warc.writer import RecordLocation


class RecordReadError(ValueError):
    """The location does not hold a readable WARC record."""


@dataclass
class ArchivedRecord:
    """One parsed record: WARC headers, HTTP headers, and the payload as stored."""

    rec_type: str
    rec_headers: StatusAndHeaders
    http_headers: StatusAndHeaders | None
    raw_payload: bytes  # after the HTTP headers, still content-encoded (gzip stays gzip)

    @property
    def record_id(self) -> str | None:
        return self.rec_headers.get_header("WARC-Record-ID")

    @property
    def target_uri(self) -> str | None:
        return self.rec_headers.get_header("WARC-Target-URI")

    @property
    def status(self) -> int | None:
        if self.http_headers is None or self.rec_type != "response":
            return None
        return int(self.http_headers.get_statuscode())

    def content(self) -> bytes:
        """The payload with its Content-Encoding (gzip, deflate, br) undone."""
        encoding = ""
        if self.http_headers is not None:
            encoding = (self.http_headers.get_header("Content-Encoding") or "").strip().lower()
        return decode_content(self.raw_payload, encoding)


def decode_content(data: bytes, encoding: str) -> bytes:
    """Undo one or more comma-separated content codings (applied left to right)."""
    codings = [c.strip() for c in encoding.split(",") if c.strip()]
    for coding in reversed(codings):
        if coding in ("gzip", "x-gzip"):
            data = zlib.decompress(data, 47)  # 32 + 15: gzip or zlib header, detected
        elif coding == "deflate":
            try:
                data = zlib.decompress(data)
            except zlib.error:  # servers often send raw deflate without the zlib header
                data = zlib.decompress(data, -15)
        elif coding == "br":
            import brotli  # optional; only needed for brotli-encoded captures

            data = brotli.decompress(data)
        elif coding != "identity":
            raise ValueError(f"unknown Content-Encoding {coding!r}")
    return data


def archive_file_name(name: str) -> str:
    """``name`` if it names a file directly in the archive folder; a pointer from the
    database or an index is data, and must not lead elsewhere (``../../etc/passwd``)."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise RecordReadError(f"refusing WARC file name {name!r}: not a file of the archive")
    return name


def read_record(archive_dir: Path | str, location: RecordLocation) -> ArchivedRecord:
    """Read the record at ``location``.

    The file may still be ``.open``; then only records the writer has flushed are readable.
    """
    path = Path(archive_dir) / archive_file_name(location.file)
    if not path.exists():
        open_path = path.with_name(path.name + ".open")
        if open_path.exists():
            path = open_path
    try:
        with open(path, "rb") as f:
            f.seek(location.offset)
            data = f.read(location.length)
    except FileNotFoundError:
        raise RecordReadError(
            f"{path} does not exist; is {Path(archive_dir)} the collection's archive/ folder?"
        ) from None
    if len(data) != location.length:
        raise RecordReadError(
            f"{path} ends before {location.offset}+{location.length}: the file was cut short"
        )
    try:
        for record in ArchiveIterator(io.BytesIO(data)):
            # Off a record boundary, warcio now and then takes the bytes for an old ARC
            # record; a WARC record always has its own id.
            if not record.format.startswith("warc") or not record.rec_headers.get_header(
                "WARC-Record-ID"
            ):
                break
            return ArchivedRecord(
                rec_type=record.rec_type,
                rec_headers=record.rec_headers,
                http_headers=record.http_headers,
                raw_payload=record.raw_stream.read(),
            )
    except ArchiveLoadFailed as exc:
        raise RecordReadError(
            f"no WARC record at {path}:{location.offset} ({exc}); "
            "the offset or length does not match a record boundary"
        ) from exc
    raise RecordReadError(
        f"no WARC record at {path}:{location.offset}; "
        "the offset or length does not match a record boundary"
    )
