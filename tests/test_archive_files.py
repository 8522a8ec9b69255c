"""The archive tools on files written by our writer (no crawl): check, recovery, indexing."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import subprocess
import sys
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from govarchive.warc import ArchiveCheck, WarcWriter, read_record
from govarchive.warc.check import check_files
from govarchive.warc.index import (
    index_file,
    index_path,
    iter_entries,
    lookup,
    nearest,
    parse_line,
    rebuild_indexes,
)
from govarchive.warc.members import scan_file
from govarchive.warc.recover import recover_open_files
from govarchive.warc.writer import RecordLocation

START = datetime(2024, 3, 1, 8, 30, tzinfo=UTC)
PAGE = "<html><head><title>通知</title></head><body><p>关于做好政务公开工作的通知</p></body></html>"
URL = "http://www.example.gov.cn/zwgk/content_{}.htm"


def make_writer(folder: Path, node: str | None = None) -> WarcWriter:
    ticks, numbers = itertools.count(), itertools.count(1)
    return WarcWriter(
        folder,
        node=node,
        clock=lambda: START + timedelta(seconds=next(ticks)),
        record_id_factory=lambda: f"<urn:uuid:00000000-0000-0000-0000-{next(numbers):012d}>",
        hostname="test",
    )


def exchange(writer: WarcWriter, n: int, *, headers=None, body: bytes | None = None):
    body = PAGE.encode() if body is None else body
    headers = headers or [("Content-Type", "text/html; charset=utf-8"),
                          ("Content-Length", str(len(body)))]
    return writer.write_exchange(url=URL.format(n), status=200, reason="OK",
                                 response_headers=headers, body=body)


def closed_archive(folder: Path, count: int = 3) -> Path:
    with make_writer(folder) as writer:
        for n in range(count):
            exchange(writer, n)
    (name,) = writer.files
    return folder / name


def open_archive(folder: Path, count: int = 3,
                 node: str | None = None) -> tuple[WarcWriter, Path]:
    """A file left .open as by a crash: flushed, never closed."""
    writer = make_writer(folder, node)
    for n in range(count):
        exchange(writer, n)
    writer.flush()
    return writer, folder / f"{writer.current_file}.open"


def faults(path: Path) -> list[str]:
    return [f.message for f in check_files([path]).faults]


# ---- warc check ------------------------------------------------------------------------------


def test_check_passes_a_sound_file(tmp_path):
    path = closed_archive(tmp_path / "archive")
    result = check_files([path])
    assert result.ok, [str(f) for f in result.faults]
    assert result.records == 1 + 3 * 2  # warcinfo, then response + request per exchange


def test_check_finds_a_flipped_byte(tmp_path):
    path = closed_archive(tmp_path / "archive")
    data = bytearray(path.read_bytes())
    with open(path, "rb") as f:
        member = scan_file(f).members[2]  # the second record: a response
    data[member.offset + member.length // 2] ^= 0x01
    path.write_bytes(bytes(data))
    found = faults(path)
    assert found and "corrupt gzip data" in found[0]


def test_check_finds_a_flipped_byte_under_a_valid_gzip_crc(tmp_path):
    """A record re-compressed after the flip passes gzip's CRC: the WARC digests catch it."""
    path = closed_archive(tmp_path / "archive")
    with open(path, "rb") as f:
        members = scan_file(f).members
    raw = path.read_bytes()
    second = members[1]
    record = bytearray(zlib.decompress(raw[second.offset : second.offset + second.length], 31))
    record[record.index("政务".encode())] ^= 0x01
    patched = raw[: second.offset] + gzip.compress(bytes(record)) + raw[second.offset + second.length :]
    path.write_bytes(patched)
    assert any("digest" in m for m in faults(path))


