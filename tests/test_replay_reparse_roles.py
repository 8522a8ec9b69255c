"""How reparse reads an archive it did not see being written: list pages, articles, redirects,
anti-bot answers, revisits -- on a small hand-made archive, no crawl."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from govarchive.crawler.reparse import reparse
from govarchive.settings import SourceSettings
from govarchive.warc import WarcWriter
from govarchive.warc.records import warc_date

SITE = "http://www.example.gov.cn"
START = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
HTML = [("Content-Type", "text/html; charset=utf-8")]


def article_page(title: str) -> bytes:
    return (f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
            f"<div class='pages-date'>2024-02-28 09:30</div><div id='content'>"
            f"<p>{title}。各地区各部门要认真贯彻落实，切实做好相关工作，确保取得实效。</p>"
            "<p>本通知自印发之日起施行。</p></div></body></html>").encode()


LIST_PAGE = (
    "<html><body><ul class='list'>"
    f"<li><a href='{SITE}/a/content_1.htm'>一</a></li>"
    f"<li><a href='/a/content_2.htm'>二</a></li>"
    f"<li><a href='/a/content_3.htm'>三</a></li>"
    "</ul></body></html>"
).encode()


@pytest.fixture
def archive(tmp_path):
    folder = tmp_path / "collections" / "c" / "archive"
    ticks = itertools.count()
    clock = lambda: START + timedelta(minutes=next(ticks))
    with WarcWriter(folder, clock=clock, hostname="test") as writer:
        def fetch(path, status=200, body=b"", headers=HTML):
            return writer.write_exchange(url=SITE + path, status=status, reason="",
                                         response_headers=headers, body=body)

        fetch("/list/index.htm", body=LIST_PAGE)
        first = fetch("/a/content_1.htm", body=article_page("关于第一件事的通知"))
        fetch("/a/content_2.htm", status=301, headers=[("Location", "/a/moved_2.htm")])
        fetch("/a/moved_2.htm", body=article_page("关于第二件事的通知"))
        fetch("/a/content_3.htm", status=412, body=b"<script>challenge()</script>")
        fetch("/a/unlinked.htm", body=article_page("不在列表中的页面"))
    # A later run found content_1 unchanged and archived a revisit (as warcprox would).
    with open(folder / "later.warc.gz", "wb") as f:
        revisit = WARCWriter(f, gzip=True).create_revisit_record(
            SITE + "/a/content_1.htm", first.payload_digest, SITE + "/a/content_1.htm",
            warc_date(first.fetched_at),
            http_headers=StatusAndHeaders("200 OK", HTML, protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Date": warc_date(START + timedelta(days=1))},
        )
        WARCWriter(f, gzip=True).write_record(revisit)
    return folder


SOURCE = SourceSettings(name="example", start_urls=[SITE + "/list/index.htm"],
                        rules={"article_links": "ul.list a", "title": "h1"})


def test_reparse_finds_articles_through_list_pages_and_redirects(archive, store):
    stats = reparse(store, [SOURCE], archive)
    assert stats.list_pages == 1 and stats.blocked == 1
    records = {r["url"]: r for r in store.iter_export()}
    assert set(records) == {SITE + "/a/content_1.htm", SITE + "/a/moved_2.htm"}
    moved = records[SITE + "/a/moved_2.htm"]
    assert set(moved["urls"]) == {SITE + "/a/content_2.htm", SITE + "/a/moved_2.htm"}
    assert moved["title"] == "关于第二件事的通知"
    (capture,) = [c for c in store.iter_captures() if c.url == SITE + "/a/moved_2.htm"]
    assert moved["first_seen"] == capture.fetched_at.isoformat()  # the fetch time, not now


def test_a_revisit_counts_as_seeing_the_article_again(archive, store):
    stats = reparse(store, [SOURCE], archive)
    assert stats.unchanged == 1
    first = next(r for r in store.iter_export() if r["url"].endswith("content_1.htm"))
    assert len(first["versions"]) == 1
    assert first["last_seen"] == (START + timedelta(days=1)).isoformat()


def test_every_capture_is_stored_even_without_an_article(archive, store):
    reparse(store, [SOURCE], archive)
    captures = list(store.iter_captures())
    assert len(captures) == 7  # 6 responses and the revisit, in capture order
    assert [c.fetched_at for c in captures] == sorted(c.fetched_at for c in captures)
    assert captures[-1].record_type == "revisit"


def test_without_the_source_nothing_is_an_article(archive, store):
    other = SourceSettings(name="other", start_urls=[SITE + "/elsewhere/index.htm"])
    stats = reparse(store, [other], archive)
    assert stats.articles == 0 and list(store.iter_export()) == []


def test_a_moved_article_whose_revisit_matched_gains_its_new_url(tmp_path, store):
    """A revisit redirected to a page whose validators matched (304): the crawl fetches that
    page again unconditionally and the article gains the new URL; the rebuild does the same."""
    folder = tmp_path / "archive"
    ticks = itertools.count()
    page = article_page("关于第一件事的通知")
    with WarcWriter(folder, clock=lambda: START + timedelta(minutes=next(ticks)),
                    hostname="test") as writer:
        def fetch(path, status=200, body=b"", headers=HTML):
            writer.write_exchange(url=SITE + path, status=status, reason="",
                                  response_headers=headers, body=body)

        fetch("/list/index.htm", body=LIST_PAGE)
        fetch("/a/content_1.htm", body=page)
        # The next run: the revisit of content_1 is redirected, 304, then fetched again.
        fetch("/a/content_1.htm", status=301, headers=[("Location", "/a/moved_1.htm")])
        fetch("/a/moved_1.htm", status=304, headers=[])
        fetch("/a/moved_1.htm", body=page)
    stats = reparse(store, [SOURCE], folder)
    (record,) = [r for r in store.iter_export() if r["title"] == "关于第一件事的通知"]
    assert record["urls"] == [SITE + "/a/content_1.htm", SITE + "/a/moved_1.htm"]
    assert len(record["versions"]) == 1
    assert stats.observations == 0  # the 304 was not an answer about the article itself
