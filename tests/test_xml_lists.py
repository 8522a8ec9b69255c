"""Section lists answered as XML (crawler.xml_lists): a list API's items, RSS and Atom, read
with no rules, and the shell page's call that asks them. Every feed here is ours, modelled on
www.news.gov.hk's category pages (an XHR to a JSP answering ``<items><item>…``)."""

from __future__ import annotations

import pytest

from govarchive.crawler.extract import NotHTMLError
from govarchive.crawler.json_lists import decode_list_body
from govarchive.crawler.links import parse_list_page
from govarchive.crawler.probe import probe_list_page

HOST = "https://www.example.gov.hk"
API = HOST + "/jsp/sortedArticles.jsp?language=chi&category=finance&max=4&returnCnt=50"


def items_feed(count: int = 4) -> str:
    items = "".join(
        f"<item><title>第{i}則財經新聞的標題</title>"
        f"<previewImagePath>/images/2024/05/{i}.jpg</previewImagePath>"
        f"<summary>摘要{i}</summary>"
        f"<htmlPath>/chi/2024/05/20240507/20240507_1{i:05d}_321.html</htmlPath>"
        f"<publishDate>2024-05-07</publishDate></item>" for i in range(count))
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<items>{items}</items>'


def test_a_list_api_answering_xml_items():
    text, is_json = decode_list_body(items_feed().encode("utf-8"), "text/xml;charset=UTF-8")
    assert not is_json
    page = parse_list_page(text, API, content_type="text/xml;charset=UTF-8")
    assert page.article_links == [
        (f"{HOST}/chi/2024/05/20240507/20240507_1{i:05d}_321.html", f"第{i}則財經新聞的標題")
        for i in range(4)]  # the preview image is not the item's address
    assert page.next_pages == [] and page.api_requests == []


def test_rss_and_atom_feeds():
    rss = ('<?xml version="1.0"?><rss version="2.0"><channel><title>新聞公報</title>'
           f"<link>{HOST}/</link>" + "".join(
               f"<item><title>公報{i}</title><link>{HOST}/gia/general/202405/07/"
               f"P20240507000{i}.htm</link></item>" for i in range(3)) + "</channel></rss>")
    page = parse_list_page(rss, HOST + "/rss/press.xml")
    assert [url for url, _ in page.article_links] == [
        f"{HOST}/gia/general/202405/07/P20240507000{i}.htm" for i in range(3)]
    atom = ('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
            + "".join(f'<entry><title>消息{i}</title><link href="/news/{5000 + i}.html"/></entry>'
                      for i in range(2)) + "</feed>")
    page = parse_list_page(atom, HOST + "/atom.xml", content_type="application/atom+xml")
    assert [url for url, _ in page.article_links] == [f"{HOST}/news/{5000 + i}.html"
                                                      for i in range(2)]


def test_the_shell_page_asks_its_xml_list_and_the_probe_reads_the_answer():
    # The category comes from a variable the page sets; a visit counter is not a list.
    shell = ('<html><body><div id="newsList"></div><script>var lang = "chi";\n'
             'var category = "finance";\n$.ajax({url: "/jsp/sortedArticles.jsp",'
             ' data: {language: lang, category: category, max: 4, returnCnt: 50},'
             ' dataType: "xml", success: function (xml) { render(xml); }});'
             '$.get("/jsp/visitCount.jsp", {id: 3});</script></body></html>')
    page = parse_list_page(shell, HOST + "/chi/categories/finance/index.html")
    assert [request.url for request in page.list_requests()] == [API]
    report = probe_list_page(items_feed(3).encode("utf-8"), API, content_type="text/xml")
    assert len(report.links) == 3 and report.error is None


def test_other_xml_is_still_not_a_list():
    with pytest.raises(NotHTMLError):
        decode_list_body(b'<?xml version="1.0"?><config><entry-point>x</entry-point></config>',
                         "application/xml")
    sitemap = ('<?xml version="1.0"?><urlset><url><loc>https://x.gov.hk/a.html</loc></url>'
               "</urlset>")
    assert parse_list_page(sitemap, HOST + "/sitemap.xml").article_links == []
