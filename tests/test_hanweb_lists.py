"""Hanweb JCMS (大汉) columns walked with no rules: the list inside ``<datastore>`` records, the
further records by POST to the data proxy, archived with their bodies and rebuilt by
``replay reparse``."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest

from govarchive.crawler.links import parse_list_page
from tests.crawling import make_project, site_source
from tests.site.hanweb import DECOY, PROXY, START, HanwebSite
from tests.site.server import SiteServer

BASE = "http://fgw.example.gov.cn"


def proxy_answer(site: HanwebSite, url: str, form: dict) -> str:
    return site.proxy_xml(dict(parse_qsl(urlsplit(url).query)), form)


def test_column_page_gives_its_records_and_the_next_post():
    site = HanwebSite()
    page = parse_list_page(site.column_html(), BASE + START)
    expected = list(site.expected["articles"])[:15]
    assert [url for url, _ in page.article_links] == [BASE + p for p in expected]
    assert page.article_links[0][1] == site.meta(0)["title"]
    assert BASE + DECOY not in dict(page.article_links)  # the 热点 box is not the list
    first = page.next_pages[0]
    assert first == BASE + PROXY + "?startrecord=16&endrecord=30&perpage=5"
    assert page.forms[first] == site.form()
    assert [BASE + p for p in site.expected["list_pages"][1:]] == page.next_pages


def test_proxy_answer_asks_the_next_range_until_the_total():
    site = HanwebSite()
    form = site.form()
    first = BASE + PROXY + "?startrecord=16&endrecord=30&perpage=5"
    page = parse_list_page(proxy_answer(site, first, form), first, form=form)
    assert [url for url, _ in page.article_links] == [
        BASE + p for p in list(site.expected["articles"])[15:30]]
    following = BASE + PROXY + "?startrecord=31&endrecord=45&perpage=5"
    assert page.next_pages == [following]
    assert page.forms[following] == form
    last = parse_list_page(proxy_answer(site, following, form), following, form=form)
    assert len(last.article_links) == 15
    assert last.next_pages == []  # the total (45) is reached


def test_a_short_proxy_answer_ends_the_list():
    site = HanwebSite(articles=20)
    form = site.form()
    url = BASE + PROXY + "?startrecord=16&endrecord=30&perpage=5"
    xml = proxy_answer(site, url, form).replace("<totalrecord>20</totalrecord>", "")
    page = parse_list_page(xml, url, form=form)
    assert len(page.article_links) == 5
    assert page.next_pages == []


def test_form_comes_from_nextgroup_when_the_script_names_none():
    site = HanwebSite()
    html = site.column_html()
    cut = html.index("<script>var param_")
    html = html[:cut] + html[html.index("</script>", cut) + len("</script>"):]
    page = parse_list_page(html, BASE + START)
    assert page.next_pages, "the <nextgroup> link still names the column and unit"
    form = page.forms[page.next_pages[0]]
    assert form["columnid"] == "1234" and form["unitid"] == "5678"


def test_server_answers_the_proxy_post_only_to_the_column_form():
    import urllib.request
    from urllib.parse import urlencode

    site = HanwebSite()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with SiteServer(site) as server:
        target = server.url(PROXY + "?startrecord=16&endrecord=30&perpage=5")
        good = opener.open(target, data=urlencode(site.form()).encode(), timeout=10).read()
        foreign = opener.open(target, data=b"columnid=1&unitid=2", timeout=10).read()
        assert server.requests_for(PROXY)[0].method == "POST"
    assert good.decode("utf-8").count("<record>") == 15
    assert foreign.decode("utf-8").count("<record>") == 0


# -- the real page ------------------------------------------------------------------------


@pytest.fixture
def real_gov(shared_dir):
    folder = shared_dir / "corpus" / "real-gov"
    if not (folder / "index.jsonl").is_file():
        pytest.skip(f"{folder} is absent (the real-page corpus is optional)")
    return folder


def test_real_hanweb_column(real_gov):
    entries = [json.loads(line) for line in
               (real_gov / "index.jsonl").read_text(encoding="utf-8").splitlines() if line]
    hanweb = [e for e in entries if e["kind"] == "list" and "Hanweb JCMS" in e["cms_family"]
              and e["labels"].get("article_links")]
    assert hanweb, "the corpus lists a Hanweb JCMS column"
    for entry in hanweb:
        text = (real_gov / "pages" / entry["file"]).read_text(encoding="utf-8")
        page = parse_list_page(text, entry["original_url"])
        found = [url for url, _ in page.article_links]
        labelled = entry["labels"]["article_links"]
        assert len(set(found) & set(labelled)) / len(labelled) >= 0.95, entry["id"]
        assert set(found) <= set(labelled), entry["id"]  # no navigation, no decoys
        wanted = entry["labels"]["next_page"]
        assert page.next_pages[0] == wanted["url"], entry["id"]
        assert page.forms[page.next_pages[0]] == wanted["form"], entry["id"]


# -- end to end ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    root = tmp_path_factory.mktemp("hanweb")
    site = HanwebSite()
    with SiteServer(site) as server:
        project = make_project(root, [site_source("hanweb", server)])
        result = project.crawl("hanweb")
        assert result.returncode == 0, result.stderr
        yield project, server, site


@pytest.mark.slow
def test_crawl_from_the_start_url_stores_every_article(crawled):
    project, server, site = crawled
    records = {urlsplit(r["url"]).path: r for r in project.export()}
    assert set(records) == set(site.expected["articles"])
    for path, expected in site.expected["articles"].items():
        record = records[path]
        assert record["title"] == expected["title"], path
        assert record["published_at"] == expected["published"], path
        assert record["origin"] == expected["origin"], path
        assert expected["body_contains"] in record["body_text"], path
    posted = [target for target, form in site.requests_posted if form == site.form()]
    assert sorted(posted) == sorted(site.expected["list_pages"][1:])
    assert not server.requested(DECOY)


@pytest.mark.slow
def test_proxy_posts_are_archived_with_their_bodies(crawled):
    from warcio.archiveiterator import ArchiveIterator

    project, _server, site = crawled
    bodies = {}
    for path in project.warc_files():
        with open(path, "rb") as f:
            for record in ArchiveIterator(f):
                if record.rec_type != "request":
                    continue
                uri = record.rec_headers.get_header("WARC-Target-URI")
                if PROXY in uri:
                    assert record.http_headers.protocol == "POST", uri
                    bodies[urlsplit(uri).query] = dict(parse_qsl(
                        record.content_stream().read().decode("utf-8")))
    wanted = [urlsplit(p).query for p in site.expected["list_pages"][1:]]
    assert sorted(bodies) == sorted(wanted)
    assert all(form == site.form() for form in bodies.values())


@pytest.mark.slow
def test_reparse_rebuilds_the_same_articles_and_listings(crawled):
    project, server, _site = crawled
    before = project.export()
    listed_before = project.sections()
    assert set(listed_before.values()) == {server.url(START)}  # every article listed
    result = project.rebuild_from_archive()
    assert ": 3 list pages, 45 articles" in result.stderr  # the column page and both POSTs
    assert project.export() == before
    assert project.sections() == listed_before


def server_paged_column(total: int | None, per_page: int = 15, held: int = 15,
                        unit: str = "7788") -> str:
    """A Hanweb column the server pages as ``index.html?uid=<unit>&pageNum=N``: a datastore
    with no ``<nextgroup>`` and a jpage call naming no proxy form."""
    records = "".join(
        f"<record><![CDATA[<li><a href='/art/2024/5/{i % 28 + 1}/art_4321_{880000 + i}.html'>"
        f"关于第{i}批项目的公示</a><span>2024-05-{i % 28 + 1:02d}</span></li>]]></record>"
        for i in range(held))
    options = f"perPage:{per_page},dataStore:$('#{unit}').children('script').html()"
    if total is not None:
        options = f"totalRecord:{total}," + options
    return ('<html><body><ul class="nav"><li><a href="/col/col4320/index.html">概况</a></li></ul>'
            f'<div id="{unit}"><script type="text/xml"><datastore><recordset>{records}'
            "</recordset></datastore></script></div>"
            f"<script>$('#{unit}').jpage({{{options}}});</script></body></html>")


def test_a_column_paged_by_the_server_asks_its_page_numbers():
    url = BASE + "/col/col4321/index.html"
    page = parse_list_page(server_paged_column(total=40), url)
    assert len(page.article_links) == 15
    assert page.next_pages == [url + "?uid=7788&pageNum=2", url + "?uid=7788&pageNum=3"]
    assert page.forms == {}  # asked by GET
    assert [r.method for r in page.list_requests()] == ["GET", "GET"]
    second = parse_list_page(server_paged_column(total=40), url + "?uid=7788&pageNum=2")
    assert second.next_pages == [url + "?uid=7788&pageNum=3"]
    last = parse_list_page(server_paged_column(total=40, held=10), url + "?uid=7788&pageNum=3")
    assert last.next_pages == []


def test_a_server_paged_column_without_a_total_asks_the_next_page_while_pages_are_full():
    url = BASE + "/col/col4321/index.html"
    assert parse_list_page(server_paged_column(total=None), url).next_pages == [
        url + "?uid=7788&pageNum=2"]
    short = parse_list_page(server_paged_column(total=None, held=6), url + "?uid=7788&pageNum=4")
    assert short.next_pages == []


def test_a_column_with_a_proxy_form_is_not_paged_by_page_number():
    site = HanwebSite()
    page = parse_list_page(site.column_html(), BASE + START)
    assert not any("pageNum=" in url for url in page.next_pages)
