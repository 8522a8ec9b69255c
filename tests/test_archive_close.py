"""The end of a crawl: the WARC file is closed and indexed while the last batches are stored,
and the crawl does not finish before its index is whole."""

from __future__ import annotations

import pytest
from warcio.archiveiterator import ArchiveIterator

from govarchive.warc.index import index_path, parse_line
from tests.crawling import make_project, site_source

pytestmark = pytest.mark.slow  # a crawl in a subprocess


def test_every_closed_file_has_a_whole_index_when_the_crawl_ends(tmp_path, govcn_site):
    project = make_project(tmp_path, [site_source("govcn", govcn_site)])
    result = project.crawl("govcn")
    assert result.returncode == 0, result.stderr
    assert "indexing the archive failed" not in result.stderr
    assert not list(project.archive_dir.glob("*.open"))
    files = project.warc_files()
    assert files
    for path in files:
        with open(path, "rb") as f:
            responses = [r.rec_headers.get_header("WARC-Target-URI")
                         for r in ArchiveIterator(f) if r.rec_type == "response"]
        lines = index_path(project.archive_dir, path.name).read_text(encoding="utf-8")
        indexed = [parse_line(line).fields for line in lines.splitlines() if line.strip()]
        assert sorted(e["url"] for e in indexed if e.get("mime") != "warc/request") == sorted(
            responses)
        assert {e["filename"] for e in indexed} == {path.name}
