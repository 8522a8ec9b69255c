"""The density extractor: the article block, without page chrome, with paragraph breaks."""

from __future__ import annotations

from govarchive.crawler.extract import extract_article

URL = "http://www.example.gov.cn/art/2020/5/6/art_1_2.html"
NAV = "".join(f'<li><a href="/col/{i}/">栏目{i}</a></li>' for i in range(30))
ARTICLE = (
    "<p>　　5月6日，市政府召开常务会议，研究部署当前经济社会发展重点工作。会议强调，要统筹做好疫情防控和经济社会发展。</p>"
    "<p>　　会议听取了全市一季度经济运行情况汇报，要求各部门坚持稳中求进，落实落细各项政策措施，全力以赴稳企业、保就业。</p>"
    "<p>　　会议还研究了其他事项。</p>"
)


def build(content: str, around: str = "") -> bytes:
    return (
        f"<html><head><meta charset='utf-8'><title>常务会议_某市人民政府</title></head><body>"
        f"<ul class='nav'>{NAV}</ul><h1>市政府召开常务会议</h1>{around}"
        f"<div class='article'>{content}</div>"
        "<div class='links'>相关链接："
        + "".join(f"<a href='/a/{i}.html'>相关新闻标题{i}</a>" for i in range(8))
        + "</div>"
        "<div class='footer'>主办单位：某市人民政府办公室　网站标识码：3300000001　ICP备案：浙ICP备12345678号</div>"
        "</body></html>"
    ).encode("utf-8")


def test_body_is_the_article_block_with_paragraph_breaks():
    art = extract_article(build(ARTICLE), URL)
    assert art.body_text.split("\n") == [
        "5月6日，市政府召开常务会议，研究部署当前经济社会发展重点工作。会议强调，要统筹做好疫情防控和经济社会发展。",
        "会议听取了全市一季度经济运行情况汇报，要求各部门坚持稳中求进，落实落细各项政策措施，全力以赴稳企业、保就业。",
        "会议还研究了其他事项。",
    ]
    assert art.title == "市政府召开常务会议"


def test_chrome_inside_the_article_block_is_removed():
    chrome = (
        "<div>【字体：<a>大</a> <a>中</a> <a>小</a>】 <a href='javascript:print()'>打印本页</a> 关闭窗口</div>"
        "<div class='share'>分享到：<a>微信</a> <a>微博</a></div>"
    )
    tail = "<p>（责任编辑：王芳）</p><div>扫一扫在手机打开当前页</div>"
    art = extract_article(build(chrome + ARTICLE + tail), URL)
    for word in (
        "打印本页",
        "字体",
        "分享到",
        "责任编辑",
        "扫一扫",
        "网站标识码",
        "主办单位",
        "相关链接",
    ):
        assert word not in art.body_text, word
    assert art.author == "王芳"
    assert art.body_text.startswith("5月6日")


def test_br_separated_text_keeps_lines():
    content = (
        "　　第一段：市政府召开常务会议，研究部署重点工作，会议由市长主持。<br><br>"
        "　　第二段：会议强调，要坚持稳中求进，落实落细各项政策措施，全力稳企业保就业。<br>"
        "　　第三段：会议还研究了其他事项，并对下一步工作作出具体安排。"
    )
    art = extract_article(build(content), URL)
    assert [line[:3] for line in art.body_text.split("\n")] == ["第一段", "第二段", "第三段"]


def test_images_and_links_become_absolute():
    content = (
        ARTICLE
        + "<p><img src='../../images/hy.jpg'><img data-src='/lazy/b.png'></p><p><a href='fj.pdf'>附件：会议纪要.pdf</a></p>"
    )
    art = extract_article(build(content), URL)
    assert [image.url for image in art.images] == [
        "http://www.example.gov.cn/art/2020/images/hy.jpg",
        "http://www.example.gov.cn/lazy/b.png",
    ]
    assert [(a.url, a.name) for a in art.attachments] == [
        ("http://www.example.gov.cn/art/2020/5/6/fj.pdf", "附件：会议纪要.pdf")
    ]
    assert 'href="http://www.example.gov.cn/art/2020/5/6/fj.pdf"' in art.body_html


def test_attachment_extensions():
    links = "".join(
        f"<p><a href='/files/f.{ext}'>文件{ext}</a></p>"
        for ext in ("pdf", "doc", "docx", "xls", "xlsx", "wps", "ofd", "zip", "rar", "html", "jpg")
    )
    art = extract_article(build(ARTICLE + links), URL)
    assert [a.url.rsplit(".", 1)[1] for a in art.attachments] == [
        "pdf",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "wps",
        "ofd",
        "zip",
        "rar",
    ]


def test_page_without_text_gives_an_empty_article():
    art = extract_article(b"<html><body><img src='a.png'></body></html>", URL)
    assert art.body_text == "" and art.title is None and art.published_at is None


