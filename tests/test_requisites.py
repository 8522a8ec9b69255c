"""Page requisites: body images (with alt text) and stylesheets archived, exported, replayed.

Unit tests of what is extracted and requested; a storage test of the export's ``images`` on
both databases; end-to-end crawls of the govcn test site (its article 6937008 has a picture,
every page links /css/common.css) with replay through pywb and a rebuild from the archive.
"""

from __future__ import annotations

import gzip
import io
import shutil
import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from govarchive.crawler.extract import Image, extract_article
from govarchive.crawler.extract.requisites import page_requisites
from govarchive.crawler.requisites import REQUISITE, Requisites, wanted_urls
from govarchive.crawler.revisit import REVISIT_META
from govarchive.storage import CaptureIn
from govarchive.storage.revisits import RevisitTarget
from tests.builders import T0, FakeCrawl
from tests.crawling import make_project, site_source
from tests.site.content import SITES_DIR

URL = "http://www.example.gov.cn/art/2020/5/6/art_1_2.html"
PARAGRAPHS = "".join(f"<p>第{n}段：为进一步做好便民服务工作，现将有关事项通知如下，请认真贯彻落实。</p>"
                     for n in range(4))


def page(body: str, head: str = "") -> bytes:
    return (f"<html><head><meta charset='utf-8'><title>关于便民服务的通知</title>{head}</head>"
            f"<body><div class='nav'><img src='/logo.png' alt='标志'></div>"
            f"<h1>关于便民服务的通知</h1><div class='content'>{PARAGRAPHS}{body}</div>"
            "<script src='/js/app.js'></script></body></html>").encode()


# ---- extraction -------------------------------------------------------------------------------


def test_body_images_have_alt_text_lazy_sources_and_absolute_urls():
    body = ("<p><img src='../../images/hy.jpg' alt=' 会场 全景 '></p>"
            "<p><img src='/static/loading.gif' data-src='/upload/b.png' title='图二'></p>"
            "<p><img original-src='c.jpg'></p>"
            "<p><img src='data:image/gif;base64,R0lGOD' data-original='/d.jpg'></p>"
            "<p><img src='data:image/gif;base64,R0lGOD'></p>"
            "<p><img src='../../images/hy.jpg' alt='again'></p>")
    article = extract_article(page(body), URL)
    assert article.images == [
        Image("http://www.example.gov.cn/art/2020/images/hy.jpg", "会场 全景"),
        Image("http://www.example.gov.cn/upload/b.png", "图二"),
        Image("http://www.example.gov.cn/art/2020/5/6/c.jpg", ""),
        Image("http://www.example.gov.cn/d.jpg", ""),
    ]
    # The page's logo is not the article's picture, and the body shows the real pictures.
    assert "/upload/b.png" in article.body_html and "loading.gif" not in article.body_html
    assert article.to_record()["images"][0] == {
        "url": "http://www.example.gov.cn/art/2020/images/hy.jpg", "alt": "会场 全景"}


def test_page_requisites_are_stylesheets_then_images_scripts_and_icons():
    head = ("<link rel='stylesheet' href='/css/a.css'><link rel='Stylesheet' href='b.css'>"
            "<link rel='shortcut icon' href='/favicon.ico'><link rel='canonical' href='/x'>"
            "<script type='text/javascript' src=\"https://cdn.example.com/j.js\"></script>")
    article = extract_article(page("<p><img src='in.png'></p>", head), URL)
    assert article.stylesheets == ["http://www.example.gov.cn/css/a.css",
                                   "http://www.example.gov.cn/art/2020/5/6/b.css"]
    assert set(article.page_resources) == {
        "http://www.example.gov.cn/favicon.ico", "http://www.example.gov.cn/logo.png",
        "http://www.example.gov.cn/art/2020/5/6/in.png", "https://cdn.example.com/j.js",
        "http://www.example.gov.cn/js/app.js"}
    assert "stylesheets" not in article.to_record()  # not part of the export record


