"""Fixture builders for the TRS ministry section (GB2312), the Big5 mirror and the quirks site."""

from __future__ import annotations

from html import escape

from tests.site import texts
from tests.site.binaries import make_docx, make_pdf
from tests.site.build import FIXTURE_MARK, ROBOTS, govcn_article_path

MINISTRY_SECTION = "/xxgk/tzgg/"
# TRS sites ship their own pager function and write the links with document.write, so the
# list page holds no plain link to the next page.
TRS_PAGER_JS = """<script type="text/javascript">
function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt) {
  if (_nPageCount == null || _nPageCount <= 1) { return; }
  var parts = [];
  var name = function (n) { return n == 0 ? _sPageName + "." + _sPageExt
                                          : _sPageName + "_" + n + "." + _sPageExt; };
  if (_nCurrIndex > 0) { parts.push("<a href='" + name(0) + "'>首页</a>");
                         parts.push("<a href='" + name(_nCurrIndex - 1) + "'>上一页</a>"); }
  if (_nCurrIndex + 1 < _nPageCount) {
    parts.push("<a href='" + name(_nCurrIndex + 1) + "'>下一页</a>");
    parts.push("<a href='" + name(_nPageCount - 1) + "'>尾页</a>"); }
  parts.push("<span>共" + _nPageCount + "页</span>");
  document.write(parts.join(" "));
}
</script>
"""


def _trs_head(title: str, charset: str, metas: list[tuple[str, str]]) -> str:
    meta = "".join(f'<meta name="{n}" content="{escape(c)}">\n' for n, c in metas)
    return (f'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
            f'"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n{FIXTURE_MARK}'
            f'<html xmlns="http://www.w3.org/1999/xhtml">\n<head>\n'
            f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">\n'
            f"{meta}<title>{escape(title)}</title>\n{TRS_PAGER_JS}</head>\n")


MINISTRY_HEADER = (
    '<div class="top"><a href="/">首页</a> <a href="/zwgk/">政务公开</a> <a href="/xxgk/">'
    '信息公开</a> <a href="/hdjl/">互动交流</a> <a href="/ywdt/">要闻动态</a> '
    '<a href="/xxgk/tzgg/index.htm">通知公告</a> <a href="https://english.mee.gov.cn.invalid/">'
    "English</a></div>\n")
MINISTRY_FOOTER = (
    '<div class="footer"><p><a href="/gywm/">关于我们</a> | <a href="/wzdt/">网站地图</a></p>'
    "<p>主办单位：生态环境部　网站标识码：bm17000009</p><p>京ICP备05009132号</p></div>\n")
MINISTRY_CRUMBS = ('<div class="position">当前位置：<a href="/">首页</a> &gt; '
                   '<a href="/xxgk/">信息公开</a> &gt; <a href="/xxgk/tzgg/index.htm">通知公告</a>'
                   "</div>\n")


