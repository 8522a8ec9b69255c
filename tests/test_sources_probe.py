"""``govarchive sources probe``: saved pages (in process) and live probes of the test sites."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from govarchive.crawler.families import (
    ASPNET,
    GOVCN,
    HANWEB_JCMS,
    HANWEB_JPAAS,
    PHP,
    TRS,
    UCAP,
    UNKNOWN,
    VSB,
    recognise_family,
)
from govarchive.crawler.links import parse_list_page
from govarchive.crawler.probe import probe_list_page, source_name
from tests.crawling import invoke, make_project

SECTION = "https://www.mee-like.gov.cn/xxgk/tzgg/"

# A TRS-published notices list: decoys in the header and a 相关链接 box, dates beside the
# links, and pagination only through the createPageHTML script.
TRS_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>通知公告-某某部</title></head>
<body>
<div class="header"><a href="./202405/t20240501_1000001.htm">头条：不是列表里的</a></div>
<div class="main"><ul class="list">
<li><a href="./202405/t20240520_1000010.htm" title="关于开展第一项工作的通知">关于开展第一项工作的通知</a>
    <span>2024-05-20</span></li>
<li><a href="./202405/t20240518_1000009.htm">关于第二项工作的公告</a><span>2024-05-18</span></li>
<li><a href="../../zcjd/202405/t20240515_1000008.htm">第三项工作解读</a><span>2024/5/15</span></li>
<li><a href="./202405/t20240510_1000007.htm">第四项工作的通知</a><span>2024年5月10日</span></li>
</ul>
<div class="page"><script>createPageHTML(5, 0, "index", "htm");</script></div>
</div>
<div class="xglj"><a href="./202301/t20230101_1.htm">相关链接</a></div>
</body></html>
"""

NO_LIST_PAGE = """<html><head><meta charset="utf-8"><title>机构职能</title></head>
<body><div class="nav"><a href="/">首页</a><a href="/jgzn/">机构职能</a></div>
<div class="content"><p>本部门负责有关工作。</p><p>联系电话：010-12345678</p></div>
<div class="list"><a href="/a.htm">甲</a><a href="/b.htm">乙</a></div></body></html>
"""


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _probe_json(tmp_path, path: Path, url: str, *args: str):
    result = invoke(tmp_path / "absent.toml", "sources", "probe", str(path), "--url", url,
                    "--json", *args)
    return result, json.loads(result.stdout)


# ---- saved pages ------------------------------------------------------------------------------


def test_saved_trs_page_reports_family_links_in_order_and_next_requests(tmp_path):
    path = _write(tmp_path, "list.html", TRS_PAGE)
    result, report = _probe_json(tmp_path, path, SECTION)
    assert result.exit_code == 0, result.stderr
    assert report["family"] == TRS
    assert any("createPageHTML" in why for why in report["family_evidence"])
    assert report["charset"] == "utf-8"
    assert report["article_links"] == [
        "https://www.mee-like.gov.cn/xxgk/tzgg/202405/t20240520_1000010.htm",
        "https://www.mee-like.gov.cn/xxgk/tzgg/202405/t20240518_1000009.htm",
        "https://www.mee-like.gov.cn/zcjd/202405/t20240515_1000008.htm",
        "https://www.mee-like.gov.cn/xxgk/tzgg/202405/t20240510_1000007.htm",
    ]
    details = report["article_link_details"]
    assert [d["date"] for d in details] == ["2024-05-20", "2024-05-18", "2024-05-15",
                                            "2024-05-10"]
    assert details[1]["title"] == "关于第二项工作的公告"
    assert report["list_requests"] == [
        {"method": "GET", "url": f"{SECTION}index_{n}.htm", "body": None} for n in range(1, 5)
    ]
    assert report["robots"] == {"allowed": None, "detail": "not checked: a saved page"}
    assert report["blocked"] is None
    assert report["articles"] is None  # nothing fetched
    assert report["title"] == "通知公告-某某部"
    assert f'start_urls = ["{SECTION}"]' in report["source"]
    assert 'name = "mee-like-xxgk-tzgg"' in report["source"]


