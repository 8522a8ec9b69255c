"""crawler.extract on the project's own fixture pages (modelled on real government layouts)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from govarchive.crawler.extract import Article, Attachment, extract_article

PAGES = Path(__file__).resolve().parent / "fixtures" / "pages"
LABELS = json.loads((PAGES / "labels.json").read_text(encoding="utf-8"))
URL = "https://www.example.gov.cn/xinwen/2011-04/02/content_1.htm"


def extract(name: str, **kwargs) -> Article:
    content_type = LABELS.get(name, {}).get("content_type")
    return extract_article((PAGES / name).read_bytes(), URL, content_type=content_type, **kwargs)


@pytest.mark.parametrize("name", sorted(LABELS))
def test_fixture_matches_its_labels(name):
    label = LABELS[name]
    art = extract(name)
    assert art.title == label["title"]
    day = art.published_at.strftime("%Y-%m-%d") if art.published_at else None
    assert day == (label["date"] or "")[:10] or (day is None and label["date"] is None)
    assert art.origin == label["source"]
    assert art.author == label["author"]
    if "section" in label:
        assert art.section == label["section"]
    if "doc_number" in label:
        assert art.doc_number == label["doc_number"]
    for text in label["with"]:
        assert text in art.body_text
    for text in label["without"]:
        assert text not in art.body_text, text


def test_govcn_article_record():
    art = extract("govcn-article-utf8.html")
    record = art.to_record()
    assert record["published_at"] == "2011-04-02T08:30:00+08:00"
    assert record["published_precision"] == "minute"
    assert record["section"] == ["首页", "工作动态", "地方政务"]
    assert record["images"] == [
        {"url": "https://www.example.gov.cn/images/2011-04/02/fuzhongxin.jpg", "alt": "会场"}]
    assert record["encoding"] == "utf-8" and record["truncated"] is False
    # paragraphs stay paragraphs
    assert record["body_text"].count("\n") == 2
    assert "<p>" in record["body_html"] and "打印本页" not in record["body_html"]
    json.dumps(record, ensure_ascii=False)  # JSON-ready


def test_trs_ministry_page_gbk_metas_doc_number_and_attachments():
    art = extract("trs-ministry-gb2312.html")
    assert art.encoding == "gb18030"  # declared gb2312, holds the GBK-only 〇
    assert art.published_at == datetime(2011, 4, 2, 10, 15, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert art.doc_number == "国发〔2011〕12号"
    assert art.attachments == [
        Attachment(
            "https://www.example.gov.cn/xinwen/2011-04/02/P020110402512345678901.pdf",
            "1. 融资平台公司债务清理情况表.pdf",
        ),
        Attachment(
            "https://www.example.gov.cn/xinwen/2011-04/02/P020110402512345678902.doc",
            "2. 债务分类处理意见",
        ),
    ]


def test_big5_page_with_roc_date_is_read_as_cp950():
    art = extract("ey-big5-roc.html")
    assert art.encoding in ("cp950", "big5hkscs")
    assert art.published_at.date().isoformat() == "2018-03-13"
    assert art.published_precision == "day"


def test_page_lying_about_its_charset_is_read_as_utf8():
    art = extract("zj-lying-charset.html")
    assert art.encoding == "utf-8"
    assert "经济形势分析会" in art.title


def test_footer_generation_time_and_today_are_never_the_date():
    art = extract("county-footer-date.html")
    # the info line only says 2015年3月: no day, so no date (never the 1st, never the footer)
    assert art.published_at is None and art.published_precision is None


def test_content_after_a_stray_closing_html_tag_is_kept():
    art = extract("gongbao-stray-html.html")
    assert "确保群众饮水安全。" in art.body_text
    assert art.published_precision == "second"


def test_timezone_argument_applies_to_naive_page_dates():
    art = extract("govcn-article-utf8.html", timezone="Asia/Taipei")
    assert art.published_at.utcoffset().total_seconds() == 8 * 3600
    art = extract("govcn-article-utf8.html", timezone="Europe/Berlin")
    assert art.to_record()["published_at"] == "2011-04-02T08:30:00+02:00"


def test_site_rules_override_the_automatic_fields():
    rules = {
        "title": "span.font:contains('来源')",
        "body": "//div[@id='UCAP-CONTENT']/p[1]",
        "published": "(//li[contains(., '2011-03-30')])[1]",
        "origin": "h1",
        "author": None,
    }
    art = extract("govcn-article-utf8.html", rules=rules)
    assert art.title == "来源：北京日报"
    assert art.published_at is not None and art.published_at.day == 30
    assert art.origin == "北京市全面推进城市副中心建设"
    assert art.author == "周暹"  # no rule: found automatically
    assert art.body_text.startswith("4月1日，北京市召开") and art.body_text.endswith("按期推进。")


def test_rule_that_matches_nothing_falls_back_to_automatic_body():
    art = extract("govcn-article-utf8.html", rules={"body": "#no-such-element"})
    assert "城市副中心建设推进大会" in art.body_text


def test_index_number_when_the_page_has_no_document_number():
    html = (
        "<html><head><meta charset='utf-8'><title>2023年部门预算公开_某县财政局</title></head><body>"
        "<table><tr><td>索引号：</td><td>11330521MB1234567X/2023-00012</td>"
        "<td>发布机构：</td><td>某县财政局</td></tr></table>"
        "<h1>2023年部门预算公开</h1><div class='zw'><p>根据预算法有关规定，现将我局2023年部门预算公开如下，"
        "请社会各界监督。</p><p>一、部门基本情况。我局内设机构五个，下属单位两个。</p></div></body></html>"
    )
    art = extract_article(html.encode("utf-8"), URL)
    assert art.doc_number == "11330521MB1234567X/2023-00012"
    assert art.title == "2023年部门预算公开"


def test_disclosure_table_prefers_the_publishing_date_over_the_signing_date():
    html = (
        "<html><head><meta charset='utf-8'><title>关于印发实施方案的通知_某市人民政府</title></head><body>"
        "<table class='xxgk'><tr><td>索引号：</td><td>000000/2023-001</td><td>成文日期：</td>"
        "<td>2023年05月04日</td></tr><tr><td>发文字号：</td><td>某政发〔2023〕5号</td>"
        "<td>发布日期：</td><td>2023年05月06日</td></tr></table>"
        + "<p>相关栏目</p>" * 8
        + "<h1>关于印发实施方案的通知</h1><div class='zw'><p>各县（市、区）人民政府，市政府各部门：现将"
        "《实施方案》印发给你们，请认真贯彻执行。</p><p>一、总体要求。坚持问题导向，突出重点，"
        "务求实效。</p></div></body></html>"
    )
    art = extract_article(html.encode("utf-8"), URL)
    assert art.published_at.date().isoformat() == "2023-05-06"
    assert art.doc_number == "某政发〔2023〕5号"