def test_check_finds_a_decoded_body_with_a_stale_content_encoding(tmp_path):
    with make_writer(tmp_path / "archive") as writer:
        body = PAGE.encode()  # decoded, but still labelled gzip
        exchange(writer, 1, body=body, headers=[("Content-Type", "text/html"),
                                                ("Content-Encoding", "gzip")])
    found = faults(tmp_path / "archive" / writer.files[0])
    assert len(found) == 1 and "Content-Encoding 'gzip'" in found[0]


def test_check_finds_a_content_length_that_disagrees_with_the_body(tmp_path):
    with make_writer(tmp_path / "archive") as writer:
        exchange(writer, 1, headers=[("Content-Type", "text/html"), ("Content-Length", "99999")])
    found = faults(tmp_path / "archive" / writer.files[0])
    assert len(found) == 1 and "Content-Length 99999" in found[0]


def test_check_accepts_a_gzip_body_labelled_gzip(tmp_path):
    body = gzip.compress(PAGE.encode())
    with make_writer(tmp_path / "archive") as writer:
        exchange(writer, 1, body=body, headers=[("Content-Encoding", "gzip"),
                                                ("Content-Length", str(len(body)))])
    assert faults(tmp_path / "archive" / writer.files[0]) == []


def test_check_finds_a_truncated_last_record(tmp_path):
    path = closed_archive(tmp_path / "archive")
    os.truncate(path, path.stat().st_size - 30)
    found = faults(path)
    assert any("cut short" in m for m in found)
    # The response whose request was cut off is reported as well.
    assert any("without its request" in m for m in found)


def test_check_finds_a_revisit_without_an_earlier_record(tmp_path):
    from warcio.warcwriter import WARCWriter

    path = tmp_path / "revisits.warc.gz"
    with open(path, "wb") as f:
        writer = WARCWriter(f, gzip=True)
        revisit = writer.create_revisit_record(
            URL.format(1), "sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", URL.format(1),
            "2024-03-01T08:00:00Z",
        )
        writer.write_record(revisit)
    assert any("revisit does not resolve" in m for m in faults(path))


# ---- recovery --------------------------------------------------------------------------------


def test_recovery_closes_renames_and_indexes_a_whole_open_file(tmp_path):
    archive = tmp_path / "collections" / "c" / "archive"
    writer, path = open_archive(archive)
    os.rename(path, path.with_name(path.name.replace(f"-{os.getpid()}.", "-999999999.")))
    (report,) = recover_open_files(archive)
    assert report.cut_bytes == 0 and report.kept_records == 7
    final = archive / report.file
    assert final.exists() and not list(archive.glob("*.open"))
    assert check_files([final]).ok
    assert (archive.parent / "indexes" / f"{report.file}.cdxj").exists()
    writer._file.close()  # the "crashed" writer's handle


@pytest.mark.parametrize("cut", [1, 30, 200])
def test_recovery_cuts_back_to_the_last_complete_exchange(tmp_path, cut, caplog):
    archive = tmp_path / "collections" / "c" / "archive"
    writer, path = open_archive(archive)
    writer._file.close()
    dead = path.with_name(path.name.replace(f"-{os.getpid()}.", "-999999999."))
    os.rename(path, dead)
    with open(dead, "rb") as f:
        members = scan_file(f).members
    os.truncate(dead, dead.stat().st_size - cut)
    with caplog.at_level("WARNING", logger="govarchive.warc.recover"):
        (report,) = recover_open_files(archive)
    # The last exchange lost its request (or part of it): the whole exchange goes.
    assert report.kept_bytes == members[-3].offset + members[-3].length
    assert report.kept_records == 5 and report.cut_bytes > cut
    assert "cut" in caplog.text and report.file in caplog.text
    final = archive / report.file
    assert check_files([final]).ok
    entries = [parse_line(x) for x in (archive.parent / "indexes" / f"{report.file}.cdxj")
               .read_text().splitlines()]
    assert {e.url for e in entries} == {URL.format(0), URL.format(1)}


