"""A full disk mid-crawl: the crawl fails saying "disk full", the archive stays valid and its
pointers resolve, and once there is room the next crawl completes. The archive sits on a
small tmpfs that the test mounts (root only) and always unmounts."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.crawling import make_project, site_source
from tests.site.bulk import BulkSite

pytestmark = pytest.mark.slow


@pytest.fixture
def small_archive_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    folder = tmp_path / "data" / "archive"
    folder.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=192k", "tmpfs", str(folder)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_disk_fails_the_crawl_in_words_and_the_next_crawl_completes(
        tmp_path, site_server, small_archive_disk):
    site = site_server(BulkSite(120))
    project = make_project(tmp_path, [site_source("bulk", site, max_list_pages=10)])

    full = project.crawl("--all")
    assert full.returncode != 0
    assert "disk full" in full.stderr and "Traceback" not in full.stderr
    (run,) = project.runs()
    assert run["status"] == "failed" and "disk full" in run["error"]
    check = project.run("warc", "check")  # every file whole, every stored pointer resolves
    assert check.returncode == 0, check.stdout + check.stderr
    assert not list(project.archive_dir.glob("*.open"))

    subprocess.run(["mount", "-o", "remount,size=64m", str(small_archive_disk)], check=True)
    again = project.crawl("--all")
    assert again.returncode == 0, again.stderr
    assert len(project.export()) == 120
    check = project.run("warc", "check")
    assert check.returncode == 0, check.stdout + check.stderr