def build_ministry() -> tuple[dict[str, bytes], dict]:
    files: dict[str, bytes] = {}
    articles: dict[str, dict] = {}
    listing = []
    for rel, pubdate, title, doc_no, index_no, paragraphs, attachments in \
            texts.MINISTRY_ARTICLES:
        path = MINISTRY_SECTION + rel
        folder = path.rsplit("/", 1)[0]
        links = ""
        for file_name, link_text in attachments:
            if file_name.endswith(".pdf"):
                files[f"{folder}/{file_name}"] = make_pdf(f"Attachment {file_name}")
            else:
                files[f"{folder}/{file_name}"] = make_docx(paragraphs[:2])
            links += f'<p><a href="./{file_name}">{escape(link_text)}</a></p>\n'
        body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        html = (
            _trs_head(f"{title}_通知公告", "gb2312",
                      [("SiteName", "生态环境部"), ("ColumnName", "通知公告"),
                       ("ArticleTitle", title), ("PubDate", pubdate),
                       ("ContentSource", "办公厅")])
            + "<body>\n" + MINISTRY_HEADER + MINISTRY_CRUMBS
            + '<div class="xxgk_table"><table>\n'
            f"<tr><td>索引号：</td><td>{index_no}</td><td>分类：</td><td>通知公告</td></tr>\n"
            f"<tr><td>发布机关：</td><td>生态环境部</td><td>生成日期：</td><td>{pubdate[:10]}</td></tr>\n"
            f'<tr><td>标题：</td><td colspan="3">{escape(title)}</td></tr>\n'
            f"<tr><td>发文字号：</td><td>{doc_no}</td><td>主题词：</td><td></td></tr>\n"
            "</table></div>\n"
            f'<div class="content_title"><h2>{escape(title)}</h2></div>\n'
            f'<div class="content_info"><span>发布时间：{pubdate[:10]}</span>　'
            "<span>来源：办公厅</span></div>\n"
            f'<div class="TRS_Editor">\n{body}\n</div>\n'
            + (f'<div class="fujian">附件：\n{links}</div>\n' if links else "")
            + '<div class="tools">【<a href="javascript:window.print()">打印</a>】'
            '【<a href="javascript:window.close()">关闭</a>】</div>\n'
            + MINISTRY_FOOTER + "</body>\n</html>\n")
        files[path] = html.encode("gb2312")
        articles[path] = {
            "title": title, "published": f"{pubdate.replace(' ', 'T')}:00+08:00",
            "published_precision": "minute", "origin": "办公厅", "author": None,
            "section": ["首页", "信息公开", "通知公告"], "doc_number": doc_no,
            "index_number": index_no,
            "attachments": [{"path": f"{folder}/{f}", "name": n} for f, n in attachments],
            "images": [], "body_contains": paragraphs[1].split("。")[0] + "。",
        }
        listing.append((f"./{rel}", title, pubdate[:10]))
    per_page = 3
    pages = [listing[i:i + per_page] for i in range(0, len(listing), per_page)]
    list_paths = []
    for number, items in enumerate(pages):
        lis = "\n".join(f'<li><a href="{h}" target="_blank" title="{escape(t)}">{escape(t)}</a>'
                        f"<span>{d}</span></li>" for h, t, d in items)
        html = (_trs_head("通知公告", "gb2312", [("ColumnName", "通知公告")]) + "<body>\n"
                + MINISTRY_HEADER + MINISTRY_CRUMBS
                + f'<div class="main_list"><ul id="div">\n{lis}\n</ul></div>\n'
                '<div class="page"><script>var countPage = '
                f'{len(pages)}; createPageHTML(countPage, {number}, "index", "htm");</script>'
                "</div>\n" + MINISTRY_FOOTER + "</body>\n</html>\n")
        list_path = f"{MINISTRY_SECTION}index{'' if number == 0 else f'_{number}'}.htm"
        list_paths.append(list_path)
        files[list_path] = html.encode("gb2312")
    files["/robots.txt"] = ROBOTS.encode("ascii")
    manifest = {
        "site": "ministry", "charset": "gb2312", "start": list_paths[0],
        "list_pages": list_paths, "articles": articles, "decoys": [], "disallowed": [],
        "routes": {},
        "notes": "Pagination only through the TRS createPageHTML script; pages are GB2312.",
    }
    return files, manifest


BIG5_LIST = "/big5/zxdt/index.html"
BIG5_COPY_PATH = "/big5/zxdt/art_1621004_30332590.html"
BIG5_COPY_OF = 6937004


def _big5_page(title: str, when: str, origin: str, author: str, paragraphs: list[str]) -> str:
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html>\n{FIXTURE_MARK}<html>\n<head>\n"
        '<meta http-equiv="Content-Type" content="text/html; charset=big5">\n'
        f'<meta name="ArticleTitle" content="{escape(title)}">\n'
        f"<title>{escape(title)}-最新動態</title>\n</head>\n<body>\n"
        '<div class="top"><a href="/big5/">首頁</a> <a href="/big5/zxdt/index.html">最新動態</a> '
        '<a href="/big5/zwgk/">政務公開</a> <a href="https://www.example-gb.gov.cn.invalid/">簡體版</a>'
        "</div>\n"
        '<div class="crumb">當前位置：<a href="/big5/">首頁</a> &gt; '
        '<a href="/big5/zxdt/index.html">最新動態</a></div>\n'
        f'<div class="article"><h1 class="title">{escape(title)}</h1>\n'
        f'<div class="info"><span>發佈時間：{when}</span>　<span>來源：{escape(origin)}</span>'
        "　【字體：大 中 小】</div>\n"
        f'<div class="zoom" id="zoom">\n{body}\n</div>\n'
        f'<div class="editor">責任編輯：{escape(author)}</div></div>\n'
        '<div class="footer"><p>主辦：省人民政府辦公廳　網站標識碼：4400000001</p></div>\n'
        "</body>\n</html>\n")