def test_an_image_whose_source_is_no_url_is_skipped():
    body = "<p><img src='http://[::1/a.png' alt='坏'><img src='/ok.png' alt='好'></p>"
    article = extract_article(page(body), URL)
    assert article.images == [Image("http://www.example.gov.cn/ok.png", "好")]
    assert [r.url for r in Requisites("body", 1).requests(
        article, URL, callback=None, errback=None, skip=lambda url: False)] == [
        "http://www.example.gov.cn/ok.png"]


def test_page_requisites_skip_what_cannot_be_fetched():
    from lxml import etree

    text = ("<html><head><link rel='stylesheet' href='javascript:void(0)'></head><body>"
            "<img src='data:image/png;base64,AA'><script src=''></script></body></html>")
    assert page_requisites(etree.HTML(text), text, URL) == ([], [])


# ---- what the spider requests -------------------------------------------------------------------


def an_article():
    head = "<link rel='stylesheet' href='/css/a.css'>"
    body = ("<p><img src='/upload/a.png' alt='甲'></p>"
            "<p><img src='https://img.example.gov.cn/b.png' alt='乙'></p>"
            "<p><img src='https://cdn.example.com/c.png' alt='丙'></p>")
    return extract_article(page(body, head), URL)


def test_body_mode_takes_body_images_and_stylesheets_of_the_articles_own_site():
    article = an_article()
    assert wanted_urls(article, URL, "body") == [
        "http://www.example.gov.cn/upload/a.png", "https://img.example.gov.cn/b.png",
        "http://www.example.gov.cn/css/a.css"]
    page_mode = wanted_urls(article, URL, "page")
    assert "https://cdn.example.com/c.png" in page_mode
    assert {"http://www.example.gov.cn/logo.png", "http://www.example.gov.cn/js/app.js"} <= set(
        page_mode)
    assert wanted_urls(article, URL, "none") == []


def test_requisites_are_requested_once_per_run_capped_and_low_priority():
    requisites = Requisites("body", 1234)
    first = list(requisites.requests(an_article(), URL, callback=None, errback=None,
                                     skip=lambda url: "img." in url))
    assert [r.url for r in first] == ["http://www.example.gov.cn/upload/a.png",
                                      "http://www.example.gov.cn/css/a.css"]
    for request in first:
        assert request.meta["kind"] == REQUISITE and request.meta["download_maxsize"] == 1234
        assert request.priority < 0 and REVISIT_META not in request.meta
    # A second article with the same stylesheet and picture asks only for what was skipped.
    again = requisites.requests(an_article(), URL, callback=None, errback=None,
                                skip=lambda url: False)
    assert [r.url for r in again] == ["https://img.example.gov.cn/b.png"]


def test_a_requisite_archived_before_is_requested_conditionally():
    css = "http://www.example.gov.cn/css/a.css"
    target = RevisitTarget(None, css, '"e1"', "Mon, 01 Jan 2024 00:00:00 GMT", "sha1:X",
                           "<urn:uuid:1>", T0, css)
    requisites = Requisites("body", 1000, {css: target})
    by_url = {r.url: r for r in requisites.requests(an_article(), URL, callback=None,
                                                      errback=None, skip=lambda url: False)}
    request = by_url[css]
    assert request.meta[REVISIT_META] is target and request.meta["handle_httpstatus_list"] == [304]
    assert request.headers[b"If-None-Match"] == b'"e1"'
    assert REVISIT_META not in by_url["http://www.example.gov.cn/upload/a.png"].meta


def test_unknown_mode_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match="body, page, none"):
        Requisites("all", 1)


def test_image_urls_are_spelt_as_requested_and_archived():
    article = extract_article(page("<p><img src='/图片/会场.png' alt='会场'></p>"), URL)
    escaped = "http://www.example.gov.cn/%E5%9B%BE%E7%89%87/%E4%BC%9A%E5%9C%BA.png"
    # The export names the spelling the archive holds, which is the one requested.
    assert article.images == [Image(escaped, "会场")]
    (request,) = Requisites("body", 1).requests(article, URL, callback=None, errback=None,
                                                 skip=lambda url: False)
    assert request.url == escaped


# ---- the export's images ----------------------------------------------------------------------


