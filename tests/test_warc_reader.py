"""read_record and the archives in tests/data/warc (valid and deliberately broken)."""

from __future__ import annotations

import gzip
import importlib.util
import io
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from govarchive.warc import RecordLocation, RecordReadError, WarcStreamWriter, read_record
from govarchive.warc.reader import decode_content

DATA = Path(__file__).resolve().parent / "data" / "warc"
WARCIO = Path(sys.executable).with_name("warcio")


def load_maker():
    spec = importlib.util.spec_from_file_location("make_archives", DATA / "make_archives.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def locations(path: Path) -> dict[str, RecordLocation]:
    """Record type -> location, as warcio's own iterator sees the file."""
    out = {}
    with open(path, "rb") as f:
        it = ArchiveIterator(f)
        for record in it:
            record.raw_stream.read()
            out[record.rec_type] = RecordLocation(
                path.name, it.get_record_offset(), it.get_record_length()
            )
    return out


def members(data: bytes) -> list[bytes]:
    out = []
    while data:
        d = zlib.decompressobj(31)
        out.append(d.decompress(data) + d.flush())
        data = d.unused_data
    return out


def test_writer_still_produces_the_stored_archive():
    # Compared decompressed: the compressed bytes may differ between zlib builds.
    stored = (DATA / "one-exchange.warc.gz").read_bytes()
    assert members(load_maker().one_exchange()) == members(stored)


def test_read_record_gives_headers_and_raw_payload():
    maker = load_maker()
    where = locations(DATA / "one-exchange.warc.gz")
    response = read_record(DATA, where["response"])
    assert response.rec_type == "response" and response.status == 200
    assert response.record_id == "<urn:uuid:00000000-0000-0000-0000-000000000002>"
    assert response.target_uri == maker.URL
    assert response.raw_payload[:2] == b"\x1f\x8b"  # still gzip
    assert gzip.decompress(response.raw_payload) == response.content() == maker.PAGE
    assert response.http_headers.get_header("Content-Length") == str(len(response.raw_payload))
    assert [v for n, v in response.http_headers.headers if n == "Set-Cookie"] == [
        "a=1; Path=/",
        "b=2; Path=/",
    ]

    request = read_record(DATA, where["request"])
    assert request.rec_type == "request" and request.status is None
    assert request.http_headers.protocol == "GET"
    assert request.http_headers.statusline == "/zwgk/2024-03/01/content_1.htm?from=list HTTP/1.1"
    assert request.rec_headers.get_header("WARC-Concurrent-To") == response.record_id


def test_read_record_reports_a_cut_short_file():
    where = locations(DATA / "one-exchange.warc.gz")
    cut = RecordLocation("cut-short.warc.gz", where["request"].offset, where["request"].length)
    with pytest.raises(RecordReadError, match="cut short"):
        read_record(DATA, cut)
    # warcio check alone does not notice the missing tail; only the recorded length does.
    assert (
        subprocess.run(
            [str(WARCIO), "check", str(DATA / "cut-short.warc.gz")],
            capture_output=True,
            timeout=60,
            check=False,
        ).returncode
        == 0
    )


def test_read_record_reports_a_wrong_offset_and_a_missing_file():
    where = locations(DATA / "one-exchange.warc.gz")
    shifted = RecordLocation("one-exchange.warc.gz", where["response"].offset + 10, 100)
    with pytest.raises(RecordReadError, match="record boundary"):
        read_record(DATA, shifted)
    with pytest.raises(RecordReadError, match="archive/ folder"):
        read_record(DATA, RecordLocation("nope.warc.gz", 0, 10))


def test_warcio_check_catches_a_bad_payload_digest():
    proc = subprocess.run(
        [str(WARCIO), "check", "-v", str(DATA / "bad-payload-digest.warc.gz")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1 and "payload digest failed" in proc.stdout


def test_a_kept_chunked_header_mangles_the_body_and_the_writer_avoids_it():
    with open(DATA / "chunked-header-kept.warc.gz", "rb") as f:
        decoded = [record.content_stream().read() for record in ArchiveIterator(f)]
    assert decoded == [b"Wiki"]  # the stored body was "4\r\nWiki\r\n0\r\n\r\n"

    body = b"4\r\nWiki\r\n0\r\n\r\n"
    buf = io.BytesIO()
    WarcStreamWriter(buf, hostname="h").write_exchange(
        url="http://e.cn/",
        status=200,
        reason="OK",
        body=body,
        response_headers=[("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")],
    )
    buf.seek(0)
    decoded = [r.content_stream().read() for r in ArchiveIterator(buf) if r.rec_type == "response"]
    assert decoded == [body]


@pytest.mark.parametrize(
    "encoding, encode",
    [
        ("gzip", lambda b: gzip.compress(b)),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b, wbits=-15)),  # raw deflate, as some servers send
        ("", lambda b: b),
        ("identity", lambda b: b),
        ("gzip, gzip", lambda b: gzip.compress(gzip.compress(b))),
    ],
)
def test_decode_content(encoding, encode):
    assert decode_content(encode(b"payload " * 50), encoding) == b"payload " * 50


def test_decode_content_refuses_unknown_coding():
    with pytest.raises(ValueError, match="unknown Content-Encoding"):
        decode_content(b"x", "compress")


def test_read_record_refuses_what_is_not_a_warc_record(tmp_path):
    # Off a record boundary warcio may take stray bytes for an old ARC record (one with no
    # WARC-Record-ID): that is no record for a version to point at.
    stray = b"http://www.gov.cn/ 1.2.3.4 20240101000000 text/html 5\nhello\n"
    (tmp_path / "stray.warc.gz").write_bytes(stray)
    with pytest.raises(RecordReadError, match="no WARC record"):
        read_record(tmp_path, RecordLocation("stray.warc.gz", 0, len(stray)))