def test_recovery_removes_a_file_with_nothing_complete(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "x-20240101000000000000-00001-999999999.warc.gz.open").write_bytes(b"\x1f\x8b\x08")
    (report,) = recover_open_files(archive)
    assert report.removed and not list(archive.iterdir())


def test_recovery_leaves_a_file_that_a_live_process_writes(tmp_path):
    archive = tmp_path / "archive"
    writer, path = open_archive(archive)
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)
    try:
        live = path.with_name(path.name.replace(f"-{os.getpid()}.", f"-{child.pid}."))
        os.rename(path, live)
        assert recover_open_files(archive) == []
        assert live.exists()
    finally:
        child.stdin.close()
        child.wait()
        writer._file.close()


def test_file_names_carry_the_node_made_fit_for_a_file_name(tmp_path):
    writer, path = open_archive(tmp_path, node="crawl-2.example.org")
    writer._file.close()
    assert path.name.endswith(f"-00001-crawl_2.example.org-{os.getpid()}.warc.gz.open")


def test_recovery_on_a_node_only_touches_that_nodes_files(tmp_path):
    """A folder shared by two machines: each recovers its own files (and those named before
    names carried a node), never the other's, whose pid means nothing here."""
    archive = tmp_path / "archive"
    left = {}
    for node in ("node-a", "node-b", None):
        writer, path = open_archive(archive, node=node)
        writer._file.close()
        dead = path.with_name(path.name.replace(f"-{os.getpid()}.", "-999999999."))
        os.rename(path, dead)
        left[node] = dead
    reports = recover_open_files(archive, node="node-a", index=False)
    assert sorted(r.file + ".open" for r in reports) == sorted(
        [left["node-a"].name, left[None].name])
    assert left["node-b"].exists()
    (report,) = recover_open_files(archive, node="node-b", index=False)
    assert report.file + ".open" == left["node-b"].name


# ---- indexes ---------------------------------------------------------------------------------


def test_index_points_at_the_records(tmp_path):
    archive = tmp_path / "collections" / "c" / "archive"
    path = closed_archive(archive)
    target = index_file(archive, path.name)
    lines = target.read_text().splitlines()
    assert lines == sorted(lines)
    responses = [e for e in map(parse_line, lines) if e.mime != "warc/request"]
    assert len(responses) == 3
    for entry in responses:
        record = read_record(archive, RecordLocation(entry.file, entry.offset, entry.length))
        assert record.target_uri == entry.url and record.rec_type == "response"
        assert entry.timestamp == record.rec_headers.get_header("WARC-Date")[:19].translate(
            str.maketrans("", "", "-T:"))
    assert nearest(lookup(archive, URL.format(2)), "2024").url == URL.format(2)


