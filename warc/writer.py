"""Writing HTTP exchanges as WARC/1.1 records, one gzip member per record.

:class:`WarcStreamWriter` writes into any binary file object (a ``BytesIO`` in tests);
:class:`warc.rotating.WarcWriter` owns a folder of rotating ``.warc.gz`` files on top of it.
"""

from __future__ import annotations

import functools
import io
import socket
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from typing import BinaryIO

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from govarchive.warc import records
from govarchive.warc.index import RecordIndex

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
    record_type: str = "response"  # or "revisit" (see write_revisit)


REVISIT_PROFILES = {
    "identical-payload-digest": "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest",
    "server-not-modified": "http://netpreserve.org/warc/1.1/revisit/server-not-modified",
}


class WarcWriteError(OSError):
    """Writing to the archive failed; the file was cut back to its last complete record."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


@functools.cache  # reading the installed package's metadata costs a directory scan
def default_software() -> str:
    try:
        version = metadata.version("govarchive")
    except metadata.PackageNotFoundError:
        return "govarchive"
    return f"govarchive/{version}"


class _ReceivedHttpHeaders(StatusAndHeaders):
    """HTTP headers written exactly as the bytes we give, not re-encoded.

    warcio rebuilds the header block when it writes a record, percent-encoding any value
    that is not ASCII; a government server's raw GBK file name in Content-Disposition would
    then be archived as something it never sent.
    """

    def __init__(self, statusline: str, headers: list[tuple[str, str]], protocol: str,
                 raw: bytes) -> None:
        # For a request, ``protocol`` is the method and ``statusline`` the rest of the request
        # line, as warcio's reader parses a request record.
        super().__init__(statusline, headers, protocol=protocol)
        self.headers_buff = raw

    def compute_headers_buffer(self, header_filter=None) -> None:
        pass  # keep the bytes as received


class WarcStreamWriter:
    """Writes a warcinfo record, then exchanges, into one binary stream (warcio's WARCWriter,
    one gzip member per record).

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
    ) -> None:
        self.stream = stream
        self.file_name = file_name
        self.software = software or default_software()
        self.operator = operator
        self.hostname = hostname if hostname is not None else socket.gethostname()
        self.clock = clock
        self.record_id_factory = record_id_factory
        self._warc = WARCWriter(stream, gzip=True, warc_version="1.1")
        try:
            self.offset = stream.tell()
        except (AttributeError, OSError):
            self.offset = 0
        self.warcinfo_id: str | None = None
        # Set by WarcWriter: every record written is added to the file's CDXJ index.
        self.index: RecordIndex | None = None

    def _write(self, record, payload: bytes = b"") -> RecordLocation:
        self._warc.write_record(record)
        try:
            end = self.stream.tell()
        except (AttributeError, OSError):
            raise TypeError("the WARC stream must tell its position") from None
        location = RecordLocation(self.file_name, self.offset, end - self.offset)
        self.offset = end
        if self.index is not None:
            self.index.add(record, location.offset, location.length, payload)
        return location

    def write_warcinfo(self) -> RecordLocation:
        record_id = self.record_id_factory()
        info = {"software": self.software, "format": records.FORMAT}
        if self.operator:
            info["operator"] = self.operator
        info["hostname"] = self.hostname
        info["conformsTo"] = records.CONFORMS_TO
        record = self._warc.create_warcinfo_record(self.file_name or None, info)
        record.rec_headers.replace_header("WARC-Record-ID", record_id)
        record.rec_headers.replace_header("WARC-Date", records.warc_date(self.clock()))
        location = self._write(record)
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
        response_id = self.record_id_factory()
        common = {"WARC-Date": records.warc_date(when), "WARC-Target-URI": url}
        if ip_address:
            common["WARC-IP-Address"] = ip_address
        common["WARC-Warcinfo-ID"] = self.warcinfo_id

        # The RFC's status-line keeps the space before an empty reason phrase.
        kept = records.response_headers_for_archive(response_headers)
        statusline = f"{status} {reason}"
        http = _ReceivedHttpHeaders(
            statusline, kept, protocol,
            records.http_header_block(f"{protocol} {statusline}", kept),
        )
        response = self._warc.create_warc_record(
            url, "response", payload=io.BytesIO(body), length=len(body),
            warc_headers_dict={"WARC-Type": "response", "WARC-Record-ID": response_id, **common,
                               **({"WARC-Truncated": truncated} if truncated else {})},
            http_headers=http,
        )

        start_line, headers = records.request_line_and_headers(url, method, protocol, request_headers)
        request = self._warc.create_warc_record(
            url, "request", payload=io.BytesIO(request_body), length=len(request_body),
            warc_headers_dict={"WARC-Type": "request", "WARC-Record-ID": self.record_id_factory(),
                               **common,
                               "WARC-Concurrent-To": response_id},
            http_headers=_ReceivedHttpHeaders(
                start_line.split(" ", 1)[1], headers, method.upper(),
                records.http_header_block(start_line, headers),
            ),
        )

        response_location = self._write(response)
        request_location = self._write(request, request_body)
        return Exchange(
            record_id=response_id,
            location=response_location,
            request_location=request_location,
            payload_digest=response.rec_headers.get_header("WARC-Payload-Digest"),
            fetched_at=when,
            bytes_written=response_location.length + request_location.length,
        )


    def write_revisit(
        self,
        *,
        url: str,
        profile: str,
        refers_to: str | None,
        refers_to_uri: str,
        refers_to_date: datetime,
        payload_digest: str | None = None,
        method: str = "GET",
        request_headers: Iterable[tuple[str, str]] = (),
        request_body: bytes = b"",
        protocol: str = "HTTP/1.1",
        status: int,
        reason: str = "",
        response_headers: Iterable[tuple[str, str]] = (),
        ip_address: str | None = None,
        fetched_at: datetime | None = None,
    ) -> Exchange:
        """A revisit record (HTTP headers only, no payload), then its request record.

        ``profile`` is ``"identical-payload-digest"`` (a 200 whose payload equals the one
        archived in the record ``refers_to``; ``payload_digest`` is required) or
        ``"server-not-modified"`` (a 304 to a conditional request). WARC-Refers-To-Target-URI
        and -Date name the earlier capture, so replay tools can find the payload.
        """
        if profile not in REVISIT_PROFILES:
            raise ValueError(f"revisit profile {profile!r}: use one of {list(REVISIT_PROFILES)}")
        if profile == "identical-payload-digest" and not payload_digest:
            raise ValueError("an identical-payload-digest revisit needs the payload digest")
        if self.warcinfo_id is None:
            self.write_warcinfo()
        when = records.as_utc(fetched_at if fetched_at is not None else self.clock())
        revisit_id = self.record_id_factory()
        common = {"WARC-Date": records.warc_date(when), "WARC-Target-URI": url}
        if ip_address:
            common["WARC-IP-Address"] = ip_address
        common["WARC-Warcinfo-ID"] = self.warcinfo_id
        kept = records.response_headers_for_archive(response_headers)
        statusline = f"{status} {reason}"
        http = _ReceivedHttpHeaders(
            statusline, kept, protocol,
            records.http_header_block(f"{protocol} {statusline}", kept),
        )
        fields = {"WARC-Type": "revisit", "WARC-Record-ID": revisit_id, **common,
                  "WARC-Profile": REVISIT_PROFILES[profile]}
        if refers_to:
            fields["WARC-Refers-To"] = refers_to
        fields["WARC-Refers-To-Target-URI"] = refers_to_uri
        fields["WARC-Refers-To-Date"] = records.warc_date(records.as_utc(refers_to_date))
        if payload_digest:
            fields["WARC-Payload-Digest"] = payload_digest
        revisit = self._warc.create_warc_record(
            url, "revisit", payload=io.BytesIO(b""), length=0,
            warc_headers_dict=fields, http_headers=http,
        )
        request = self._request_record(url, method, protocol, request_headers, request_body,
                                       common, revisit_id)
        revisit_location = self._write(revisit)
        request_location = self._write(request, request_body)
        return Exchange(
            record_id=revisit_id,
            location=revisit_location,
            request_location=request_location,
            payload_digest=payload_digest or "",
            fetched_at=when,
            bytes_written=revisit_location.length + request_location.length,
            record_type="revisit",
        )

    def _request_record(self, url, method, protocol, request_headers, request_body, common,
                        concurrent_to):
        start_line, headers = records.request_line_and_headers(url, method, protocol, request_headers)
        return self._warc.create_warc_record(
            url, "request", payload=io.BytesIO(request_body), length=len(request_body),
            warc_headers_dict={"WARC-Type": "request", "WARC-Record-ID": self.record_id_factory(),
                               **common, "WARC-Concurrent-To": concurrent_to},
            http_headers=_ReceivedHttpHeaders(
                start_line.split(" ", 1)[1], headers, method.upper(),
                records.http_header_block(start_line, headers),
            ),
        )
