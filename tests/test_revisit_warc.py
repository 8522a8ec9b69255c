"""Revisit records: both WARC 1.1 profiles, read back with warcio."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from warcio.archiveiterator import ArchiveIterator

from govarchive.warc import WarcStreamWriter, WarcWriter

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
T1 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
URL = "http://www.gov.cn/lianbo/difang/content_1.htm"


def _ids():
    n = 0

    def make():
        nonlocal n
        n += 1
        return f"<urn:uuid:00000000-0000-0000-0000-{n:012d}>"

    return make


def _records(data: bytes):
    return [(r.rec_headers, r.http_headers, r.content_stream().read())
            for r in ArchiveIterator(io.BytesIO(data))]


def test_identical_payload_digest_revisit_refers_to_the_first_capture():
    stream = io.BytesIO()
    writer = WarcStreamWriter(stream, file_name="a.warc.gz", hostname="h", record_id_factory=_ids())
    body = "<html><body>正文</body></html>".encode()
    first = writer.write_exchange(url=URL, status=200, reason="OK", body=body,
                                  response_headers=[("Content-Type", "text/html")],
                                  request_headers=[("User-Agent", "govarchive")], fetched_at=T0)
    revisit = writer.write_revisit(
        url=URL, profile="identical-payload-digest", refers_to=first.record_id,
        refers_to_uri=URL, refers_to_date=T0, payload_digest=first.payload_digest,
        status=200, reason="OK", response_headers=[("Content-Type", "text/html"),
                                                   ("Content-Length", str(len(body)))],
        request_headers=[("User-Agent", "govarchive")], fetched_at=T1,
    )
    assert revisit.record_type == "revisit"
    records = _records(stream.getvalue())
    assert [h.get_header("WARC-Type") for h, _, _ in records] == [
        "warcinfo", "response", "request", "revisit", "request"]
    headers, http, block = records[3]
    assert headers.get_header("WARC-Profile") == (
        "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest")
    assert headers.get_header("WARC-Refers-To") == first.record_id
    assert headers.get_header("WARC-Refers-To-Target-URI") == URL
    # Exactly the WARC-Date of the record it refers to, so replay can look that one up.
    assert headers.get_header("WARC-Refers-To-Date") == records[1][0].get_header("WARC-Date")
    assert headers.get_header("WARC-Payload-Digest") == first.payload_digest
    assert http.get_statuscode() == "200" and block == b""
    assert records[4][0].get_header("WARC-Concurrent-To") == revisit.record_id
    # Header-only records stay small: what makes an unchanged recrawl cheap.
    assert revisit.bytes_written < 1000


def test_server_not_modified_revisit_in_rotating_files(tmp_path):
    with WarcWriter(tmp_path, prefix="t", record_id_factory=_ids()) as writer:
        revisit = writer.write_revisit(
            url=URL, profile="server-not-modified", refers_to=None, refers_to_uri=URL,
            refers_to_date=T0, status=304, reason="Not Modified",
            response_headers=[("ETag", '"abc"')], fetched_at=T1,
            request_headers=[("If-None-Match", '"abc"')],
        )
    (path,) = tmp_path.glob("*.warc.gz")
    data = path.read_bytes()
    member = data[revisit.location.offset : revisit.location.offset + revisit.location.length]
    ((headers, http, block),) = _records(member)
    assert headers.get_header("WARC-Profile").endswith("/revisit/server-not-modified")
    assert headers.get_header("WARC-Payload-Digest") is None
    assert http.get_statuscode() == "304" and block == b""


def test_revisit_needs_a_known_profile_and_a_digest():
    writer = WarcStreamWriter(io.BytesIO(), hostname="h")
    with pytest.raises(ValueError, match="profile"):
        writer.write_revisit(url=URL, profile="same", refers_to=None, refers_to_uri=URL,
                             refers_to_date=T0, status=200)
    with pytest.raises(ValueError, match="digest"):
        writer.write_revisit(url=URL, profile="identical-payload-digest", refers_to=None,
                             refers_to_uri=URL, refers_to_date=T0, status=200)
