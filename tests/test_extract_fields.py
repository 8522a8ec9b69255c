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


# Info lines as real pages lay them out (issue section 4). Short invented pages: no real page
# is copied here.


def _page(body: str, *, title: str = "", metas: str = "") -> bytes:
    return (
        f"<html><head><meta charset='utf-8'><title>{title}</title>{metas}</head>"
        f"<body>{body}</body></html>"
    ).encode()


_TEXT = (
    "<div class='article-content'><p>为进一步做好春季农业生产工作，市农业农村局近日召开专题会议，"
    "部署春耕备耕各项任务。会议要求，各地要抓好种子、化肥等农资供应，确保不误农时。</p>"
    "<p>会议强调，要加强农技服务，组织技术人员深入田间地头，帮助农户解决实际困难。</p></div>"
)


def test_title_box_that_also_holds_the_dateline_source_and_share_widget_is_cut_back():
    html = _page(
        "<div class='nav'><a href='/'>首页</a></div>"
        "<div class='title_box'>市农业农村局部署春耕备耕工作"
        "<p>2019年06月15日08:18　来源：某某日报　<span>分享到：微信 微博</span></p></div>" + _TEXT,
        title="市农业农村局部署春耕备耕工作_某某市人民政府",
    )
    art = extract_article(html, URL)
    assert art.title == "市农业农村局部署春耕备耕工作"
    assert art.origin == "某某日报"
    assert (art.published_at.hour, art.published_at.minute) == (8, 18)
    assert art.published_precision == "minute"


def test_generic_head_title_gives_way_to_the_headline_above_the_text():
    html = _page(
        "<div class='top'>某某市公共资源交易中心</div>"
        "<div class='detail-title'>某某路改造工程施工中标结果公告</div>"
        "<div class='info'>发布时间：2020-01-02 17:11</div>" + _TEXT,
        title="中标公告详细页面",
    )
    art = extract_article(html, URL)
    assert art.title == "某某路改造工程施工中标结果公告"
    assert art.published_at.isoformat() == "2020-01-02T17:11:00+08:00"


@pytest.mark.parametrize(
    "info, origin, author",
    [
        ("来源：人民网-文化频道 原创稿", "人民网-文化频道", None),
        ("来源：某某日报 作者：王小明", "某某日报", "王小明"),
        ("来源：某某日报　　作者：王小明　　责任编辑：李华", "某某日报", "王小明"),
        ("来源：某某县政府办 2019-06-15", "某某县政府办", None),
        ("作者：L_104485　来源：某某网", "某某网", None),
        ("作者：123456", None, None),
        ("作者：本报记者 张小三", None, "张小三"),
        ("来源：某某日报 记者：王小五", "某某日报", "王小五"),
        ("来源：　　发布时间：2019-06-15", None, None),
        # an empty 来源 in its own box: the next box's label is no source
        ("<span>来源：</span><span>访问量：</span><b>1632</b>", None, None),
        ("<span>来源：</span> <span>发布日期：</span><span>2017-05-15 10:49</span>", None, None),
        ("来源于：某某街道办事处", "某某街道办事处", None),
        ("作者：未知　　责任编辑：李小华", None, "李小华"),
        ("作者：网络整理", None, None),
        ("来源：某某网　责任编辑：xiaohua", "某某网", None),  # a CMS account
    ],
)
def test_info_line_values(info, origin, author):
    html = _page(f"<h1>市农业农村局部署春耕备耕工作</h1><div class='info'>{info}</div>" + _TEXT)
    art = extract_article(html, URL)
    assert (art.origin, art.author) == (origin, author)


def test_a_note_closing_the_text_is_no_author():
    text = _TEXT.replace("实际困难。</p>", "实际困难。</p><p>（本文有删减）</p>")
    art = extract_article(_page("<h1>市农业农村局部署春耕备耕工作</h1>" + text), URL)
    assert art.author is None
    assert "（本文有删减）" in art.body_text


def test_only_a_visible_origin_counts():
    metas = "<meta name='ContentSource' content='某某市统计局办公室'><meta name='Author' content='某某市统计局'>"
    bulletin = (
        "<h1>某某市2022年国民经济和社会发展统计公报</h1><div class='zw'><p>2022年，全市经济运行总体平稳，"
        "全年地区生产总值比上年增长4.5%。</p><p>农业生产稳定，粮食总产量保持稳定，畜牧业生产平稳。</p>"
        "<p>资料来源：</p><p>本公报中地区生产总值数据来自市统计局。</p></div>"
        "<div class='footer'><p>版权声明：凡本网注明 文章来源：某某市人民政府网站 的作品，转载请注明出处。</p></div>"
    )
    art = extract_article(_page(bulletin, metas=metas), URL)
    assert art.origin is None  # the meta is not shown; 资料来源 and the footer are not the 来源
    assert art.author is None  # a meta Author naming a body is no person
    shown = bulletin.replace("<div class='zw'>", "<table><tr><td>发布机构：</td><td>某某市统计局</td></tr></table><div class='zw'>")
    art = extract_article(_page(shown, metas=metas), URL)
    assert art.origin == "某某市统计局"