def image_capture(crawl: FakeCrawl, url: str, when, *, record_type="response", status=200,
                  digest="sha1:IMG1") -> CaptureIn:
    capture = crawl.capture(url, when, status)
    return CaptureIn(**{**capture.__dict__, "content_type": "image/png",
                        "record_type": record_type, "payload_digest": digest})


def test_export_images_point_at_the_image_response_record(store):
    crawl = FakeCrawl(store)
    image = "https://www.gov.cn/images/a.png"
    images = [{"url": image, "alt": "会场"}, {"url": "https://www.gov.cn/never.png", "alt": ""}]
    fetched = crawl.article("https://www.gov.cn/a.htm", T0, images=images)
    first = image_capture(crawl, image, T0 + timedelta(seconds=1))
    crawl.ingest([first])
    # A later run: the picture came back identical, archived as a revisit record.
    crawl.ingest([image_capture(crawl, image, T0 + timedelta(days=1), record_type="revisit")])
    (record,) = store.iter_export()
    assert record["images"] == [
        {"url": image, "alt": "会场", "warc": {"file": first.warc_file,
                                            "offset": first.warc_offset,
                                            "length": first.warc_length}},
        {"url": "https://www.gov.cn/never.png", "alt": "", "warc": None},
    ]
    # A second version fetched after the revisit still points at the response record.
    crawl.article("https://www.gov.cn/a.htm", T0 + timedelta(days=1, seconds=-1),
                  images=images, body_text="会议听取了汇报。\n另有补充。")
    (record,) = store.iter_export()
    assert len(record["versions"]) == 2
    assert record["images"][0]["warc"]["offset"] == first.warc_offset
    assert store.get_article(fetched.article_id)["images"] == record["images"]


def test_export_images_take_the_capture_of_the_versions_time(store):
    crawl = FakeCrawl(store)
    image = "https://www.gov.cn/images/b.png"
    images = [{"url": image, "alt": ""}]
    crawl.article("https://www.gov.cn/b.htm", T0, images=images)
    old = image_capture(crawl, image, T0 + timedelta(seconds=1), digest="sha1:OLD")
    crawl.ingest([old])
    crawl.article("https://www.gov.cn/b.htm", T0 + timedelta(days=2), images=images,
                  body_text="新的正文。\n图片也换了。")
    new = image_capture(crawl, image, T0 + timedelta(days=2, seconds=1), digest="sha1:NEW")
    crawl.ingest([new])
    # 304 long after: stands for the latest earlier response.
    crawl.ingest([image_capture(crawl, image, T0 + timedelta(days=9), record_type="revisit",
                                status=304, digest=None)])
    (record,) = store.iter_export()
    assert record["images"][0]["warc"]["offset"] == new.warc_offset


def test_images_survive_csv_and_parquet(store, tmp_path):
    import json

    from govarchive.storage import csv_lines, write_parquet

    pq = pytest.importorskip("pyarrow.parquet")
    crawl = FakeCrawl(store)
    image = "https://www.gov.cn/images/a.png"
    crawl.article("https://www.gov.cn/a.htm", T0, images=[{"url": image, "alt": "会场"}])
    first = image_capture(crawl, image, T0 + timedelta(seconds=1))
    crawl.ingest([first])
    records = list(store.iter_export())
    header, row = list(csv_lines(records))
    assert "images" in header.split(",")
    assert write_parquet(records, tmp_path / "a.parquet") == 1
    (images,) = pq.read_table(tmp_path / "a.parquet").column("images").to_pylist()
    assert images == records[0]["images"]
    assert json.dumps(records[0]["images"], ensure_ascii=False).replace('"', '""') in row


def test_versions_stored_with_bare_image_urls_still_export(store):
    crawl = FakeCrawl(store)
    crawl.article("https://www.gov.cn/c.htm", T0, images=["https://www.gov.cn/c.png"])
    (record,) = store.iter_export()
    assert record["images"] == [{"url": "https://www.gov.cn/c.png", "alt": "", "warc": None}]


