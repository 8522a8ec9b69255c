"""List pages of the CMS families the section spider meets, read with no rules.

Every page here is written by us, modelled on the layout of a real family (script pagers,
``gotoCurrentPage`` jumps, reverse-numbered pages, ASP.NET and pseudo-static PHP pagers, redirect
stubs, channel hubs, decoys of the list's own URL shape); the real pages are only read by
``test_real_gov_list_pages`` (``@pytest.mark.corpus``).
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl

import pytest

from govarchive.crawler.links import (
    MAX_SCRIPT_PAGES,
    ListRequest,
    looks_like_article_url,
    parse_list_page,
)

HOST = "http://www.example.gov.cn"


def page(body: str, head: str = "") -> str:
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>列表</title>{head}</head>'
            f"<body>{body}</body></html>")


def trs_items(folder: str, count: int, first: int = 1000, ext: str = "html") -> str:
    return "".join(f'<li><a href="./2024030{i % 9 + 1}/t2024030{i % 9 + 1}_{first + i}.{ext}">'
                   f"关于第{i}项工作的通知</a><span>2024-03-0{i % 9 + 1}</span></li>"
                   for i in range(count))


def links(result) -> list[str]:
    return [url for url, _text in result.article_links]


# -- script pagers -------------------------------------------------------------------------

INLINE_CREATE_PAGE = """<script>
var nPageCount = 6; var nPageIndex = 0; var sPageName = "home"; var sPageExt = "htm";
function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt) {
  sPageName = _sPageName.toLowerCase();
  if (_nPageCount == null || _nPageCount <= 1) { return; }
  var nCurrIndex = +_nCurrIndex || 0;
  if (nCurrIndex < (_nPageCount - 1)) {
    var nNextIndex = nCurrIndex + 1;
    document.write("<a class='pn' href='" + _sPageName + '_' + nNextIndex + "."
                   + sPageExt + "'>下一页</a>");
  }
}
createPageHTML(nPageCount, nPageIndex, sPageName, sPageExt);
</script>"""


def test_inline_create_page_with_variables_names_every_page():
    html = page(f'<div class="list"><ul>{trs_items("", 5)}</ul></div>{INLINE_CREATE_PAGE}')
    result = parse_list_page(html, HOST + "/zhengce/home.htm")
    assert result.next_pages == [f"{HOST}/zhengce/home_{n}.htm" for n in range(1, 6)]
    assert len(links(result)) == 5
    # On a later page the current page comes from the address (the script reads location).
    later = parse_list_page(html, HOST + "/zhengce/home_3.htm")
    assert later.next_pages == [f"{HOST}/zhengce/home_{n}.htm" for n in (4, 5)]


HAND_PAGER = """<div class="pager"><script>
  var currentPage={current};
  var prevPage=currentPage-1;
  var nextPage=currentPage+1;
  var countPage={count};
  if(countPage>1) document.write("<a href=\\"index.shtml\\">首页</a>");
  if(countPage>1&&currentPage!=0&&currentPage==1)
    document.write("<a href=\\"index.shtml\\">上一页</a>");
  if(countPage>1&&currentPage!=(countPage-1))
    document.write("<a class='tow' href=\\"index"+"_"+nextPage+"."+"shtml\\">下一页</a>");
  document.write("<a href=\\"index_"+(countPage-1)+".shtml\\">尾页</a>");
</script></div>"""


def test_hand_written_document_write_pager():
    html = page(f"<ul class='news'>{trs_items('', 4, ext='shtml')}</ul>"
                + HAND_PAGER.format(current=0, count=4))
    result = parse_list_page(html, HOST + "/zdgz/sctg/")
    assert result.next_pages == [f"{HOST}/zdgz/sctg/index_{n}.shtml" for n in (1, 2, 3)]
    html = page(f"<ul class='news'>{trs_items('', 4, ext='shtml')}</ul>"
                + HAND_PAGER.format(current=2, count=4))
    assert parse_list_page(html, HOST + "/zdgz/sctg/index_2.shtml").next_pages == [
        f"{HOST}/zdgz/sctg/index_3.shtml"]


PLUGIN_PAGER = """<nav><ul class="pagination"><script>
  $(".pagination").pagination({
      totalPage: 5, showPageNum: 5,
      // callBack: function (currPage) { location.href='old_'+currPage+'.htm'; }
      callBack: function (currPage) {
          var i=currPage;
          if(i==1) location.href='index.html';
          else location.href='index_'+i+'.html';
      }
  });