def test_saved_page_text_report(tmp_path):
    path = _write(tmp_path, "list.html", TRS_PAGE)
    result = invoke(tmp_path / "absent.toml", "sources", "probe", str(path), "--url", SECTION)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "family: TRS WCM (createPageHTML(...) pager script" in out
    assert "charset: utf-8 (declared by <meta charset=utf-8>" in out
    assert "article links: 4" in out
    assert "1. 2024-05-20  关于开展第一项工作的通知" in out
    assert "more of the list: 4 further request(s), the next first:" in out
    assert f"  GET {SECTION}index_1.htm" in out
    assert "... and 1 more (--json lists all)" in out
    assert "[[sources]]" in out and 'title = "通知公告-某某部"' in out
    assert result.stderr == ""


def test_saved_gbk_page_says_how_its_charset_was_chosen(tmp_path):
    path = _write(tmp_path, "list.html", TRS_PAGE.replace('charset="utf-8"', 'charset="gb2312"'),
                  encoding="gb2312")
    result, report = _probe_json(tmp_path, path, SECTION)
    assert result.exit_code == 0, result.stderr
    assert report["charset"] == "gb18030"
    assert "gb2312" in report["charset_reason"] and "covers it" in report["charset_reason"]
    assert report["article_link_details"][0]["title"] == "关于开展第一项工作的通知"


def test_page_without_a_list_exits_1_with_a_hint(tmp_path):
    path = _write(tmp_path, "page.html", NO_LIST_PAGE)
    result = invoke(tmp_path / "absent.toml", "sources", "probe", str(path), "--url",
                    "https://www.example.gov.cn/jgzn/")
    assert result.exit_code == 1
    assert "article links: 0" in result.stdout
    assert "hint: no article link found" in result.stderr
    assert "--article-links" in result.stderr and "list_api" in result.stderr
    assert "# article_links = " in result.stdout  # the pasted block says what to add


def test_an_article_links_selector_is_tried(tmp_path):
    path = _write(tmp_path, "page.html", NO_LIST_PAGE)
    result, report = _probe_json(tmp_path, path, "https://www.example.gov.cn/jgzn/",
                                 "--article-links", "div.list a")
    assert result.exit_code == 0, result.stderr
    assert report["article_links"] == ["https://www.example.gov.cn/a.htm",
                                       "https://www.example.gov.cn/b.htm"]
    assert '[sources.rules]\narticle_links = "div.list a"' in report["source"]


def test_a_bad_selector_is_a_usage_error(tmp_path):
    path = _write(tmp_path, "page.html", NO_LIST_PAGE)
    result = invoke(tmp_path / "absent.toml", "sources", "probe", str(path), "--url",
                    "https://www.example.gov.cn/", "--article-links", "div[[")
    assert result.exit_code == 2
    assert "invalid selector 'div[['" in result.stderr


def test_a_saved_page_needs_its_url(tmp_path):
    path = _write(tmp_path, "page.html", TRS_PAGE)
    result = invoke(tmp_path / "absent.toml", "sources", "probe", str(path))
    assert result.exit_code == 2
    assert "a saved page needs --url" in result.stderr


def test_a_json_feed_file_is_read_as_a_feed(tmp_path):
    feed = {"result": "ok", "data": {"html": '<li><a href="/art/2024/5/1/art_1_2.html">x</a></li>'}}
    path = _write(tmp_path, "feed.json", json.dumps(feed))
    result, report = _probe_json(tmp_path, path, "https://www.zj-like.gov.cn/api/unit?pageNo=1")
    assert result.exit_code == 0, result.stderr
    assert report["charset"] == "utf-8"
    assert report["json_feed"] is True  # a .json file is read as application/json
    assert report["article_links"] == ["https://www.zj-like.gov.cn/art/2024/5/1/art_1_2.html"]
    assert set(report) >= {"family", "article_links", "list_requests", "robots", "blocked"}