def test_requisite_targets_name_the_last_response_of_each_requisite(store):
    crawl = FakeCrawl(store)
    image = "https://www.gov.cn/images/a.png"
    first = image_capture(crawl, image, T0)
    crawl.ingest([first, image_capture(crawl, image, T0 + timedelta(days=1),
                                       record_type="revisit")])
    crawl.article("https://www.gov.cn/a.htm", T0)  # an HTML page is no requisite
    targets = store.requisite_targets()
    assert set(targets) == {image}
    assert targets[image].refers_to == first.record_id
    assert targets[image].payload_digest == "sha1:IMG1"


# ---- end to end -------------------------------------------------------------------------------

IMAGE_PATH = "/lianbo/difang/202403/images/6937008_1.png"
CSS_PATH = "/css/common.css"
GOVCN = SITES_DIR / "govcn"


def warc_entries(project) -> list[tuple[str, str, str, bytes]]:
    """(file name, WARC-Type, path of the target URI, payload) of every record."""
    out = []
    for path in project.warc_files():
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                out.append((path.name, record.rec_type, urlsplit(uri).path,
                            record.content_stream().read()))
    return out


def read_response(project, warc: dict) -> tuple[str, bytes]:
    with open(project.archive_dir / warc["file"], "rb") as fh:
        fh.seek(warc["offset"])
        data = fh.read(warc["length"])
    record = next(iter(ArchiveIterator(io.BytesIO(data))))
    return record.rec_type, record.content_stream().read()


def image_record(project) -> dict:
    (record,) = [r for r in project.export() if r["url"].endswith("content_6937008.htm")]
    return record


@pytest.mark.slow
def test_crawl_archives_exports_replays_and_rebuilds_body_images(tmp_path, govcn_site,
                                                                  database_url):
    project = make_project(tmp_path, [site_source("govcn", govcn_site)],
                           storage_url=database_url)
    result = project.crawl("govcn")
    assert result.returncode == 0, result.stderr
    png = (GOVCN / IMAGE_PATH.lstrip("/")).read_bytes()
    entries = warc_entries(project)
    responses = [(path, payload) for _f, kind, path, payload in entries if kind == "response"]
    assert (IMAGE_PATH, png) in responses
    # The stylesheet once for the twelve pages; the header's logo and script are not "body".
    assert [p for p, _ in responses].count(CSS_PATH) == 1
    assert "/images/logo.png" not in [p for p, _ in responses]
    assert not govcn_site.requested("/js/jquery.min.js")

    record = image_record(project)
    title = govcn_site.expected["articles"][urlsplit(record["url"]).path]["title"]
    (image,) = record["images"]
    assert image["url"] == govcn_site.url(IMAGE_PATH) and image["alt"] == title
    assert read_response(project, image["warc"]) == ("response", png)
    others = [r for r in project.export() if r["id"] != record["id"]]
    assert others and all(r["images"] == [] for r in others)

    # `articles show` lists it.
    shown = project.run("articles", "show", str(record["id"]))
    assert shown.returncode == 0, shown.stderr
    assert govcn_site.url(IMAGE_PATH) in shown.stdout and title in shown.stdout

    # The article is edited; fetched again, its unchanged stylesheet and picture are
    # archived as revisit records (an unchanged article's are not fetched again at all).
    article_path = urlsplit(record["url"]).path
    html = (GOVCN / article_path.lstrip("/")).read_text(encoding="utf-8")
    govcn_site.override(article_path, body=html.replace("。</p>", "。另据补充说明。</p>", 1))
    again = project.crawl("govcn", "--revisit", "all")
    assert again.returncode == 0, again.stderr
    new_files = {p.name for p in project.warc_files()} - {f for f, *_ in entries}
    second = [(kind, path) for f, kind, path, _ in warc_entries(project) if f in new_files]
    assert ("revisit", IMAGE_PATH) in second and ("revisit", CSS_PATH) in second, [
        entry for entry in second if not entry[1].endswith(".htm")]
    assert ("response", IMAGE_PATH) not in second and ("response", CSS_PATH) not in second
    edited = image_record(project)
    assert len(edited["versions"]) == 2 and edited["images"] == record["images"]

    # A new database rebuilt from the archive alone links the picture again.
    (tmp_path / "rebuilt").mkdir()
    rebuilt = make_project(tmp_path / "rebuilt", [site_source("govcn", govcn_site)])
    shutil.rmtree(rebuilt.root / "data" / "archive")
    (rebuilt.root / "data" / "archive").symlink_to(project.root / "data" / "archive")
    result = rebuilt.run("replay", "reparse")
    assert result.returncode == 0, result.stderr
    assert image_record(rebuilt)["images"] == record["images"]


