"""extract_article on random and mutated pages: only NotHTMLError may escape."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govarchive.crawler.extract import Article, NotHTMLError, extract_article

PAGES = sorted((Path(__file__).resolve().parent / "fixtures" / "pages").glob("*.html"))
SEEDS = [p.read_bytes() for p in PAGES]
FUZZ = settings(
    max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

TAGS = [
    "html",
    "head",
    "body",
    "div",
    "p",
    "span",
    "a",
    "h1",
    "td",
    "tr",
    "table",
    "br",
    "meta",
    "title",
    "script",
    "style",
    "img",
    "/html",
    "/body",
    "/div",
    "!--",
    "?xml",
    "!DOCTYPE html",
]
WORDS = [
    "来源：",
    "发布时间：",
    "2011-04-02 08:30",
    "中華民國107年3月13日",
    "当前位置：",
    ">",
    "责任编辑：",
    "（周暹）",
    "发文字号：",
    "国发〔2011〕12号",
    "页面生成时间",
    "打印本页",
    "，",
    "。",
    "附件.pdf",
    "charset=gb2312",
    "charset=big5",
    "href='x.doc'",
    "display:none",
    "\x00",
    "\ufffd",
    "&#0;",
    "&nbsp;",
]


def check(body: bytes, content_type: str | None = None) -> None:
    try:
        art = extract_article(body, "http://www.example.gov.cn/a/b.htm", content_type=content_type)
    except NotHTMLError:
        return
    assert isinstance(art, Article)
    record = art.to_record()
    assert isinstance(record["body_text"], str) and isinstance(record["section"], list)
    assert record["published_precision"] in (None, "day", "minute", "second")


@FUZZ
@given(
    st.binary(max_size=4000),
    st.sampled_from([None, "text/html", "text/html; charset=gbk", "text/plain"]),
)
def test_random_bytes(body, content_type):
    check(body, content_type)


@FUZZ
@given(
    st.lists(
        st.one_of(
            st.sampled_from(TAGS).map(lambda t: f"<{t}>"),
            st.sampled_from(WORDS),
            st.text(max_size=20),
        ),
        max_size=80,
    ),
    st.sampled_from(["utf-8", "gb18030", "cp950", "utf-16"]),
)
def test_random_markup(parts, codec):
    check("".join(parts).encode(codec, errors="replace"))


@st.composite
def mutated(draw):
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        where = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "truncate"]))
        chunk = draw(st.binary(min_size=1, max_size=40))
        if action == "insert":
            data[where:where] = chunk
        elif action == "delete":
            del data[where : where + len(chunk)]
        elif action == "replace":
            data[where : where + len(chunk)] = chunk
        else:
            del data[where:]
    return bytes(data)


@FUZZ
@given(mutated())
def test_mutated_pages(body):
    check(body)