</script></ul></nav>"""


def test_pagination_plugin_names_pages_from_one_and_keeps_off_site_items():
    items = []
    for i in range(8):
        if i % 2:
            items.append(f'<li><a href="https://mp.weixin.qq.com/s/Post{i}x" title="t">'
                         f"第{i}期情况通报（公众号）</a>"
                         f"<span class='time'>2022-04-2{i}</span></li>")
        else:
            items.append(f'<li><a href="/xwfb/2022042{i}/{i:032x}.html">第{i}期情况通报</a>'
                         f"<span class='time'>2022-04-2{i}</span></li>")
    hot = ('<div class="hot-rank"><h3>热门排行</h3><ul>'
           + "".join(f'<li><a href="/xwfb/20220301/{9000 + i:032x}.html">热门{i}</a></li>'
                     for i in range(4)) + "</ul></div>")
    # A "more" item closing the list is not an item.
    items.append('<li><a href="/yqtb/more.html">查看更多</a><span class="time"></span></li>')
    html = page('<script src="/assets/js/header.js"></script>'
                '<div class="main-container margin-top-15"><div class="container">'
                f'<ul class="uli16 list-date">{"".join(items)}</ul>{PLUGIN_PAGER}</div>'
                f'{hot}</div><script src="/assets/js/footer.js"></script>')
    result = parse_list_page(html, HOST + "/yqtb/index.html")
    assert result.next_pages == [f"{HOST}/yqtb/index_{n}.html" for n in (2, 3, 4, 5)]
    found = links(result)
    assert len(found) == 8 and found[1] == "https://mp.weixin.qq.com/s/Post1x"
    assert not any("9000" in url or "/00000000000000000000000000002328" in url for url in found)
    assert parse_list_page(html, HOST + "/yqtb/index_4.html").next_pages == [
        f"{HOST}/yqtb/index_5.html"]


@pytest.mark.parametrize("script, wanted", [
    # laypage: records and records a page; obj.curr counts from 1.
    (("layui.laypage.render({elem: 'pager', count: 45, limit: 15, curr: 1,"
     " jump: function (obj, first) { if (!first) { location.href = 'index_' + obj.curr"
     " + '.html'; } }});"), [2, 3]),
    # jqPaginator: page p is file p - 1 (TRS names) behind a 1-based plugin.
    (("$('#p').jqPaginator({totalPages: 4, currentPage: 1, onPageChange: function (num, type) {"
     " if (type == 'change') { location.href = num == 1 ? 'index.html' : 'index_' + (num - 1)"
     " + '.html'; } }});"), [1, 2, 3]),
])
def test_pagination_plugins_of_other_makes(script, wanted):
    html = page(f"<ul class='list'>{trs_items('', 4)}</ul><div id='pager'></div>"
                f"<script>{script}</script>")
    result = parse_list_page(html, HOST + "/tzgg/index.html")
    assert result.next_pages == [f"{HOST}/tzgg/index_{n}.html" for n in wanted]


# -- gotoCurrentPage, select jumps -----------------------------------------------------------

GOTO_PAGE = """<table>{rows}<tr><td><form name='pageForm'>共&nbsp;6页&nbsp;
<a href="javascript:gotoCurrentPage('1')">首页</a> 上一页
<a href="javascript:gotoCurrentPage('2')">下一页</a>
<a href="javascript:gotoCurrentPage('6')">尾页</a>
第<select name='pageNo' onChange='javascript:gotoCurrentPage(this.value)'>{options}</select>页
<script language="javascript">
function gotoCurrentPage(pageNo) {{
if(pageNo=='1')
window.location="Column.shtml?p5=28";
else
window.location="Column.shtml?p5=28&p7="+pageNo;
}}
</script></form></td></tr></table>"""


def test_goto_current_page_links_and_select_give_the_real_addresses():
    rows = "".join(f"<tr><td><a href='News.shtml?p5={530000 + i}' title='t'>旅游动态第{i}条</a>"
                   f"</td><td>2017-10-0{i % 9 + 1}</td></tr>" for i in range(10))
    sub = " | ".join(f'<a href="Column.shtml?p5={763 + i}">地市{i}</a>' for i in range(8))
    options = "".join(f"<option value='{n}'>{n}/6</option>" for n in range(1, 7))
    html = page(f"<div class='sub'>{sub}</div>" + GOTO_PAGE.format(rows=rows, options=options))
    result = parse_list_page(html, HOST + "/Column.shtml?p5=28")
    assert result.next_pages == [f"{HOST}/Column.shtml?p5=28&p7={n}" for n in range(2, 7)]
    assert links(result) == [f"{HOST}/News.shtml?p5={530000 + i}" for i in range(10)]
    later = parse_list_page(html, HOST + "/Column.shtml?p5=28&p7=4")
    assert f"{HOST}/Column.shtml?p5=28&p7=5" in later.next_pages
    assert f"{HOST}/Column.shtml?p5=28&p7=3" not in later.next_pages


def test_a_select_of_a_billion_pages_stays_bounded():
    rows = "".join(f"<tr><td><a href='News.shtml?p5={530000 + i}'>第{i}条消息标题</a></td></tr>"
                   for i in range(5))
    html = page(GOTO_PAGE.format(rows=rows, options="<option value='1'>1</option>")
                + "<script>var countPage=1000000000; var currentPage=0; var nextPage=currentPage+1;"
                  "document.write('<a href=\"index_'+nextPage+'.html\">下一页</a>');</script>"
                  "<script>createPageHTML(1000000000, 0, \"index\", \"htm\");</script>")
    result = parse_list_page(html, HOST + "/list/index.htm")
    assert 0 < len(result.next_pages) <= 3 * MAX_SCRIPT_PAGES


# -- numbered siblings: reverse numbering, ASP.NET, pseudo-static PHP ---------------------------


def test_reverse_numbered_pages_from_a_hidden_page_list():
    pages = "".join(f'<a href="index_9_{n}.html">{6 - n}</a>' for n in (4, 3, 2, 1))
    html = page(f"<ul id='list'>{trs_items('', 5)}</ul>"
                f'<div id="pagelist" style="display:none">{pages}</div>'
                '<script>$("#list").load("index_9_"+n+".html #list li");</script>')
    result = parse_list_page(html, HOST + "/tzgg/index.html")
    assert result.next_pages == [f"{HOST}/tzgg/index_9_{n}.html" for n in (4, 3, 2, 1)]
    # Without page labels the listing order is the walking order; later pages count down.
    bare = "".join(f'<a href="index_9_{n}.html"></a>' for n in (4, 3, 2, 1))
    html = page(f"<ul id='list'>{trs_items('', 5)}</ul><div style='display:none'>{bare}</div>")
    assert parse_list_page(html, HOST + "/tzgg/index_9_3.html").next_pages == [
        f"{HOST}/tzgg/index_9_2.html", f"{HOST}/tzgg/index_9_1.html"]


def test_aspnet_pager_and_select_jump():
    rows = "".join(f'<tr><td><a href="Show.aspx?id={4400 + i}">公告第{i}号的内容</a></td>'
                   f"<td>2023-05-0{i + 1}</td></tr>" for i in range(6))
    pager = ('<div class="pager"><span class="current">1</span> <a href="Index_2.aspx">2</a> '
             '<a href="Index_3.aspx">3</a> <a href="Index_2.aspx">下一页</a> '
             '<select onchange="window.location.href=this.value">'
             + "".join(f'<option value="Index_{n}.aspx">{n}</option>' for n in (2, 3)) + "</select>"
             '<a href="javascript:__doPostBack(\'pager\',\'4\')">4</a></div>')
    html = page(f'<table class="news">{rows}</table>{pager}')
    result = parse_list_page(html, HOST + "/News/Index.aspx")
    assert result.next_pages == [f"{HOST}/News/Index_2.aspx", f"{HOST}/News/Index_3.aspx"]
    assert len(links(result)) == 6


def _webforms(pager: str, state: str = "/wEPDwUKLTM0MA==") -> str:
    rows = "".join(f"<tr><td><a href='NewsView.aspx?id={810 + i}'>第{i}条新闻的标题</a></td>"
                   f"<td>2024-01-0{i + 1}</td></tr>" for i in range(4))
    return page(f'<form method="post" action="./NewsList.aspx?lmid=12" id="form1">'
                '<input type="hidden" name="__EVENTTARGET" value="" />'
                '<input type="hidden" name="__EVENTARGUMENT" value="" />'
                f'<input type="hidden" name="__VIEWSTATE" value="{state}" />'
                '<input type="text" name="txtKey" value="" />'
                '<input type="submit" name="btnSearch" value="搜索" />'
                f'<table class="list">{rows}</table><div class="pager">{pager}</div></form>')


def _postback(target: str, argument: str, text: str) -> str:
    return f"<a href=\"javascript:__doPostBack('{target}','{argument}')\">{text}</a>"


def test_an_aspnet_webforms_pager_posts_the_page_back():
    pager = "".join(_postback("AspNetPager1", str(n), str(n)) for n in (2, 3, 4))
    html = _webforms(f"<span>1</span>{pager}{_postback('AspNetPager1', '2', '下一页')}")
    url = HOST + "/NewsList.aspx?lmid=12"
    requests = parse_list_page(html, url).list_requests()
    # The next page only, with this page's state, as a click on 下一页 posts it.
    assert [(r.method, r.url, r.content_type) for r in requests] == [
        ("POST", url, "application/x-www-form-urlencoded")]
    assert dict(parse_qsl(requests[0].body, keep_blank_values=True)) == {
        "__EVENTTARGET": "AspNetPager1", "__EVENTARGUMENT": "2",
        "__VIEWSTATE": "/wEPDwUKLTM0MA==", "txtKey": ""}  # no submit button
    # Page 2, posted back: its own state, page 3 (by its number: no 下一页 link here).
    pager = "".join(_postback("AspNetPager1", n, n) for n in ("1", "3", "4"))
    later = _webforms(pager.replace("</a><a", "</a><span>2</span><a", 1),
                      state="/wEPDwUKLTM0MQ==")
    (after,) = parse_list_page(later, url, request=requests[0]).list_requests()
    assert dict(parse_qsl(after.body))["__EVENTARGUMENT"] == "3"
    # The key leaves the state out: page 3 asked with another page's state is one page.
    again = after.body.replace("LTM0MQ", "LTM5OQ")
    assert ListRequest(url, "POST", again).key == after.key and again != after.body
    # The last page names no further page.
    last = _webforms(_postback("AspNetPager1", "3", "3") + "<span>4</span>",
                     state="/wEPDwUKLTM0Mg==")
    fourth = ListRequest(url, "POST", after.body.replace("ARGUMENT=3", "ARGUMENT=4"),
                         after.content_type)
    assert parse_list_page(last, url, request=fourth).list_requests() == []


def test_a_gridview_pager_and_postbacks_without_webforms_state():
    grid = _webforms(_postback("GridView1", "Page$2", "2") + _postback("GridView1", "Page$3", "3"))
    bodies = [dict(parse_qsl(r.body)) for r in parse_list_page(grid, HOST + "/L.aspx")
              .list_requests()]
    assert [(b["__EVENTTARGET"], b["__EVENTARGUMENT"]) for b in bodies] == [
        ("GridView1", "Page$2")]
    bare = page(f"<ul class='list'>{trs_items('', 4)}</ul>{_postback('Pager', '2', '下一页')}")
    assert parse_list_page(bare, HOST + "/L.aspx").list_requests() == []


def test_pseudo_static_php_page_one_under_two_names():
    items = "".join(f'<li><a href="/news/{100200 + i}.html">通知第{i}号全文</a></li>'
                    for i in range(6))
    pager = "".join(f'<a href="news-list-tongzhi-{n}.html">{n}</a>' for n in (1, 2, 3))
    html = page(f'<ul class="newslist">{items}</ul><div class="pages">{pager}'
                '<a href="news-list-tongzhi-2.html">下一页</a></div>')
    result = parse_list_page(html, HOST + "/news-list-tongzhi.html")
    assert result.next_pages == [f"{HOST}/news-list-tongzhi-{n}.html" for n in (2, 3)]
    later = parse_list_page(html.replace("-2.html\">下一页", "-3.html\">下一页"),
                            HOST + "/news-list-tongzhi-2.html")
    assert later.next_pages == [f"{HOST}/news-list-tongzhi-3.html"]


def test_query_pager_pages_but_not_sub_columns():
    items = "".join(f'<li><a href="/art/2023/5/{i + 1}/art_12_{9000 + i}.html">动态{i}</a></li>'
                    for i in range(5))
    subs = "".join(f'<a href="list.jsp?cid={40 + i}">子栏目{i}</a>' for i in range(4))
    pager = ('<div class="page"><span class="cur">1</span>'
             + "".join(f'<a href="list.jsp?cid=3&page={n}">{n}</a>' for n in (2, 3, 4))
             + '<a href="list.jsp?cid=3&page=2">下一页</a></div>')
    html = page(f'<div class="subnav">{subs}</div><ul class="list">{items}</ul>{pager}')
    result = parse_list_page(html, HOST + "/list.jsp?cid=3")
    assert result.next_pages == [f"{HOST}/list.jsp?cid=3&page={n}" for n in (2, 3, 4)]
    html = html.replace('<span class="cur">1</span>', '<a href="list.jsp?cid=3&page=1">1</a>')
    later = parse_list_page(html, HOST + "/list.jsp?cid=3&page=3")
    assert later.next_pages[-1] == f"{HOST}/list.jsp?cid=3&page=4"
    assert f"{HOST}/list.jsp?cid=3&page=2" not in later.next_pages[1:]


def test_a_first_page_without_a_query_whose_pager_adds_one():
    # Hanweb's pager as the browser shows it, and a PHP list paged by ?page=N; the article links
    # (detail.php?id=N, another path) and a ?id=N link to the page itself are not pages.
    items = "".join(f'<li><a href="/art/2024/6/{i + 1}/art_4321_{77000 + i}.html">公示{i}号内容</a>'
                    "</li>" for i in range(5))
    pager = ('<div class="default_pgPanel">'
             + "".join(f'<a href="/col/col4321/index.html?uid=7788&pageNum={n}">{n}</a>'
                       for n in (1, 2, 3))
             + '<a href="/col/col4321/index.html?id=10086">站点地图</a></div>')
    result = parse_list_page(page(f'<ul class="list">{items}</ul>{pager}'),
                             HOST + "/col/col4321/index.html")
    assert result.next_pages == [f"{HOST}/col/col4321/index.html?uid=7788&pageNum={n}"
                                 for n in (2, 3)]
    rows = "".join(f'<li><a href="detail.php?id={5500 + i}">第{i}期工作简报全文</a>'
                   f"<span>2024-02-0{i + 1}</span></li>" for i in range(5))
    pager = "".join(f'<a href="list.php?cat=3&amp;page={n}">{n}</a>' for n in (2, 3, 4))
    result = parse_list_page(page(f'<ul class="news">{rows}</ul><div class="pg">{pager}</div>'),
                             HOST + "/news/list.php")
    assert result.next_pages == [f"{HOST}/news/list.php?cat=3&page={n}" for n in (2, 3, 4)]
    assert len(links(result)) == 5
    # Sub-columns named by a pageId (JPaaS and kin) are not pages.
    subs = "".join(f'<a href="index.html?pageId={1001 + n}">{n}</a>' for n in range(4))
    result = parse_list_page(page(f'<ul class="news">{rows}</ul><div class="tabs">{subs}</div>'),
                             HOST + "/news/index.html")
    assert result.next_pages == []


def test_hong_kong_and_macao_press_lists():
    # info.gov.hk's daily index: /gia/general/YYYYMM/DD/P<date><number>.htm, a time, no date.
    rows = "".join(f'<li><a href="/gia/general/202405/07/P20240507{i:05d}.htm">'
                   f"第{i}則新聞公報的標題</a> <span>({10 + i}:15)</span></li>" for i in range(6))
    side = ('<div id="leftNav"><ul>' + "".join(
        f'<li><a href="/gia/general/202405/0{d}c.htm">5月{d}日</a></li>' for d in (5, 6))
        + "</ul></div>")
    body = f'{side}<div id="contentBody"><ul class="list">{rows}</ul></div>'
    result = parse_list_page(page(body), "https://www.info.gov.hk/gia/general/202405/07c.htm")
    wanted = [f"https://www.info.gov.hk/gia/general/202405/07/P20240507{i:05d}.htm"
              for i in range(6)]
    assert links(result) == wanted
    # A quiet day beside a month's calendar of daily indexes (more links, each a day number).
    weeks = "".join("<tr>" + "".join(
        f'<td><a href="/gia/general/202405/{7 * w + d + 1:02d}c.htm">{7 * w + d + 1}</a></td>'
        for d in range(7)) + "</tr>" for w in range(4))
    body = f'<table class="calendar">{weeks}</table><ul class="list">{rows}</ul>'
    result = parse_list_page(page(body), "https://www.info.gov.hk/gia/general/202405/07c.htm")
    assert links(result) == wanted
    # gov.mo: cards linking /zh-hant/news/<id>/, a 12-page pager /news/page/N/.
    cards = "".join(f'<div class="card"><h3><a href="https://www.example.gov.mo/zh-hant/news/'
                    f'{610000 + i}/">第{i}則澳門新聞稿標題</a></h3>'
                    f'<p class="news--item-date">2024年5月{i + 1}日 10:30</p></div>'
                    for i in range(5))
    menu = ('<ul class="dropdown-menu"><li><a href="https://www.example.gov.mo/zh-hant/news/">'
            "新聞</a></li></ul>")
    pager = "".join(f'<a href="https://www.example.gov.mo/zh-hant/news/page/{n}/">{n}</a>'
                    for n in (2, 3))
    result = parse_list_page(page(f'{menu}<div class="news-list">{cards}</div>'
                                  f'<div class="pagination">{pager}</div>'),
                             "https://www.example.gov.mo/zh-hant/news/")
    assert links(result) == [f"https://www.example.gov.mo/zh-hant/news/{610000 + i}/"
                             for i in range(5)]


@pytest.mark.parametrize("href", [
    "/gdywdt/gdyw/content/post_{}.html",   # Guangdong 集约化 sites
    "/detail/zh-hant/N24Ab{}",             # gcs.gov.mo press releases
    "/index.php?m=content&c=index&a=show&catid=12&id={}",  # PHPCMS
    "/html/tzgg/show-12-{}-1.html",        # PHPCMS pseudo-static
    "/plus/view.php?aid={}",               # DedeCMS
    "/a/zwdt/2024/0102/{}.html",           # DedeCMS and PHPCMS static pages
    "../info/1091/{}.htm",                 # VSB (博达)
])
def test_article_addresses_of_provincial_macao_and_php_platforms(href):
    ids = [810 + i for i in range(5)] if re.search(r"aid|info|zwdt", href) else [
        4400100 + i for i in range(5)]
    rows = "".join(f'<li><a href="{href.format(n)}">第{n}条政务动态的标题</a></li>' for n in ids)
    menu = ("".join(f'<a href="/detail/zh-hant/about{i}">關於我們</a>' for i in range(3))
            + '<a href="/index.php?m=content&c=index&a=lists&catid=12">通知公告</a>'
            + '<a href="/index.php?m=content&c=index&a=show&catid=2&id=1">关于我们</a>')
    body = f'<div class="top-menu">{menu}</div><ul class="news">{rows}</ul>'
    result = parse_list_page(page(body), HOST + "/list/")
    wanted = [HOST + "/" + href.format(n).removeprefix("../").lstrip("/") for n in ids]
    assert links(result) == wanted


@pytest.mark.parametrize("url", [
    "/html/zwgk/zfxxgkzl/t19113220.shtml",                          # Guangxi
    "/web/zwgkx/zfwj/szfwj/2022n/2023042510154064611/index.shtml",   # Liaoning, by time
    "/web/zwgkx/zfwj/szfwj/zfwj2005/C97C857B6CF14100B98A828849F30790/index.shtml",  # by GUID
    "/Content-1778525.html",                                         # 集约化 county sites
    "/n2253534/n2253535/c9381234/content.html",                      # ministries' TRS WCM 7
])
def test_article_addresses_of_provincial_sites(url):
    assert looks_like_article_url(HOST + url)
    assert not looks_like_article_url(HOST + url.replace("1", "x"))


def test_pages_numbered_as_a_path_segment_and_next_links_of_other_spellings():
    # WordPress-style /news/page/N/ (gov.mo and kin), a <link rel="next"> in the head, and
    # next links spelt 下一頁 », Next › or named only by rel="next".
    base = "https://www.example.gov.mo/zh-hant/news/"
    cards = "".join(f'<div class="card"><h3><a href="{base}{610000 + i}/">第{i}則新聞稿標題'
                    f"</a></h3><p>2024年5月{i + 1}日</p></div>" for i in range(5))
    numbers = "".join(f'<a href="{base}page/{n}/">{n}</a>' for n in (3, 4))
    for next_link in (f'<a href="{base}page/5/">下一頁 »</a>',
                      f'<a href="{base}page/5/">Next ›</a>',
                      f'<a rel="next" href="{base}page/5/"><i class="icon"></i></a>'):
        html = page(f'<div class="news-list">{cards}</div><div class="nav-links">'
                    f'<a href="{base}page/3/">上一頁</a>{numbers}{next_link}</div>')
        result = parse_list_page(html, base + "page/4/")
        assert result.next_pages == [f"{base}page/5/"]
    head = f'<link rel="next" href="{base}page/2/">'
    result = parse_list_page(page(f'<div class="news-list">{cards}</div>', head), base)
    assert result.next_pages == [f"{base}page/2/"]
    numbers = "".join(f'<a href="{base}page/{n}/">{n}</a>' for n in (1, 2, 3))
    body = f'<div class="news-list">{cards}</div><div>{numbers}</div>'
    result = parse_list_page(page(body), base)
    assert result.next_pages == [f"{base}page/{n}/" for n in (2, 3)]


def tagged_rows(href: str) -> str:
    """PowerEasy-style items, each led by a "[科室]" link to its sub-column."""
    return "".join(f'<li><span class="date">2024-04-0{i + 1}</span><a class="node" '
                   f'href="/Category_{30 + i}/Index.aspx">[科室{i}]</a>'
                   f'<a href="{href.format(18800 + i)}">第{i}条学校通知标题</a></li>'
                   for i in range(6))


def test_aspnet_items_by_number_and_a_tag_link_before_each_title():
    top = '<div id="top"><a href="/Item/13310.aspx">作息时间</a></div>'
    result = parse_list_page(page(f'{top}<ul class="infoList">{tagged_rows("/Item/{}.aspx")}</ul>'),
                             HOST + "/Category_20/Index.aspx")
    assert links(result) == [f"{HOST}/Item/{18800 + i}.aspx" for i in range(6)]
    # Addresses of no known shape, found by their dates: the title, not the tag, is the item.
    html = page(f'<ul class="infoList">{tagged_rows("/Item/view-{}")}</ul>')
    result = parse_list_page(html, HOST + "/Category_20/")
    assert links(result) == [f"{HOST}/Item/view-{18800 + i}" for i in range(6)]


def test_onclick_pager_and_a_column_number_in_the_file_name():
    items = "".join(f'<li><a href="/news/{100300 + i}.html">消息第{i}条标题</a></li>'
                    for i in range(5))
    html = page(f'<ul class="newslist">{items}</ul>'
                '<a href="javascript:;" onclick="goPage(2)">下一页</a>'
                "<script>function goPage(n){ location.href = 'list-12-' + n + '.html'; }</script>"
                + "".join(f'<a href="list-12-{n}.html">{n}</a>' for n in (2, 3)))
    result = parse_list_page(html, HOST + "/list-12.html")
    assert result.next_pages == [f"{HOST}/list-12-2.html", f"{HOST}/list-12-3.html"]


def test_hand_pager_with_the_number_inline_and_a_commented_count():
    script = ("<script>var currentPage = 0; var countPage = 4//共4页\n"
              "if (currentPage == 1) { document.write('<a href=\"index.htm\">上一页</a>'); }\n"
              "document.write('<a href=\"index_' + (currentPage + 1) + '.htm\">下一页</a>');"
              "</script>")
    html = page(f"<ul class='list'>{trs_items('', 4)}</ul>{script}")
    result = parse_list_page(html, HOST + "/gzdt/")
    assert result.next_pages == [f"{HOST}/gzdt/index_{n}.htm" for n in (1, 2, 3)]


# -- redirect stubs ----------------------------------------------------------------------------


def test_a_js_redirect_stub_leads_to_its_list():
    html = page('<div style="display:none"><script>document.write(unescape("%3Cscript%3E"));'
                "</script></div>",
                head='<script>\nwindow.location.href="http://www.example.gov.cn/yaowen/liebiao/";'
                     "\n</script>")
    result = parse_list_page(html, HOST + "/yaowen/")
    assert result.redirect_to == HOST + "/yaowen/liebiao/"
    assert result.next_pages == [HOST + "/yaowen/liebiao/"] and result.article_links == []


def test_a_meta_refresh_stub_leads_to_its_list():
    html = page("", head='<meta http-equiv="refresh" content="0; url=list/index.html">')
    assert parse_list_page(html, HOST + "/tzgg/").next_pages == [HOST + "/tzgg/list/index.html"]


@pytest.mark.parametrize("script", [
    "setTimeout(function () { window.location.replace('/tzgg/list/'); }, 10);",
    ("if (/iPhone|Android/i.test(navigator.userAgent)) { location.href = '/m/tzgg/'; }"
    " else { top.location = '/tzgg/list/'; }"),
])
def test_a_stub_redirecting_later_or_by_device(script):
    html = page("<p>页面跳转中……</p>", head=f"<script>{script}</script>")
    assert parse_list_page(html, HOST + "/tzgg/").redirect_to == HOST + "/tzgg/list/"


def test_a_body_onload_stub():
    html = page("").replace("<body>", "<body onload=\"location.href='list/'\">")
    assert parse_list_page(html, HOST + "/tzgg/").next_pages == [HOST + "/tzgg/list/"]


_NAV = "".join(f'<a href="/col{i}/">栏目{i}</a>' for i in range(8))


def test_a_page_showing_its_list_in_a_frame_leads_to_it():
    frames = ('<iframe src="/video/player.html?id=3" height="400"></iframe>'
              '<iframe src="https://map.example.com/show?x=1" height="400"></iframe>'
              '<iframe src="/widgets/date.html" height="28"></iframe>'
              '<iframe src="list.jsp?col=12&amp;page=1" width="100%" height="800"></iframe>')
    html = page(f'<div class="nav">{_NAV}</div><div class="main">{frames}</div>'
                '<div class="footer"><iframe src="/footer/links.html"></iframe></div>')
    result = parse_list_page(html, HOST + "/tzgg/")
    assert result.article_links == [] and result.redirect_to is None
    assert result.framed_list == HOST + "/tzgg/list.jsp?col=12&page=1"
    assert result.next_pages == [result.framed_list]


@pytest.mark.parametrize("src", ["/county/tzgg/list.html", "/statistics/tjgb/list.jsp",
                                 "/xxgk/stats_list.aspx?id=3"])
def test_a_list_frame_whose_address_holds_a_widget_word_inside_another(src):
    html = page(f'<div class="nav">{_NAV}</div><iframe src="{src}" height="600"></iframe>')
    assert parse_list_page(html, HOST + "/tzgg/").framed_list == HOST + src


@pytest.mark.parametrize("body", [
    # widgets only: a player, an off-site map, a thin strip, the footer's frame
    ('<iframe src="/video/player.html" height="400"></iframe><iframe src="/ticker.html" '
     'height="30"></iframe><iframe src="https://other.example.org/list/"></iframe>'
     '<div class="footer"><iframe src="/footer/links.html"></iframe></div>'),
    # a page with its own list keeps to it
    f'<ul class="list">{trs_items("", 4)}</ul><iframe src="/other/list.html"></iframe>',
])
def test_frames_that_are_not_the_list(body):
    result = parse_list_page(page(f'<div class="nav">{_NAV}</div>{body}'), HOST + "/tzgg/")
    assert result.framed_list is None
    assert all("list.html" not in url and "player" not in url for url in result.next_pages)


def test_a_list_page_with_a_jump_function_is_not_a_stub():
    html = page(f"<ul class='news'>{trs_items('', 5)}</ul>"
                "<script>function go(){ window.location.href='/search/'; }</script>")
    result = parse_list_page(html, HOST + "/tzgg/")
    assert result.redirect_to is None and len(links(result)) == 5
    nearly_empty = page("<p>本栏目暂无信息</p>"
                        "<script>function go(){ location.href='/x/'; }</script>")
    assert parse_list_page(nearly_empty, HOST + "/tzgg/").next_pages == []


# -- hubs ------------------------------------------------------------------------------------


def hub_block(slug: str, title: str, first: int, more: str) -> str:
    items = "".join(f'<li><a href="./{slug}/202403/t20240301_{first + i}.shtml">{title}动态{i}'
                    f'<span class="time">03.0{i + 1}</span></a></li>' for i in range(4))
    return (f'<div class="block"><div class="til"><div class="text">{title}</div>{more}</div>'
            f"<ul>{items}</ul></div>")


def test_a_channel_hub_exposes_its_sub_columns():
    blocks = [hub_block("qyly", "全域旅游", 100, '<a class="more" href="./qyly/"></a>'),
              hub_block("ws", "文明旅游", 200, '<a href="./ws/">更多&gt;&gt;</a>'),
              hub_block("lyrc", "旅游人才", 300, '<a href="./lyrc/"><img src="/img/more.gif"></a>'),
              hub_block("tz", "通知公告", 400, '<span class="more"><a href="./tz/">»</a></span>'),
              hub_block("gg", "公示公告", 500, '<a href="./gg/">【查看更多】</a>')]
    sidebar = ('<div class="sidebar"><h3>专题</h3><a href="/zt/">更多</a><ul>'
               '<li><a href="/zt/202401/t20240101_9.shtml">专题一</a></li></ul></div>')
    html = page('<div class="crumb"><a href="../">首页</a>&gt;<a href="./">重点工作</a></div>'
                + "".join(blocks) + sidebar)
    result = parse_list_page(html, HOST + "/zdgz/")
    assert result.section_links == [f"{HOST}/zdgz/{s}/"
                                    for s in ("qyly", "ws", "lyrc", "tz", "gg")]
    assert result.article_links == []  # the previews belong to the sub-columns' own lists
    assert result.next_pages == []


def test_a_list_with_more_boxes_beside_it_is_not_a_hub():
    boxes = "".join(f'<div class="box"><h3>栏目{i}</h3><a href="/col{i}/">更多</a><ul>'
                    f'<li><a href="/col{i}/202401/t20240101_{i}.html">推荐{i}</a></li></ul></div>'
                    for i in range(3))
    html = page(f'<div class="main"><ul class="list">{trs_items("", 12)}</ul></div>'
                f'<div class="right">{boxes}</div>')
    result = parse_list_page(html, HOST + "/tzgg/")
    assert result.section_links == []
    assert len(links(result)) == 12


# -- decoys and script-printed lists ---------------------------------------------------------


def test_decoys_of_the_list_shape_are_left_out():
    ticker = ('<div class="header"><div id="ticker">'
              '<a href="/tz/202403/t20240330_1.html">滚动新闻一条</a></div></div>')
    mega = ('<ul class="mainmenu"><li><a href="/jd/">解读</a><div class="submenu-preview">'
            + "".join(f'<p><a href="/jd/202403/t2024031{i}_{70 + i}.html">预览{i}</a></p>'
                      for i in range(6)) + "</div></li></ul>")
    items = "".join(
        f'<li><a href="./202403/t20240305_{500 + i}.html">第{i}号通知</a><span>2024-03-05</span>'
        f'<div class="popbox" style="display:none"><ul><li><a href="../../jd/202403/'
        f't20240306_{800 + i}.html">相关解读{i}</a></li></ul></div></li>'
        for i in range(10))
    html = page(ticker + f'<div class="wrap">{mega}</div><div class="container">'
                f'<div class="list-box"><ul class="u-list">{items}</ul></div>'
                '<div class="rmph"><ul>' + "".join(
                    f'<li><a href="./202402/t20240201_{600 + i}.html">热门{i}</a></li>'
                    for i in range(8)) + "</ul></div></div>")
    result = parse_list_page(html, HOST + "/xxgk/zcfb/tz/")
    assert links(result) == [f"{HOST}/xxgk/zcfb/tz/202403/t20240305_{500 + i}.html"
                             for i in range(10)]
    assert not any("/jd/" in url for url in links(result))


def test_interpretation_tags_and_boxes_named_in_pinyin_are_left_out():
    # Each item links its 解读 beside the title; a 热门 box (class "remen") and a bare
    # <marquee> hold more links of the list's own shape than the list does.
    items = "".join(
        f'<li><a href="./202403/t20240305_{500 + i}.html">关于第{i}号文件的通知</a> '
        f'<a class="jd" href="../jd/202403/t20240306_{800 + i}.html">[解读]</a>'
        "<span>2024-03-05</span></li>" for i in range(6))
    box = '<div class="remen"><ul>' + "".join(
        f'<li><a href="./202402/t20240201_{600 + i}.html">热门文章标题{i}</a></li>'
        for i in range(8)) + "</ul></div>"
    ticker = "<marquee>" + "".join(
        f'<a href="./202401/t20240101_{900 + i}.html">滚动消息{i}</a>' for i in range(9))
    html = page(f'{ticker}</marquee><div class="main"><ul class="list">{items}</ul></div>{box}')
    result = parse_list_page(html, HOST + "/zcwj/")
    assert links(result) == [f"{HOST}/zcwj/202403/t20240305_{500 + i}.html" for i in range(6)]


def test_a_list_shown_by_its_script_is_still_the_list():
    side = ('<div class="box"><ul>' + "".join(
        f'<li><a href="/zt/202401/t20240101_{i}.html">专题{i}</a></li>' for i in range(3))
        + "</ul></div>")
    html = page(f'<div id="list" style="display:none"><ul>{trs_items("", 12)}</ul></div>'
                f'{side}<script>$("#list").show();</script>')
    assert len(links(parse_list_page(html, HOST + "/tzgg/"))) == 12


def test_navigation_links_are_not_articles():
    nav = "".join(f'<li><a href="/col/col{i}/index.html">栏目名称{i}</a></li>' for i in range(12))
    html = page(f'<ul class="menu-list">{nav}</ul><ul class="list">{trs_items("", 3)}</ul>')
    assert len(links(parse_list_page(html, HOST + "/tzgg/"))) == 3


def test_a_list_of_unknown_addresses_is_found_by_its_dates():
    nav = "".join(f'<li><a href="/channel/c{i}.html">频道栏目名称{i}</a></li>' for i in range(9))
    rows = "".join(f'<li><a href="/site/show-{31 + i}.html">关于开展第{i}批检查工作的通知</a>'
                   f"<span>2023-0{i % 9 + 1}-1{i % 9}</span></li>" for i in range(7))
    side = ('<div class="box"><ul>' + "".join(
        f'<li><a href="/site/show-{90 + i}.html">其他栏目的一条消息标题</a></li>'
        for i in range(5)) + "</ul></div>")
    html = page(f'<ul class="menu">{nav}</ul><div class="content"><ul>{rows}</ul></div>{side}'
                '<div class="page"><a href="list-2.html">下一页</a></div>')
    result = parse_list_page(html, HOST + "/site/list.html")
    assert links(result) == [f"{HOST}/site/show-{31 + i}.html" for i in range(7)]


@pytest.mark.parametrize("shown", ["[{m:02d}-{d:02d}]", "{m}/{d}", "{m}月{d}日"])
def test_a_list_of_unknown_addresses_dated_by_month_and_day(shown):
    days = [(1, 2), (12, 29), (12, 25), (12, 20), (12, 18)]
    rows = "".join(f'<li><a href="/gzdt/{0xa8f3c2 + i:x}.html">市财政局第{i}项工作动态的标题</a>'
                   f"<span>{shown.format(m=m, d=d)}</span></li>" for i, (m, d) in enumerate(days))
    # Titles naming months ("1-2月") are not dates beside the title: a menu stays a menu.
    menu = "".join(f'<li><a href="/tjsj/{0xb000 + i:x}.html">{i + 1}-{i + 2}月经济运行情况</a></li>'
                   for i in range(6))
    html = page(f'<ul class="col">{menu}</ul><div class="main"><ul>{rows}</ul></div>')
    result = parse_list_page(html, HOST + "/gzdt/")
    assert links(result) == [f"{HOST}/gzdt/{0xa8f3c2 + i:x}.html" for i in range(5)]
    assert links(parse_list_page(page(f'<ul class="col">{menu}</ul>'), HOST + "/tjsj/")) == []


@pytest.mark.parametrize("title", ["<h3>{}</h3>", '<p class="tit">{}</p>', "<dl><dt>{}</dt></dl>",
                                   "<table><tr><td>{}</td></tr></table>"])
def test_rows_whose_title_line_sits_inside_each_row(title):
    """<div class="item"><h3><a>title</a></h3><p>summary</p><span>date</span></div>: the row
    repeats, not the title line (old ASP lists: a table per item)."""
    def row(href: str, text: str, rest: str = "") -> str:
        return f'<div class="news-item">{title.format(f"<a href={href}>{text}</a>")}{rest}</div>'

    rows = "".join(row(f"/gzdt/{0xa8f3c2 + i:x}.html", f"市财政局第{i}项工作动态",
                       f"<p>摘要。</p><span class='time'>2023-12-{20 + i}</span>")
                   for i in range(5))
    trs = "".join(row(f"./202312/t202312{20 + i}_{i}.html", f"第{i}条") for i in range(5))
    for body, wanted in ((rows, [f"{HOST}/gzdt/{0xa8f3c2 + i:x}.html" for i in range(5)]),
                         (trs, [f"{HOST}/gzdt/202312/t202312{20 + i}_{i}.html" for i in range(5)])):
        html = page(f'<div class="header"><a href="/">首页</a></div><div class="news-list">{body}'
                    '</div><div class="page"><a href="index_2.html">下一页</a></div>')
        assert links(parse_list_page(html, HOST + "/gzdt/")) == wanted


@pytest.mark.parametrize("row", [
    '<a href="{href}"><span class="t">{title}</span><span class="d">{day}</span></a>',
    '·<a href="{href}">{title}</a> {day}<br>',
    '<a href="{href}">{title}</a><span>[{day}]</span><br/>',
])
def test_links_one_after_another_each_a_row(row):
    rows = "".join(row.format(href=f"/gzdt/{0xa8f3c2 + i:x}.html", title=f"市财政局第{i}项工作动态",
                              day=f"2023-12-{20 + i}") for i in range(5))
    html = page(f'<div class="main"><div class="list">{rows}</div></div>'
                '<div class="page"><a href="index_2.html">下一页</a></div>')
    assert links(parse_list_page(html, HOST + "/gzdt/")) == [
        f"{HOST}/gzdt/{0xa8f3c2 + i:x}.html" for i in range(5)]


def test_links_whose_address_is_in_their_handler():
    items = [
        ("javascript:void(0)", "onclick=\"window.open('./202401/t20240102_1001.html')\""),
        ("#", "onclick=\"location.href='./202312/t20231229_1000.html';return false;\""),
        ("javascript:;", 'data-href="./202312/t20231225_999.html"'),
        ("./202312/t20231220_998.html", "onclick=\"window.open('/count.jsp?id=998')\""),
        ("javascript:void(0)", "onclick=\"showDetail('997')\""),  # no address: left alone
    ]
    rows = "".join(f'<li><a href="{href}" {handler}>关于第{n}项工作的通知</a>'
                   f"<span>2023-12-2{n}</span></li>" for n, (href, handler) in enumerate(items))
    pager = "<a href=\"javascript:void(0)\" onclick=\"location.href='index_1.html'\">下一页</a>"
    result = parse_list_page(page(f'<ul class="list">{rows}</ul><div class="page">{pager}</div>'),
                             HOST + "/xxgk/")
    assert links(result) == [f"{HOST}/xxgk/{path}" for path in (
        "202401/t20240102_1001.html", "202312/t20231229_1000.html", "202312/t20231225_999.html",
        "202312/t20231220_998.html")]
    assert result.next_pages == [HOST + "/xxgk/index_1.html"]


def test_a_list_printed_by_document_write_of_literals():
    rows = "".join(f"document.write('<li><a href=\"./202403/t20240301_{i}.htm\">"
                   f"公告第{i}号</a></li>');\n" for i in range(5))
    html = page(f"<ul class='list'><script>{rows}</script></ul>")
    found = links(parse_list_page(html, HOST + "/gg/"))
    assert found == [f"{HOST}/gg/202403/t20240301_{i}.htm" for i in range(5)]


def test_a_list_from_an_inline_data_array():
    data = json.dumps([{"title": f"政策文件{i}", "url": f"/zc/202405/content_{7000 + i}.htm",
                        "date": "2024-05-01"} for i in range(6)], ensure_ascii=False)
    html = page(f"<div id='list'></div><script>var data = {data};"
                "for (var i=0;i<data.length;i++){ $('#list').append('<li>'+data[i].title); }"
                "</script>")
    found = links(parse_list_page(html, HOST + "/zc/"))
    assert found == [f"{HOST}/zc/202405/content_{7000 + i}.htm" for i in range(6)]


def test_an_inline_array_with_keys_in_pinyin():
    rows = ",".join(f'{{bt: "关于第{i}项工作的公告", lj: "./202405/t20240501_{800 + i}.html", '
                    f'sj: "2024-05-01", tp: "/img/{i}.png"}}' for i in range(4))
    html = page(f"<ul id='gg'></ul><script>var arr = [{rows}]; var h = '';"
                "arr.forEach(function (x) { h += '<li><a href=\"' + x.lj + '\">' + x.bt; });"
                "document.getElementById('gg').innerHTML = h;</script>")
    found = links(parse_list_page(html, HOST + "/gg/"))
    assert found == [f"{HOST}/gg/202405/t20240501_{800 + i}.html" for i in range(4)]


def test_a_header_that_closes_the_document_early_hides_nothing():
    html = ('<html><head><title>t</title></head><body><div class="header"><a href="/">首页</a>'
            "</div></body></html>\n<div class='list'><ul>" + trs_items("", 6) + "</ul></div>"
            '<script>createPageHTML(3, 0, "index", "html");</script>')
    result = parse_list_page(html, HOST + "/tz/")
    assert len(links(result)) == 6
    assert result.next_pages == [f"{HOST}/tz/index_1.html", f"{HOST}/tz/index_2.html"]


# -- the real pages ----------------------------------------------------------------------------


def real_list_entries(shared_dir):
    folder = shared_dir / "corpus" / "real-gov"
    if not (folder / "index.jsonl").is_file():
        pytest.skip(f"{folder} is absent (the real-page corpus is optional)")
    entries = [json.loads(line) for line in
               (folder / "index.jsonl").read_text(encoding="utf-8").splitlines() if line]
    # JSON-shell pages (the list comes by XHR) are the list-API reader's, not this finder's.
    return folder, [e for e in entries if e["kind"].startswith(("list", "section hub"))
                    and not e["labels"].get("list_loaded_from")]


def test_real_gov_list_pages(shared_dir):
    folder, entries = real_list_entries(shared_dir)
    assert entries
    for entry in entries:
        labels = entry["labels"]
        text = (folder / "pages" / entry["file"]).read_text(encoding="utf-8")
        result = parse_list_page(text, entry["original_url"])
        found = links(result)
        wanted = labels.get("article_links") or []
        if wanted:
            assert len(set(found) & set(wanted)) / len(wanted) >= 0.95, entry["id"]
            assert set(found) <= set(wanted), (entry["id"], set(found) - set(wanted))
        elif labels.get("article_links") == []:
            assert found == [], entry["id"]
        nxt = labels.get("next_page")
        if isinstance(nxt, dict):
            assert nxt["url"] in result.next_pages, entry["id"]
        elif nxt:
            assert result.next_pages[0] == nxt, entry["id"]
        if labels.get("redirect_to"):
            assert result.next_pages[0] == labels["redirect_to"], entry["id"]
        if labels.get("section_links"):
            assert result.section_links == labels["section_links"], entry["id"]
        if labels.get("total_pages") and nxt and not isinstance(nxt, dict):
            # Every further page, not one more than the section has.
            assert len(result.next_pages) == labels["total_pages"] - 1, entry["id"]


# -- the families site, walked in process ----------------------------------------------------


def test_families_site_walks_to_every_list_page_and_article(families_site):
    """A walk as the spider makes it (its list requests, GET or posted back, hub sub-columns,
    redirect targets), over HTTP from the served pages: every list page reached once, every
    article listed, no decoy."""
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    base = families_site.url("")
    expected = families_site.expected
    queue = [ListRequest(families_site.url(start)) for start in expected["starts"]]
    walked, asked, articles = {r.key for r in queue}, [], {}
    while queue:
        request = queue.pop(0)
        asked.append((request.url[len(base) - 1:], request.body))
        sent = urllib.request.Request(
            request.url, method=request.method,
            data=request.body.encode() if request.body else None,
            headers={"Content-Type": request.content_type} if request.body else {})
        with opener.open(sent, timeout=10) as response:
            result = parse_list_page(response.read().decode("utf-8"), request.url,
                                     request=request)
        for link, _text in result.article_links:
            articles.setdefault(link[len(base) - 1:], request.url[len(base) - 1:])
        for nxt in [*result.list_requests(), *map(ListRequest, result.section_links)]:
            if nxt.key not in walked:
                walked.add(nxt.key)
                queue.append(nxt)
    gets = [target for target, body in asked if body is None]
    assert sorted(gets) == sorted({*expected["list_pages"], *expected["redirects"],
                                   *expected["frames"]})
    posted = {target: [dict(parse_qsl(body))["__EVENTARGUMENT"] for t, body in asked
                       if t == target and body] for target in expected["postbacks"]}
    assert posted == expected["postbacks"]
    assert set(articles) == set(expected["articles"])
    assert not set(expected["decoys"]) & set(gets)