def test_a_saved_jsonp_answer_is_read_as_a_feed(tmp_path):
    rows = [{"title": f"通知{i}", "url": f"/zwgk/tzgg/202405/t20240501_{900 + i}.html"}
            for i in range(3)]
    path = _write(tmp_path, "list.js",
                  "jQuery1830_17({\"total\": 3, \"rows\": " + json.dumps(rows) + "});")
    result, report = _probe_json(tmp_path, path, "https://www.example.gov.cn/api/list?cb=x")
    assert result.exit_code == 0, result.stderr
    assert report["json_feed"] is True
    assert report["article_links"] == [
        f"https://www.example.gov.cn/zwgk/tzgg/202405/t20240501_{900 + i}.html" for i in range(3)]


def test_an_empty_json_answer_exits_1_with_its_hint(tmp_path):
    path = _write(tmp_path, "feed.json", json.dumps({"data": {"list": [], "total": 0}}))
    result, report = _probe_json(tmp_path, path, "https://www.example.gov.cn/api/list")
    assert result.exit_code == 1
    assert report["json_feed"] is True and report["article_links"] == []
    assert "no article link found in this JSON answer" in result.stderr


def test_script_redirect_stub_is_named(tmp_path):
    stub = ('<html><head><meta charset="utf-8"><script>window.location.href="./liebiao/";'
            "</script></head><body></body></html>")
    path = _write(tmp_path, "stub.html", stub)
    result, report = _probe_json(tmp_path, path, "https://www.example.gov.cn/yaowen/")
    assert result.exit_code == 0  # the crawl follows it: the section can be walked
    assert report["redirect_to"] == "https://www.example.gov.cn/yaowen/liebiao/"
    assert report["list_requests"][0]["url"] == "https://www.example.gov.cn/yaowen/liebiao/"
    assert "the crawl follows it" in result.stderr
    assert 'start_urls = ["https://www.example.gov.cn/yaowen/"]' in report["source"]


def test_a_page_showing_its_list_in_a_frame_is_named(tmp_path):
    shell = ('<html><head><meta charset="utf-8"></head><body><div class="nav">'
             + "".join(f'<a href="/c{i}/">栏目{i}</a>' for i in range(9))
             + '</div><iframe src="list.jsp?page=1" height="700"></iframe></body></html>')
    path = _write(tmp_path, "shell.html", shell)
    result, report = _probe_json(tmp_path, path, "https://www.example.gov.cn/kjdt/")
    assert result.exit_code == 0  # the crawl reads the frame: the section can be walked
    assert report["framed_list"] == "https://www.example.gov.cn/kjdt/list.jsp?page=1"
    assert report["list_requests"][0]["url"] == report["framed_list"]
    assert "the crawl reads it there" in result.stderr


def test_a_built_address_in_a_pager_script_is_no_redirect():
    page = ("<html><body><script>function go(i){location.href='index_'+i+'.html';}</script>"
            "</body></html>")
    assert parse_list_page(page, "https://www.example.gov.cn/a/").redirect_to is None


def test_a_challenge_page_is_blocked_without_headers():
    body = (b'<html><head><script>document.cookie="__jsl_clearance=1.2|0|abc";'
            b"location.reload();</script></head><body></body></html>")
    report = probe_list_page(body, "https://www.example.gov.cn/a/")
    assert report.blocked and "challenge script" in report.blocked
    assert "anti-bot wall" in report.hint()


