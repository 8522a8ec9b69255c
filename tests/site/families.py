"""One site, one section for each way real government sites deliver their lists (generated).

Every section is reachable from its start URL alone, with no rules:

* ``/zhengce/zuixin/home.htm``: a TRS pager defined inline and printed by ``document.write``
  with variables (``home_1.htm``...; the articles live in another column);
* ``/zdgz/sctg/``: a hand-written ``countPage``/``nextPage`` pager (``index_1.shtml``...);
* ``/yqtb/index.html``: a jQuery pagination plugin whose callback names pages from 1
  (``index_2.html``), header and footer injected by script;
* ``/Column.shtml?p5=28``: ``javascript:gotoCurrentPage('2')`` links and a page ``<select>``;
  the address (``&p7=2``) only inside the function; sub-column links above the list;
* ``/tzgg/index.html``: reverse-numbered pages loaded by ``jQuery.load`` (page 2 is
  ``index_9_2.html``, the last ``index_9_1.html``), every page listed in a hidden div;
* ``/News/Index.aspx``: an ASP.NET pager (``Index_2.aspx``) with a select jump;
* ``/news-list-tongzhi.html``: pseudo-static PHP, page 1 also served as ``-1.html``;
* ``/xxgk/gsgg/``: list items printed by ``document.write`` of string literals, pages by
  ``createPageHTML`` (``index_1.htm``...);
* ``/zwdt/sjdt/index.html``: a list held in an inline JavaScript array of objects and rendered
  by a loop (keys ``biaoti``/``lianjie``/``fabushijian``), a ``下一页`` link to ``index_2.html``;
* ``/index.php?m=content&c=index&a=lists&catid=12``: PHPCMS, pages and articles by query
  (``&page=2``, ``a=show&catid=12&id=345``), page 1 also named ``&page=1`` by its 上一页;
* ``/xwzx/zwdt.htm``: VSB (博达), the later pages numbered down from the last
  (``zwdt/2.htm``, then ``zwdt/1.htm``), articles at ``/info/1091/2345.htm``;
* ``/News/NewsList.aspx?lmid=12``: an ASP.NET WebForms list whose pager posts the page back
  (``__doPostBack('AspNetPager1','2')`` with the form's ``__VIEWSTATE``);
* ``/zwgk/kj/``: a column page showing its list in an ``<iframe>`` (``list.jsp?page=1``,
  then ``下一页``), beside a weather strip in a frame of its own;
* ``/yaowen/``: a JS redirect stub to ``/yaowen/liebiao/`` (a ``下一页`` list);
* ``/lydt/``: a channel hub previewing three sub-columns, each with a "more" link and two
  pages of its own (``createPageHTML``).

Each section also carries decoys of its list's URL shape (热门, tickers) that must not be
fetched. The layouts follow real pages; every word is ours.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape
from urllib.parse import parse_qsl

from tests.site.content import Response, error_page, html_content_type

PER_PAGE = 3
PAGES = 3
NEWEST = datetime(2024, 3, 28, 9, 30)
ORIGINS = ["办公室", "政策法规处", "综合处"]


class _Section:
    def __init__(self, key: str, start: str, list_targets: list[str], article_target,
                 render, sub_of: str | None = None) -> None:
        self.key = key
        self.start = start
        self.list_targets = list_targets
        self.article_target = article_target  # index -> target
        self.render = render  # (site, section, page number 1..) -> html
        self.section = sub_of or start  # the list an article is recorded under


class FamiliesSite:
    name = "families"
    charset = "utf-8"

    def __init__(self) -> None:
        self.sections: list[_Section] = []
        self._articles: dict[str, tuple[_Section, int, int]] = {}  # target -> (section, n, seq)
        self._lists: dict[str, tuple[_Section, int]] = {}
        self._build()

    # -- the sections
    def _add(self, key, start, list_targets, article_target, render, *, pages=PAGES,
             section=None) -> _Section:
        section_obj = _Section(key, start, list_targets, article_target, render, section)
        self.sections.append(section_obj)
        for number, target in enumerate(list_targets, 1):
            self._lists[target] = (section_obj, number)
        for index in range(pages * PER_PAGE):
            self._articles[article_target(index)] = (section_obj, index, len(self._articles))
        return section_obj

    def _build(self) -> None:
        self._add("dw", "/zhengce/zuixin/home.htm",
                  ["/zhengce/zuixin/home.htm", "/zhengce/zuixin/home_1.htm",
                   "/zhengce/zuixin/home_2.htm"],
                  lambda i: f"/zhengce/content/202403/content_{7000100 + i}.htm", _inline_create)
        self._add("hand", "/zdgz/sctg/",
                  ["/zdgz/sctg/", "/zdgz/sctg/index_1.shtml", "/zdgz/sctg/index_2.shtml"],
                  lambda i: f"/zdgz/sctg/202403/t202403{i + 1:02d}_{842000 + i}.shtml",
                  _hand_pager)
        self._add("plugin", "/yqtb/index.html",
                  ["/yqtb/index.html", "/yqtb/index_2.html", "/yqtb/index_3.html"],
                  lambda i: f"/xwfb/202204{i + 1:02d}/{0xabc000 + i:032x}.html", _plugin_pager)
        self._add("goto", "/Column.shtml?p5=28",
                  ["/Column.shtml?p5=28", "/Column.shtml?p5=28&p7=2", "/Column.shtml?p5=28&p7=3"],
                  lambda i: f"/News.shtml?p5={530500 - i}", _goto_pager)
        self._add("reverse", "/tzgg/index.html",
                  ["/tzgg/index.html", "/tzgg/index_9_2.html", "/tzgg/index_9_1.html"],
                  lambda i: f"/tzgg/202403{i + 1:02d}/{0xdef000 + i:032x}.html", _reverse_pager)
        self._add("aspnet", "/News/Index.aspx",
                  ["/News/Index.aspx", "/News/Index_2.aspx", "/News/Index_3.aspx"],
                  lambda i: f"/News/Show.aspx?id={44000 + i}", _aspnet_pager)
        self._add("php", "/news-list-tongzhi.html",
                  ["/news-list-tongzhi.html", "/news-list-tongzhi-2.html",
                   "/news-list-tongzhi-3.html"],
                  lambda i: f"/news/{100200 + i}.html", _php_pager)
        self._add("write", "/xxgk/gsgg/",
                  ["/xxgk/gsgg/", "/xxgk/gsgg/index_1.htm", "/xxgk/gsgg/index_2.htm"],
                  lambda i: f"/xxgk/gsgg/202403/t202403{i + 1:02d}_{910000 + i}.htm",
                  _written_list)
        self._add("array", "/zwdt/sjdt/index.html",
                  ["/zwdt/sjdt/index.html", "/zwdt/sjdt/index_2.html", "/zwdt/sjdt/index_3.html"],
                  lambda i: f"/zwdt/sjdt/content_{650000 - i}.html", _array_list)
        phpcms = "/index.php?m=content&c=index&a=lists&catid=12"
        self._add("phpcms", phpcms, [phpcms, f"{phpcms}&page=2", f"{phpcms}&page=3"],
                  lambda i: f"/index.php?m=content&c=index&a=show&catid=12&id={345 - i}",
                  _phpcms_pager)
        self._add("vsb", "/xwzx/zwdt.htm",
                  ["/xwzx/zwdt.htm", "/xwzx/zwdt/2.htm", "/xwzx/zwdt/1.htm"],
                  lambda i: f"/info/1091/{2345 - i}.htm", _vsb_pager)
        self._add("webforms", WEBFORMS, [WEBFORMS],
                  lambda i: f"/News/NewsView.aspx?id={812 - i}", _webforms_pager)
        frame = "/zwgk/kj/list.jsp?page="
        self._add("frame", "/zwgk/kj/", [f"{frame}{n}" for n in range(1, PAGES + 1)],
                  lambda i: f"/zwgk/kj/content.jsp?id={7700 + i}", _framed_pager)
        stub = "/yaowen/"
        self._add("redirect", stub,
                  ["/yaowen/liebiao/", "/yaowen/liebiao/index_1.htm",
                   "/yaowen/liebiao/index_2.htm"],
                  lambda i: f"/yaowen/liebiao/202403/content_{6000100 + i}.htm", _next_link_pager)
        for slug in ("qyly", "ws", "lyrc"):
            base = f"/lydt/{slug}/"
            self._add(f"hub-{slug}", base, [base, f"{base}index_1.shtml"],
                      lambda i, base=base, slug=slug: (
                          f"{base}202403/t202403{i + 1:02d}_{_SLUG_IDS[slug] + i}.shtml"),
                      _sub_column, pages=2)

    # -- the manifest
    @property
    def expected(self) -> dict:
        articles = {}
        for target, (section, index, seq) in self._articles.items():
            meta = self.meta(section, index, seq)
            articles[target] = {
                "title": meta["title"], "published": meta["when"].isoformat() + "+08:00",
                "published_precision": "minute", "origin": meta["origin"],
                "body_contains": meta["body"][1][:20], "section": section.section}
        starts = [s.start for s in self.sections if not s.key.startswith("hub-")] + ["/lydt/"]
        return {"site": self.name, "charset": self.charset, "start": starts[0], "starts": starts,
                "list_pages": [t for s in self.sections for t in s.list_targets] + ["/lydt/"],
                "redirects": {"/yaowen/": "/yaowen/liebiao/"},
                "frames": {"/zwgk/kj/": "/zwgk/kj/list.jsp?page=1"},
                # pages 2.. of the WebForms list: posted back to its address
                "postbacks": {WEBFORMS: [str(n) for n in range(2, PAGES + 1)]},
                "hub": {"/lydt/": [f"/lydt/{slug}/" for slug in ("qyly", "ws", "lyrc")]},
                "articles": articles, "decoys": DECOYS, "disallowed": [], "routes": {}}

    def meta(self, section: _Section, index: int, seq: int) -> dict:
        when = NEWEST - timedelta(hours=7 * index + seq % 5)
        title = f"{_TITLES[section.key.split('-')[0]]}第{index + 1}号工作通知（{section.key}）"
        topic = _TITLES[section.key.split("-")[0]]
        body = [f"为做好{topic}相关工作，进一步规范工作流程，提高服务质量，现将有关事项通知如下。",
                (f"{section.key}栏目第{index + 1}篇文章的正文段落：各单位要高度重视，结合实际"
                 "制定具体措施，明确责任分工，认真抓好落实，确保各项任务按期完成。"),
                "各单位在执行过程中遇到的问题，请及时向主管部门反映，以便统筹研究解决。",
                "联系电话：0000-87654321。"]
        return {"title": title, "when": when, "origin": ORIGINS[seq % len(ORIGINS)],
                "body": body}

    def items(self, section: _Section, number: int) -> list[tuple[str, str, datetime]]:
        first = (number - 1) * PER_PAGE
        out = []
        for index in range(first, first + PER_PAGE):
            target = section.article_target(index)
            meta = self.meta(section, index, self._articles[target][2])
            out.append((target, meta["title"], meta["when"]))
        return out

    # -- answers
    def respond(self, target: str) -> Response:
        if target == "/robots.txt":
            return Response(body=b"User-agent: *\nDisallow: /private/\n",
                            content_type="text/plain")
        if target == "/yaowen/":
            return self._html(_REDIRECT_STUB)
        if target == "/zwgk/kj/":
            return self._html(_FRAME_SHELL)
        if target == "/lydt/":
            return self._html(self.hub_html())
        if target == "/news-list-tongzhi-1.html":
            target = "/news-list-tongzhi.html"  # page 1 under its second name
        if target == DECOYS[-1]:
            target = target.removesuffix("&page=1")  # PHPCMS: page 1 as its 上一页 names it
        if target in self._lists:
            section, number = self._lists[target]
            return self._html(section.render(self, section, number))
        if target in self._articles:
            section, index, seq = self._articles[target]
            return self._html(self.article_html(section, index, seq))
        if target in DECOYS:
            return self._html(_page("热门", "<p>不应抓取的页面。</p>"))
        return error_page(404)

    def respond_post(self, target: str, body: bytes) -> Response:
        # An ASP.NET WebForms pager posts the page back: its state, the control, the page.
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        number = form.get("__EVENTARGUMENT", "")
        if (target != WEBFORMS or form.get("__EVENTTARGET") != "AspNetPager1"
                or not form.get("__VIEWSTATE", "").startswith("/wEPDw")
                or not number.isdigit() or not 1 <= int(number) <= PAGES):
            return error_page(400)
        section = next(s for s in self.sections if s.key == "webforms")
        return self._html(_webforms_pager(self, section, int(number)))

    def _html(self, text: str) -> Response:
        return Response(body=text.encode(self.charset), content_type=html_content_type("utf-8"))

    def article_html(self, section: _Section, index: int, seq: int) -> str:
        meta = self.meta(section, index, seq)
        body = "\n".join(f"<p>{escape(p)}</p>" for p in meta["body"])
        return _page(meta["title"], (
            f'<div class="article"><h1 class="title">{escape(meta["title"])}</h1>\n'
            f'<div class="info"><span>发布日期：{meta["when"]:%Y-%m-%d %H:%M}</span> '
            f'<span>信息来源：{escape(meta["origin"])}</span></div>\n'
            f'<div id="zoom">\n{body}\n</div></div>'), meta_title=meta["title"])

    def hub_html(self) -> str:
        blocks = []
        mores = {"qyly": '<a class="more" href="./qyly/"></a>',
                 "ws": '<a href="./ws/">更多&gt;&gt;</a>',
                 "lyrc": '<a href="./lyrc/"><img src="/images/more.gif" alt=""></a>'}
        for section in self.sections:
            if not section.key.startswith("hub-"):
                continue
            slug = section.key[4:]
            items = "".join(
                f'<li><a href="{escape(target)}">{escape(title[:12])}...'
                f'<span class="time">{when:%m.%d}</span></a></li>'
                for target, title, when in self.items(section, 1)[:2])
            blocks.append(f'<div class="xxfb_left"><div class="til"><div class="text">'
                          f'{_SLUG_NAMES[slug]}</div>{mores[slug]}</div><ul>{items}</ul></div>')
        return _page("旅游动态", '<div class="crumb">当前位置：<a href="/">首页</a>&gt;'
                     '<a href="./">旅游动态</a></div><div class="cont">' + "".join(blocks)
                     + "</div>" + _HOT)


def _page(title: str, main: str, *, meta_title: str | None = None, head: str = "") -> str:
    meta = f'<meta name="ArticleTitle" content="{escape(meta_title)}">' if meta_title else ""
    return ('<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
            f"<title>{escape(title)}_某某厅</title>{meta}{head}</head><body>\n"
            '<div class="header"><ul class="nav"><li><a href="/">首页</a></li>'
            '<li><a href="/zhengce/zuixin/home.htm">政策</a></li>'
            '<li><a href="/yaowen/">要闻</a></li></ul></div>\n'
            f'<div class="main"><div class="container">{main}</div></div>\n'
            '<div class="footer">主办单位：某某厅 版权所有</div></body></html>\n')


def _list_items(site, section, number, *, tag="li") -> str:
    rows = []
    for target, title, when in site.items(section, number):
        if tag == "tr":
            rows.append(f"<tr><td><a href='{escape(target)}' title='{escape(title)}'>"
                        f"{escape(title)}</a></td><td>{when:%Y-%m-%d}</td></tr>")
        else:
            rows.append(f'<li><a href="{escape(target)}" target="_blank">{escape(title)}</a>'
                        f'<span class="date">{when:%Y-%m-%d}</span></li>')
    return "".join(rows)


_HOT = ('<div class="side-box rmph"><h3>热门排行</h3><ul>'
        '<li><a href="/zdgz/sctg/202401/t20240105_800001.shtml">热门文章一</a></li>'
        '<li><a href="/zhengce/content/202401/content_6999001.htm">热门文章二</a></li>'
        '<li><a href="/tzgg/20240105/00000000000000000000000000000001.html">热门文章三</a></li>'
        "</ul></div>")
DECOYS = ["/zdgz/sctg/202401/t20240105_800001.shtml", "/zhengce/content/202401/content_6999001.htm",
          "/tzgg/20240105/00000000000000000000000000000001.html", "/Column.shtml?p5=763",
          "/news-list-tongzhi-1.html", "/index.php?m=content&c=index&a=lists&catid=12&page=1"]
_TITLES = {"dw": "最新政策", "hand": "市场推广", "plugin": "疫情通报", "goto": "地市动态",
           "reverse": "通知公告", "aspnet": "新闻动态", "php": "工作通知", "redirect": "要闻",
           "write": "公示公告", "array": "市级动态", "phpcms": "政务公开", "vsb": "政务动态",
           "frame": "科技动态", "webforms": "新闻中心",
           "hub": "旅游动态"}
_SLUG_NAMES = {"qyly": "全域旅游", "ws": "文明旅游", "lyrc": "旅游人才"}
_SLUG_IDS = {"qyly": 842100, "ws": 842200, "lyrc": 842300}
WEBFORMS = "/News/NewsList.aspx?lmid=12"
_FRAME_SHELL = _page("科技动态", '<div class="lmname">科技动态</div>'
                     '<iframe src="list.jsp?page=1" width="100%" height="680" frameborder="0" '
                     'scrolling="no"></iframe><iframe src="/tianqi/widget.html" height="30">'
                     "</iframe>" + _HOT)
_REDIRECT_STUB = ('<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title></title>\n'
                  '<script>\nwindow.location.href="/yaowen/liebiao/";\n</script>\n</head>\n'
                  '<body><div style="display:none"><script>document.write(unescape('
                  "\"%3Cspan%3E%3C/span%3E\"));</script></div></body></html>\n")


def _inline_create(site, section, number) -> str:
    script = (f'<script>\nvar nPageCount = {PAGES}; var nPageIndex = 0;\n'
              'var sPageName = "home"; var sPageExt = "htm";\n'
              "if (location.href) {\n"
              "  var h = location.href.substr(location.href.lastIndexOf('/') + 1);"
              " nPageIndex = Number(h.match(/\\d+/g)) || 0; }\n"
              "function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt) {\n"
              "  if (_nPageCount == null || _nPageCount <= 1) { return; }\n"
              "  var nCurrIndex = +_nCurrIndex || 0;\n"
              "  if (nCurrIndex < (_nPageCount - 1)) { var nNextIndex = nCurrIndex + 1;\n"
              "    document.write(\"<a class='pn' href='\" + _sPageName + '_' + nNextIndex + \".\""
              " + _sPageExt + \"'>下一页</a>\"); }\n}\n"
              "createPageHTML(nPageCount, nPageIndex, sPageName, sPageExt);\n</script>")
    return _page("最新政策", f'<div class="list list_1"><ul>{_list_items(site, section, number)}'
                 f"</ul>{script}</div>{_HOT}")


def _hand_pager(site, section, number) -> str:
    current = number - 1
    script = (f"<script>\nvar currentPage={current};\nvar prevPage=currentPage-1;\n"
              f"var nextPage=currentPage+1;\nvar countPage={PAGES};\n"
              'if(countPage>1) document.write("<a href=\\"index.shtml\\">首页</a>&nbsp;");\n'
              "if(countPage>1&&currentPage!=(countPage-1))\n"
              'document.write("<a class=\'tow\' href=\\"index"+"_"+nextPage+"."+"shtml\\">'
              '下一页</a>&nbsp;");\n</script>')
    return _page("市场推广", f'<div class="lie_main_m"><ul>{_list_items(site, section, number)}'
                 f"</ul></div><div class='page'>{script}</div>{_HOT}")


def _plugin_pager(site, section, number) -> str:
    script = ('<script>$(".pagination").pagination({totalPage: ' + str(PAGES) + ",\n"
              "  // callBack: function (currPage, pageSize) { console.log(currPage); }\n"
              "  callBack: function (currPage) { var i=currPage;\n"
              "    if(i==1) location.href='index.html'; else location.href='index_'+i+'.html'; }\n"
              '});\n$(".pagination").pagination("setPage",' + str(number) + "," + str(PAGES)
              + ");</script>")
    main = (f'<div class="main-container margin-top-15"><ul class="uli16 list-date">'
            f'{_list_items(site, section, number)}</ul><nav class="text-center">'
            f'<ul class="pagination">{script}</ul></nav></div>')
    return ('<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>疫情通报</title></head>'
            '<body><script src="/assets/js/header.js"></script>' + main
            + '<script src="/assets/js/footer.js"></script></body></html>\n')


def _goto_pager(site, section, number) -> str:
    subs = " | ".join(f'<a href="Column.shtml?p5={763 + i}" target=_blank>地市{i}</a>'
                      for i in range(4))
    options = "".join(f"<option value='{n}'{' selected' if n == number else ''}>{n}/{PAGES}"
                      "</option>" for n in range(1, PAGES + 1))
    nxt = (f"<a href=\"javascript:gotoCurrentPage('{number + 1}')\">下一页</a>"
           if number < PAGES else "下一页")
    pager = (f"<tr><td colspan=2><form name='strongPageNext'>共&nbsp;{PAGES}页&nbsp;当前页:"
             f"&nbsp;{number}&nbsp;<a href=\"javascript:gotoCurrentPage('1')\">首页</a> {nxt} "
             "第<select name='pageNo' onChange='javascript:gotoCurrentPage(this.value)'>"
             f"{options}</select>页<script language=\"javascript\">\n"
             "function gotoCurrentPage(pageNo) {\nif(pageNo=='1')\n"
             'window.location="Column.shtml?p5=28";\nelse\n'
             'window.location="Column.shtml?p5=28&p7="+pageNo;\n}\n</script></form></td></tr>')
    return _page("地市动态", f"<table><tr><td align='center'>{subs}</td></tr></table>"
                 f"<table width='100%'>{_list_items(site, section, number, tag='tr')}{pager}"
                 "</table>")


def _reverse_pager(site, section, number) -> str:
    names = ["index.html"] + [f"index_9_{PAGES - n}.html" for n in range(1, PAGES)]
    hidden = "".join(f'<a href="{name}">{n}</a>' for n, name in enumerate(names, 1) if n > 1)
    script = ("<script>function loadPage(n){ $('#list').load('index_9_'+n+'.html #list li'); }"
              "</script>")
    return _page("通知公告", f'<ul id="list" class="newslist">{_list_items(site, section, number)}'
                 f'</ul><div id="pagelist" style="display:none">{hidden}</div>{script}{_HOT}')


def _aspnet_pager(site, section, number) -> str:
    def name(n):
        return "Index.aspx" if n == 1 else f"Index_{n}.aspx"

    links = " ".join(f'<span class="current">{n}</span>' if n == number
                     else f'<a href="{name(n)}">{n}</a>' for n in range(1, PAGES + 1))
    nxt = f'<a href="{name(number + 1)}">下一页</a>' if number < PAGES else ""
    select = ('<select onchange="window.location.href=this.value">'
              + "".join(f'<option value="{name(n)}">{n}</option>' for n in range(1, PAGES + 1))
              + "</select>")
    return _page("新闻动态", f'<table class="news">{_list_items(site, section, number, tag="tr")}'
                 f'</table><div class="pager">{links} {nxt} {select}</div>')


def _written_list(site, section, number) -> str:
    rows = "".join(
        "document.write('<li><a href=\"." + target.removeprefix("/xxgk/gsgg")
        + f"\" target=\"_blank\">{escape(title)}</a><span>{when:%Y-%m-%d}</span></li>');\n"
        for target, title, when in site.items(section, number))
    pager = f'<script>createPageHTML({PAGES}, {number - 1}, "index", "htm");</script>'
    return _page("公示公告", f'<div class="gl_list"><ul><script>\n{rows}</script></ul>'
                 f'<div class="page">{pager}</div></div>{_HOT}')


def _array_list(site, section, number) -> str:
    data = ",\n".join(
        f'  {{biaoti: "{title}", lianjie: "{target}", fabushijian: "{when:%Y-%m-%d}"}}'
        for target, title, when in site.items(section, number))
    script = ("<script>\nvar listData = [\n" + data + "\n];\nvar html = '';\n"
              "for (var i = 0; i < listData.length; i++) {\n"
              "  html += '<li><a href=\"' + listData[i].lianjie + '\">' + listData[i].biaoti"
              " + '</a><span>' + listData[i].fabushijian + '</span></li>';\n}\n"
              "document.getElementById('sjdt').innerHTML = html;\n</script>")
    nxt = f'<a href="index_{number + 1}.html">下一页</a>' if number < PAGES else "下一页"
    return _page("市级动态", f'<ul id="sjdt" class="news_list"></ul>{script}'
                 f'<div class="fenye"><a href="index.html">首页</a> {nxt}</div>{_HOT}')


def _php_pager(site, section, number) -> str:
    links = "".join(f'<a href="news-list-tongzhi-{n}.html">{n}</a>' for n in range(1, PAGES + 1))
    nxt = (f'<a href="news-list-tongzhi-{number + 1}.html">下一页</a>' if number < PAGES else "")
    return _page("工作通知", f'<ul class="newslist">{_list_items(site, section, number)}</ul>'
                 f'<div class="pages">{links}{nxt}</div>')


def _phpcms_pager(site, section, number) -> str:
    # PHPCMS v9's pages(): a count, 上一页 (page 1 names itself with &page=1), the numbers, 下一页.
    lists = escape(section.start)
    numbers = "".join(f"<span>{n}</span>" if n == number else
                      f'<a href="{lists}&amp;page={n}">{n}</a>' for n in range(1, PAGES + 1))
    nxt = min(number + 1, PAGES)
    return _page("政务公开", f'<ul class="list lh24 f14">{_list_items(site, section, number)}'
                 f'</ul><div id="pages" class="text-c"><a class="a1">{PAGES * PER_PAGE}条</a> '
                 f'<a href="{lists}&amp;page={max(number - 1, 1)}" class="a1">上一页</a> '
                 f'{numbers} <a href="{lists}&amp;page={nxt}" class="a1">下一页</a></div>{_HOT}')


def _vsb_pager(site, section, number) -> str:
    # VSB (博达): page 1 is zwdt.htm, page k the (PAGES - k + 1).htm beside it; items point
    # at ../info/ from page 1, ../../info/ from the others.
    up = "../" if number == 1 else "../../"
    folder = "zwdt/" if number == 1 else ""
    rows = "".join(
        f'<li id="line_u8_{n}"><a href="{up}{target.lstrip("/")}" target="_blank" '
        f'title="{escape(title)}">{escape(title)}</a><span>{when:%Y-%m-%d}</span></li>'
        for n, (target, title, when) in enumerate(site.items(section, number)))

    def page_link(n: int, text: str) -> str:
        if n == 1:
            return f'<a href="{"" if number == 1 else "../"}zwdt.htm">{text}</a>'
        return f'<a href="{folder}{PAGES - n + 1}.htm">{text}</a>'

    numbers = "".join(f'<span class="p_no_d">{n}</span>' if n == number else
                      f'<span class="p_no">{page_link(n, str(n))}</span>'
                      for n in range(1, PAGES + 1))
    nxt = (f'<span class="p_next p_fun">{page_link(number + 1, "下页")}</span>'
           if number < PAGES else '<span class="p_next_d p_fun_d">下页</span>')
    return _page("政务动态", f'<div class="list"><ul>{rows}</ul></div><div class="pb_sys_common '
                 f'pb_sys_normal pb_sys_style1"><span class="p_pages">{numbers}{nxt}</span>'
                 f'<span class="p_t">{number}/{PAGES}</span></div>'
                 '<script src="/system/resource/js/news/statpagedown.js"></script>')


def _webforms_pager(site, section, number) -> str:
    # An AspNetPager: every further page is a __doPostBack of the page's one form, whose
    # state changes with each answer.
    def call(n: int, text: str) -> str:
        return f"<a href=\"javascript:__doPostBack('AspNetPager1','{n}')\">{text}</a>"

    numbers = "".join(f'<span class="cur">{n}</span>' if n == number else call(n, str(n))
                      for n in range(1, PAGES + 1))
    nxt = call(number + 1, "下一页") if number < PAGES else "<a disabled>下一页</a>"
    state = f"/wEPDwUKMTY1NDU2MTA1Mg9kFgICAw{number:02d}ZGQ="
    return _page("新闻中心", (
        '<form method="post" action="./NewsList.aspx?lmid=12" id="form1">'
        '<input type="hidden" name="__EVENTTARGET" value="" />'
        '<input type="hidden" name="__EVENTARGUMENT" value="" />'
        f'<input type="hidden" name="__VIEWSTATE" value="{state}" />'
        '<input type="hidden" name="__EVENTVALIDATION" value="/wEdAAV" />'
        f'<table class="list">{_list_items(site, section, number, tag="tr")}</table>'
        f'<div id="AspNetPager1">{numbers} {nxt}</div></form>'))


def _framed_pager(site, section, number) -> str:
    # The page inside the frame: the list alone, links opening in a new window.
    nxt = f'<a href="list.jsp?page={number + 1}">下一页</a>' if number < PAGES else ""
    return ('<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title></title></head><body>'
            f'<table class="list">{_list_items(site, section, number, tag="tr")}</table>'
            f'<div class="fy">第{number}页 {nxt}</div></body></html>\n')


def _next_link_pager(site, section, number) -> str:
    nxt = f'<a href="index_{number}.htm">下一页</a>' if number < PAGES else ""
    return _page("要闻", f'<div class="news_box"><ul>{_list_items(site, section, number)}</ul>'
                 f'<div class="page">{nxt}</div></div>')


def _sub_column(site, section, number) -> str:
    script = f'<script>createPageHTML(2, {number - 1}, "index", "shtml");</script>'
    return _page(_SLUG_NAMES[section.key[4:]],
                 f'<div class="list"><ul>{_list_items(site, section, number)}</ul>{script}</div>')