def build_big5() -> tuple[dict[str, bytes], dict]:
    import opencc  # only the builder needs it: the committed pages are already converted

    to_trad = opencc.OpenCC("s2tw").convert
    files: dict[str, bytes] = {}
    articles: dict[str, dict] = {}
    listing = []
    for path, when, published, precision, origin, title, paragraphs in texts.BIG5_ARTICLES:
        files[path] = _big5_page(title, when, origin, "陳立", paragraphs).encode("cp950")
        articles[path] = {
            "title": title, "published": published, "published_precision": precision,
            "origin": origin, "author": "陳立", "section": ["首頁", "最新動態"],
            "doc_number": None, "attachments": [], "images": [],
            "body_contains": paragraphs[1].split("。")[0] + "。"}
        listing.append((path, title, published[:10]))
    source = next(a for a in texts.GOVCN_ARTICLES if a[0] == BIG5_COPY_OF)
    _, stamp, origin, author, title, paragraphs = source
    trad = [to_trad(p) for p in paragraphs]
    when = f"{stamp[:4]}年{stamp[5:7]}月{stamp[8:10]}日 {stamp[11:16]}"
    files[BIG5_COPY_PATH] = _big5_page(to_trad(title), when, to_trad(origin), to_trad(author),
                                       trad).encode("cp950")
    articles[BIG5_COPY_PATH] = {
        "title": to_trad(title), "published": f"{stamp[:16].replace(' ', 'T')}:00+08:00",
        "published_precision": "minute", "origin": to_trad(origin), "author": to_trad(author),
        "section": ["首頁", "最新動態"], "doc_number": None, "attachments": [], "images": [],
        "body_contains": trad[1].split("。")[0] + "。",
        "copy_of": {"site": "govcn", "path": govcn_article_path(BIG5_COPY_OF, stamp)}}
    listing.insert(1, (BIG5_COPY_PATH, to_trad(title), stamp[:10]))
    lis = "\n".join(f'<li><a href="{h}" title="{escape(t)}">{escape(t)}</a><span>{d}</span></li>'
                    for h, t, d in listing)
    files[BIG5_LIST] = (
        f"<!DOCTYPE html>\n{FIXTURE_MARK}<html>\n<head>\n"
        '<meta http-equiv="Content-Type" content="text/html; charset=big5">\n'
        "<title>最新動態</title>\n</head>\n<body>\n"
        '<div class="crumb">當前位置：<a href="/big5/">首頁</a> &gt; 最新動態</div>\n'
        f'<div class="list"><ul>\n{lis}\n</ul></div>\n'
        '<div class="footer">網站標識碼：4400000001</div>\n</body>\n</html>\n').encode("cp950")
    files["/robots.txt"] = ROBOTS.encode("ascii")
    no_charset = texts.BIG5_ARTICLES[0][0]
    manifest = {
        "site": "big5", "charset": "big5", "start": BIG5_LIST, "list_pages": [BIG5_LIST],
        "articles": articles, "decoys": [], "disallowed": [],
        "routes": {no_charset: {"content_type": "text/html"}},
        "notes": f"{no_charset} is served as bare text/html; only its meta names big5. "
                 f"{BIG5_COPY_PATH} is the Traditional copy of a govcn article.",
    }
    return files, manifest


def _plain_page(title: str, when: str, origin: str, paragraphs: list[str], charset: str) -> str:
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (f"<!DOCTYPE html>\n{FIXTURE_MARK}<html>\n<head>\n"
            f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">\n'
            f"<title>{escape(title)}</title>\n</head>\n<body>\n"
            '<div class="nav"><a href="/">首页</a> <a href="/news/index.htm">新闻</a></div>\n'
            f'<div class="detail"><h1>{escape(title)}</h1>\n'
            f'<div class="info">发布时间：{when}　来源：{escape(origin)}</div>\n'
            f'<div class="article-content">\n{body}\n</div>\n'
            '<div class="author">作者：韩青</div></div>\n'
            '<div class="footer">主办单位：某市人民政府办公室</div>\n</body>\n</html>\n')