@pytest.mark.parametrize(("text", "url", "family"), [
    ('<script>createPageHTML(3, 0, "index", "shtml");</script>', "https://a.gov.cn/x/", TRS),
    ('<a href="/zhengce/202401/content_6921.htm">x</a>', "https://www.gov.cn/zhengce/", GOVCN),
    ("<p>繁體</p>", "https://big5.www.gov.cn/gate/big5/www.gov.cn/lianbo/difang/", GOVCN),
    ('<script type="text/xml"><datastore><recordset></recordset></datastore></script>',
     "https://b.gov.cn/col/col12/index.html", HANWEB_JCMS),
    ('<script src="/module/jpaas/unitbuild.js"></script><a href="/col/col9/index.html">c</a>',
     "https://c.gov.cn/col/col9/index.html", HANWEB_JPAAS),
    ('<div id="UCAP-CONTENT"></div><div class="ucapcontent"></div>', "https://d.gov.cn/x/", UCAP),
    ('<form><input type="hidden" name="__VIEWSTATE"></form>', "https://e.gov.cn/News.aspx", ASPNET),
    ('<a href="/list.php?id=3">a</a>', "https://f.gov.cn/index.php", PHP),
    ('<a href="/plus/view.php?aid=3">a</a><ul class="pagelist"></ul>', "https://f.gov.cn/a/", PHP),
    ('<script src="/system/resource/js/counter.js"></script><a href="../info/1091/2345.htm">a</a>',
     "https://h.gov.cn/xwzx/zwdt.htm", VSB),
    ("<p>plain</p>", "https://g.gov.cn/x/", UNKNOWN),
])
def test_families(text, url, family):
    found = recognise_family(text, url)
    assert found.name == family
    assert bool(found.evidence) == (family != UNKNOWN)


def test_family_from_generator_meta_and_headers():
    found = recognise_family('<meta name="generator" content="TRS WCM 7.0">', "https://x.gov.cn/")
    assert found.name == TRS and '<meta name="generator" content="TRS WCM 7.0">' in found.evidence
    assert recognise_family("<p></p>", "https://x.gov.cn/",
                            {"x-powered-by": "ASP.NET"}).name == ASPNET


@pytest.mark.parametrize(("url", "name"), [
    ("https://www.ndrc.gov.cn/xxgk/zcfb/tz/", "ndrc-xxgk-zcfb-tz"),
    ("https://www.gov.cn/zhengce/zuixin/home.htm", "govcn-zhengce-zuixin"),
    ("http://fzggw.jiangsu.gov.cn/col/col284/index.html", "fzggw-jiangsu-col-col284"),
    ("https://www.info.gov.hk/gia/general/today.htm", "info-gia-general-today"),
])
def test_source_names(url, name):
    assert source_name(url) == name


# ---- live, against the test sites -------------------------------------------------------------


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path, [], init=False)


def _live(project, url: str, *args: str):
    result = project.run("sources", "probe", url, "--json", *args, timeout=60)
    return result, json.loads(result.stdout) if result.stdout.strip() else None


def test_live_probe_reads_the_list_and_its_first_articles(project, govcn_site, tmp_path):
    expected = govcn_site.expected
    start = govcn_site.url(expected["start"])
    result, report = _live(project, start, "--articles", "2")
    assert result.returncode == 0, result.stderr
    assert report["family"] == GOVCN
    listed = [u.removeprefix(govcn_site.base_url) for u in report["article_links"]]
    assert listed and set(listed) <= set(expected["articles"])
    assert not set(listed) & set(expected["decoys"])
    assert report["list_requests"][0] == {
        "method": "GET", "url": govcn_site.url(expected["list_pages"][1]), "body": None}
    assert report["robots"]["allowed"] is True
    assert report["blocked"] is None
    articles = report["articles"]
    assert [a["url"] for a in articles] == report["article_links"][:2]
    for article in articles:
        want = expected["articles"][article["url"].removeprefix(govcn_site.base_url)]
        assert article["title"] == want["title"]
        assert article["origin"] == want["origin"]
        assert article["author"] == want["author"]
        assert article["published_at"] == want["published"]
        assert article["body_length"] > 50
    assert govcn_site.requested("/robots.txt")
    # One list page and two articles: nothing more was fetched.
    pages = [r.path for r in govcn_site.requests if r.path != "/robots.txt"]
    assert sorted(pages) == sorted([expected["start"], *listed[:2]])
    assert "Warning" not in result.stderr and "Traceback" not in result.stderr
    # Nothing written: no archive, no database.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["govarchive.toml"]


