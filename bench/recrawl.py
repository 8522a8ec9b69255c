"""Unchanged recrawl: what revisiting every known article costs once nothing has changed.

Usage: python bench/recrawl.py [--articles 1000] [--concurrency 16] [--gzip-all] [--keep DIR]

Serves the generated bulk section (tests/site/bulk.py) from its own process, crawls it in full
with ``govarchive crawl``, then crawls it again unchanged with ``--revisit all``, and prints
from the site's request log and the new WARC files:

* ``extra requests``: requests of the recrawl that are neither list pages, nor revisits
  (conditional requests for known articles), nor robots.txt. Target 0: a known article is
  never fetched unconditionally, and neither are its attachments.
* ``bytes per revisited page``: the revisit records and their request records the recrawl
  wrote, divided by the number of revisited pages. Target <= 1.5 KB (1536 bytes): an
  unchanged page is archived as a header-only revisit record, not a second copy.

Also printed: how the revisits were answered (304 or 200), the recrawl's total archive bytes
and its wall time. Exit code 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PYTHON, RequestLog, run_timed, write_bulk_config

from tests.site.process import SiteProcess

SOURCE = "bench"
MAX_EXTRA_REQUESTS = 0
MAX_BYTES_PER_PAGE = 1536
PER_LIST_PAGE = 20


def govarchive(config: Path, *args: str) -> list[str]:
    return [PYTHON, "-m", "govarchive", "--config", str(config), *args]


def _run(config: Path, *args: str):
    done = run_timed(govarchive(config, *args))
    if done.returncode not in (0,):
        raise SystemExit(f"govarchive {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done


def _is_list_page(target: str) -> bool:
    return target.split("?", 1)[0].rpartition("/")[2].startswith("index")


def _header(request: dict, name: str) -> str | None:
    return next((v for k, v in request["headers"] if k.lower() == name.lower()), None)


def revisit_bytes(files: list[Path]) -> tuple[int, int, int]:
    """(revisit records, their bytes with their request records, all bytes) in ``files``."""
    from warcio.archiveiterator import ArchiveIterator

    count = revisit_total = 0
    revisit_ids: set[str] = set()
    total = 0
    for path in files:
        total += path.stat().st_size
        with path.open("rb") as f:
            records = ArchiveIterator(f)
            for record in records:
                headers = record.rec_headers
                record.content_stream().read()
                length = records.get_record_length()
                kind = headers.get_header("WARC-Type")
                if kind == "revisit":
                    count += 1
                    revisit_total += length
                    revisit_ids.add(headers.get_header("WARC-Record-ID"))
                elif kind == "request" and headers.get_header("WARC-Concurrent-To") in revisit_ids:
                    revisit_total += length
    return count, revisit_total, total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--gzip-all", action="store_true", help="the site gzips every page")
    parser.add_argument("--keep", type=Path, help="keep the data folder here")
    args = parser.parse_args(argv)

    root = Path(tempfile.mkdtemp(prefix="govarchive-recrawl-"))
    log = RequestLog(root / "site-requests.jsonl")
    site_args = ["--gzip-all"] if args.gzip_all else []
    site = SiteProcess("bulk", log.path, articles=args.articles, python=PYTHON)
    site.args += site_args
    site.start()
    try:
        start_url = site.url("/lianbo/bulk/index.htm")
        list_pages = (args.articles + PER_LIST_PAGE - 1) // PER_LIST_PAGE
        config = write_bulk_config(root, start_url, concurrency=args.concurrency,
                                   max_list_pages=list_pages + 5)
        _run(config, "init")
        full = _run(config, "crawl", SOURCE)
        archive = root / "archive" / "collections" / "bench" / "archive"
        before = set(archive.glob("*.warc.gz"))
        log.mark()
        again = _run(config, "crawl", SOURCE, "--revisit", "all")
        requests = log.since_mark().requests
        new_files = sorted(set(archive.glob("*.warc.gz")) - before)
        runs = json.loads(_run(config, "runs", "--json", "--limit", "2").stdout)
    finally:
        site.stop()

    lists = [r for r in requests if _is_list_page(r["target"])]
    revisits = [r for r in requests if not _is_list_page(r["target"])
                and (_header(r, "If-None-Match") or _header(r, "If-Modified-Since"))]
    robots = [r for r in requests if r["target"] == "/robots.txt"]
    extra = len(requests) - len(lists) - len(revisits) - len(robots)
    records, record_bytes, total_bytes = revisit_bytes(new_files)
    per_page = record_bytes / records if records else float("inf")
    print(f"articles: {args.articles}, list pages: {list_pages}, "
          f"full crawl {full.seconds:.1f} s, recrawl {again.seconds:.1f} s")
    print(f"recrawl requests: {len(requests)} = {len(lists)} list pages + {len(revisits)} "
          f"revisits + {len(robots)} robots.txt + {extra} extra")
    print(f"revisit records: {records} ({record_bytes} bytes with their request records); "
          f"recrawl archive bytes in all: {total_bytes}")
    print(f"extra requests: {extra} (target {MAX_EXTRA_REQUESTS})")
    print(f"bytes per revisited page: {per_page:.0f} (target <= {MAX_BYTES_PER_PAGE})")
    print(f"runs: {json.dumps([{k: r[k] for k in ('id', 'status', 'requests', 'new_articles', 'new_versions', 'bytes_archived')} for r in runs], ensure_ascii=False)}")
    if args.keep:
        shutil.copytree(root, args.keep, dirs_exist_ok=True)
    shutil.rmtree(root, ignore_errors=True)
    missed = extra > MAX_EXTRA_REQUESTS or per_page > MAX_BYTES_PER_PAGE
    return 1 if missed or len(revisits) != args.articles else 0


if __name__ == "__main__":
    sys.exit(main())
