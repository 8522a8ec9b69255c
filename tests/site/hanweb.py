"""A Hanweb JCMS (大汉) column, generated: a datastore list and a data proxy answering POSTs.

The column page ``/col/col1234/index.html`` holds the first 15 records as CDATA inside
``<script type="text/xml"><datastore>`` twice (a PC list and a mobile list, as real Hanweb
columns print them) and a ``jpage`` call naming the proxy, ``perPage`` 5, ``groupSize`` 3,
``totalRecord`` 45 and the form ``param_<unit>``. The proxy ``/module/web/jpage/dataproxy.jsp``
answers a POST of that form with records ``startrecord``..``endrecord`` in the same XML, and a
GET or a form for another column with an empty datastore (as the real one does). Articles are
``/art/Y/M/D/art_1234_N.html`` with a 发布日期/信息来源 line and the body in ``<div id="zoom">``.
The layout follows real Hanweb pages; every word is ours.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape
from urllib.parse import parse_qsl

from tests.site.content import Response, error_page, html_content_type, split_target

COLUMN = 1234
UNIT, MOBILE_UNIT = "5678", "5679"
WEBNAME = "某某市发展和改革委员会"
START = f"/col/col{COLUMN}/index.html"
PROXY = "/module/web/jpage/dataproxy.jsp"
PER_PAGE, GROUP_SIZE = 5, 3
FIRST_ID = 3100100
NEWEST = datetime(2024, 3, 29, 16, 30)
ORIGINS = ["市发展改革委", "市统计局", "市政府办公室"]
TOPICS = ["价格监测", "项目申报", "能源保障", "重点项目", "招标投标", "物价检查", "粮食储备",
          "信用建设", "营商环境"]
DECOY = "/art/2024/1/2/art_999_1000001.html"  # a 热点 box outside the list


class HanwebSite:
    name = "hanweb"
    charset = "utf-8"

    def __init__(self, articles: int = 45) -> None:
        self.count = articles
        self.requests_posted: list[tuple[str, dict[str, str]]] = []

    # -- the section
    def meta(self, index: int) -> dict:
        when = NEWEST - timedelta(hours=15 * index)
        topic = TOPICS[index % len(TOPICS)]
        return {"id": FIRST_ID + index, "when": when, "origin": ORIGINS[index % len(ORIGINS)],
                "title": f"关于{topic}工作的通知（第{index + 1}号）",
                "path": f"/art/{when.year}/{when.month}/{when.day}/"
                        f"art_{COLUMN}_{FIRST_ID + index}.html"}

    def article_index(self, path: str) -> int | None:
        for index in range(self.count):
            if self.meta(index)["path"] == path:
                return index
        return None

    def paragraphs(self, index: int) -> list[str]:
        meta = self.meta(index)
        return [f"为做好{meta['title'][2:-9]}，现将有关事项通知如下。",
                f"各区、各有关单位要按照第{index + 1}号通知的要求，认真组织实施，"
                "及时报送工作进展。",
                "联系电话：0000-12345678。"]

    @property
    def expected(self) -> dict:
        articles = {}
        for index in range(self.count):
            meta = self.meta(index)
            articles[meta["path"]] = {
                "title": meta["title"], "published": meta["when"].isoformat() + "+08:00",
                "published_precision": "minute", "origin": meta["origin"],
                "body_contains": self.paragraphs(index)[1][:20]}
        span = PER_PAGE * GROUP_SIZE
        proxies = [f"{PROXY}?startrecord={s}&endrecord={s + span - 1}&perpage={PER_PAGE}"
                   for s in range(span + 1, self.count + 1, span)]
        return {"site": self.name, "charset": self.charset, "start": START,
                "list_pages": [START, *proxies], "articles": articles, "decoys": [DECOY],
                "disallowed": [], "routes": {}, "form": self.form()}

    def form(self, unit: str = UNIT) -> dict[str, str]:
        return {"col": "1", "appid": "1", "webid": "7", "path": "/", "columnid": str(COLUMN),
                "sourceContentType": "1", "unitid": unit, "webname": WEBNAME,
                "permissiontype": "0"}

    # -- pages
    def _records(self, first: int, last: int) -> str:
        records = []
        for index in range(first, min(last, self.count)):
            meta = self.meta(index)
            records.append(
                "<record><![CDATA[\n<li><a title='" + escape(meta["title"]) + "' target="
                f'"_blank" href="{meta["path"]}">{escape(meta["title"])}</a>'
                f'<span class="bt-data-time">{meta["when"]:%Y-%m-%d}</span></li>]]></record>')
        return "\n".join(records)

    def _datastore(self, first: int, last: int, unit: str) -> str:
        nextgroup = (f'<nextgroup><![CDATA[<a href="{PROXY}?page=1&appid=1&webid=7&path=/'
                     f'&columnid={COLUMN}&unitid={unit}&permissiontype=0"></a>]]></nextgroup>')
        return (f"<datastore>\n{nextgroup}\n<recordset>\n{self._records(first, last)}\n"
                "</recordset>\n</datastore>")

    def _jpage(self, unit: str) -> str:
        form = self.form(unit)
        pairs = ",".join(f"{k}:'{v}'" if not v.isdigit() else f"{k}:{v}" for k, v in form.items())
        return (f"<script>var param_{unit} = {{{pairs}}};\n"
                f"$(function(){{$('#{unit}').jpage({{themeName:'default',showMode:'full',"
                f"totalRecord:{self.count},dataStore:$('#{unit}').children('script').html(),"
                f"dataBefore:'<ul class=\"list\">',dataAfter:'</ul>',groupSize:{GROUP_SIZE},"
                f"proxyUrl:'{PROXY}',perPage:{PER_PAGE},ajaxParam:param_{unit}}});}});"
                "</script>")

    def column_html(self) -> str:
        span = PER_PAGE * GROUP_SIZE
        nav = "".join(f'<li><a href="/col/col{c}/index.html">栏目{c}</a></li>'
                      for c in (1233, 1234, 1235))
        hot = (f'<div class="rdph"><h3>热点</h3><ul><li><a href="{DECOY}">'
               "热点文章</a></li></ul></div>")
        units = "".join(
            f'<div class="{cls}"><div id="{unit}"><script type="text/xml">'
            f"{self._datastore(0, span, unit)}</script></div>"
            '<script language="javascript" src="/module/web/jpage/jquery.jpage.js"></script>'
            f"{self._jpage(unit)}</div>\n"
            for cls, unit in (("pclist", UNIT), ("moblist", MOBILE_UNIT)))
        return ('<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>通知公告</title>'
                '<meta name="ColumnName" content="通知公告"></head><body>\n'
                f'<div class="header"><ul class="nav">{nav}</ul></div>\n'
                '<div class="main"><div class="bt-position">当前位置：<a href="/">首页</a> &gt; '
                f'<a href="{START}">通知公告</a></div>\n{units}{hot}</div>\n'
                '<div class="footer">主办单位：某某市发展和改革委员会</div></body></html>\n')

    def article_html(self, index: int) -> str:
        meta = self.meta(index)
        body = "\n".join(f"<p>{escape(p)}</p>" for p in self.paragraphs(index))
        return (
            '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
            f"<title>{escape(meta['title'])} 通知公告 {WEBNAME}</title>"
            f'<meta name="ArticleTitle" content="{escape(meta["title"])}">'
            f'<meta name="ColumnName" content="通知公告"></head><body>\n'
            '<div class="header"><a href="/">首页</a></div>\n<div class="main">'
            '<div class="bt-position">当前位置：<a href="/">首页</a> &gt; '
            f'<a href="{START}">通知公告</a></div>\n'
            f'<div class="sp_title">{escape(meta["title"])}</div>\n'
            f'<div class="sp_time"><span>发布日期：{meta["when"]:%Y-%m-%d %H:%M}</span> '
            f'<span>信息来源：{escape(meta["origin"])}</span> <span>浏览次数：'
            f'<script language="javascript" src="/module/visitcount/articlehits.jsp?'
            f'colid={COLUMN}&artid={meta["id"]}"></script></span></div>\n'
            f'<div id="zoom">\n{body}\n</div>\n'
            '<div class="bt-print"><a href="javascript:window.print()">打印本页</a> '
            '<a href="javascript:window.close()">关闭窗口</a></div></div>\n'
            '<div class="footer">主办单位：某某市发展和改革委员会</div></body></html>\n')

    def proxy_xml(self, query: dict[str, str], form: dict[str, str]) -> str:
        if form.get("columnid") != str(COLUMN) or form.get("unitid") not in (UNIT, MOBILE_UNIT):
            first = last = 0  # the real proxy answers an empty datastore to a foreign form
        else:
            first = int(query.get("startrecord", "1")) - 1
            last = int(query.get("endrecord", "0"))
        return ('<?xml version="1.0" encoding="utf-8"?>\n<datastore>\n'
                f"<totalrecord>{self.count}</totalrecord>\n<recordset>\n"
                f"{self._records(max(first, 0), last)}\n</recordset>\n</datastore>\n")

    # -- answers
    def respond(self, target: str) -> Response:
        path, _query = split_target(target)
        if path == "/robots.txt":
            return Response(body=b"User-agent: *\nDisallow: /private/\n",
                            content_type="text/plain")
        if path == PROXY:
            return self._html(self.proxy_xml({}, {}))
        if path == START:
            return self._html(self.column_html())
        index = self.article_index(path)
        return self._html(self.article_html(index)) if index is not None else error_page(404)

    def respond_post(self, target: str, body: bytes) -> Response:
        path, query = split_target(target)
        if path != PROXY:
            return error_page(404)
        form = dict(parse_qsl(body.decode("utf-8")))
        self.requests_posted.append((target, form))
        return self._html(self.proxy_xml(dict(parse_qsl(query)), form))

    def _html(self, text: str) -> Response:
        # The real proxy answers its XML as text/html.
        return Response(body=text.encode(self.charset), content_type=html_content_type("utf-8"))
