"""The local test sites answer as their manifests say, with real encodings and HTTP behaviours."""

from __future__ import annotations

import gzip
import http.client
import io
import re
import time
import zipfile
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest

from tests.site.bulk import BulkSite
from tests.site.content import SITES_DIR, FolderSite
from tests.site.process import SiteProcess

HREF = re.compile(r'<a\s[^>]*href="([^"]+)"[^>]*>(.*?)</a>', re.S)


def fetch(server, path, headers=None, method="GET", connection=None):
    """(status, [(name, value)], body) over plain http.client: no proxies, no decoding."""
    conn = connection or http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request(method, path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    if connection is None:
        conn.close()
    return response.status, response.getheaders(), body


def header(headers, name):
    return [v for k, v in headers if k.lower() == name.lower()]


def region_links(html: str, base: str, css_class: str) -> list[str]:
    """Links inside the first <div class="...css_class..."> up to its </div>, as paths."""
    start = html.index(f'class="{css_class}')
    region = html[start:html.index("</div>", start)]
    return [urlsplit(urljoin(base, unescape(h))).path for h, _ in HREF.findall(region)]


def next_link(html: str, base: str) -> str | None:
    for href, text in HREF.findall(html):
        if text.strip() == "下一页":
            return urlsplit(urljoin(base, href)).path
    return None


@pytest.mark.parametrize("name", ["govcn", "ministry", "big5", "quirks"])
def test_every_manifest_page_answers_with_its_text(site_server, name):
    server = site_server(name)
    expected = server.expected
    codec = {"gb2312": "gb18030", "big5": "cp950"}.get(expected["charset"], "utf-8")
    for path in expected["list_pages"]:
        status, _, _ = fetch(server, path)
        assert status == 200, path
    for path, article in expected["articles"].items():
        status, headers, body = fetch(server, path, {"Accept-Encoding": "identity"})
        assert status == 200, path
        text = body.decode(codec)
        assert article["title"] in unescape(text), path
        assert article["body_contains"] in text, path
        for attachment in article["attachments"]:
            assert fetch(server, attachment["path"])[0] == 200
    assert fetch(server, "/robots.txt")[2] == b"User-agent: *\nDisallow: /private/\n"
    assert fetch(server, "/expected.json")[0] == 404  # the manifest is not part of the site


def test_govcn_pagination_and_article_links(govcn_site):
    expected = govcn_site.expected
    walked, found, path = [], [], expected["start"]
    while path:
        walked.append(path)
        html = fetch(govcn_site, path)[2].decode("utf-8")
        found += region_links(html, govcn_site.url(path), "list list_1")
        for decoy in expected["decoys"]:  # present in the page, but only in the 相关链接 box
            assert decoy in html and decoy not in region_links(
                html, govcn_site.url(path), "list list_1")
        path = next_link(html, govcn_site.url(path))
    assert walked == expected["list_pages"] == [
        "/lianbo/difang/index.htm", "/lianbo/difang/index_1.htm", "/lianbo/difang/index_2.htm"]
    assert sorted(set(found) - set(expected["disallowed"])) == sorted(expected["articles"])
    assert "/private/x.htm" in found and len(expected["articles"]) == 12
    assert all(fetch(govcn_site, d)[0] == 200 for d in expected["decoys"])
    page = fetch(govcn_site, "/lianbo/difang/202403/content_6937004.htm")[2].decode("utf-8")
    assert '<meta name="firstpublishedtime" content="2024-03-02-10:15:00">' in page
    assert "2024-03-02 10:15 <span class=\"font\">来源：北京日报" in page
    assert "责任编辑：周暹" in page and "网站标识码" in page and "当前位置：" in page


def test_ministry_is_really_gb2312_with_script_pagination(ministry_site):
    status, headers, body = fetch(ministry_site, "/xxgk/tzgg/index.htm")
    assert header(headers, "Content-Type") == ["text/html; charset=gb2312"]
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    html = body.decode("gb18030")
    assert '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">' in html
    assert 'var countPage = 3; createPageHTML(countPage, 0, "index", "htm");' in html
    outside_scripts = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    assert next_link(outside_scripts, ministry_site.url("/xxgk/tzgg/")) is None
    assert "index_1" not in outside_scripts and "下一页" in html  # only the script knows
    assert './202401/t20240115_1061234.htm' in html
    for n in (1, 2):
        assert fetch(ministry_site, f"/xxgk/tzgg/index_{n}.htm")[0] == 200
    assert fetch(ministry_site, "/xxgk/tzgg/index_3.htm")[0] == 404
    article = ministry_site.expected["articles"]["/xxgk/tzgg/202401/t20240115_1061234.htm"]
    page = fetch(ministry_site, "/xxgk/tzgg/202401/t20240115_1061234.htm")[2].decode("gb2312")
    assert '<meta name="PubDate" content="2024-01-15 09:30">' in page
    assert "环办〔2024〕3号" in page and article["doc_number"] == "环办〔2024〕3号"
    assert article["published"] == "2024-01-15T09:30:00+08:00"
    pdf_status, pdf_headers, pdf = fetch(ministry_site, article["attachments"][0]["path"])
    assert header(pdf_headers, "Content-Type") == ["application/pdf"]
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF") and len(pdf) < 2048
    startxref = int(pdf.rsplit(b"startxref", 1)[1].split()[0])
    assert pdf[startxref:].startswith(b"xref")
    docx = fetch(ministry_site, article["attachments"][1]["path"])[2]
    assert "word/document.xml" in zipfile.ZipFile(io.BytesIO(docx)).namelist()


def test_big5_bytes_and_bare_content_type(big5_site):
    expected = big5_site.expected
    bare = "/big5/zxdt/art_1621004_30332664.html"
    status, headers, body = fetch(big5_site, bare)
    assert header(headers, "Content-Type") == ["text/html"]
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert "發佈時間：2024年03月05日" in body.decode("big5")
    assert "charset=big5" in body.decode("big5")
    listed = fetch(big5_site, expected["start"])[2].decode("cp950")
    assert all(path in listed for path in expected["articles"])
    copy = next(a for a in expected["articles"].values() if "copy_of" in a)
    govcn = FolderSite(SITES_DIR / "govcn").expected["articles"][copy["copy_of"]["path"]]
    assert copy["published"][:16] == govcn["published"][:16]


def test_quirks_headers_and_bodies(quirks_site):
    status, headers, body = fetch(quirks_site, "/news/2024/content_42.htm")
    assert header(headers, "Content-Type") == ["text/html; charset=gb2312"]
    assert "市区公交线路优化调整公告" in body.decode("utf-8")  # the bytes are UTF-8 after all
    assert fetch(quirks_site, "/gone/index.htm")[0] == 404
    status, headers, body = fetch(quirks_site, "/news/2024/content_45.htm")
    assert header(headers, "Content-Type") == ["application/pdf"] and body.startswith(b"%PDF")
    status, headers, _ = fetch(quirks_site, "/news/2024/content_44.htm")
    assert len(header(headers, "Set-Cookie")) == 2
    status, headers, _ = fetch(quirks_site, "/news/old/content_41.htm")
    assert status == 301
    assert header(headers, "Location") == [quirks_site.url("/news/2024/content_41.htm")]
    listed = fetch(quirks_site, "/news/index.htm")[2].decode("utf-8")
    assert 'href="/news/content.jsp?id=42&amp;cat=7"' in listed
    assert fetch(quirks_site, "/news/content.jsp?id=42&cat=7")[0] == 200
    assert fetch(quirks_site, "/news/content.jsp?id=43&cat=7")[0] == 404
    started = time.monotonic()
    assert fetch(quirks_site, "/news/2024/content_46.htm")[0] == 200
    assert time.monotonic() - started >= 0.45


def test_gzip_only_when_accepted(quirks_site):
    path = "/news/2024/content_43.htm"
    plain = quirks_site.site.read(path)
    status, headers, body = fetch(quirks_site, path, {"Accept-Encoding": "gzip, deflate"})
    assert header(headers, "Content-Encoding") == ["gzip"]
    assert int(header(headers, "Content-Length")[0]) == len(body)
    assert gzip.decompress(body) == plain
    status, headers, body = fetch(quirks_site, path, {"Accept-Encoding": "identity"})
    assert header(headers, "Content-Encoding") == [] and body == plain
    assert quirks_site.requests_for(path)[0].header("accept-encoding") == "gzip, deflate"


def test_keep_alive_head_etag_and_request_log(govcn_site):
    conn = http.client.HTTPConnection("127.0.0.1", govcn_site.port, timeout=10)
    fetch(govcn_site, "/robots.txt", connection=conn)
    status, headers, body = fetch(govcn_site, "/lianbo/difang/index.htm", connection=conn)
    etag = header(headers, "ETag")[0]
    head = fetch(govcn_site, "/lianbo/difang/index.htm", method="HEAD", connection=conn)
    assert head[2] == b"" and header(head[1], "Content-Length") == [str(len(body))]
    assert fetch(govcn_site, "/lianbo/difang/index.htm", {"If-None-Match": etag},
                 connection=conn)[0] == 304
    conn.close()
    log = govcn_site.requests
    assert [r.target for r in log][:2] == ["/robots.txt", "/lianbo/difang/index.htm"]
    assert len({r.client_port for r in log}) == 1  # one connection served all four
    assert govcn_site.requested("/robots.txt") and not govcn_site.requested("/private/x.htm")
    govcn_site.clear_requests()
    assert govcn_site.requests == []


def test_last_modified_answers_if_modified_since_until_the_page_changes(govcn_site):
    path = "/lianbo/difang/index.htm"
    status, headers, _body = fetch(govcn_site, path)
    modified = header(headers, "Last-Modified")[0]
    assert status == 200 and header(headers, "ETag")
    status, headers, body = fetch(govcn_site, path, {"If-Modified-Since": modified})
    assert (status, body) == (304, b"")
    assert header(headers, "Last-Modified") == [modified] and header(headers, "ETag")
    # If-None-Match decides when both are sent: a stale ETag gets the page.
    assert fetch(govcn_site, path, {"If-Modified-Since": modified,
                                    "If-None-Match": '"stale"'})[0] == 200
    govcn_site.override(path, body="<html><body><h1>改版</h1></body></html>")
    status, headers, _body = fetch(govcn_site, path, {"If-Modified-Since": modified})
    assert status == 200 and header(headers, "Last-Modified")[0] != modified
    changed = header(headers, "Last-Modified")[0]
    assert fetch(govcn_site, path, {"If-Modified-Since": changed})[0] == 304
    govcn_site.reset(path)  # back to the original page: changed again
    assert fetch(govcn_site, path, {"If-Modified-Since": changed})[0] == 200


def test_overrides_change_the_site_between_crawls(govcn_site):
    path = "/lianbo/difang/202403/content_6937004.htm"
    original = fetch(govcn_site, path)[2]
    govcn_site.override(path, body="<html><body><h1>改版</h1></body></html>")
    status, headers, body = fetch(govcn_site, path)
    assert status == 200 and body.decode("utf-8").endswith("改版</h1></body></html>")
    assert header(headers, "Content-Type") == ["text/html; charset=utf-8"]
    govcn_site.remove(path)
    assert fetch(govcn_site, path)[0] == 404
    govcn_site.block(path, "412")
    assert fetch(govcn_site, path)[0] == 412
    govcn_site.block(path, "521")
    status, headers, body = fetch(govcn_site, path)
    assert status == 521 and b"__jsl_clearance" in body
    govcn_site.block(path, "500")
    assert fetch(govcn_site, path)[0] == 500
    govcn_site.block(path, "wzws")
    status, headers, _ = fetch(govcn_site, path)
    cookie = header(headers, "Set-Cookie")[0]
    assert status == 307 and cookie.startswith("wzws_cid=")
    assert header(headers, "Location") == [govcn_site.url(path)]
    assert fetch(govcn_site, path, {"Cookie": cookie.split(";")[0]})[2] == original
    govcn_site.override("/lianbo/difang/202403/content_6999999.htm", body=b"<html>new</html>")
    assert fetch(govcn_site, "/lianbo/difang/202403/content_6999999.htm")[2] == b"<html>new</html>"
    govcn_site.block("*", "412")
    assert fetch(govcn_site, "/lianbo/difang/index.htm")[0] == 412
    assert fetch(govcn_site, "/robots.txt")[0] == 200
    govcn_site.reset()
    assert fetch(govcn_site, path)[2] == original == govcn_site.page(path)


def test_bulk_section_links_every_article_once():
    site = BulkSite(5000)
    expected = site.expected
    assert len(expected["articles"]) == 5000 and len(expected["list_pages"]) == 250
    seen, path, pages = [], expected["start"], 0
    while path:
        html = site.respond(path).body.decode("utf-8")
        links = region_links(html, "http://h" + path, "list list_1")
        assert len(links) == 20
        seen += links
        pages += 1
        path = next_link(html, "http://h" + path)
    assert pages == 250 and len(set(seen)) == len(seen) == 5000
    assert set(seen) == set(expected["articles"])
    assert site.respond("/lianbo/bulk/index_250.htm").status == 404
    assert site.respond("/lianbo/bulk/202406/content_1.htm").status == 404


def test_bulk_pages_over_http(bulk_site):
    paths = list(bulk_site.expected["articles"])
    for path in paths[::997]:
        status, headers, body = fetch(bulk_site, path)
        assert status == 200 and 15_000 <= len(body) <= 30_000, (path, len(body))
        text = body.decode("utf-8")
        article = bulk_site.expected["articles"][path]
        assert article["title"] in text and article["body_contains"] in text
    bodies = {fetch(bulk_site, p)[2] for p in paths[:3]}
    assert len(bodies) == 3  # varied text, not one page repeated
    assert fetch(bulk_site, paths[5])[2] == fetch(bulk_site, paths[5])[2]  # and repeatable


def test_server_as_a_subprocess(tmp_path):
    with SiteProcess("ministry", tmp_path / "requests.jsonl") as process:
        conn = http.client.HTTPConnection("127.0.0.1", process.port, timeout=10)
        conn.request("GET", "/xxgk/tzgg/index_1.htm", headers={"Accept-Encoding": "gzip"})
        assert conn.getresponse().status == 200
        conn.close()
        logged = process.requests
    assert logged[0]["target"] == "/xxgk/tzgg/index_1.htm"
    assert ["Accept-Encoding", "gzip"] in logged[0]["headers"]


def test_fixture_files_match_their_builder():
    pytest.importorskip("opencc", reason="the builder needs opencc for the Big5 copy")
    from tests.site.build import build_all

    for name, (files, _) in build_all().items():
        on_disk = {"/" + str(p.relative_to(SITES_DIR / name)) for p in
                   (SITES_DIR / name).rglob("*") if p.is_file()} - {"/expected.json"}
        assert on_disk == set(files), name
        for path, data in files.items():
            assert (SITES_DIR / name / path.lstrip("/")).read_bytes() == data, (name, path)