@pytest.mark.slow
def test_replay_serves_the_article_with_its_picture(tmp_path, govcn_site):
    from tests.test_replay_e2e import Wayback

    project = make_project(tmp_path, [site_source("govcn", govcn_site)])
    assert project.crawl("govcn").returncode == 0
    record = image_record(project)
    wayback = Wayback(project)
    try:
        wayback.wait_ready()
        status, body = wayback.get(f"/govarchive/mp_/{record['url']}")
        assert status == 200 and "6937008_1.png" in body
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        for path, local in ((IMAGE_PATH, GOVCN / IMAGE_PATH.lstrip("/")),
                            (CSS_PATH, GOVCN / CSS_PATH.lstrip("/"))):
            address = f"http://127.0.0.1:{wayback.port}/govarchive/id_/{govcn_site.url(path)}"
            with opener.open(address, timeout=30) as response:
                data = response.read()
                if response.headers.get("Content-Encoding") == "gzip":
                    data = gzip.decompress(data)
                assert response.status == 200 and data == local.read_bytes()
    finally:
        wayback.stop()


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["none", "page", "capped"])
def test_requisites_none_page_and_the_size_cap(tmp_path, govcn_site, mode):
    # "capped": body mode with the cap between the picture's size (73 B) and the stylesheet's.
    crawl = {"requisites": "body", "max_attachment_size": 90} if mode == "capped" else {
        "requisites": mode}
    project = make_project(tmp_path, [site_source("govcn", govcn_site)], crawl=crawl)
    result = project.crawl("govcn")
    assert result.returncode == 0, result.stderr
    paths = {path for _f, kind, path, _p in warc_entries(project) if kind == "response"}
    fetched = {p for p in (IMAGE_PATH, CSS_PATH, "/images/logo.png", "/js/jquery.min.js")
               if p in paths}
    if mode == "none":
        assert fetched == set()
        assert not govcn_site.requested(CSS_PATH) and not govcn_site.requested(IMAGE_PATH)
    elif mode == "page":
        assert fetched == {IMAGE_PATH, CSS_PATH, "/images/logo.png", "/js/jquery.min.js"}
    else:
        assert fetched == {IMAGE_PATH}
        assert f"requisite {govcn_site.url(CSS_PATH)} [too_large]" in result.stderr
    # The export still names the body's picture; with "none" it was never archived.
    (image,) = image_record(project)["images"]
    assert (image["warc"] is None) == (mode == "none")


# ---- the web article page ---------------------------------------------------------------------


def test_article_page_lists_images_with_alt_and_replay_link(store):
    from fastapi.testclient import TestClient

    from govarchive.web import WebConfig, create_app

    crawl = FakeCrawl(store)
    image = "https://www.gov.cn/images/a.png"
    images = [{"url": image, "alt": "会场全景"}, {"url": "https://www.gov.cn/gone.png", "alt": ""}]
    fetched = crawl.article("https://www.gov.cn/a.htm", T0, images=images)
    crawl.ingest([image_capture(crawl, image, T0 + timedelta(seconds=1))])
    config = WebConfig(collection="c", replay_url="http://replay.test/{collection}/{timestamp}/{url}")
    with TestClient(create_app(store, config)) as client:
        html = client.get(f"/articles/{fetched.article_id}").text
    stamp = T0.strftime("%Y%m%d%H%M%S")
    assert "会场全景" in html and f'href="http://replay.test/c/{stamp}/{image}"' in html
    assert "未存档" in html and "https://www.gov.cn/gone.png" in html
    assert "<img" not in html.split('class="body"')[1]  # never loaded from the live site