def test_word_document_properties_in_the_text_are_no_author():
    word = (
        "<h1>关于某某事项的公告</h1><div class='TRS_Editor'><xml><o:DocumentProperties><o:Author>Administrator"
        "</o:Author><o:Pages>2</o:Pages></o:DocumentProperties></xml>" + _TEXT + "</div>"
    )
    art = extract_article(_page(word, metas="<meta name='author' content='Administrator'>"), URL)
    assert art.author is None
    assert "Administrator" not in art.body_text and "春耕备耕" in art.body_text


@pytest.mark.parametrize(
    "opening, origin, author",
    [
        ("（中央社記者邱小明桃園8日電）桃園市政府今天宣布，", "中央社", "邱小明"),
        ("（中央社記者王明、李華台北8日電）行政院今天表示，", "中央社", "王明、李華"),
        ("（中央社台北8日電）行政院今天表示，", "中央社", None),
        ("〔記者陳小寧／台北報導〕行政院今天表示，", None, "陳小寧"),
        ("〔自由時報記者陳小寧／台北報導〕行政院今天表示，", "自由時報", "陳小寧"),
        ("【聯合報／記者林小華／台北即時報導】行政院今天表示，", "聯合報", "林小華"),
        ("新华社北京3月5日电（记者张小三、李小四）国务院今天表示，", "新华社", "张小三、李小四"),
        ("本报讯（记者 张小三）市政府今天表示，", None, "张小三"),
        ("香港文匯報訊（記者 李小四）特區政府今天表示，", "香港文匯報", "李小四"),
        ("【明報專訊】特區政府今天表示，", "明報", None),
        ("【大公報訊】記者李小四報道：特區政府今天表示，", "大公報", "李小四"),
        ("新华社北京3月5日电 国务院今天表示，", "新华社", None),
        ("国务院今天表示，", None, None),
    ],
)
def test_agency_and_newspaper_bylines(opening, origin, author):
    art = _article_opening_with(f"<p>{opening}")
    assert (art.origin, art.author) == (origin, author)


def _article_opening_with(head: str):
    """An article whose text starts with ``head`` (a byline, then the text's first words)."""
    text = (
        f"<div class='content'>{head}將加強防災整備工作，並要求各機關落實各項措施，"
        "確保民眾生命財產安全。</p><p>相關單位將持續觀察天氣變化，適時發布最新訊息。</p></div>"
    )
    return extract_article(_page("<h1>加強防災整備工作</h1>" + text), URL)


def test_visible_origin_wins_over_a_byline():
    text = (
        "<div class='info'>來源：行政院新聞傳播處</div><div class='content'><p>（中央社記者邱小明桃園8日電）"
        "桃園市政府今天宣布，將加強防災整備工作，並要求各機關落實各項措施。</p></div>"
    )
    art = extract_article(_page("<h1>加強防災整備工作</h1>" + text), URL)
    assert (art.origin, art.author) == ("行政院新聞傳播處", "邱小明")


@pytest.mark.parametrize(
    "body, head_title, title",
    [
        pytest.param(  # the <title> names a text of the page: kept over a box title above it
            "<div class='column-title'>通知公告栏目</div>"
            "<p align='center'><strong>关于做好春耕备耕工作的通知</strong></p>" + _TEXT,
            "关于做好春耕备耕工作的通知_某某市人民政府", "关于做好春耕备耕工作的通知",
            id="head-title-names-a-text-of-the-page"),
        pytest.param(  # the <title> names only the section and the site
            "<div class='nav'><a href='/xwdt/'>新闻动态</a><a href='/tzgg/'>通知公告</a></div>"
            "<div class='news_right'><h4>联系我们</h4><h5>某某地理学会</h5><p>地址：某某路1号</p>"
            "</div><div class='news_left'><h3>首页 - 新闻动态</h3>"
            "<h5>2019年某某地理学术年会在某某大学成功举行！</h5><b>发布时间：2019-05-18</b>"
            "<i>来源：某某地理学会</i>" + _TEXT + "</div>",
            "新闻动态--某某地理学会官网", "2019年某某地理学术年会在某某大学成功举行！",
            id="head-title-names-only-section-and-site"),
        pytest.param(  # headline and section joined by a bare hyphen
            "<table><tr><td><span class='STYLE7'>纪检监察</span></td></tr>"
            "<tr><td><span class='STYLE8'>某某单位廉政建设若干规定</span></td></tr>"
            "<tr><td>来源: | 发布时间: 2018-05-17 | 浏览次数:</td></tr></table>" + _TEXT,
            "某某单位廉政建设若干规定-纪检", "某某单位廉政建设若干规定",
            id="headline-and-section-joined-by-a-hyphen"),
    ],
)
def test_head_title_against_the_headings_of_the_page(body, head_title, title):
    assert extract_article(_page(body, title=head_title), URL).title == title