def test_index_made_while_writing_is_the_index_of_the_file(tmp_path):
    """Every kind of exchange the crawler writes, over several files: the index the writer
    saves at close is byte for byte what cdxj-indexer writes reading the file back."""
    archive = tmp_path / "collections" / "c" / "archive"
    ticks, numbers = itertools.count(), itertools.count(1)
    writer = WarcWriter(archive, max_file_size=4000, index=True,
                        clock=lambda: START + timedelta(seconds=next(ticks)),
                        record_id_factory=lambda: f"<urn:uuid:{next(numbers):032x}>")
    html = [("Content-Type", "Text/HTML ; charset=GBK"), ("Content-Type", "text/plain")]
    with writer:
        for n in range(6):
            exchange(writer, n)
        exchange(writer, 0)  # the same URL again, later
        exchange(writer, 6, headers=html, body="通知".encode("gbk"))
        writer.write_exchange(url="http://www.example.gov.cn/s?q=%E6%94%BF%E5%8A%A1&p=2",
                              status=404, reason="Not Found", response_headers=[], body=b"")
        writer.write_exchange(url="http://www.example.gov.cn/old", status=301, reason="",
                              response_headers=[("Location", "/new")], body=b"")
        writer.write_exchange(url="http://www.example.gov.cn/search.do", method="POST",
                              request_headers=[("Content-Type",
                                                "application/x-www-form-urlencoded")],
                              request_body=b"keyword=%E9%98%B2%E6%B1%9B&page=1", status=200,
                              response_headers=[("Content-Type", "text/html")], body=b"<p>x</p>")
        writer.write_exchange(url="http://xn--fiqs8s.gov.cn/a.pdf", status=200,
                              response_headers=[("Content-Type", "application/pdf")],
                              body=b"%PDF-1.4 " * 300, truncated="length")
        writer.write_revisit(url=URL.format(1), profile="server-not-modified", refers_to=None,
                             refers_to_uri=URL.format(1), refers_to_date=START, status=304,
                             reason="Not Modified", response_headers=[("ETag", '"a"')])
        writer.write_revisit(url=URL.format(2), profile="identical-payload-digest",
                             refers_to="<urn:uuid:1>", refers_to_uri=URL.format(2),
                             refers_to_date=START, payload_digest="sha1:ABCDEFGHIJKLMNOP",
                             status=200, reason="OK",
                             response_headers=[("Content-Type", "text/html")])
    assert len(writer.files) > 2 and writer.indexed == set(writer.files)
    for name in writer.files:
        saved = index_path(archive, name).read_bytes()
        index_file(archive, name)  # read back by cdxj-indexer
        assert saved == index_path(archive, name).read_bytes(), name
    entries = [e for e in iter_entries(archive)]
    assert {e.fields.get("method") for e in entries} == {None, "POST"}
    assert {e.mime for e in entries} >= {"text/html", "warc/revisit", "application/pdf"}


def test_a_file_cut_back_after_a_failed_write_is_indexed_by_reading_it(tmp_path):
    archive = tmp_path / "collections" / "c" / "archive"
    writer = WarcWriter(archive, index=True)
    exchange(writer, 1)
    writer.flush()
    writer._recover()  # what a failed write does: cut back to whole records and close
    assert writer.files and not writer.indexed
    assert not index_path(archive, writer.files[0]).exists()


def test_an_index_that_cannot_be_saved_leaves_the_file_whole_and_unindexed(tmp_path, caplog):
    archive = tmp_path / "collections" / "c" / "archive"
    (archive.parent).mkdir(parents=True)
    (archive.parent / "indexes").write_text("not a folder")  # the index cannot be written
    writer = WarcWriter(archive, index=True)
    exchange(writer, 1)
    writer.close()
    assert writer.files and not writer.indexed
    assert "could not save the index" in caplog.text
    assert check_files([archive / writer.files[0]]).ok


def test_rebuild_indexes_every_closed_file_and_drops_stale_ones(tmp_path):
    archive = tmp_path / "collections" / "c" / "archive"
    path = closed_archive(archive)
    indexes = archive.parent / "indexes"
    indexes.mkdir()
    (indexes / "gone.warc.gz.cdxj").write_text("")
    (archive / "being-written.warc.gz.open").write_bytes(b"")
    written, removed = rebuild_indexes(archive)
    assert written == [indexes / f"{path.name}.cdxj"]
    assert removed == [indexes / "gone.warc.gz.cdxj"]
    assert sorted(p.name for p in indexes.iterdir()) == [f"{path.name}.cdxj"]


# ---- archives written by others (optional: ../shared/warc-samples) ---------------------------

def _cdxj_fields(line: str) -> tuple:
    entry = parse_line(line)
    fields = entry.fields
    # pywb writes digests without the "sha1:" prefix and no status for revisits.
    return (entry.urlkey, entry.timestamp, fields["url"], fields["mime"],
            fields.get("digest", "").removeprefix("sha1:"), fields["offset"], fields["length"],
            fields["filename"], fields.get("status") if fields["mime"] != "warc/revisit" else None)


