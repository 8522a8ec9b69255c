"""Sections whose lists come as JSON, generated: four columns of one site, each a way real
government sites deliver their lists today.

* ``/zhengce/zuixin/home.htm`` (www.gov.cn style): an empty ``<ul>`` and a script that
  ``$.ajax``-loads ``./ZUIXIN.json``, an array of ``{TITLE, URL, DOCRELPUBTIME, SUB_TITLE}``
  (URLs mixed: root-relative and ``./``); the whole list in one file.
* ``/col/col2001/index.html`` (Hanweb JPaaS / 集约化 unit build): no list, a
  ``<script url="/api-gateway/jpaas-publish-server/front/page/build/unit" queryData="{…}">``;
  the unit API (GET) answers ``{"data": {"html": "<li>…"}}`` with a pager table
  (``rows``, ``count``, ``pageNo``, ``unitUrl``, ``queryData``); page N is asked with
  ``paramJson={"pageNo":N,"pageSize":15}``; articles in two URL shapes.
* ``/xwzx/tzgg/index.html`` (开普云 / ucms style): ``$.ajax({type: "POST", contentType:
  "application/json", data: JSON.stringify({channelId, pageNo: 1, pageSize: 10})})`` to
  ``/api/cms/list``, which answers ``{"data": {"total", "list": [{"title", "url", …}]}}`` to a
  POST of that JSON only (405 to a GET, an empty list to another channel).
* ``/zwgk/zcwj/index.html``: a page whose list API is named in no page (an external script
  builds it): ``/interface/zcwj/query.do`` answers a form POST ``page=N&rows=8&column=zcwj``
  with ``{"result": {"rows": [{"docId", "docTitle", "pubDate"}], "totalPage": 3}}``; walked by
  a ``[sources.list_api]`` config only.

Articles have a 发布时间/来源 line and their body in ``<div id="zoom">``. The layouts follow
real pages; every word is ours.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from html import escape
from urllib.parse import parse_qsl

from tests.site.content import Response, error_page, html_content_type, split_target

GOVCN, JPAAS, UCMS, CONFIGURED = "govcn", "jpaas", "ucms", "configured"
STARTS = {GOVCN: "/zhengce/zuixin/home.htm", JPAAS: "/col/col2001/index.html",
          UCMS: "/xwzx/tzgg/index.html", CONFIGURED: "/zwgk/zcwj/index.html"}
COUNTS = {GOVCN: 12, JPAAS: 40, UCMS: 25, CONFIGURED: 20}
GOVCN_JSON = "/zhengce/zuixin/ZUIXIN.json"
UNIT_API = "/api-gateway/jpaas-publish-server/front/page/build/unit"
UNIT_QUERY = {"parseType": "bulidstatic", "webId": "77", "tplSetId": "t9Xq2", "pageType": "column",
              "tagId": "信息列表", "editType": "null", "pageId": "2001"}
UNIT_ROWS = 15
UCMS_API = "/api/cms/list"
UCMS_CHANNEL = "tzgg"
UCMS_SIZE = 10
FORM_API = "/interface/zcwj/query.do"
FORM_ROWS = 8
NEWEST = datetime(2024, 3, 28, 9, 30)
ORIGINS = ["国务院办公厅", "市政府办公室", "市发展改革委", "市统计局"]
TOPICS = ["稳就业", "促消费", "优化营商环境", "安全生产", "防汛抗旱", "乡村振兴", "数字政府",
          "城市更新", "生态保护", "教育发展", "医疗保障"]
DECOY = "/zhengce/content/202401/content_9999999.htm"  # a 热门 box on the gov.cn shell


class JsonListsSite:
    name = "json-lists"
    charset = "utf-8"

    def __init__(self) -> None:
        self.requests_posted: list[tuple[str, str]] = []  # (target, body) of each POST

    # -- the articles
    def meta(self, section: str, index: int) -> dict:
        offset = list(STARTS).index(section) * 100
        when = NEWEST - timedelta(hours=11 * index + offset)
        topic = TOPICS[(index + offset) % len(TOPICS)]
        number = 7100000 + offset * 10 + index
        if section == GOVCN:
            path = f"/zhengce/content/{when:%Y%m}/content_{number}.htm"
            href = path if index % 2 else f"./../content/{when:%Y%m}/content_{number}.htm"
        elif section == JPAAS:
            path = (f"/col/col2002/art/{when.year}/art_{number:032x}.html" if index % 3 == 0
                    else f"/art/{when.year}/{when.month}/{when.day}/art_2002_{number}.html")
            href = path
        elif section == UCMS:
            path = href = f"/xwzx/tzgg/{when:%Y%m}/t{when:%Y%m%d}_{number}.html"
        else:
            path = f"/zwgk/zcwj/content_{number}.html"
            href = str(number)  # the API gives the id; the config's url_template the URL
        return {"when": when, "path": path, "href": href, "id": number,
                "origin": ORIGINS[index % len(ORIGINS)],
                "title": f"关于做好{topic}工作的通知（{section}第{index + 1}号）"}

    def paragraphs(self, section: str, index: int) -> list[str]:
        title = self.meta(section, index)["title"]
        return [f"各有关单位：现就{title[4:-9]}有关事项通知如下。",
                f"一、请按照{section}第{index + 1}号通知的要求抓好落实，按时报送进展情况。",
                "二、本通知自印发之日起施行。"]

    def _article(self, path: str) -> tuple[str, int] | None:
        for section, count in COUNTS.items():
            for index in range(count):
                if self.meta(section, index)["path"] == path:
                    return section, index
        return None

    @property
    def expected(self) -> dict:
        sections = {}
        for section, count in COUNTS.items():
            articles = {}
            for index in range(count):
                meta = self.meta(section, index)
                articles[meta["path"]] = {
                    "title": meta["title"], "published": meta["when"].isoformat() + "+08:00",
                    "origin": meta["origin"],
                    "body_contains": self.paragraphs(section, index)[1][:20]}
            sections[section] = {"start": STARTS[section], "articles": articles,
                                 "list_requests": self.list_requests(section)}
        return {"site": self.name, "charset": self.charset, "start": STARTS[GOVCN],
                "sections": sections, "decoys": [DECOY]}

    def list_requests(self, section: str) -> list[tuple[str, str, str | None]]:
        """(method, target, body) of every list request a crawl of ``section`` makes after
        its start page."""
        if section == GOVCN:
            return [("GET", GOVCN_JSON, None)]
        if section == JPAAS:
            first = ("GET", UNIT_API + "?" + _query(UNIT_QUERY), None)
            pages = -(-COUNTS[JPAAS] // UNIT_ROWS)
            return [first] + [("GET", UNIT_API + "?" + _query(self._unit_page_query(n)), None)
                              for n in range(2, pages + 1)]
        if section == UCMS:
            pages = -(-COUNTS[UCMS] // UCMS_SIZE)
            return [("POST", UCMS_API, self.ucms_body(n)) for n in range(1, pages + 1)]
        pages = -(-COUNTS[CONFIGURED] // FORM_ROWS)
        return [("POST", FORM_API, f"page={n}&rows={FORM_ROWS}&column=zcwj")
                for n in range(1, pages + 1)]

    def ucms_body(self, page: int) -> str:
        return json.dumps({"channelId": UCMS_CHANNEL, "pageNo": page, "pageSize": UCMS_SIZE},
                          separators=(",", ":"))

    def _unit_page_query(self, page: int) -> dict[str, str]:
        query = {k: UNIT_QUERY[k] for k in ("webId", "pageId", "parseType", "pageType", "tagId",
                                            "tplSetId")}
        query["paramJson"] = json.dumps({"pageNo": page, "pageSize": UNIT_ROWS},
                                        separators=(",", ":"))
        return query

    # -- pages
    def _page(self, title: str, main: str, scripts: str = "") -> str:
        return ('<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
                f"<title>{escape(title)}</title>"
                '<script src="/js/jquery.min.js"></script></head><body>\n'
                '<div class="header"><ul class="nav"><li><a href="/">首页</a></li>'
                '<li><a href="/zhengce/">政策</a></li><li><a href="/xwzx/">新闻中心</a></li>'
                '</ul></div>\n'
                f'<div class="main"><div class="position">当前位置：<a href="/">首页</a> &gt; '
                f"{escape(title)}</div>\n{main}</div>\n{scripts}"
                '<div class="footer">主办单位：某某市人民政府办公室</div></body></html>\n')

    def govcn_shell(self) -> str:
        hot = (f'<div class="sidebar"><h3>热门</h3><ul><li><a href="{DECOY}">热门文件</a>'
               "</li></ul></div>")
        main = ('<div class="list list_1 list_2"><ul id="zuixin-list"></ul></div>'
                '<div class="pages" id="pager"></div>' + hot)
        script = ("<script>\n$(function () {\n  $.ajax({\n    url: \"./ZUIXIN.json\",\n"
                  "    type: \"get\",\n    dataType: \"json\",\n    success: function (data) {\n"
                  "      var html = '';\n      for (var i = 0; i < data.length; i++) {\n"
                  "        html += '<li><h4><a href=\"' + data[i].URL + '\">' + data[i].TITLE"
                  " + '</a><span class=\"date\">' + data[i].DOCRELPUBTIME + '</span></h4></li>';"
                  "\n      }\n      $('#zuixin-list').html(html);\n    }\n  });\n});\n"
                  "</script>\n")
        return self._page("最新政策", main, script)

    def govcn_json(self) -> str:
        rows = []
        for index in range(COUNTS[GOVCN]):
            meta = self.meta(GOVCN, index)
            rows.append({"TITLE": meta["title"], "SUB_TITLE": "", "URL": meta["href"],
                         "DOCRELPUBTIME": f"{meta['when']:%Y-%m-%d}",
                         "PUBLISHER": meta["origin"]})
        return json.dumps(rows, ensure_ascii=False)

    def jpaas_shell(self) -> str:
        query = "{" + ",".join(f"'{k}':'{v}'" for k, v in UNIT_QUERY.items()) + "}"
        main = ('<div class="bt-column-cen"><script>var authorizedReadUnitId = "u0a1b2";'
                '</script><script id="u0a1b2" src="/js/unitbuild.js" webId="77" '
                f'parseType="bulidstatic" url="{UNIT_API}" queryData="{query}"></script></div>')
        return self._page("行政规范性文件", main)

    def jpaas_answer(self, query: dict[str, str]) -> str:
        if query.get("pageId") != UNIT_QUERY["pageId"] or query.get("webId") != UNIT_QUERY["webId"]:
            return json.dumps({"success": False, "code": "500", "message": "参数错误",
                               "data": None}, ensure_ascii=False)
        page = 1
        if "paramJson" in query:
            page = int(json.loads(query["paramJson"]).get("pageNo", 1))
        first = (page - 1) * UNIT_ROWS
        items = []
        for index in range(first, min(first + UNIT_ROWS, COUNTS[JPAAS])):
            meta = self.meta(JPAAS, index)
            items.append(f'<li class="clearfix"><a class="bt-left" title="{escape(meta["title"])}"'
                         f' href="{meta["href"]}" target="_blank">{escape(meta["title"][:12])}...'
                         f'</a><span class="bt-right">{meta["when"]:%Y-%m-%d}</span></li>')
        pager_query = ("{'webId':'77','pageId':'2001','parseType':'bulidstatic',"
                       "'pageType':'column','tagId': '信息列表', 'tplSetId': 't9Xq2'}")
        html = ('<ul><div id="信息列表"><div class="page-content">' + "\n".join(items)
                + "</div></div></ul>\n<style>.default_pgBtn{cursor:pointer}</style>\n"
                '<table class="pagination default_pgToolbar" queryData="' + pager_query + '" '
                f'rows="{UNIT_ROWS}" unitid="信息列表" count="{COUNTS[JPAAS]}" pageNo="{page}" '
                f'unitUrl="{UNIT_API}"><tr><td><a class="default_pgBtn default_pgNext" '
                'title="下页"></a></td></tr></table>')
        return json.dumps({"success": True, "message": "生成成功", "code": "200",
                           "data": {"html": html}}, ensure_ascii=False)

    def ucms_shell(self) -> str:
        main = '<div class="news-list"><ul id="newsList"></ul><div id="pagination"></div></div>'
        script = ("<script>\nfunction loadList(pageNo) {\n  $.ajax({\n"
                  f'    url: "{UCMS_API}",\n    type: "POST",\n'
                  '    contentType: "application/json",\n'
                  f'    data: JSON.stringify({{channelId: "{UCMS_CHANNEL}", pageNo: 1, '
                  f"pageSize: {UCMS_SIZE}}}),\n"
                  "    success: function (res) { render(res.data.list, res.data.total); }\n"
                  "  });\n}\nloadList(1);\n</script>\n")
        return self._page("通知公告", main, script)

    def ucms_answer(self, body: dict) -> str:
        page, size = int(body.get("pageNo", 1)), int(body.get("pageSize", UCMS_SIZE))
        rows = []
        if body.get("channelId") == UCMS_CHANNEL:
            for index in range((page - 1) * size, min(page * size, COUNTS[UCMS])):
                meta = self.meta(UCMS, index)
                rows.append({"id": meta["id"], "title": meta["title"], "url": meta["href"],
                             "picUrl": "/images/default.jpg",
                             "publishTime": f"{meta['when']:%Y-%m-%d %H:%M:%S}"})
        total = COUNTS[UCMS] if body.get("channelId") == UCMS_CHANNEL else 0
        return json.dumps({"code": 200, "msg": "success",
                           "data": {"total": total, "pageNo": page, "pageSize": size,
                                    "list": rows}}, ensure_ascii=False)

    def configured_shell(self) -> str:
        main = '<div class="zcwj"><table id="zcwj-table"></table></div>'
        return self._page("政策文件", main, '<script src="/js/zcwj-list.js"></script>\n')

    def form_answer(self, form: dict[str, str]) -> str:
        page, rows = int(form.get("page", "1")), int(form.get("rows", str(FORM_ROWS)))
        found = []
        if form.get("column") == "zcwj":
            for index in range((page - 1) * rows, min(page * rows, COUNTS[CONFIGURED])):
                meta = self.meta(CONFIGURED, index)
                found.append({"docId": meta["href"], "docTitle": meta["title"],
                              "pubDate": f"{meta['when']:%Y-%m-%d}"})
        return json.dumps({"result": {"rows": found, "totalPage": -(-COUNTS[CONFIGURED] // rows)}},
                          ensure_ascii=False)

    def article_html(self, section: str, index: int) -> str:
        meta = self.meta(section, index)
        body = "\n".join(f"<p>{escape(p)}</p>" for p in self.paragraphs(section, index))
        return ('<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
                f"<title>{escape(meta['title'])}</title>"
                f'<meta name="ArticleTitle" content="{escape(meta["title"])}"></head><body>\n'
                '<div class="header"><a href="/">首页</a></div>\n<div class="main">'
                f'<h1 class="article-title">{escape(meta["title"])}</h1>\n'
                f'<div class="article-info"><span>发布时间：{meta["when"]:%Y-%m-%d %H:%M}</span> '
                f'<span>来源：{escape(meta["origin"])}</span></div>\n'
                f'<div id="zoom">\n{body}\n</div></div>\n'
                '<div class="footer">主办单位：某某市人民政府办公室</div></body></html>\n')

    # -- answers
    def respond(self, target: str) -> Response:
        path, query = split_target(target)
        if path == "/robots.txt":
            return Response(body=b"User-agent: *\nDisallow: /private/\n",
                            content_type="text/plain")
        pages = {STARTS[GOVCN]: self.govcn_shell, STARTS[JPAAS]: self.jpaas_shell,
                 STARTS[UCMS]: self.ucms_shell, STARTS[CONFIGURED]: self.configured_shell}
        if path in pages:
            return self._html(pages[path]())
        if path == GOVCN_JSON:
            return self._json(self.govcn_json(), "application/json")
        if path == UNIT_API:
            return self._json(self.jpaas_answer(dict(parse_qsl(query))), "application/json")
        if path in (UCMS_API, FORM_API):
            return error_page(405)  # these answer POSTs only
        found = self._article(path)
        if found is None:
            return error_page(404)
        return self._html(self.article_html(*found))

    def respond_post(self, target: str, body: bytes) -> Response:
        path, _query = split_target(target)
        text = body.decode("utf-8")
        self.requests_posted.append((target, text))
        if path == UCMS_API:
            try:
                asked = json.loads(text)
            except ValueError:
                return error_page(400)
            return self._json(self.ucms_answer(asked), "application/json;charset=UTF-8")
        if path == FORM_API:
            # A JSON answer labelled text/html, as some platforms send it.
            return self._json(self.form_answer(dict(parse_qsl(text))), html_content_type("utf-8"))
        return error_page(404)

    def _html(self, text: str) -> Response:
        return Response(body=text.encode(self.charset), content_type=html_content_type("utf-8"))

    def _json(self, text: str, content_type: str) -> Response:
        return Response(body=text.encode("utf-8"), content_type=content_type)


def _query(values: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(values)
