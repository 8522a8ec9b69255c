"""Writing HTTP exchanges as WARC/1.1 records, one gzip member per record.

:class:`WarcStreamWriter` writes into any binary file object (a ``BytesIO`` in tests);
:class:`WarcWriter` owns a folder of rotating ``.warc.gz`` files on top of it, and makes sure a
failed write never leaves half a record behind.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import BinaryIO, Self

from warc import records

Clock = Callable[[], datetime]
RecordIdFactory = Callable[[], str]


@dataclass(frozen=True)
class RecordLocation:
    file: str  # name relative to the collection's archive/ dir (the final name, not ".open")
    offset: int
    length: int  # of the gzip member


@dataclass(frozen=True)
class Exchange:
    record_id: str  # WARC-Record-ID of the response record ("<urn:uuid:...>")
    location: RecordLocation  # of the response record
    request_location: RecordLocation
    payload_digest: str  # "sha1:BASE32"
    fetched_at: datetime  # UTC
    bytes_written: int  # both records, compressed


class WarcWriteError(OSError):
    """Writing to the archive failed; the file was cut back to its last complete record."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def default_software() -> str:
    try:
        version = metadata.version("govarchive")
    except metadata.PackageNotFoundError:
        return "govarchive"
    return f"govarchive/{version}"


class WarcStreamWriter:
    """Writes a warcinfo record, then exchanges, into one binary stream.

    Offsets in the returned locations count from the stream's position when the writer was
    made (0 for a stream that cannot tell), and carry ``file_name``.
    """

    def __init__(
        self,
        stream: BinaryIO,
        *,
        file_name: str = "",
        software: str | None = None,
        operator: str | None = None,
        hostname: str | None = None,
        clock: Clock = utc_now,
        record_id_factory: RecordIdFactory = new_record_id,
        compress_level: int = 6,
    ) -> None:
        self.stream = stream
        self.file_name = file_name
        self.software = software or default_software()
        self.operator = operator
        self.hostname = hostname if hostname is not None else socket.gethostname()
        self.clock = clock
        self.record_id_factory = record_id_factory
        self.compress_level = compress_level
        try:
            self.offset = stream.tell()
        except (AttributeError, OSError):
            self.offset = 0
        self.warcinfo_id: str | None = None

    def _write(self, member: bytes) -> RecordLocation:
        location = RecordLocation(self.file_name, self.offset, len(member))
        self.stream.write(member)
        self.offset += len(member)
        return location

    def write_warcinfo(self) -> RecordLocation:
        record_id = self.record_id_factory()
        body = records.warcinfo_fields(
            software=self.software, operator=self.operator, hostname=self.hostname
        )
        fields = [
            ("WARC-Type", "warcinfo"),
            ("WARC-Record-ID", record_id),
            ("WARC-Date", records.warc_date(self.clock())),
        ]
        if self.file_name:
            fields.append(("WARC-Filename", self.file_name))
        fields.append(("WARC-Block-Digest", records.sha1_digest(body)))
        fields.append(("Content-Type", records.WARCINFO_CONTENT_TYPE))
        head = records.warc_header_block(fields, len(body))
        location = self._write(
            records.gzip_member(head, body, records.RECORD_END, level=self.compress_level)
        )
        self.warcinfo_id = record_id
        return location

    def write_exchange(
        self,
        *,
        url: str,
        method: str = "GET",
        request_headers: Iterable[tuple[str, str]] = (),
        request_body: bytes = b"",
        protocol: str = "HTTP/1.1",
        status: int,
        reason: str = "",
        response_headers: Iterable[tuple[str, str]] = (),
        body: bytes,
        ip_address: str | None = None,
        fetched_at: datetime | None = None,
        truncated: str | None = None,
    ) -> Exchange:
        """A response record, then a request record concurrent to it.

        ``truncated`` ("length", "time", "disconnect" or "unspecified") marks a body that is
        not the whole entity (WARC-Truncated).
        """
        if self.warcinfo_id is None:
            self.write_warcinfo()
        when = records.as_utc(fetched_at if fetched_at is not None else self.clock())
        date = records.warc_date(when)
        response_id = self.record_id_factory()
        request_id = self.record_id_factory()
        common = [("WARC-Date", date), ("WARC-Target-URI", url)]
        if ip_address:
            common.append(("WARC-IP-Address", ip_address))
        common.append(("WARC-Warcinfo-ID", self.warcinfo_id))

        # The RFC's status-line keeps the space before an empty reason phrase.
        http_head = records.http_header_block(
            f"{protocol} {status} {reason}", records.response_headers_for_archive(response_headers)
        )
        payload_digest = records.sha1_digest(body)
        head = records.warc_header_block(
            [
                ("WARC-Type", "response"),
                ("WARC-Record-ID", response_id),
                *common,
                ("WARC-Block-Digest", records.sha1_digest(http_head, body)),
                ("WARC-Payload-Digest", payload_digest),
                *([("WARC-Truncated", truncated)] if truncated else []),
                ("Content-Type", records.RESPONSE_CONTENT_TYPE),
            ],
            len(http_head) + len(body),
        )
        response_member = records.gzip_member(
            head, http_head, body, records.RECORD_END, level=self.compress_level
        )

        start_line, headers = records.request_line_and_headers(
            url, method, protocol, request_headers
        )
        req_head = records.http_header_block(start_line, headers)
        head = records.warc_header_block(
            [
                ("WARC-Type", "request"),
                ("WARC-Record-ID", request_id),
                *common,
                ("WARC-Concurrent-To", response_id),
                ("WARC-Block-Digest", records.sha1_digest(req_head, request_body)),
                ("Content-Type", records.REQUEST_CONTENT_TYPE),
            ],
            len(req_head) + len(request_body),
        )
        request_member = records.gzip_member(
            head, req_head, request_body, records.RECORD_END, level=self.compress_level
        )

        response_location = self._write(response_member)
        request_location = self._write(request_member)
        return Exchange(
            record_id=response_id,
            location=response_location,
            request_location=request_location,
            payload_digest=payload_digest,
            fetched_at=when,
            bytes_written=len(response_member) + len(request_member),
        )