@pytest.mark.slow  # a subprocess crawl; about 2 s on an idle machine
def test_live_probe_of_a_hanweb_column_gives_the_post_request(project, hanweb_site):
    expected = hanweb_site.expected
    result, report = _live(project, hanweb_site.url(expected["start"]), "--articles", "1")
    assert result.returncode == 0, result.stderr
    assert report["family"] == HANWEB_JCMS
    assert len(report["article_links"]) == 15
    first = report["list_requests"][0]
    assert first["method"] == "POST"
    assert first["url"] == hanweb_site.url(expected["list_pages"][1])
    assert dict(parse_qsl(first["body"])) == expected["form"]
    # The probe reads the first list page only: the proxy is named, not asked.
    assert not any(r.method == "POST" for r in hanweb_site.requests)
    assert report["articles"][0]["origin"] == expected["articles"][
        report["article_links"][0].removeprefix(hanweb_site.base_url)]["origin"]


@pytest.mark.slow  # a subprocess crawl; about 2 s on an idle machine
def test_live_probe_text_shows_articles_fields(project, ministry_site):
    start = ministry_site.url(ministry_site.expected["start"])
    result = project.run("sources", "probe", start, "--articles", "1", timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "family: TRS WCM" in out
    assert "charset: gb18030" in out
    assert "robots.txt: allowed" in out and "anti-bot: no wall seen" in out
    assert "articles fetched: 1" in out
    assert "    来源: " in out and "    body: " in out


def test_live_probe_of_a_disallowed_page_fetches_nothing_more(project, govcn_site):
    disallowed = govcn_site.expected["disallowed"][0]
    result, report = _live(project, govcn_site.url(disallowed))
    assert result.returncode == 1
    assert report["robots"]["allowed"] is False
    assert "robots.txt disallows" in report["robots"]["detail"]
    assert "robots.txt disallows" in result.stderr
    assert [r.path for r in govcn_site.requests] == ["/robots.txt"]


def test_live_probe_behind_an_anti_bot_wall_says_blocked(project, govcn_site):
    start = govcn_site.expected["start"]
    govcn_site.block(start, "412")
    result, report = _live(project, govcn_site.url(start))
    assert result.returncode == 1
    assert report["blocked"] == "ruishu-412"
    assert report["status"] == 412
    assert "anti-bot wall" in result.stderr
    assert [r.path for r in govcn_site.requests] == ["/robots.txt", start]


@pytest.mark.slow  # a subprocess crawl; about 2 s on an idle machine
def test_live_probe_refuses_loopback_unless_allowed(tmp_path, govcn_site):
    project = make_project(tmp_path, [], crawl={"allow_private_addresses": False}, init=False)
    result, report = _live(project, govcn_site.url(govcn_site.expected["start"]))
    assert result.returncode == 1
    assert "private address" in report["error"]
    assert govcn_site.requests == []


# ---- the real-gov corpus ----------------------------------------------------------------------


@pytest.mark.corpus
def test_probe_runs_on_every_real_list_page(shared_dir):
    folder = shared_dir / "corpus" / "real-gov"
    if not (folder / "index.jsonl").is_file():
        pytest.skip(f"{folder} is absent (the real-gov corpus is optional)")
    pages = [json.loads(line) for line in (folder / "index.jsonl").read_text().splitlines()
             if line.strip()]
    probed = 0
    for page in pages:
        if page["kind"].startswith("article"):
            continue
        body = (folder / "pages" / page["file"]).read_bytes()
        report = probe_list_page(body, page["original_url"].split(" ")[0])
        record = report.to_json()
        json.dumps(record)
        assert record["charset"] == page["actual_encoding"]
        assert record["family"]
        probed += 1
    assert probed >= 10


def test_charset_reason_names_a_declaration_that_lies():
    body = TRS_PAGE.encode("gb18030")  # says utf-8 in its <meta>, is GBK
    report = probe_list_page(body, SECTION)
    assert report.charset == "gb18030"
    assert report.charset_reason == ("<meta charset=utf-8> does not fit the bytes; detected "
                                     "gb18030 from the bytes")
    assert len(report.links) == 4


def test_charset_reason_prefers_the_header():
    body = TRS_PAGE.replace('<meta charset="utf-8">', "").encode("utf-8")
    report = probe_list_page(body, SECTION, content_type="text/html; charset=UTF-8")
    assert report.charset_reason == ("declared by Content-Type charset=UTF-8; the bytes "
                                     "decode cleanly")


@pytest.mark.slow  # a subprocess crawl; about 2 s on an idle machine
def test_live_probe_follows_a_shell_to_its_list_api_and_reads_its_articles(
        project, json_lists_site):
    from tests.site.json_lists import UCMS, UCMS_API

    wanted = json_lists_site.expected["sections"][UCMS]
    result, report = _live(project, json_lists_site.url(wanted["start"]), "--articles", "2")
    assert result.returncode == 0, result.stderr
    assert report["article_links"] == []  # the shell's own list is empty
    followed = report["followed"]
    method, target, body = wanted["list_requests"][0]
    assert (followed["method"], followed["url"], followed["body"]) == (
        method, json_lists_site.url(target), body)
    listed = [u.removeprefix(json_lists_site.base_url) for u in
              followed["answer"]["article_links"]]
    assert listed == list(wanted["articles"])[:len(listed)] and len(listed) == 10
    assert followed["answer"]["list_requests"][0]["body"] == wanted["list_requests"][1][2]
    assert [a["url"] for a in report["articles"]] == followed["answer"]["article_links"][:2]
    assert report["articles"][0]["title"] == wanted["articles"][listed[0]]["title"]
    # The API asked once (its next page is named, not asked).
    assert [r.method for r in json_lists_site.requests if r.path == UCMS_API] == ["POST"]
    assert "sources probe found 10 article links" in report["source"]
    assert report["hint"] is None


@pytest.mark.slow  # a subprocess crawl; about 2 s on an idle machine
@pytest.mark.parametrize(("lead", "line"), [("redirects", "script redirect to"),
                                            ("frames", "list shown in a frame")])
def test_live_probe_text_follows_a_redirect_stub_or_a_frame(project, families_site, lead, line):
    stub, target = next(iter(families_site.expected[lead].items()))
    result = project.run("sources", "probe", families_site.url(stub), "--articles", "1",
                         timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"{line}: {families_site.url(target)}" in out
    assert f"followed, as the crawl does: GET {families_site.url(target)}" in out
    assert "  article links: " in out and "articles fetched: 1" in out
    assert "hint" not in result.stderr


@pytest.mark.slow  # a subprocess crawl; about 2 s on an idle machine
def test_live_probe_of_a_hub_follows_its_first_sub_column(project, families_site):
    hub, subs = next(iter(families_site.expected["hub"].items()))
    result = project.run("sources", "probe", families_site.url(hub), "--articles", "1",
                         timeout=60)
    assert result.returncode == 0, result.stderr
    first = families_site.url(subs[0])
    assert (f"followed, as the crawl does (the first of {len(subs)} sub-columns, each walked "
            f"as a section of its own): GET {first}") in result.stdout
    assert "articles fetched: 1" in result.stdout
    assert "hint" not in result.stderr


@pytest.mark.slow  # a subprocess crawl; about 2 s on an idle machine
def test_a_lead_that_leads_nowhere_exits_1_with_its_hint(project, json_lists_site):
    from tests.site.json_lists import UCMS, UCMS_API

    wanted = json_lists_site.expected["sections"][UCMS]
    json_lists_site.override(UCMS_API, body='{"data": {"total": 0, "list": []}}',
                             content_type="application/json")
    result, report = _live(project, json_lists_site.url(wanted["start"]))
    assert result.returncode == 1
    assert report["followed"]["url"] == json_lists_site.url(UCMS_API)
    assert report["followed"]["answer"]["json_feed"] is True
    assert report["articles"] == []
    assert "no article link found in this JSON answer" in result.stderr