QUIRKS = [
    # (path, title, published, behaviour note, route, html charset)
    ("/news/2024/content_41.htm", "新版网站栏目调整说明", "2024-03-01 09:00", "redirect target",
     {}, "utf-8"),
    ("/news/2024/content_42.htm", "市区公交线路优化调整公告", "2024-03-02 10:00",
     "says gb2312 (header and meta) but is UTF-8",
     {"content_type": "text/html; charset=gb2312"}, "gb2312"),
    ("/news/2024/content_43.htm", "全市春季植树活动安排", "2024-03-03 11:00",
     "gzip-encoded when the request accepts gzip", {"gzip": True}, "utf-8"),
    ("/news/2024/content_44.htm", "政务服务热线服务时间调整", "2024-03-04 12:00",
     "sets two cookies", {"headers": [["Set-Cookie", "gov_sid=a1b2c3; Path=/; HttpOnly"],
                                      ["Set-Cookie", "JSESSIONID=7F3A9C; Path=/news"]]},
     "utf-8"),
    ("/news/content.jsp?id=42&cat=7", "老旧管网改造工程进展通报", "2024-03-05 13:00",
     "article URL with a query string", {"file": "news/content.jsp_id42_cat7.htm"}, "utf-8"),
    ("/news/2024/content_46.htm", "防汛应急演练通知", "2024-03-06 14:00", "answers slowly",
     {"delay": 0.5}, "utf-8"),
]


def build_quirks() -> tuple[dict[str, bytes], dict]:
    files: dict[str, bytes] = {}
    articles: dict[str, dict] = {}
    routes: dict[str, dict] = {}
    links = []
    for path, title, when, note, route, charset in QUIRKS:
        paragraphs = [f"{title}相关事项说明如下。", f"本页用于测试：{note}。请市民留意相关安排。",
                      "具体以有关部门最新发布为准。"]
        file_path = "/" + route["file"] if "file" in route else path
        files[file_path] = _plain_page(title, when, "市政府办公室", paragraphs,
                                       charset).encode("utf-8")
        if route:
            routes[path] = route
        articles[path] = {
            "title": title, "published": f"{when.replace(' ', 'T')}:00+08:00",
            "published_precision": "minute", "origin": "市政府办公室", "author": "韩青",
            "section": [], "doc_number": None, "attachments": [], "images": [],
            "body_contains": paragraphs[1].split("。")[0] + "。", "quirk": note}
        links.append(path)
    old = "/news/old/content_41.htm"
    routes[old] = {"status": 301, "redirect": "/news/2024/content_41.htm"}
    articles["/news/2024/content_41.htm"]["aliases"] = [old]
    links[0] = old
    pdf_path = "/news/2024/content_45.htm"
    files["/news/2024/content_45.pdf"] = make_pdf("Not an HTML page")
    routes[pdf_path] = {"file": "news/2024/content_45.pdf", "content_type": "application/pdf"}
    links.insert(5, pdf_path)
    routes["/gone/index.htm"] = {"status": 404}
    lis = "\n".join(f'<li><a href="{escape(h)}">{escape(h)}</a></li>' for h in links)
    files["/news/index.htm"] = (
        f"<!DOCTYPE html>\n{FIXTURE_MARK}<html>\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>新闻</title>\n</head>\n<body>\n<ul class=\"news-list\">\n{lis}\n</ul>\n"
        "</body>\n</html>\n").encode()
    files["/robots.txt"] = ROBOTS.encode("ascii")
    manifest = {
        "site": "quirks", "charset": "utf-8", "start": "/news/index.htm",
        "list_pages": ["/news/index.htm"], "articles": articles, "decoys": [],
        "disallowed": [], "routes": routes, "not_html": [pdf_path],
        "missing_lists": ["/gone/index.htm"], "redirects": {old: "/news/2024/content_41.htm"},
        "notes": "One-off behaviours; see each article's 'quirk' and the routes.",
    }
    return files, manifest