class WarcWriter:
    """Rotating ``.warc.gz`` files in ``archive_dir`` (a pywb collection's ``archive/``).

    A file is written as ``NAME.warc.gz.open`` and renamed to ``NAME.warc.gz`` when closed,
    so readers and indexers can tell finished files from the one being written. A new file is
    started once the current one has reached ``max_file_size`` (checked after each exchange, so
    an exchange is never split across files). Nothing is created until the first exchange.
    """

    def __init__(
        self,
        archive_dir: Path | str,
        *,
        prefix: str = "govarchive",
        max_file_size: int = 1 << 30,
        software: str | None = None,
        operator: str | None = None,
        clock: Clock = utc_now,
        record_id_factory: RecordIdFactory = new_record_id,
        hostname: str | None = None,
        buffer_size: int = 1 << 20,
    ) -> None:
        self.archive_dir = Path(archive_dir)
        self.prefix = prefix
        self.max_file_size = max_file_size
        self.software = software or default_software()
        self.operator = operator
        self.clock = clock
        self.record_id_factory = record_id_factory
        self.hostname = hostname
        self.buffer_size = buffer_size
        self.files: list[str] = []  # names of the files this writer has closed
        self._serial = 0
        self._file: BinaryIO | None = None
        self._records: WarcStreamWriter | None = None
        self._name = ""
        # Exchange ends not yet known to be on disk; a failed write cuts back to one of them.
        self._flushed_to = 0
        self._exchange_ends: list[int] = []

    @property
    def current_file(self) -> str | None:
        """Final name of the file being written (it is ``+ ".open"`` on disk until closed)."""
        return self._name if self._file is not None else None

    def _open(self) -> WarcStreamWriter:
        self.archive_dir.mkdir(parents=True, exist_ok=True)
        stamp = records.as_utc(self.clock()).strftime("%Y%m%d%H%M%S%f")
        while True:
            self._serial += 1
            self._name = f"{self.prefix}-{stamp}-{self._serial:05d}-{os.getpid()}.warc.gz"
            if (self.archive_dir / self._name).exists():
                continue
            try:
                # "xb": two writers in one process (same prefix, same microsecond) must never
                # share a file; the loser takes the next serial number.
                self._file = open(self._open_path(), "xb", buffering=self.buffer_size)  # noqa: SIM115
            except FileExistsError:
                continue
            break
        self._flushed_to = 0
        self._exchange_ends = [0]
        self._records = WarcStreamWriter(
            self._file,
            file_name=self._name,
            software=self.software,
            operator=self.operator,
            hostname=self.hostname,
            clock=self.clock,
            record_id_factory=self.record_id_factory,
        )
        return self._records

    def _open_path(self) -> Path:
        return self.archive_dir / f"{self._name}.open"

    def write_exchange(
        self,
        *,
        url: str,
        method: str = "GET",
        request_headers: Iterable[tuple[str, str]] = (),
        request_body: bytes = b"",
        protocol: str = "HTTP/1.1",
        status: int,
        reason: str = "",
        response_headers: Iterable[tuple[str, str]] = (),
        body: bytes,
        ip_address: str | None = None,
        fetched_at: datetime | None = None,
        truncated: str | None = None,
    ) -> Exchange:
        """Write one exchange (see :meth:`WarcStreamWriter.write_exchange`).

        Raises :class:`WarcWriteError` if the disk refuses the bytes; the file has then been cut
        back to its last complete exchange and closed, and the next call starts a new file.
        """
        writer = self._records
        if writer is None:
            try:
                writer = self._open()
            except OSError as exc:
                self._file = self._records = None
                raise WarcWriteError(
                    f"cannot start a WARC file in {self.archive_dir}: {exc}"
                ) from exc
        try:
            result = writer.write_exchange(
                url=url,
                method=method,
                request_headers=request_headers,
                request_body=request_body,
                protocol=protocol,
                status=status,
                reason=reason,
                response_headers=response_headers,
                body=body,
                ip_address=ip_address,
                fetched_at=fetched_at,
                truncated=truncated,
            )
        except OSError as exc:
            self._recover()
            raise WarcWriteError(
                f"writing {self._name} failed ({exc}); the file was cut back "
                "to its last complete record"
            ) from exc
        self._exchange_ends.append(writer.offset)
        if writer.offset >= self.max_file_size:
            self.close()
        return result

    def flush(self, fsync: bool = True) -> None:
        """Push buffered records to the OS (and with ``fsync`` to the disk)."""
        if self._file is None:
            return
        try:
            self._file.flush()
            if fsync:
                os.fsync(self._file.fileno())
        except OSError as exc:
            self._recover()
            raise WarcWriteError(
                f"flushing {self._name} failed ({exc}); the file was cut back "
                "to its last complete record"
            ) from exc
        self._flushed_to = self._exchange_ends[-1]
        self._exchange_ends = [self._flushed_to]

    def _recover(self) -> None:
        """Cut the open file back to its last complete exchange that reached the disk, then
        close it (renamed, or removed if nothing complete is left)."""
        path = self._open_path()
        file, self._file, self._records = self._file, None, None
        try:
            file.close()  # flushes what it can; the cut below removes any partial tail
        except OSError:
            pass
        size = path.stat().st_size
        keep = max((end for end in self._exchange_ends if end <= size), default=0)
        os.truncate(path, keep)
        if keep == 0:
            path.unlink()
        else:
            self._finish(path)

    def _finish(self, path: Path) -> None:
        path.rename(self.archive_dir / self._name)
        self.files.append(self._name)

    def close(self) -> None:
        """Flush, fsync and close the current file, renaming ``.open`` away. Idempotent."""
        if self._file is None:
            return
        self.flush(fsync=True)
        file, self._file, self._records = self._file, None, None
        file.close()
        self._finish(self._open_path())

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