def test_portal_info_line_with_a_linked_source_and_a_day_only_meta():
    html = _page(
        "<div class='text_title'><h1>市农业农村局部署春耕备耕工作</h1>"
        "<div class='box01'><div class='fl'>2019年06月15日08:18&nbsp;&nbsp;来源：<a href='/'>"
        "人民网-文化频道</a> <span>原创稿</span></div><div class='fr'>分享到：</div></div></div>"
        + _TEXT,
        title="市农业农村局部署春耕备耕工作--文化--人民网",
        metas="<meta name='publishdate' content='2019-06-15'>",
    )
    art = extract_article(html, URL)
    assert art.title == "市农业农村局部署春耕备耕工作"
    assert art.origin == "人民网-文化频道"
    assert art.published_at.isoformat() == "2019-06-15T08:18:00+08:00"
    assert art.published_precision == "minute"


@pytest.mark.parametrize(
    "head, origin, author",
    [
        # a photo caption before the byline paragraph
        ("<p>市政府今天召開防災會議，各機關首長出席。（消防局提供）"
         "中央社記者邱小明桃園傳真 105年3月19日</p>"
         "<p>（中央社記者邱小明桃園19日電）桃園市政府今天宣布，", "中央社", "邱小明"),
        # bylines without brackets, on a line of their own
        ("<p>聯合報 記者陳小寧／桃園機場報導</p><p>行政院今天表示，", "聯合報", "陳小寧"),
        ("<p>記者林小悅／南市報導</p><p>行政院今天表示，", None, "林小悅"),
        # role words next to the names are no names
        ("<p>长江网10月4日讯（记者陈小智 整合）市政府今天表示，", "长江网", "陈小智"),
        ("<p>聯合報／記者陳小寧／台北即時報導</p><p>行政院今天表示，", "聯合報", "陳小寧"),
        ("<p>某京报快讯（记者 裴小飞）市政府今天表示，", "某京报", "裴小飞"),
        ("<p>（記者陳小寧／台北報導）行政院今天表示，", None, "陳小寧"),
        ("<p>中央社記者邱小明台北2日電 行政院今天表示，", "中央社", "邱小明"),
    ],
)
def test_bylines_heading_the_text(head, origin, author):
    art = _article_opening_with(head)
    assert (art.origin, art.author) == (origin, author)


def test_byline_between_the_headline_and_a_text_block_that_leaves_it_out():
    html = _page(
        "<h1>加強防災整備工作</h1><div class='date'>2018-03-18 23:59</div>"
        "<div class='author'>聯合報 記者</div><a href='/reporter/1'>陳小寧</a>"
        "<div class='author'>／桃園報導</div>"
        "<div class='content'><p>行政院今天表示，將加強防災整備工作，並要求各機關落實各項措施，"
        "確保民眾生命財產安全。</p><p>相關單位將持續觀察天氣變化，適時發布最新訊息，請民眾留意。</p></div>"
    )
    art = extract_article(html, URL)
    assert (art.origin, art.author) == ("聯合報", "陳小寧")


def test_issuing_department_box_under_the_headline():
    html = _page(
        "<h1>某某局公布春耕備耕工作安排</h1><div class='info'><span class='dept'>某某局</span>"
        "<time datetime='2024-01-02T17:30:00+08:00'>2024-01-02 17:30</time></div>" + _TEXT
    )
    art = extract_article(html, URL)
    assert art.origin == "某某局"
    assert art.published_at.isoformat() == "2024-01-02T17:30:00+08:00"


def test_info_line_boxes_marked_by_their_class():
    html = _page(
        "<h1 class='article-title'>士林區舉辦防災演練</h1><div class='meta-info'>"
        "<time><span class='hour'>15:31</span><span class='date'>2018/09/16</span></time>"
        "<div class='source'>某某時報 </div>"
        "<div class='author'><a href='/reporter/9'>謝小俊</a></div>"
        "</div>" + _TEXT
    )
    art = extract_article(html, URL)
    assert (art.origin, art.author) == ("某某時報", "謝小俊")


