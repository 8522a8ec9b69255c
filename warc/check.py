"""``govarchive warc check``: is the archive sound, and does it say what the database says?

Per file: every gzip member complete (``warcio check`` does not notice a file cut short at the
end), block and payload digests (as ``warcio check``), and our fidelity checks on HTTP
responses: the Content-Encoding header agrees with the stored body, Content-Length agrees with
the body's length, every response has its request record, every revisit resolves to an earlier
record. The database side (every article version points at a record that exists) is checked by
the caller with :meth:`ArchiveCheck.check_pointer`.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataException, ChunkedDataReader
from warcio.exceptions import ArchiveLoadFailed

from govarchive.warc.members import IncompleteMember, scan_members
from govarchive.warc.reader import decode_content

# Answers that carry no body whatever their headers say.
_BODYLESS_STATUSES = {204, 304}


@dataclass(frozen=True)
class Fault:
    file: str
    offset: int | None
    message: str
    record_id: str | None = None

    def __str__(self) -> str:
        where = self.file if self.offset is None else f"{self.file}:{self.offset}"
        who = f" {self.record_id}" if self.record_id else ""
        return f"{where}{who}: {self.message}"


@dataclass
class _Record:
    file: str
    offset: int
    length: int | None
    rec_type: str
    record_id: str | None
    url: str | None
    date: str | None
    payload_digest: str | None


@dataclass
class ArchiveCheck:
    """Checks files one after another; revisits may refer to records of earlier files."""

    faults: list[Fault] = field(default_factory=list)
    # What the server sent wrong, archived as sent: worth knowing, not a fault of the archive.
    notes: list[Fault] = field(default_factory=list)
    files: int = 0
    records: int = 0
    # (file, offset) -> (length, record id) of every record seen, for pointer checks.
    locations: dict[tuple[str, int], tuple[int | None, str | None]] = field(default_factory=dict)
    _ids: set[str] = field(default_factory=set)
    _digests: set[str] = field(default_factory=set)
    _captures: set[tuple[str, str]] = field(default_factory=set)  # (url, WARC-Date)
    _responses: dict[str, _Record] = field(default_factory=dict)  # waiting for a request
    _requests_for: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.faults

    def check_file(self, path: Path | str) -> None:
        path = Path(path)
        self.files += 1
        name = path.name
        try:
            with open(path, "rb") as f:
                if name.endswith(".gz"):
                    self._check_members(f, name)
                else:
                    self._check_records(f, name, base=0, length=None)
        except OSError as exc:
            self.faults.append(Fault(name, None, f"cannot read: {exc.strerror or exc}"))
        self._close_file(name)

    def _check_members(self, f, name: str) -> None:
        try:
            for member, data in scan_members(f, keep_data=True):
                self._check_records(io.BytesIO(data), name, member.offset, member.length)
        except IncompleteMember as exc:
            self.faults.append(
                Fault(name, exc.offset, f"{exc.reason}; `govarchive warc index` cuts "
                      "a left-over .open file back to its last complete record")
            )

    def _check_records(self, stream, name: str, base: int, length: int | None) -> None:
        iterator = ArchiveIterator(stream, check_digests=True)
        try:
            for record in iterator:
                # Read the payload before asking for the offset: asking first skips the payload.
                raw = record.raw_stream.read()
                offset = base + (iterator.get_record_offset() if length is None else 0)
                self._check_record(record, raw, name, offset, length)
        except ArchiveLoadFailed as exc:
            self.faults.append(Fault(name, base, f"not a WARC record: {str(exc).strip()}"))

    def _check_record(
        self, record, raw: bytes, name: str, offset: int, length: int | None
    ) -> None:
        self.records += 1
        headers = record.rec_headers
        info = _Record(
            file=name,
            offset=offset,
            length=length,
            rec_type=record.rec_type,
            record_id=headers.get_header("WARC-Record-ID"),
            url=headers.get_header("WARC-Target-URI"),
            date=headers.get_header("WARC-Date"),
            payload_digest=headers.get_header("WARC-Payload-Digest"),
        )
        self.locations[(name, offset)] = (length, info.record_id)

        def fault(message: str) -> None:
            self.faults.append(Fault(name, offset, message, info.record_id))

        if record.digest_checker.passed is False:
            for problem in record.digest_checker.problems:
                fault(f"digest: {problem}")
        if info.rec_type == "response" and record.http_headers is not None:
            problems = body_faults(record.http_headers, raw)
            undecodable = [m for m in problems if m.startswith(UNDECODABLE)]
            if undecodable and len(undecodable) == len(problems) and (
                    record.digest_checker.passed is not False) and _damaged_gzip(
                    record.http_headers, raw):
                # Gzip bytes that do not unzip, with digests that hold and a length that
                # agrees: the server's own broken body, kept as it sent it. (A plain body
                # still labelled gzip is an archiver's fault and stays one.)
                self.notes.extend(Fault(name, offset, f"{m} (as the server sent it)",
                                        info.record_id) for m in undecodable)
            else:
                for message in problems:
                    fault(message)
            if info.record_id:
                self._responses[info.record_id] = info
        elif info.rec_type == "request":
            for target in headers.get_header("WARC-Concurrent-To", "").split():
                self._requests_for.add(target)
        elif info.rec_type == "revisit" and not self._resolves(headers):
            fault("revisit does not resolve to an earlier record (WARC-Refers-To, "
                  "or target URI and date, or payload digest)")
        if info.record_id:
            self._ids.add(info.record_id)
        if info.rec_type in ("response", "resource"):
            if info.payload_digest:
                self._digests.add(info.payload_digest)
            if info.url and info.date:
                self._captures.add((info.url, info.date))

    def _resolves(self, headers) -> bool:
        # Any one of the ways replay tools (pywb, warcio) find the original is enough: some
        # writers name an https URI for an http original, and then only the digest matches.
        refers_to = headers.get_header("WARC-Refers-To")
        if refers_to and refers_to in self._ids:
            return True
        uri = headers.get_header("WARC-Refers-To-Target-URI")
        date = headers.get_header("WARC-Refers-To-Date")
        if uri and date and (uri, date) in self._captures:
            return True
        digest = headers.get_header("WARC-Payload-Digest")
        return bool(digest) and digest in self._digests

    def _close_file(self, name: str) -> None:
        # The writer puts a request right after its response: both are in the same file.
        for record_id, info in list(self._responses.items()):
            if record_id not in self._requests_for:
                self.faults.append(
                    Fault(info.file, info.offset, "response without its request record", record_id)
                )
        self._responses.clear()
        self._requests_for.clear()

    def check_pointer(
        self, archive_dir: Path, file: str, offset: int, length: int, record_id: str, what: str
    ) -> None:
        """Fault unless ``file``:``offset`` holds the record ``record_id`` of ``length`` bytes."""
        seen = self.locations.get((file, offset))
        if seen is None:
            from govarchive.warc.reader import RecordReadError, read_record
            from govarchive.warc.writer import RecordLocation

            try:
                found = read_record(archive_dir, RecordLocation(file, offset, length))
            except RecordReadError as exc:
                self.faults.append(Fault(file, offset, f"{what} points at no record: {exc}"))
                return
            seen = (length, found.record_id)
        seen_length, seen_id = seen
        if seen_length is not None and seen_length != length:
            self.faults.append(
                Fault(file, offset, f"{what} gives length {length}, the record has {seen_length}")
            )
        elif seen_id != record_id:
            self.faults.append(
                Fault(file, offset, f"{what} expects {record_id}, the archive has {seen_id}")
            )


UNDECODABLE = "Content-Encoding "
GZIP_MAGIC = b"\x1f\x8b"


def _damaged_gzip(http_headers, raw: bytes) -> bool:
    encoding = (http_headers.get_header("Content-Encoding") or "").strip().lower()
    return encoding in ("gzip", "x-gzip") and raw.startswith(GZIP_MAGIC)


def body_faults(http_headers, raw: bytes) -> list[str]:
    """What is wrong between an HTTP response's headers and its stored body."""
    faults = []
    status = int(http_headers.get_statuscode() or 0)
    body = raw
    if "chunked" in (http_headers.get_header("Transfer-Encoding") or "").lower():
        try:
            body = ChunkedDataReader(io.BytesIO(raw), raise_exceptions=True).read()
        except (ValueError, ChunkedDataException) as exc:
            # Readers that honour the header would de-chunk (and mangle) the body.
            return [f"Transfer-Encoding: chunked, but the body is not chunked ({exc})"]
    declared = http_headers.get_header("Content-Length")
    if declared is not None and status not in _BODYLESS_STATUSES and status >= 200:
        try:
            expected = int(declared.strip())
        except ValueError:
            faults.append(f"Content-Length {declared!r} is not a number")
        else:
            # A negative length is how some writers say "unknown"; nothing to compare.
            if expected >= 0 and expected != len(body):
                faults.append(f"Content-Length {expected}, but the body has {len(body)} bytes")
    encoding = (http_headers.get_header("Content-Encoding") or "").strip().lower()
    if body and encoding and encoding != "identity":
        try:
            decode_content(body, encoding)
        except Exception as exc:  # noqa: BLE001 - zlib, brotli and unknown codings differ
            faults.append(
                f"Content-Encoding {encoding!r}, but the body does not decode as that ({exc})"
            )
    return faults


def check_files(paths: Iterable[Path | str]) -> ArchiveCheck:
    check = ArchiveCheck()
    for path in paths:
        check.check_file(path)
    return check
