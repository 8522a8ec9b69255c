"""Regenerate the small archives in this folder (run from the repository root):

    /work/venv/bin/python tests/data/warc/make_archives.py

one-exchange.warc.gz         valid: warcinfo, response (gzip-encoded body, two Set-Cookie), request
cut-short.warc.gz            the same, cut 40 bytes before the end (an interrupted write)
bad-payload-digest.warc.gz   a response whose WARC-Payload-Digest does not match its payload
chunked-header-kept.warc.gz  the mistake the writer avoids: a de-chunked body still labelled
                             ``Transfer-Encoding: chunked``, which readers de-chunk a second time
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import itertools
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from govarchive.warc import WarcStreamWriter
from govarchive.warc import records as r

HERE = Path(__file__).resolve().parent
START = datetime(2024, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
PAGE = "<html><body><h1>关于做好2024年政务公开工作的通知</h1></body></html>".encode()
URL = "http://www.example.gov.cn/zwgk/2024-03/01/content_1.htm?from=list"


def fixed_writer(stream) -> WarcStreamWriter:
    ticks, numbers = itertools.count(), itertools.count(1)
    return WarcStreamWriter(
        stream,
        file_name="one-exchange.warc.gz",
        software="govarchive/test",
        hostname="crawler1",
        clock=lambda: START + timedelta(seconds=next(ticks)),
        record_id_factory=lambda: f"<urn:uuid:00000000-0000-0000-0000-{next(numbers):012d}>",
    )


def one_exchange() -> bytes:
    body = gzip.compress(PAGE, mtime=0)
    buf = io.BytesIO()
    fixed_writer(buf).write_exchange(
        url=URL,
        request_headers=[("User-Agent", "govarchive-test"), ("Accept-Encoding", "gzip, deflate")],
        status=200,
        reason="OK",
        response_headers=[
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Encoding", "gzip"),
            ("Content-Length", str(len(body))),
            ("Set-Cookie", "a=1; Path=/"),
            ("Set-Cookie", "b=2; Path=/"),
        ],
        body=body,
        ip_address="192.0.2.7",
    )
    return buf.getvalue()


def sha1_digest(*parts: bytes) -> str:
    h = hashlib.sha1()
    for part in parts:
        h.update(part)
    return "sha1:" + base64.b32encode(h.digest()).decode("ascii")


def warc_header_block(fields, content_length: int) -> bytes:
    lines = [b"WARC/1.1", *(f"{n}: {v}".encode() for n, v in fields),
             b"Content-Length: %d" % content_length, b"", b""]
    return b"\r\n".join(lines)


def gzip_member(*parts: bytes) -> bytes:
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    return b"".join([*(comp.compress(p) for p in parts), comp.flush()])


def response_record(http_head: bytes, body: bytes, payload_digest: str) -> bytes:
    head = warc_header_block(
        [
            ("WARC-Type", "response"),
            ("WARC-Record-ID", "<urn:uuid:00000000-0000-0000-0000-0000000000ff>"),
            ("WARC-Date", r.warc_date(START)),
            ("WARC-Target-URI", URL),
            ("WARC-Block-Digest", sha1_digest(http_head, body)),
            ("WARC-Payload-Digest", payload_digest),
            ("Content-Type", "application/http; msgtype=response"),
        ],
        len(http_head) + len(body),
    )
    return gzip_member(head, http_head, body, b"\r\n\r\n")


def main() -> None:
    valid = one_exchange()
    (HERE / "one-exchange.warc.gz").write_bytes(valid)
    (HERE / "cut-short.warc.gz").write_bytes(valid[:-40])

    http_head = r.http_header_block("HTTP/1.1 200 OK", [("Content-Type", "text/plain")])
    (HERE / "bad-payload-digest.warc.gz").write_bytes(
        response_record(http_head, b"the page as served", sha1_digest(b"another page"))
    )

    # A de-chunked body that happens to look like chunk framing ("4\r\n...").
    body = b"4\r\nWiki\r\n0\r\n\r\n"
    http_head = r.http_header_block(
        "HTTP/1.1 200 OK", [("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")]
    )
    (HERE / "chunked-header-kept.warc.gz").write_bytes(
        response_record(http_head, body, sha1_digest(body))
    )


if __name__ == "__main__":
    main()