def test_meeting_time_lines_of_a_notice_stay_in_the_body():
    content = (
        "<p>各有关单位：经研究，定于近期召开全市安全生产工作会议，现将有关事项通知如下。</p>"
        "<p>一、会议时间：2020年5月8日上午9:00</p><p>二、会议地点：市政府第一会议室</p>"
        "<p>三、参会人员：各县（市、区）分管负责同志，市直有关部门主要负责同志。</p>"
    )
    art = extract_article(build(content), URL)
    assert "一、会议时间：2020年5月8日上午9:00" in art.body_text.split("\n")


def test_a_data_table_right_after_the_text_belongs_to_the_body():
    table = (
        "<table><tr><td>序号</td><td>单位名称</td><td>所在区县</td></tr>"
        + "".join(
            f"<tr><td>{i}</td><td>第{i}示范单位有限公司</td><td>东城区</td></tr>"
            for i in range(1, 6)
        )
        + "</table>"
    )
    page = (
        "<html><head><meta charset='utf-8'><title>示范单位名单公示</title></head><body>"
        f"<ul>{NAV}</ul><h1>示范单位名单公示</h1>"
        f"<table><tr><td>{ARTICLE}</td></tr><tr><td>{table}</td></tr></table>"
        "<div>主办单位：某市人民政府办公室</div></body></html>"
    )
    art = extract_article(page.encode("utf-8"), URL)
    assert "第5示范单位有限公司" in art.body_text
    assert art.body_text.startswith("5月6日") and "主办单位" not in art.body_text


def test_word_table_text_named_by_its_container_beats_a_footer_disclaimer():
    # A penalty notice pasted from Word: a table of short cells without punctuation, which
    # the density scorer barely sees; the footer's reprint notice is all sentences.
    rows = "".join(
        f"<tr><td><p><span>{k}</span></p></td><td><p><span>{v}</span></p></td></tr>"
        for k, v in [
            ("行政处罚决定书文号", "某罚决字〔2024〕1号"),
            ("被处罚当事人", "某某保险股份有限公司"),
            ("主要违法违规事实", "一、委托未取得合法资格的个人从事保险销售活动 二、财务数据不真实"),
            ("行政处罚依据", "保险法第八十六条"),
            ("行政处罚决定", "对某某保险股份有限公司罚款十万元 对张某警告并罚款一万元"),
            ("作出处罚决定的机关名称", "某某监管局"),
            ("作出处罚决定的日期", "2024年7月12日"),
        ]
    )
    footer = (
        "<div class='disclaimer'><p>版权与免责声明</p><p>1.凡本站注明“文章类型：原创”的所有作品，"
        "其版权属于本站所有。其他媒体、网站或个人转载使用时必须注明来源。</p><p>2.凡本站注明“文章类型：转载”"
        "的作品，均转载自其他媒体，转载的目的在于传递更多信息，并不代表本站赞同其观点和对其真实性负责。"
        "其他媒体、网站或个人转载使用时必须注明文章来源，并自负法律责任。</p></div>"
    )
    html = (
        "<html><head><meta charset='utf-8'><title>行政处罚信息公开表</title></head><body>"
        "<h1>行政处罚信息公开表</h1><div id='wenzhang-content'><table>" + rows + "</table></div>"
        + footer + "</body></html>"
    )
    art = extract_article(html.encode(), "https://www.example.gov.cn/a.html")
    assert "财务数据不真实" in art.body_text and "保险法第八十六条" in art.body_text
    assert "免责声明" not in art.body_text


def test_share_buttons_read_on_and_app_download_lines_are_no_text():
    content = (
        "<p>分享</p><p><a href='https://www.facebook.com/'>facebook</a></p>" + ARTICLE
        + "<div class='ad'>請繼續往下閱讀...</div>"
        "<p>iOS載點 https://example.com/app</p><p>Android載點 https://example.com/apk</p>"
    )
    art = extract_article(build(content), URL)
    lines = art.body_text.split("\n")
    assert "会议还研究了其他事项。" in lines
    assert not {"分享", "facebook"} & set(lines)
    assert "繼續往下閱讀" not in art.body_text and "載點" not in art.body_text


def test_text_ends_at_a_wire_releases_end_mark():
    content = (
        ARTICLE + "<p>完</p><p>2020年5月6日（星期三）</p><p>香港時間17時30分</p><p>NNNN</p>"
        "<p><a href='/gia/yesterday.htm'>昨日新聞公報</a></p><p>返回首頁</p>"
    )
    art = extract_article(build(content), URL)
    assert art.body_text.split("\n")[-1] == "香港時間17時30分"
    assert art.published_at.isoformat() == "2020-05-06T17:30:00+08:00"
