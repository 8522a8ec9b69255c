"""Section lists delivered as JSON (crawler.json_lists, crawler.script_lists, crawler.list_api):
read on pages we write, on the two real Zhejiang pages, and crawled end to end."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest

from govarchive.crawler.api_pages import MAX_API_PAGES, ApiCall, next_page_call
from govarchive.crawler.extract import NotHTMLError
from govarchive.crawler.json_lists import decode_list_body, read_json_list
from govarchive.crawler.links import ListRequest, parse_list_page
from govarchive.crawler.list_api import ListApiError, api_call, read_api_page
from govarchive.crawler.script_lists import script_list_calls
from tests.site.json_lists import (
    CONFIGURED,
    DECOY,
    FORM_API,
    GOVCN,
    JPAAS,
    STARTS,
    UCMS,
    UCMS_API,
    UNIT_API,
    UNIT_QUERY,
    JsonListsSite,
)

BASE = "http://www.example.gov.cn"


def walk(site: JsonListsSite, section: str) -> tuple[list[str], list[ListRequest]]:
    """Read a section as the spider does, answering from the site: (article URLs, requests)."""
    shell = {GOVCN: site.govcn_shell, JPAAS: site.jpaas_shell, UCMS: site.ucms_shell}[section]()
    page = parse_list_page(shell, BASE + STARTS[section])
    assert page.article_links == []
    links, asked = [], []
    pending = page.list_requests()
    while pending:
        request = pending.pop(0)
        asked.append(request)
        parts = urlsplit(request.url)
        if parts.path == UNIT_API:
            text = site.jpaas_answer(dict(parse_qsl(parts.query)))
        elif parts.path == UCMS_API:
            text = site.ucms_answer(json.loads(request.body))
        else:
            text = site.govcn_json()
        answer = parse_list_page(text, request.url, request=request,
                                 content_type="application/json")
        links += [url for url, _ in answer.article_links]
        pending = answer.list_requests()[:1]
        assert len(asked) < 20
    return links, asked


@pytest.mark.parametrize("section", [GOVCN, JPAAS, UCMS])
def test_a_shell_leads_to_every_article_through_its_api(section):
    site = JsonListsSite()
    links, asked = walk(site, section)
    wanted = site.expected["sections"][section]
    assert links == [BASE + path for path in wanted["articles"]]
    made = [(r.method, urlsplit(r.url).path, sorted(parse_qsl(urlsplit(r.url).query)), r.body)
            for r in asked]
    expected = [(m, urlsplit(t).path, sorted(parse_qsl(urlsplit(t).query)), b)
                for m, t, b in wanted["list_requests"]]
    assert made == expected


def test_the_ucms_api_is_posted_as_json():
    _links, asked = walk(JsonListsSite(), UCMS)
    assert {(r.method, r.content_type) for r in asked} == {("POST", "application/json")}
    assert [json.loads(r.body)["pageNo"] for r in asked] == [1, 2, 3]


def test_jpaas_titles_come_whole_from_the_title_attribute():
    site = JsonListsSite()
    shell = parse_list_page(site.jpaas_shell(), BASE + STARTS[JPAAS])
    first = shell.list_requests()[0]
    assert dict(parse_qsl(urlsplit(first.url).query)) == UNIT_QUERY
    answer = parse_list_page(site.jpaas_answer(UNIT_QUERY), first.url, request=first)
    assert answer.article_links[0][1] == site.meta(JPAAS, 0)["title"]


def test_the_govcn_sidebar_is_not_the_list():
    site = JsonListsSite()
    page = parse_list_page(site.govcn_shell(), BASE + STARTS[GOVCN])
    assert BASE + DECOY not in dict(page.article_links)
    assert [r.url for r in page.list_requests()] == [BASE + "/zhengce/zuixin/ZUIXIN.json"]


# -- reading JSON answers -------------------------------------------------------------------


def test_the_fullest_array_of_linked_objects_is_the_list():
    answer = {
        "nav": [{"name": "首页", "url": "/"}, {"name": "政策", "url": "/zc/"}],
        "data": {"rows": [
            {"title": "通知一", "linkUrl": "//www.example.gov.cn/a/1.html", "pubDate": "2024-03-01",
             "picUrl": "/img/1.jpg"},
            {"title": "通知二", "linkUrl": "../../b/2.html", "pubDate": "2024-03-02"},
            {"title": "通知三", "linkUrl": "./c/3.html", "pubDate": "2024-03-03"},
            {"title": "通知四", "linkUrl": "https://other.example.gov.cn/d/4.html"},
        ], "total": 4},
    }
    found = read_json_list(json.dumps(answer, ensure_ascii=False),
                           ApiCall(BASE + "/api/x/y/list"))
    assert [i.url for i in found.items] == [
        BASE + "/a/1.html", BASE + "/api/b/2.html", BASE + "/api/x/y/c/3.html",
        "https://other.example.gov.cn/d/4.html"]
    assert [i.title for i in found.items][:2] == ["通知一", "通知二"]
    assert found.items[0].date == "2024-03-01"
    assert found.next_call is None  # no page number in the request: one answer is the list


def test_items_whose_keys_name_nothing_are_read_by_their_values():
    # Field ids (TRS 海云) and pinyin keys: the address, the title and the date by their shape.
    summary = "为进一步做好相关工作，" * 20
    rows = [{"f_202121500898": f"关于做好第{i}项重点工作的通知", "f_202121607647": f"2024-03-0{i}",
             "wzlj": f"/art/2024/3/{i}/art_1_{100 + i}.html", "tp": f"/images/{i}.jpg",
             "lanmu": "/zwgk/tzgg/", "zhaiyao": summary, "xh": str(i)} for i in range(1, 4)]
    found = read_json_list(json.dumps({"data": {"rows": rows}}, ensure_ascii=False),
                           ApiCall(BASE + "/api/list"))
    assert [(i.url, i.title, i.date) for i in found.items] == [
        (f"{BASE}/art/2024/3/{i}/art_1_{100 + i}.html", f"关于做好第{i}项重点工作的通知",
         f"2024-03-0{i}") for i in range(1, 4)]


def test_jsonp_and_a_json_file_labelled_html_are_read():
    text = 'jsonp_cb({"list": [{"title": "甲", "url": "/a/1.html"}]});'
    assert [i.url for i in read_json_list(text, ApiCall(BASE + "/l.js")).items] == \
        [BASE + "/a/1.html"]
    body = json.dumps([{"TITLE": "乙", "URL": "/b/2.htm"}], ensure_ascii=False).encode()
    text, is_json = decode_list_body(body, "text/html; charset=utf-8")
    assert is_json
    page = parse_list_page(text, BASE + "/x.json", content_type="text/html")
    assert page.article_links == [(BASE + "/b/2.htm", "乙")]


def test_binary_and_garbage_are_still_not_html():
    with pytest.raises(NotHTMLError):
        decode_list_body(b"%PDF-1.7\n" + bytes(range(256)), "application/json")
    with pytest.raises(NotHTMLError):
        decode_list_body(b"\x00\x01\x02garbage", None)
    with pytest.raises(NotHTMLError):
        decode_list_body(b"{not json at all", "text/plain")


@pytest.mark.parametrize(("call", "expected"), [
    (ApiCall(BASE + "/api?pageNo=1&pageSize=2"), ApiCall(BASE + "/api?pageNo=2&pageSize=2")),
    (ApiCall(BASE + "/api", "POST", "page=1&rows=2", "application/x-www-form-urlencoded"),
     ApiCall(BASE + "/api", "POST", "page=2&rows=2", "application/x-www-form-urlencoded")),
    (ApiCall(BASE + "/api", "POST", '{"pageIndex":"0","size":2}', "application/json"),
     ApiCall(BASE + "/api", "POST", '{"pageIndex":"1","size":2}', "application/json")),
    (ApiCall(BASE + "/api?start=0&limit=2"), ApiCall(BASE + "/api?start=2&limit=2")),
    (ApiCall(BASE + '/u?paramJson={"pageNo":1,"pageSize":2}&x=1'),
     ApiCall(BASE + "/u?paramJson=%7B%22pageNo%22%3A2%2C%22pageSize%22%3A2%7D&x=1")),
    (ApiCall(BASE + "/static/data/DocInfo/data_itemId=915,pageIndex=1,pageSize=2.json"),
     ApiCall(BASE + "/static/data/DocInfo/data_itemId=915,pageIndex=2,pageSize=2.json")),
])
def test_the_page_number_moves_on_where_the_request_carries_it(call, expected):
    following, _pages = next_page_call(call, shown=2, totals={"records": 10})
    assert following == expected


def test_the_walk_stops_at_the_total_at_a_short_page_and_when_empty():
    call = ApiCall(BASE + "/api?pageNo=3&pageSize=10")
    assert next_page_call(call, 10, {"pages": 3}) == (None, 3)
    assert next_page_call(call, 10, {"records": 30}) == (None, 3)
    assert next_page_call(call, 7, {}) == (None, None)
    assert next_page_call(call, 0, {})[0] is None
    assert next_page_call(call, 10, {"pages": 4})[0] == ApiCall(BASE + "/api?pageNo=4&pageSize=10")
    zero_based = ApiCall(BASE + "/api?pageIndex=0")
    assert next_page_call(zero_based, 5, {"pages": 2})[0] == ApiCall(BASE + "/api?pageIndex=1")
    # From page 1 on, a 0-based count looks 1-based: at most one page past the end is asked,
    # and its empty answer ends the walk.
    past = ApiCall(BASE + "/api?pageIndex=2")
    assert next_page_call(past, 5, {"pages": 2})[0] is None
    assert next_page_call(past, 0, {})[0] is None
    endless = ApiCall(BASE + f"/api?page={MAX_API_PAGES}")
    assert next_page_call(endless, 5, {})[0] is None  # bounded, whatever the server claims


# -- list APIs named in a page's script -----------------------------------------------------


def test_script_calls_of_every_shape():
    page = """<html><body><ul id="l"></ul><script>
    $.getJSON("/data/list.json", function (d) {});
    fetch('/api/news/page', {method: 'POST', headers: {'Content-Type': 'application/json'},
          body: JSON.stringify({catId: 'xw', page: 1, size: 20})});
    $.post("/cms/list.do", {columnId: "12", curPage: 1}, function (r) {});
    axios.get('/api/articles?pageNum=1&pageSize=15');
    $.ajax({url: '/visit/count.jsp', data: {id: 12}});
    $.ajax({url: '/api/list?pageNo=' + n});
    var listUrl = "./LIEBIAO.json";
    $.getJSON(listUrl, function (d) {});
    $.ajax({url: listUrl, dataType: 'json'});
    </script></body></html>"""
    calls = script_list_calls(page, BASE + "/xw/index.html")
    assert calls == [
        ApiCall(BASE + "/data/list.json"),
        ApiCall(BASE + "/api/news/page", "POST", '{"catId":"xw","page":1,"size":20}',
                "application/json"),
        ApiCall(BASE + "/cms/list.do", "POST", "columnId=12&curPage=1",
                "application/x-www-form-urlencoded"),
        ApiCall(BASE + "/api/articles?pageNum=1&pageSize=15"),
        ApiCall(BASE + "/xw/LIEBIAO.json"),  # named through a variable (twice: asked once)
    ]  # the visit counter and the URL built at run time are not asked


def test_of_several_jpaas_units_the_list_unit_is_asked():
    page = """<html><body>
    <script id="a1" url="/api-gateway/jpaas-publish-server/front/page/build/unit"
     queryData="{'webId':'5','pageId':'9','tagId':'热点排行'}"></script>
    <script id="a2" url="/api-gateway/jpaas-publish-server/front/page/build/unit"
     queryData="{'webId':'5','pageId':'9','tagId':'分页列表'}"></script></body></html>"""
    [call] = script_list_calls(page, BASE + "/col/col9/index.html")
    assert dict(parse_qsl(urlsplit(call.url).query))["tagId"] == "分页列表"


def test_a_page_that_shows_its_list_asks_no_api():
    page = """<html><body><ul class="list">
    <li><a href="/a/202403/t20240301_1.html">一</a></li>
    <li><a href="/a/202403/t20240302_2.html">二</a></li>
    <li><a href="/a/202403/t20240303_3.html">三</a></li></ul>
    <script>$.getJSON("/hot/list.json", function (d) {});</script></body></html>"""
    page = parse_list_page(page, BASE + "/a/index.html")
    assert len(page.article_links) == 3
    assert page.api_requests == []


# -- [sources.list_api] ----------------------------------------------------------------------


SPEC = {"url": BASE + FORM_API, "method": "POST", "body": "page={page}&rows=8&column=zcwj",
        "content_type": None, "first_page": 1, "items": "result.rows", "url_field": None,
        "title_field": "docTitle", "date_field": "pubDate",
        "url_template": "/zwgk/zcwj/content_{docId}.html"}


def test_list_api_pages_until_the_total():
    site = JsonListsSite()
    call, page, urls = api_call(SPEC, 1), 1, []
    while call is not None:
        assert call.content_type == "application/x-www-form-urlencoded"
        items, call = read_api_page(site.form_answer(dict(parse_qsl(call.body))), BASE + FORM_API,
                                    SPEC, page)
        urls += [item.url for item in items]
        page += 1
    assert urls == [BASE + p for p in site.expected["sections"][CONFIGURED]["articles"]]
    assert page == 4  # 20 articles, 8 a page


def test_list_api_paths_that_match_nothing_are_named():
    text = JsonListsSite().form_answer({"page": "1", "rows": "8", "column": "zcwj"})
    with pytest.raises(ListApiError, match=r'list_api.items "data.list" matched nothing in '
                                           r"http://www.example.gov.cn/interface"):
        read_api_page(text, BASE + FORM_API, {**SPEC, "items": "data.list"}, 1)
    with pytest.raises(ListApiError, match=r'list_api.url_field "link" matched nothing'):
        read_api_page(text, BASE + FORM_API, {**SPEC, "url_template": None, "url_field": "link"},
                      1)
    with pytest.raises(ListApiError, match=r'list_api.url_template "\{doc.id\}"'):
        read_api_page(text, BASE + FORM_API, {**SPEC, "url_template": "/a/{doc.id}.html"}, 1)
    with pytest.raises(ListApiError, match="is a dict, not an array"):
        read_api_page(text, BASE + FORM_API, {**SPEC, "items": "result"}, 1)


@pytest.mark.parametrize(("table", "error"), [
    ('url = "https://x.gov.cn/api?p={page}"\nitems = "data..list"',
     "invalid list_api.items path 'data..list'"),
    ('url = "https://x.gov.cn/api?p={page}"\nitems = "data"\ntitle_field = "a b"',
     "invalid list_api.title_field path 'a b'"),
    ('url = "https://x.gov.cn/api"\nitems = "data"', "list_api has no {page}"),
    ('url = "https://x.gov.cn/api?p={page}"\nitems = "d"\nmethod = "PUT"',
     "invalid list_api.method 'PUT'"),
    ('url = "https://x.gov.cn/api?p={page}"\nitems = "d"\nbody = "x"',
     "list_api.body given for a GET"),
    ('url = "/api?p={page}"\nitems = "d"', "invalid list_api.url"),
    ('url = "https://x.gov.cn/a?p={page}"\nitems = "d"\nurl_template = "https://x.gov.cn/a.html"',
     "invalid list_api.url_template"),
])
def test_list_api_config_errors_name_the_key(tmp_path, table, error):
    from govarchive.settings import ConfigError, load_settings

    config = tmp_path / "govarchive.toml"
    config.write_text('[[sources]]\nname = "s"\nstart_urls = ["https://x.gov.cn/zc/"]\n'
                      f"[sources.list_api]\n{table}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(config, env={})
    assert error in str(info.value)
    assert "govarchive.toml:" in str(info.value)


def test_list_api_keys_are_documented_in_the_example_config():
    from pathlib import Path

    from govarchive.settings.model import ListApiSettings

    text = (Path(__file__).parents[1] / "deploy" / "govarchive.toml").read_text(encoding="utf-8")
    assert [key for key in ListApiSettings.model_fields if key not in text] == []
    assert "[sources.list_api]" in text


# -- the real pages --------------------------------------------------------------------------


@pytest.fixture
def zj_pages(shared_dir):
    folder = shared_dir / "corpus" / "real-gov"
    if not (folder / "index.jsonl").is_file():
        pytest.skip(f"{folder} is absent (the real-page corpus is optional)")
    entries = {e["id"]: e for e in (json.loads(line) for line in
               (folder / "index.jsonl").read_text(encoding="utf-8").splitlines() if line)}
    return folder, entries


def _label_params(text: str) -> dict[str, str]:
    """The labelled parameters ``a=x, b=y, paramJson={pageNo:N,pageSize:15}``."""
    params = {}
    for part in text.split(", "):
        key, _, value = part.partition("=")
        params[key.strip()] = value.strip()
    return params


def test_real_jpaas_shell_and_unit_answer(zj_pages):
    folder, entries = zj_pages
    shell, unit = entries["zj-fzggw-col1229565788"], entries["zj-fzggw-jpaas-unit"]
    page = parse_list_page((folder / "pages" / shell["file"]).read_text(encoding="utf-8"),
                           shell["original_url"])
    assert page.article_links == []  # labelled: a shell
    first = page.list_requests()[0]
    wanted = shell["labels"]["list_loaded_from"]
    assert first.method in wanted["method"]
    assert first.url.split("?")[0] == wanted["url"]
    params = dict(parse_qsl(urlsplit(first.url).query))
    labelled = _label_params(wanted["params"])
    assert {k: v for k, v in labelled.items() if k != "paramJson"} == params

    answer = parse_list_page((folder / "pages" / unit["file"]).read_text(encoding="utf-8"),
                             first.url, request=first, content_type="application/json")
    found = [url for url, _ in answer.article_links]
    labelled_links = unit["labels"]["article_links"]
    assert len(set(found) & set(labelled_links)) / len(labelled_links) >= 0.95
    assert set(found) <= set(labelled_links)
    following = answer.list_requests()[0]
    assert following.method == "GET" and following.url.split("?")[0] == wanted["url"]
    asked = dict(parse_qsl(urlsplit(following.url).query))
    assert json.loads(asked.pop("paramJson")) == {"pageNo": 2, "pageSize": 15}
    assert {k: v for k, v in params.items() if k != "editType"} == asked
    # Page 26 of 388 records is the last: the walk ends there.
    last = ListRequest(following.url.replace("%22pageNo%22%3A2", "%22pageNo%22%3A26"))
    text = (folder / "pages" / unit["file"]).read_text(encoding="utf-8").replace(
        'pageNo=\\"1\\"', 'pageNo=\\"26\\"')
    assert parse_list_page(text, last.url, request=last).list_requests() == []


# -- end to end ------------------------------------------------------------------------------


def _sources(server) -> list[dict]:
    sources = []
    for section in (GOVCN, JPAAS, UCMS):
        sources.append({"name": f"json-{section}", "start_urls": [server.url(STARTS[section])],
                        "max_list_pages": 10})
    sources.append({"name": "json-configured", "start_urls": [server.url(STARTS[CONFIGURED])],
                    "max_list_pages": 10,
                    "list_api": {"url": server.url(FORM_API), "method": "POST",
                                 "body": "page={page}&rows=8&column=zcwj", "items": "result.rows",
                                 "url_template": "/zwgk/zcwj/content_{docId}.html",
                                 "title_field": "docTitle", "date_field": "pubDate"}})
    return sources


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    from tests.crawling import make_project
    from tests.site.server import SiteServer

    root = tmp_path_factory.mktemp("json-lists")
    site = JsonListsSite()
    with SiteServer(site) as server:
        project = make_project(root, _sources(server))
        result = project.crawl("--all")
        assert result.returncode == 0, result.stderr
        yield project, server, site


def _section_of(source: str) -> str:
    return source.removeprefix("json-")


@pytest.mark.slow
def test_crawl_from_the_start_urls_stores_every_article(crawled):
    project, server, site = crawled
    records = {urlsplit(r["url"]).path: r for r in project.export()}
    for section, wanted in site.expected["sections"].items():
        for path, expected in wanted["articles"].items():
            record = records[path]
            assert record["source"] == f"json-{section}", path
            assert record["title"] == expected["title"], path
            assert record["published_at"] == expected["published"], path
            assert record["origin"] == expected["origin"], path
            assert expected["body_contains"] in record["body_text"], path
    assert len(records) == sum(len(w["articles"]) for w in site.expected["sections"].values())
    assert not server.requested(DECOY)
    assert not server.requested(STARTS[CONFIGURED])  # list_api walks the API instead


@pytest.mark.slow
def test_every_list_request_is_made(crawled):
    _project, server, site = crawled
    made = {(r.method, r.path, tuple(sorted(parse_qsl(urlsplit(r.target).query))),
             r.body.decode("utf-8") or None) for r in server.requests}
    for section, wanted in site.expected["sections"].items():
        for method, target, body in wanted["list_requests"]:
            key = (method, urlsplit(target).path,
                   tuple(sorted(parse_qsl(urlsplit(target).query))), body)
            assert key in made, (section, key)
    posted = sorted(body for target, body in site.requests_posted)
    assert posted == sorted(b for w in site.expected["sections"].values()
                            for m, _t, b in w["list_requests"] if m == "POST")


@pytest.mark.slow
def test_list_requests_are_archived_with_their_bodies(crawled):
    from warcio.archiveiterator import ArchiveIterator

    project, _server, site = crawled
    archived = []
    for path in project.warc_files():
        with open(path, "rb") as f:
            for record in ArchiveIterator(f):
                if record.rec_type != "request":
                    continue
                uri = record.rec_headers.get_header("WARC-Target-URI")
                if urlsplit(uri).path in (UCMS_API, FORM_API, UNIT_API):
                    archived.append((record.http_headers.protocol, urlsplit(uri).path,
                                     record.content_stream().read().decode("utf-8") or None,
                                     record.http_headers.get_header("Content-Type")))
    posts = sorted(a[2] for a in archived if a[0] == "POST")
    assert posts == sorted(b for w in site.expected["sections"].values()
                           for m, _t, b in w["list_requests"] if m == "POST")
    types = {a[1]: a[3] for a in archived if a[0] == "POST"}
    assert types == {UCMS_API: "application/json",
                     FORM_API: "application/x-www-form-urlencoded"}
    assert sum(1 for a in archived if a[1] == UNIT_API) == 3


@pytest.mark.slow
def test_reparse_rebuilds_the_same_articles_and_listings(crawled):
    project, _server, site = crawled
    before = project.export()
    listed_before = _listings(project)
    assert set(listed_before) == {f"json-{s}" for s in site.expected["sections"]}
    result = project.rebuild_from_archive()
    # 3 shells, the gov.cn JSON file, 3 unit pages, 3 ucms pages and 3 list_api pages.
    assert ": 13 list pages, 97 articles" in result.stderr
    # Four crawlers stored concurrently: row ids follow the storing order, nothing else may.
    assert _by_url(project.export()) == _by_url(before)
    assert _listings(project) == listed_before


def _by_url(records: list[dict]) -> dict[str, dict]:
    """Records by URL, ids (of the record, of its near-duplicates) replaced by URLs."""
    url_of = {r["id"]: r["url"] for r in records}
    out = {}
    for record in records:
        kept = {k: v for k, v in record.items() if k != "id"}
        if "duplicates" in kept:
            kept["duplicates"] = sorted(url_of[i] for i in kept["duplicates"])
        out[record["url"]] = kept
    return out


def _listings(project) -> dict[str, tuple]:
    """Each source's listed articles and the section that listed each, as the database holds
    them."""
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{project.root / 'data' / 'govarchive.db'}")
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT s.name, a.url, a.section_url FROM articles a "
            "JOIN sources s ON s.id = a.source_id WHERE a.delisted_at IS NULL")).all()
    engine.dispose()
    found: dict[str, set] = {}
    for source, url, section in rows:
        found.setdefault(source, set()).add((url, section))
    return {source: tuple(sorted(pairs)) for source, pairs in found.items()}


@pytest.mark.slow
def test_a_list_api_path_that_matches_nothing_fails_the_run_naming_it(tmp_path, json_lists_site):
    from tests.crawling import make_project

    [source] = [s for s in _sources(json_lists_site) if "list_api" in s]
    source["list_api"]["items"] = "data.list"
    project = make_project(tmp_path, [source])
    result = project.crawl("json-configured")
    assert result.returncode != 0
    [run] = project.runs()
    wanted = f'list_api.items "data.list" matched nothing in {json_lists_site.url(FORM_API)}'
    assert run["status"] == "failed"
    assert wanted in " ".join(str(v) for v in run.values()), run
    assert wanted in result.stderr


# -- captures know their requests -------------------------------------------------------------


def test_a_capture_carries_its_request_method_and_body(tmp_path):
    from govarchive.crawler.reparse import capture_request
    from govarchive.warc import WarcStreamWriter
    from govarchive.warc.scan import iter_file

    body = '{"channelId":"tzgg","pageNo":2,"pageSize":10}'
    with open(tmp_path / "a.warc.gz", "wb") as stream:
        writer = WarcStreamWriter(stream, file_name="a.warc.gz", hostname="h")
        writer.write_exchange(url=BASE + UCMS_API, method="POST",
                              request_headers=[("Content-Type", "application/json")],
                              request_body=body.encode(), status=200,
                              response_headers=[("Content-Type", "application/json")],
                              body=b'{"data": {"list": []}}')
        writer.write_exchange(url=BASE + "/a.html", status=200,
                              response_headers=[("Content-Type", "text/html")], body=b"<p>x</p>")
    posted, fetched = list(iter_file(tmp_path, "a.warc.gz"))
    assert capture_request(posted) == ListRequest(BASE + UCMS_API, "POST", body, "application/json")
    assert capture_request(fetched) == ListRequest(BASE + "/a.html")
    assert capture_request(posted).key == ("POST", BASE + UCMS_API, body)


# -- the spider's callbacks on their own ------------------------------------------------------


def _spider(**source):
    from scrapy.utils.test import get_crawler

    from govarchive.crawler.spider import SectionSpider
    from govarchive.settings import SourceSettings

    crawler = get_crawler(SectionSpider, {"GOVARCHIVE_EXTRACT_WORKERS": 0})
    return crawler._create_spider(source=SourceSettings(name="s", **source), attachments=False)


def _answer(request, body: bytes, content_type: str):
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from scrapy.http import TextResponse

    request.meta["warc"] = SimpleNamespace(record_id="<urn:test:1>",
                                           fetched_at=datetime(2024, 5, 6, 2, tzinfo=UTC))
    return TextResponse(request.url, body=body, request=request,
                        headers={"Content-Type": content_type})


def test_the_spider_posts_the_json_a_shell_names_and_walks_its_pages():
    site = JsonListsSite()
    start = BASE + STARTS[UCMS]
    spider = _spider(start_urls=[start])
    shell = spider._list_request(start, start=start, page_no=1)
    [api] = list(spider.parse_list(_answer(shell, site.ucms_shell().encode(), "text/html")))
    assert (api.method, api.url, api.headers.get("Content-Type")) == \
        ("POST", BASE + UCMS_API, b"application/json")
    assert api.body.decode() == site.ucms_body(1)
    answer = _answer(api, site.ucms_answer(json.loads(api.body)).encode(), "application/json")
    requests = list(spider.parse_list(answer))
    articles = [r.url for r in requests if r.meta["kind"] == "article"]
    assert articles == [BASE + p for p in list(site.expected["sections"][UCMS]["articles"])[:10]]
    [following] = [r for r in requests if r.meta["kind"] == "list"]
    assert following.body.decode() == site.ucms_body(2)
    # The same answer again (asked twice by a redirect, say) asks page 2 no more.
    assert [r for r in spider.parse_list(_answer(api, answer.body, "application/json"))
            if r.meta["kind"] == "list"] == []


def test_the_spider_still_refuses_a_binary_list_answer():
    start = BASE + STARTS[UCMS]
    spider = _spider(start_urls=[start])
    request = spider._list_request(start, start=start, page_no=1)
    assert list(spider.parse_list(_answer(request, b"%PDF-1.4\n\x00\x01\x02" * 50,
                                          "application/json"))) == []
    stats = spider.crawler.stats.get_stats()
    assert stats.get("govarchive/status/not_html") == 1
    assert "is not an HTML page" in spider.start_failures[start]
