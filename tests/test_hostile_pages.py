"""Hostile pages, piece by piece: the parsers, the downloader guards and the status counts.

The crawl of the whole hostile site is tests/test_hostile_site.py; the cases found by
bench/fuzz.py are kept here as regression tests.
"""

from __future__ import annotations

import gzip

import pytest
from scrapy.http import HtmlResponse, Request

from govarchive.crawler.extract import NotHTMLError, extract_article
from govarchive.crawler.extract.encoding import check_html
from govarchive.crawler.links import parse_list_page
from govarchive.crawler.page_guards import GzipGuard, RedirectGuard, check_gzip
from govarchive.crawler.page_status import CorruptBody, RedirectLoop, TooLarge, TooManyRedirects
from govarchive.crawler.progress import crawl_counts
from tests.site.hostile import PARAGRAPH, article_html

URL = "http://www.example.gov.cn/zwgk/2024/content_1.htm"
LIST = "<ul>" + "".join(f'<li><a href="/2024/content_{n}.htm">通知{n}</a></li>'
                        for n in range(3)) + "</ul>"


# -- found by bench/fuzz.py -------------------------------------------------------------------

def test_list_finder_reads_a_page_lxml_calls_empty():
    assert parse_list_page("<!-- only a comment -->", URL).article_links == []


def test_list_finder_reads_xhtml_with_an_encoding_declaration():
    text = f'<?xml version="1.0" encoding="utf-8"?><html><body>{LIST}</body></html>'
    assert len(parse_list_page(text, URL).article_links) == 3


@pytest.mark.parametrize("bad", ["http://[::1/2024/content_9.htm", "http://[x"])
def test_hrefs_that_are_no_urls_are_skipped(bad):
    text = f'<html><head><base href="{bad}"></head><body>{LIST}<a href="{bad}">x</a></body>'
    assert len(parse_list_page(text, URL).article_links) == 3
    page = article_html(1, "通知").replace(
        "</div></div>", f'<a href="{bad}.pdf">附件</a><img src="{bad}"></div></div>')
    article = extract_article(page.encode(), URL)
    assert PARAGRAPH in article.body_text
    assert article.attachments == []


def test_script_pagination_claiming_billions_of_pages_is_capped():
    text = f"<html><body>{LIST}<script>createPageHTML(2000000000, 0, 'index', 'htm')</script>"
    assert len(parse_list_page(text, "http://www.example.gov.cn/zwgk/index.htm").next_pages) \
        <= 10_000


# -- deep nesting, binary bodies --------------------------------------------------------------

def test_text_nested_ten_thousand_deep_is_kept():
    page = article_html(1, "嵌套", wrap=("<div>" * 10_000, "</div>" * 10_000))
    assert PARAGRAPH in extract_article(page.encode(), URL).body_text
    links = parse_list_page("<html><body>" + "<div>" * 10_000 + LIST, URL).article_links
    assert len(links) == 3


def test_binary_bytes_labelled_html_are_not_html():
    with pytest.raises(NotHTMLError, match="binary"):
        check_html(bytes(range(256)) * 100, "text/html")
    check_html(article_html(1, "宽字符").encode("utf-16-le"), "text/html")  # no BOM, but text


# -- downloader guards ------------------------------------------------------------------------

def test_gzip_body_must_unzip_whole_and_within_the_size_cap():
    whole = gzip.compress(b"<p>x</p>" * 1000)
    check_gzip(whole)
    with pytest.raises(CorruptBody, match="cut short"):
        check_gzip(whole[: len(whole) // 2])
    with pytest.raises(CorruptBody, match="does not unzip"):
        check_gzip(whole[:12] + b"\xff" * 40 + whole[52:])
    with pytest.raises(TooLarge):
        check_gzip(gzip.compress(b"\0" * (8 << 20)), max_size=1 << 20)


def test_gzip_guard_refuses_a_truncated_response():
    body = gzip.compress(b"<html>" + b"x" * 5000)[:40]
    response = HtmlResponse(URL, body=body, headers={"Content-Encoding": "gzip"})
    with pytest.raises(CorruptBody):
        GzipGuard(1 << 20).process_response(Request(URL), response)


def _redirect(url: str, to: str, chain: list[str]):
    request = Request(url, meta={"redirect_urls": chain})
    return request, HtmlResponse(url, status=302, headers={"Location": to})


def test_redirect_guard_names_loops_and_long_chains():
    guard = RedirectGuard(max_times=3)
    a, b = "http://x.gov.cn/a.htm", "http://x.gov.cn/b.htm"
    with pytest.raises(RedirectLoop):
        guard.process_response(*_redirect(b, "/a.htm", [a]))
    with pytest.raises(TooManyRedirects):
        guard.process_response(*_redirect(b, "/c4.htm", [a, "http://x.gov.cn/c2.htm",
                                                         "http://x.gov.cn/c3.htm"]))
    request, response = _redirect(b, "/c.htm", [a])
    assert guard.process_response(request, response) is response


# -- counts -----------------------------------------------------------------------------------

def test_summary_counts_pages_by_status():
    counts = crawl_counts({"response_received_count": 9, "govarchive/status/blocked": 3,
                           "govarchive/status/too_large": 2, "govarchive/status/timeout": 1})
    assert counts.text().endswith(" · 3 blocked · 2 too large · 1 timeout")
    assert "blocked" not in crawl_counts({"response_received_count": 1}).text()
