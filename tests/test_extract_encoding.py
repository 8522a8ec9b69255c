"""Bytes to text: charsets declared, undeclared, wrong and broken; what is not HTML at all."""

from __future__ import annotations

import pytest

from govarchive.crawler.extract import MAX_BYTES, NotHTMLError, decode_html, extract_article

PARAGRAPH = "<p>国务院办公厅关于进一步做好政务公开工作的通知，各地区各部门要认真贯彻落实。</p>" * 20


def page(charset_meta: str = "", body: str = PARAGRAPH) -> str:
    meta = (
        f'<meta http-equiv="Content-Type" content="text/html; charset={charset_meta}">'
        if charset_meta
        else ""
    )
    return f"<html><head>{meta}<title>通知</title></head><body>{body}</body></html>"


def test_decode_html_refuses_text():
    with pytest.raises(TypeError):
        decode_html("<html></html>")


@pytest.mark.parametrize("declared", ["gb2312", "GBK", "gb18030", "x-gbk"])
def test_gb_family_is_read_as_gb18030(declared):
    text, codec = decode_html(page(declared).encode("gbk"))
    assert codec == "gb18030" and "政务公开" in text


def test_big5_is_read_as_cp950():
    body = "<p>行政院會議通過前瞻基礎建設計畫特別預算，將送請立法院審議。</p>" * 10
    text, codec = decode_html(page("big5", body).encode("cp950"))
    assert codec == "cp950" and "立法院" in text


def test_http_charset_wins_over_meta():
    raw = page("iso-8859-1").encode("utf-8")
    text, codec = decode_html(raw, "text/html; charset=UTF-8")
    assert codec == "utf-8" and "政务公开" in text


def test_declared_gb2312_but_utf8_bytes():
    text, codec = decode_html(page("gb2312").encode("utf-8"))
    assert codec == "utf-8" and "政务公开" in text


def test_wrong_http_charset_is_not_believed():
    text, codec = decode_html(page("").encode("gbk"), "text/html; charset=utf-8")
    assert codec == "gb18030" and "政务公开" in text


def test_undeclared_gbk_and_big5_are_detected():
    assert decode_html(page().encode("gbk"))[1] == "gb18030"
    body = "<p>這是一個測試頁面，政府資訊公開，請民眾多加利用。我們會持續更新相關資料。</p>" * 10
    assert decode_html(page("", body).encode("cp950"))[1] == "cp950"


def test_broken_bytes_are_replaced_not_fatal():
    raw = page("gbk").encode("gbk")
    middle = len(raw) // 2
    raw = raw[:middle] + b"\xff\xfe\x81" + raw[middle:]
    text, codec = decode_html(raw)
    assert codec == "gb18030" and "\ufffd" in text and "政务公开" in text


def test_bom_wins():
    text, codec = decode_html(b"\xef\xbb\xbf" + page("gbk").encode("utf-8"))
    assert codec == "utf-8" and not text.startswith("\ufeff")


@pytest.mark.parametrize(
    "raw, content_type",
    [
        (b"%PDF-1.7\n1 0 obj <<>> endobj", None),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", None),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "text/html"),
        (b'{"code": 0, "data": [{"title": "<b>x</b>"}]}', None),
        (b"[1, 2, 3]", "application/octet-stream"),
        (b"", None),
        (b"   \n  ", "text/html"),
        (page().encode("utf-8"), "application/pdf"),
        (page().encode("utf-8"), "image/png"),
        (page().encode("utf-8"), "application/json"),
        (b"PK\x03\x04\x14\x00\x06\x00", None),
    ],
)
def test_not_html(raw, content_type):
    with pytest.raises(NotHTMLError):
        extract_article(raw, "https://www.example.gov.cn/x", content_type=content_type)


def test_octet_stream_html_is_still_read():
    art = extract_article(
        page().encode("utf-8"),
        "https://www.example.gov.cn/x",
        content_type="application/octet-stream",
    )
    assert "政务公开" in art.body_text


def test_ten_megabyte_page_is_capped_and_marked_truncated():
    filler = "<div>" + "<p>这是一个很长的页面，用来测试大小上限。</p>" * 250_000 + "</div>"
    raw = page("utf-8", PARAGRAPH + filler).encode("utf-8")
    assert len(raw) > 2 * MAX_BYTES
    art = extract_article(raw, "https://www.example.gov.cn/x")
    assert art.truncated is True
    assert art.body_text.startswith("这是一个很长的页面") and len(art.body_text) < MAX_BYTES
    small = extract_article(page("utf-8").encode("utf-8"), "https://www.example.gov.cn/x")
    assert small.truncated is False
