"""Rebuild throughput: ``govarchive replay reparse`` next to the crawl that wrote the archive
and to a bare warcio read of the same archive, in one run.

Usage: python bench/reparse.py [--articles 2000] [--concurrency 16] [--keep DIR]

1. crawl: ``govarchive crawl`` of the generated bulk section (tests/site/bulk.py) served from
   its own process, timed as a whole process (pages counted from the site's request log);
2. warcio: every record of the resulting archive read with ``ArchiveIterator``, payloads read
   to the end, nothing parsed (in this process: the floor for any rebuild);
3. parse: reparse's reading, classifying and extracting in this process, nothing stored;
4. reparse: the database deleted, ``govarchive init``, then ``govarchive replay reparse``,
   timed as a whole process. The export before and after must be equal (the honesty check).

Pages are HTTP responses other than robots.txt, so the three rates count the same things.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PYTHON, rate, run_timed, serve_bulk, write_bulk_config

SOURCE = "bench"


def govarchive(config: Path, *args: str) -> list[str]:
    return [PYTHON, "-m", "govarchive", "--config", str(config), *args]


def must(done, what: str):
    if done.returncode != 0:
        raise SystemExit(f"{what} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done


def warcio_read(archive_dir: Path) -> tuple[int, int, float]:
    """(responses other than robots.txt, bytes, seconds) for a bare read of every record."""
    from warcio.archiveiterator import ArchiveIterator

    pages = size = 0
    started = time.perf_counter()
    for path in sorted(archive_dir.glob("*.warc.gz")):
        size += path.stat().st_size
        with open(path, "rb") as f:
            for record in ArchiveIterator(f):
                record.content_stream().read()
                if record.rec_type == "response":
                    uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                    pages += not uri.endswith("/robots.txt")
    return pages, size, time.perf_counter() - started


class _NoStore:
    """Takes what reparse would store and drops it: the rebuild minus the database."""

    def reset_derived(self, source=None) -> int:
        return 0

    def ingest(self, captures, articles, run_id=None, **more):
        from govarchive.storage import IngestResult

        return IngestResult()


def parse_only(config: Path, archive_dir: Path) -> tuple[int, float]:
    """(articles extracted, seconds) for reparse's reading and parsing, nothing stored."""
    from govarchive.crawler.reparse import reparse
    from govarchive.settings import load_settings

    settings = load_settings(config)
    started = time.perf_counter()
    stats = reparse(_NoStore(), settings.sources, archive_dir)
    return stats.articles, time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--keep", type=Path, help="keep the data in this (new) folder")
    args = parser.parse_args(argv)

    root = Path(tempfile.mkdtemp(prefix="govarchive-bench-reparse-"))
    site, log = serve_bulk(root, args.articles)
    try:
        folder = root / "data"
        folder.mkdir()
        config = write_bulk_config(folder, site.url("/lianbo/bulk/index.htm"),
                                   concurrency=args.concurrency,
                                   max_list_pages=(args.articles + 19) // 20 + 5)
        must(run_timed(govarchive(config, "init")), "govarchive init")
        log.mark()
        crawl = must(run_timed(govarchive(config, "crawl", SOURCE)), "govarchive crawl")
        crawled_pages = log.since_mark().pages
    finally:
        site.stop()

    before = must(run_timed(govarchive(config, "export")), "govarchive export").stdout
    archive_dir = folder / "archive" / "collections" / "bench" / "archive"
    pages, size, read_seconds = warcio_read(archive_dir)
    parsed, parse_seconds = parse_only(config, archive_dir)

    (folder / "govarchive.db").unlink()
    for leftover in folder.glob("govarchive.db-*"):
        leftover.unlink()
    must(run_timed(govarchive(config, "init")), "govarchive init")
    reparse = must(run_timed(govarchive(config, "replay", "reparse")), "govarchive replay reparse")
    after = must(run_timed(govarchive(config, "export")), "govarchive export").stdout
    articles = sum(1 for line in before.splitlines() if line.strip())

    print(f"archive: {pages} pages in {size / 1e6:.1f} MB of WARC; {articles} articles stored")
    print(f"crawl    {crawled_pages:>6} pages  {crawl.seconds:7.2f} s  "
          f"{rate(crawled_pages, crawl.seconds):8.1f} pages/s  (whole process)")
    print(f"warcio   {pages:>6} pages  {read_seconds:7.2f} s  "
          f"{rate(pages, read_seconds):8.1f} pages/s  (bare read, in process)")
    print(f"parse    {pages:>6} pages  {parse_seconds:7.2f} s  "
          f"{rate(pages, parse_seconds):8.1f} pages/s  (reparse, nothing stored, in process;"
          f" {parsed} articles)")
    print(f"reparse  {pages:>6} pages  {reparse.seconds:7.2f} s  "
          f"{rate(pages, reparse.seconds):8.1f} pages/s  (whole process)")
    print(f"reparse/crawl {crawl.seconds / reparse.seconds:.2f}x faster; "
          f"reparse/warcio {reparse.seconds / read_seconds:.1f}x the bare read time")
    print("  " + reparse.stderr.strip().splitlines()[-1])
    equal = before == after
    print(f"export after the rebuild equals the crawl's: {'yes' if equal else 'NO'}")

    if args.keep:
        shutil.copytree(root, args.keep)
    shutil.rmtree(root, ignore_errors=True)
    return 0 if equal else 1


if __name__ == "__main__":
    raise SystemExit(main())
