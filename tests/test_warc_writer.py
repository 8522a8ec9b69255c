"""WarcStreamWriter / WarcWriter: exact bytes, fidelity of what is kept, rotation, closing."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import itertools
import random
import re
import subprocess
import sys
import zlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from govarchive.warc import Exchange, RecordLocation, WarcStreamWriter, WarcWriter, read_record

WARCIO = Path(sys.executable).with_name("warcio")
START = datetime(2024, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)


def fixed_clock(start: datetime = START):
    ticks = itertools.count()
    return lambda: start + timedelta(seconds=next(ticks))


def fixed_ids():
    numbers = itertools.count(1)
    return lambda: f"<urn:uuid:00000000-0000-0000-0000-{next(numbers):012d}>"


def stream_writer(stream, **kwargs) -> WarcStreamWriter:
    return WarcStreamWriter(
        stream,
        file_name="t.warc.gz",
        software="govarchive/test",
        operator="ops@example.org",
        hostname="crawler1",
        clock=fixed_clock(),
        record_id_factory=fixed_ids(),
        **kwargs,
    )


def exchange_args(**overrides) -> dict:
    args = {
        "url": "http://www.example.gov.cn/a/b.htm?x=1&y=%E4%B8%AD",
        "method": "GET",
        "request_headers": [
            ("User-Agent", "govarchive-test"),
            ("Accept-Encoding", "gzip, deflate"),
        ],
        "request_body": b"",
        "protocol": "HTTP/1.1",
        "status": 200,
        "reason": "OK",
        "response_headers": [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", "5")],
        "body": b"hello",
        "ip_address": "192.0.2.7",
    }
    args.update(overrides)
    return args


def sha1(data: bytes) -> bytes:
    return b"sha1:" + base64.b32encode(hashlib.sha1(data).digest())


def members(data: bytes) -> list[bytes]:
    """Decompress each gzip member on its own (and prove the data is one member per record)."""
    out = []
    while data:
        d = zlib.decompressobj(31)
        out.append(d.decompress(data) + d.flush())
        data = d.unused_data
    return out


def warcio_check(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(WARCIO), "check", "-v", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_exchange_bytes_are_exact():
    buf = io.BytesIO()
    ex = stream_writer(buf).write_exchange(**exchange_args())
    info, response, request = members(buf.getvalue())
    fields = (
        b"software: govarchive/test\r\n"
        b"format: WARC File Format 1.1\r\n"
        b"operator: ops@example.org\r\n"
        b"hostname: crawler1\r\n"
        b"conformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n"
    )
    assert info == (
        b"WARC/1.1\r\n"
        b"WARC-Type: warcinfo\r\n"
        b"WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000001>\r\n"
        b"WARC-Filename: t.warc.gz\r\n"
        b"WARC-Date: 2024-03-01T08:30:15.123456Z\r\n"
        b"WARC-Block-Digest: " + sha1(fields) + b"\r\n"
        b"Content-Type: application/warc-fields\r\n"
        b"Content-Length: %d\r\n\r\n" % len(fields) + fields + b"\r\n\r\n"
    )
    http = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
        b"Content-Length: 5\r\n\r\nhello"
    )
    assert response == (
        b"WARC/1.1\r\n"
        b"WARC-Type: response\r\n"
        b"WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000002>\r\n"
        b"WARC-Date: 2024-03-01T08:30:16.123456Z\r\n"
        b"WARC-Target-URI: http://www.example.gov.cn/a/b.htm?x=1&y=%E4%B8%AD\r\n"
        b"WARC-IP-Address: 192.0.2.7\r\n"
        b"WARC-Warcinfo-ID: <urn:uuid:00000000-0000-0000-0000-000000000001>\r\n"
        b"WARC-Payload-Digest: " + sha1(b"hello") + b"\r\n"
        b"WARC-Block-Digest: " + sha1(http) + b"\r\n"
        b"Content-Type: application/http; msgtype=response\r\n"
        b"Content-Length: %d\r\n\r\n" % len(http) + http + b"\r\n\r\n"
    )
    req = (
        b"GET /a/b.htm?x=1&y=%E4%B8%AD HTTP/1.1\r\nHost: www.example.gov.cn\r\n"
        b"User-Agent: govarchive-test\r\nAccept-Encoding: gzip, deflate\r\n\r\n"
    )
    assert request == (
        b"WARC/1.1\r\n"
        b"WARC-Type: request\r\n"
        b"WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000003>\r\n"
        b"WARC-Date: 2024-03-01T08:30:16.123456Z\r\n"
        b"WARC-Target-URI: http://www.example.gov.cn/a/b.htm?x=1&y=%E4%B8%AD\r\n"
        b"WARC-IP-Address: 192.0.2.7\r\n"
        b"WARC-Warcinfo-ID: <urn:uuid:00000000-0000-0000-0000-000000000001>\r\n"
        b"WARC-Concurrent-To: <urn:uuid:00000000-0000-0000-0000-000000000002>\r\n"
        b"WARC-Payload-Digest: " + sha1(b"") + b"\r\n"
        b"WARC-Block-Digest: " + sha1(req) + b"\r\n"
        b"Content-Type: application/http; msgtype=request\r\n"
        b"Content-Length: %d\r\n\r\n" % len(req) + req + b"\r\n\r\n"
    )
    assert ex == Exchange(
        record_id="<urn:uuid:00000000-0000-0000-0000-000000000002>",
        location=RecordLocation("t.warc.gz", ex.location.offset, ex.location.length),
        request_location=RecordLocation(
            "t.warc.gz", ex.request_location.offset, ex.request_location.length
        ),
        payload_digest=sha1(b"hello").decode(),
        fetched_at=START + timedelta(seconds=1),
        bytes_written=ex.location.length + ex.request_location.length,
    )
    # Locations are the exact gzip members, back to back, after the warcinfo record.
    data = buf.getvalue()
    assert ex.request_location.offset == ex.location.offset + ex.location.length
    assert ex.request_location.offset + ex.request_location.length == len(data)
    assert members(data[ex.location.offset : ex.request_location.offset]) == [response]


def test_fetched_at_given_is_used_and_made_utc():
    buf = io.BytesIO()
    when = datetime(2024, 5, 4, 20, 0, 0, 5, tzinfo=timezone(timedelta(hours=8)))
    ex = stream_writer(buf).write_exchange(**exchange_args(), fetched_at=when)
    assert ex.fetched_at == datetime(2024, 5, 4, 12, 0, 0, 5, tzinfo=UTC)
    assert b"WARC-Date: 2024-05-04T12:00:00.000005Z\r\n" in members(buf.getvalue())[1]


def test_gzip_body_stays_gzip_with_matching_length(tmp_path):
    html = "<html><body>公告 notice</body></html>".encode() * 200
    body = gzip.compress(html, mtime=0)
    with WarcWriter(tmp_path, clock=fixed_clock()) as writer:
        ex = writer.write_exchange(
            **exchange_args(
                response_headers=[
                    ("Content-Type", "text/html"),
                    ("Content-Encoding", "gzip"),
                    ("Content-Length", str(len(body))),
                ],
                body=body,
            )
        )
    record = read_record(tmp_path, ex.location)
    assert record.raw_payload == body
    assert int(record.http_headers.get_header("Content-Length")) == len(record.raw_payload)
    assert record.http_headers.get_header("Content-Encoding") == "gzip"
    assert record.content() == html
    assert record.rec_headers.get_header("WARC-Payload-Digest") == ex.payload_digest
    check = warcio_check(tmp_path / writer.files[0])
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("digest pass") == 3


def test_repeated_headers_kept_in_order_and_secrets_dropped():
    buf = io.BytesIO()
    stream_writer(buf).write_exchange(
        **exchange_args(
            url="http://127.0.0.1:8080/list?page=2&size=20",
            request_headers=[("Proxy-Authorization", "Basic c2VjcmV0"), ("Cookie", "a=1")],
            response_headers=[
                ("Set-Cookie", "a=1; Path=/"),
                ("Content-Type", "text/html"),
                ("Set-Cookie", "b=2; HttpOnly"),
            ],
        )
    )
    buf.seek(0)
    response, request = [r for r in ArchiveIterator(buf) if r.rec_type != "warcinfo"]
    assert response.http_headers.headers == [
        ("Set-Cookie", "a=1; Path=/"),
        ("Content-Type", "text/html"),
        ("Set-Cookie", "b=2; HttpOnly"),
    ]
    assert request.http_headers.protocol == "GET"
    assert request.http_headers.statusline == "/list?page=2&size=20 HTTP/1.1"
    assert request.http_headers.headers == [("Host", "127.0.0.1:8080"), ("Cookie", "a=1")]
    assert request.rec_headers.get_header("WARC-Concurrent-To") == response.rec_headers.get_header(
        "WARC-Record-ID"
    )
    assert b"c2VjcmV0" not in members(buf.getvalue())[2]


def test_latin1_header_bytes_round_trip_and_newlines_cannot_inject():
    buf = io.BytesIO()
    raw = 'attachment; filename="\xe9\xa2\x98.pdf"'  # UTF-8 bytes seen through latin-1
    stream_writer(buf).write_exchange(
        **exchange_args(
            response_headers=[("Content-Disposition", raw), ("X-Evil", "a\r\nInjected: 1")]
        )
    )
    response = members(buf.getvalue())[1]
    assert 'filename="题.pdf"'.encode() in response
    assert b"X-Evil: a  Injected: 1\r\n" in response


def test_chunked_header_is_renamed_and_nothing_added(tmp_path):
    with WarcWriter(tmp_path) as writer:
        ex = writer.write_exchange(
            **exchange_args(
                response_headers=[("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")],
                body=b"de-chunked body",
            )
        )
    record = read_record(tmp_path, ex.location)
    assert record.http_headers.headers == [
        ("Content-Type", "text/plain"),
        ("X-Archive-Orig-Transfer-Encoding", "chunked"),
    ]
    assert record.raw_payload == b"de-chunked body"
    check = warcio_check(tmp_path / writer.files[0])
    assert check.returncode == 0, check.stdout


def test_status_line_uses_protocol_and_reason_and_truncation_is_marked():
    buf = io.BytesIO()
    stream_writer(buf).write_exchange(
        **exchange_args(protocol="HTTP/1.0", status=404, reason="Not Found", truncated="disconnect")
    )
    stream_writer(buf).write_exchange(**exchange_args(status=599, reason=""))
    records = members(buf.getvalue())
    assert b"\r\n\r\nHTTP/1.0 404 Not Found\r\n" in records[1]
    assert b"WARC-Truncated: disconnect\r\n" in records[1]
    assert b"GET /a/b.htm?x=1&y=%E4%B8%AD HTTP/1.0\r\n" in records[2]
    assert b"\r\n\r\nHTTP/1.1 599 \r\n" in records[4]


def test_files_open_then_renamed_on_close(tmp_path):
    archive = tmp_path / "collections" / "c" / "archive"
    writer = WarcWriter(archive, prefix="gov", clock=fixed_clock())
    assert not archive.exists()  # nothing is created before the first exchange
    ex = writer.write_exchange(**exchange_args())
    assert re.fullmatch(r"gov-20240301083015123456-00001-\d+\.warc\.gz", ex.location.file)
    assert [p.name for p in archive.iterdir()] == [ex.location.file + ".open"]
    assert writer.current_file == ex.location.file
    writer.flush(fsync=False)
    assert read_record(archive, ex.location).rec_type == "response"  # readable once flushed
    writer.close()
    writer.close()
    assert [p.name for p in archive.iterdir()] == [ex.location.file]
    assert writer.files == [ex.location.file] and writer.current_file is None
    record = read_record(archive, ex.location)
    assert record.target_uri == exchange_args()["url"] and record.status == 200


def test_rotation_never_splits_an_exchange(tmp_path):
    body = random.Random(7).randbytes(10_000)  # incompressible, so files fill quickly
    writer = WarcWriter(tmp_path, max_file_size=25_000, record_id_factory=fixed_ids())
    exchanges = [
        writer.write_exchange(**exchange_args(body=body, url=f"http://e.cn/{i}")) for i in range(7)
    ]
    writer.close()
    assert len(writer.files) >= 3
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(writer.files)
    serials = [int(name.split("-")[2]) for name in writer.files]
    assert serials == list(range(1, len(writer.files) + 1))
    for name in writer.files:
        with open(tmp_path / name, "rb") as f:
            types = [r.rec_type for r in ArchiveIterator(f)]
        assert types[0] == "warcinfo" and types.count("warcinfo") == 1
        assert types[1:] == ["response", "request"] * ((len(types) - 1) // 2)
    for i, ex in enumerate(exchanges):
        assert ex.request_location.file == ex.location.file
        assert read_record(tmp_path, ex.location).target_uri == f"http://e.cn/{i}"
    check = warcio_check(*(tmp_path / n for n in writer.files))
    assert check.returncode == 0, check.stdout


# Runs in a child process: RLIMIT_FSIZE makes the kernel refuse bytes past the limit (EFBIG),
# partial writes included, the way a full disk does, without touching the test process.
DISK_FULL_SCRIPT = r"""
import json, random, resource, signal, sys
from pathlib import Path
from govarchive.warc import WarcWriter, WarcWriteError

