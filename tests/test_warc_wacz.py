"""Packaging WARC files as a WACZ: its title, and nothing printed but real complaints."""

from __future__ import annotations

import json
import logging
import shutil
import zipfile
from pathlib import Path

import pytest

from govarchive.warc import WaczError, package_title, write_wacz
from govarchive.warc.wacz import Page

DATA = Path(__file__).resolve().parent / "data" / "warc"
ARCHIVED = Page("http://www.example.gov.cn/zwgk/2024-03/01/content_1.htm?from=list",
                "2024-03-01T08:30:16Z", "关于印发通知的通知")


@pytest.fixture
def warc(tmp_path) -> Path:
    return Path(shutil.copy(DATA / "one-exchange.warc.gz", tmp_path))


def datapackage(path: Path) -> dict:
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read("datapackage.json"))


def test_the_title_names_the_collection_once(warc, tmp_path):
    out = tmp_path / "default.wacz"
    write_wacz(out, [warc], [ARCHIVED], collection="govarchive")
    assert datapackage(out)["title"] == "govarchive"
    write_wacz(out, [warc], [ARCHIVED], collection="govcn")
    assert datapackage(out)["title"] == "govarchive: govcn"
    write_wacz(out, [warc], [ARCHIVED], collection="govcn", title="-2024- 国务院文件")
    assert datapackage(out)["title"] == "-2024- 国务院文件"  # not taken for an option
    assert package_title(None) == "govarchive"


def test_packaging_prints_nothing(warc, tmp_path, capfd, caplog):
    assert write_wacz(tmp_path / "quiet.wacz", [warc], [ARCHIVED]) == 1
    assert capfd.readouterr() == ("", "")
    assert caplog.records == []
    with zipfile.ZipFile(tmp_path / "quiet.wacz") as z:
        pages = [json.loads(line) for line in z.read("pages/pages.jsonl").splitlines()]
    assert [p["title"] for p in pages[1:]] == [ARCHIVED.title]


def test_a_page_missing_from_the_archive_is_still_reported(warc, tmp_path, capfd, caplog):
    missing = Page("http://www.example.gov.cn/zwgk/gone.htm", "2024-03-01T08:30:16Z", None)
    with caplog.at_level(logging.WARNING, logger="govarchive.warc"):
        write_wacz(tmp_path / "one-missing.wacz", [warc], [ARCHIVED, missing])
    assert capfd.readouterr().out == ""
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and missing.url in warnings[0]


def test_a_failed_package_says_why(tmp_path, capfd):
    not_a_warc = tmp_path / "notes.warc.gz"
    not_a_warc.write_bytes(b"\x1f\x8b garbage")
    out = tmp_path / "broken.wacz"
    with pytest.raises(WaczError, match="wacz create failed: Unknown archive format"):
        write_wacz(out, [not_a_warc], [ARCHIVED])
    assert not out.exists()
    assert capfd.readouterr() == ("", "")