@pytest.mark.parametrize(
    "closing, author",
    [
        ("（圖／翻攝畫面）", None),  # a photo credit
        ("（图/某某区融媒体中心）", None),
        ("(文/图 刘小东 易小楠)", "刘小东 易小楠"),  # the credit goes, the names stay
        ("（文／王小明）", "王小明"),
    ],
)
def test_credits_closing_the_text(closing, author):
    text = _TEXT.replace("实际困难。</p>", f"实际困难。{closing}</p>")
    art = extract_article(_page("<h1>市农业农村局部署春耕备耕工作</h1>" + text), URL)
    assert art.author == author


@pytest.mark.parametrize(
    "head, origin, author",
    [
        ("<p>某某新闻记者 段小超 廖小艳</p><p>", "某某新闻", "段小超、廖小艳"),
        ("<p>某某商报记者马小峰/文 受访者供图</p><p>", "某某商报", "马小峰"),
        ("<p>记者 彭小冲 某某县报道</p><p>", None, "彭小冲"),
        ("<p>石小佳/中国某某报</p><p>", "中国某某报", "石小佳"),  # a portal reposting a paper
    ],
)
def test_reporter_lines_heading_the_text(head, origin, author):
    text = (
        f"<div class='content'>{head}市农业农村局近日召开专题会议，部署春耕备耕各项任务，"
        "要求各地抓好种子、化肥等农资供应。</p><p>会议强调，要加强农技服务，帮助农户解决实际困难。</p></div>"
    )
    art = extract_article(_page("<h1>市农业农村局部署春耕备耕工作</h1>" + text), URL)
    assert (art.origin, art.author) == (origin, author)


@pytest.mark.parametrize(
    "closing",
    ["（原题为《春耕备耕正当时》）", "（实习生王小茹对此文亦有贡献）", "（BBC）"],
)
def test_notes_closing_the_text_are_no_author(closing):
    text = _TEXT.replace("实际困难。</p>", f"实际困难。</p><p>{closing}</p>")
    art = extract_article(_page("<h1>市农业农村局部署春耕备耕工作</h1>" + text), URL)
    assert art.author is None


def test_editor_account_id_and_a_meta_author_naming_the_source():
    info = "<div class='info'>2019-09-07 09:59:22 来源: <a href='/'>某某晚报</a></div>"
    foot = "<p><span>本文来源：某某晚报</span><span>责任编辑：杜小硕_NB12556</span></p>"
    html = _page(
        "<h1>市农业农村局部署春耕备耕工作</h1>" + info + _TEXT + foot,
        metas="<meta property='article:author' content='某某晚报'>",
    )
    art = extract_article(html, URL)
    assert (art.origin, art.author) == ("某某晚报", "杜小硕")
    no_editor = _page(
        "<h1>市农业农村局部署春耕备耕工作</h1>" + info + _TEXT,
        metas="<meta property='article:author' content='某某晚报'>",
    )
    assert extract_article(no_editor, URL).author is None


def test_info_line_under_a_copyright_heading_is_the_articles_own():
    box = (
        "<ul class='spostinfo'><li><strong>版权声明</strong> 来源：某某商报"
        " 时间：2019-09-23 14:34:05 作者：</li>"
        "<li><strong>转载请注明：</strong><a href='/1.html'>本文链接</a></li></ul>"
    )
    art = extract_article(_page("<h1>市农业农村局部署春耕备耕工作</h1>" + _TEXT + box), URL)
    assert (art.origin, art.author) == ("某某商报", None)
    notice = (
        "<div class='footer'><p>版权声明：</p>"
        "<p>凡本网注明“来源：某某网”的作品，转载请注明出处。</p></div>"
    )
    art = extract_article(_page("<h1>市农业农村局部署春耕备耕工作</h1>" + _TEXT + notice), URL)
    assert art.origin is None


@pytest.mark.parametrize("head_title", ["正文", "某某市人民政府门户网站", "信息详细页面"])
def test_head_title_naming_the_page_kind_or_the_site(head_title):
    html = _page(
        "<div class='logo'>某某市人民政府门户网站</div>"
        "<div class='crumb'><a href='/'>首页</a> &gt; <span>正文</span></div>"
        "<h2>市农业农村局部署春耕备耕工作</h2>" + _TEXT,
        title=head_title,
    )
    assert extract_article(html, URL).title == "市农业农村局部署春耕备耕工作"