archive, mode = Path(sys.argv[1]), sys.argv[2]
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, resource.RLIM_INFINITY))
writer = WarcWriter(archive, buffer_size=4096 if mode == "write" else 1 << 20)
durable, error = [], None
try:
    for i in range(50):
        ex = writer.write_exchange(url=f"http://e.cn/{i}", status=200, reason="OK",
                                   body=random.Random(i).randbytes(9_000))
        if mode == "flush":
            writer.flush()
        durable.append([i, ex.location.offset, ex.location.length])
except WarcWriteError as exc:
    error = str(exc)
print(json.dumps({"error": error, "durable": durable, "files": writer.files,
                  "current": writer.current_file}))
"""


@pytest.mark.parametrize("mode", ["write", "flush"])
def test_failed_write_cuts_file_back_to_last_complete_record(tmp_path, mode):
    import json

    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-c", DISK_FULL_SCRIPT, str(tmp_path), mode],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PYTHONPATH": str(repo), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["error"] and "cut back" in result["error"]
    assert result["current"] is None
    (name,) = result["files"]
    assert [p.name for p in tmp_path.iterdir()] == [name]  # renamed, no .open left behind
    path = tmp_path / name
    with open(path, "rb") as f:
        it = ArchiveIterator(f)
        found = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI")) for r in it]
        end = f.tell()
    assert end == path.stat().st_size  # ends exactly at a record boundary
    uris = [uri for kind, uri in found if kind == "response"]
    assert found[0][0] == "warcinfo"
    assert found[1:] == [(kind, uri) for uri in uris for kind in ("response", "request")]
    assert uris == [f"http://e.cn/{i}" for i in range(len(uris))]
    if mode == "flush":
        # Everything flushed before the failure is still there.
        assert len(uris) == len(result["durable"]) >= 1
    for i, offset, length in result["durable"][: len(uris)]:
        record = read_record(tmp_path, RecordLocation(name, offset, length))
        assert record.target_uri == f"http://e.cn/{i}"
    check = warcio_check(path)
    assert check.returncode == 0, check.stdout


def test_two_writers_with_one_name_never_share_a_file(tmp_path):
    clock = lambda: START  # both writers see the same microsecond
    first = WarcWriter(tmp_path, clock=clock)
    second = WarcWriter(tmp_path, clock=clock)
    a = first.write_exchange(**exchange_args(url="http://e.cn/a"))
    b = second.write_exchange(**exchange_args(url="http://e.cn/b"))
    first.close()
    second.close()
    assert a.location.file != b.location.file
    assert read_record(tmp_path, a.location).target_uri == "http://e.cn/a"
    assert read_record(tmp_path, b.location).target_uri == "http://e.cn/b"