@pytest.mark.corpus
def test_our_cdxj_of_iana_agrees_with_pywbs(tmp_path, warc_samples):
    # Even after the wacz package is imported: it adds warcinfo records to every indexer's
    # default in the process (a WACZ is written by the same process that indexes).
    import wacz.waczindexer  # noqa: F401

    archive = tmp_path / "collections" / "c" / "archive"
    archive.mkdir(parents=True)
    (archive / "iana.warc.gz").symlink_to(warc_samples / "pywb" / "iana.warc.gz")
    ours = index_file(archive, "iana.warc.gz").read_text().splitlines()
    theirs = (warc_samples / "pywb" / "iana.cdxj").read_text().splitlines()
    assert sorted(map(_cdxj_fields, ours)) == sorted(map(_cdxj_fields, theirs))


@pytest.mark.corpus
@pytest.mark.parametrize("sample", ["warcio/example.warc.gz", "warcio/example-iana.org-chunked.warc",
                                    "pywb/example.warc.gz", "pywb/iana.warc.gz"])
def test_samples_are_read_indexed_and_replayed(tmp_path, warc_samples, sample):
    from govarchive.crawler.extract import decode_html
    from govarchive.warc.replay import find_capture

    archive = tmp_path / "collections" / "c" / "archive"
    archive.mkdir(parents=True)
    name = Path(sample).name
    (archive / name).symlink_to(warc_samples / sample)
    entries = [parse_line(x) for x in index_file(archive, name).read_text().splitlines()]
    pages = [e for e in entries if e.mime == "text/html" and e.status == "200"]
    assert pages
    found = find_capture(archive, pages[0].url)
    text = found.text(decode_html)
    assert "<html" in text.lower() or "<!doctype" in text.lower()
    # WARC/1.0, revisits and a chunked body read without errors at the record level.
    check = check_files([archive / name])
    assert check.records >= len(entries)
    assert not [f for f in check.faults if "digest" in f.message or "gzip" in f.message]
    assert json.dumps(found.entry.fields)


def test_check_notes_a_broken_gzip_body_the_server_sent(tmp_path):
    broken = gzip.compress(PAGE.encode())[:40]  # gzip bytes, cut short by the server
    with make_writer(tmp_path / "archive") as writer:
        exchange(writer, 1, body=broken, headers=[("Content-Type", "text/html"),
                                                  ("Content-Encoding", "gzip")])
    check = ArchiveCheck()
    check.check_file(tmp_path / "archive" / writer.files[0])
    assert check.faults == []
    assert len(check.notes) == 1 and "(as the server sent it)" in check.notes[0].message


def test_warc_index_recovers_another_nodes_left_overs_only_when_named(tmp_path):
    from click.testing import CliRunner

    from govarchive.cli import cli

    config = tmp_path / "govarchive.toml"
    config.write_text('[storage]\nurl = "sqlite:///data/db.sqlite"\n[archive]\ndir = "data"\n',
                      encoding="utf-8")
    archive = tmp_path / "data" / "collections" / "govarchive" / "archive"
    archive.mkdir(parents=True)
    left = archive / "x-20240101000000000000-00001-gone_node-999999999.warc.gz.open"
    left.write_bytes(b"\x1f\x8b\x08")  # nothing complete: recovery removes it
    env = {"GOVARCHIVE_CONFIG": None, "GOVARCHIVE_NODE": "here"}
    mine = CliRunner().invoke(cli, ["--config", str(config), "warc", "index"], env=env)
    assert mine.exit_code == 0, mine.output
    assert left.exists() and "recovered" not in mine.output
    theirs = CliRunner().invoke(cli, ["--config", str(config), "warc", "index", "--node",
                                      "gone-node"], env=env)
    assert theirs.exit_code == 0, theirs.output
    assert not left.exists() and "no complete record; removed" in theirs.output
