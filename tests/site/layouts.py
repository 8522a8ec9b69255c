"""www.gov.cn-style page layouts, shared by the fixture builder and the bulk section.

The markup follows the structure of the current www.gov.cn section and article pages (class
names, breadcrumb, info line, font-size and print chrome, editor line, footer with 网站标识码),
with our own text. Off-site links point at ``.invalid`` hosts so that a crawler which wrongly
follows them can never reach the internet.
"""

from __future__ import annotations

from html import escape

NAV = [
    ("/", "首页"), ("/zhengce/", "政策"), ("/zhengce/zuixin/", "最新"), ("/lianbo/", "联播"),
    ("/lianbo/bumen/index.htm", "部门"), ("/lianbo/difang/index.htm", "地方"),
    ("/hudong/", "互动"), ("/fuwu/", "服务"), ("/shuju/", "数据"), ("/guoqing/", "国情"),
    ("/guowuyuan/", "国务院"), ("/zhuanti/", "专题"),
]
OFFSITE = [
    ("https://english.gov.cn.invalid/", "English"), ("https://big5.gov.cn.invalid/", "繁体"),
    ("https://www.beijing.gov.cn.invalid/", "北京"), ("https://www.zj.gov.cn.invalid/", "浙江"),
    ("https://www.sc.gov.cn.invalid/", "四川"), ("https://www.gd.gov.cn.invalid/", "广东"),
]
FOOTER_LINKS = [
    ("/guowuyuan/about.htm", "关于本网"), ("/hudong/liuyan.htm", "网站声明"),
    ("/hudong/lianxi.htm", "联系我们"), ("/hudong/jiucuo.htm", "网站纠错"),
    ("/sitemap.htm", "网站地图"),
]


def _links(pairs, sep=" ") -> str:
    return sep.join(f'<a href="{escape(h)}" target="_blank">{escape(t)}</a>' for h, t in pairs)


def header() -> str:
    nav_items = "".join(f"<li>{_links([p])}</li>" for p in NAV)
    return (
        '<div class="header">\n<div class="header_top">'
        f'<div class="links">{_links(OFFSITE[:2])} <a href="javascript:void(0)">无障碍</a></div>'
        '<div class="search"><form action="/search/pc" method="get"><input name="q" type="text">'
        '<button type="submit">搜索</button></form></div></div>\n'
        '<div class="logo"><a href="/"><img src="/images/logo.png" alt="中国政府网"></a></div>\n'
        f'<div class="nav"><ul>{nav_items}</ul></div>\n</div>\n'
    )


def related_box(links) -> str:
    """The "相关链接" box: article-looking links that belong to other sections."""
    items = "".join(f"<li>{_links([p])}</li>" for p in links)
    return (f'<div class="related"><div class="related_title">相关链接</div><ul>{items}</ul>'
            "</div>\n")


def footer(generated: str) -> str:
    return (
        '<div class="footer">\n'
        f'<div class="footer_links">{_links(FOOTER_LINKS, " | ")}</div>\n'
        f'<div class="footer_gov">{_links(OFFSITE[2:], " ")}</div>\n'
        '<p>主办单位：国务院办公厅　运行维护单位：中国政府网运行中心</p>\n'
        '<p>版权所有：中国政府网　中文域名：中国政府网.政务</p>\n'
        '<p>网站标识码：bm01000001　京ICP备05070218号　京公网安备11010202000001号</p>\n'
        f'<p class="gen_time">页面生成时间：{escape(generated)}</p>\n'
        "</div>\n"
    )


def head(title: str, metas: list[tuple[str, str]]) -> str:
    meta = "".join(f'<meta name="{n}" content="{escape(c)}">\n' for n, c in metas)
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="X-UA-Compatible" content="IE=edge">\n'
        f"{meta}<title>{escape(title)}</title>\n"
        '<link rel="stylesheet" href="/css/common.css">\n'
        '<script src="/js/jquery.min.js"></script>\n</head>\n'
    )


def breadcrumb(crumbs: list[tuple[str, str]]) -> str:
    links = " &gt; ".join(f'<a href="{escape(h)}">{escape(t)}</a>' for h, t in crumbs)
    return f'<div class="BreadcrumbNav">当前位置：{links}</div>\n'


def article_page(*, title: str, section_title: str, firstpublished: str, info_time: str,
                 origin: str, author: str, paragraphs: list[str],
                 crumbs: list[tuple[str, str]], related: list[tuple[str, str]],
                 generated: str, images: list[str] = (), keywords: str = "") -> str:
    """A gov.cn article page; ``firstpublished`` is the meta form "2024-03-02-10:15:00"."""
    body = "\n".join(f'<p style="text-indent: 2em;">{escape(p)}</p>' for p in paragraphs)
    for src in images:
        body += (f'\n<p style="text-align: center;"><img src="{escape(src)}" '
                 f'alt="{escape(title)}"></p>')
    metas = [("firstpublishedtime", firstpublished), ("lastmodifiedtime", firstpublished),
             ("keywords", keywords or title[:8]), ("description", paragraphs[0][:60]),
             ("catalogs", section_title), ("contentid", "")]
    return (
        head(f"{title}_{section_title}_中国政府网", metas) + "<body>\n" + header()
        + '<div class="main">\n' + breadcrumb(crumbs)
        + '<div class="article oneColumn pub_border">\n'
        f"<h1>{escape(title)}</h1>\n"
        f'<div class="pages-date">{escape(info_time)} '
        f'<span class="font">来源：{escape(origin)}</span>\n'
        '<span class="font index_switchsize">【字体：<span class="bigger">大</span> '
        '<span class="medium">中</span> <span class="smaller">小</span>】</span>\n'
        '<span class="font printIco" onclick="window.print()">打印</span></div>\n'
        f'<div class="pages_content" id="UCAP-CONTENT">\n{body}\n</div>\n'
        f'<div class="editor">责任编辑：{escape(author)}</div>\n'
        '<div class="share">分享到：<a href="javascript:void(0)">微信</a> '
        '<a href="javascript:void(0)">微博</a></div>\n'
        "</div>\n" + related_box(related) + "</div>\n" + footer(generated) + "</body>\n</html>\n"
    )


def list_page(*, section_title: str, crumbs: list[tuple[str, str]],
              items: list[tuple[str, str, str]], page: int, page_count: int,
              related: list[tuple[str, str]], generated: str,
              focus: tuple[str, str] | None = None) -> str:
    """A gov.cn section list page: ``items`` are (href, title, date) newest first."""
    lis = "\n".join(
        f'<li><h4><a href="{escape(h)}" target="_blank">{escape(t)}</a>'
        f'<span class="date">{escape(d)}</span></h4></li>' for h, t, d in items)
    pager = ['<div class="page">']
    if page > 0:
        pager.append('<a href="index.htm">首页</a>')
        prev = "index.htm" if page == 1 else f"index_{page - 1}.htm"
        pager.append(f'<a href="{prev}">上一页</a>')
    pager.append(f"<span>第{page + 1}页/共{page_count}页</span>")
    if page + 1 < page_count:
        pager.append(f'<a href="index_{page + 1}.htm">下一页</a>')
        pager.append(f'<a href="index_{page_count - 1}.htm">尾页</a>')
    pager.append("</div>")
    focus_html = ""
    if focus:
        focus_html = (f'<div class="focus"><a href="{escape(focus[0])}" target="_blank">'
                      f"<h2>{escape(focus[1])}</h2></a></div>\n")
    return (
        head(f"{section_title}_中国政府网", [("catalogs", section_title)]) + "<body>\n"
        + header() + '<div class="main">\n' + breadcrumb(crumbs)
        + f'<div class="channel_tab"><h3>{escape(section_title)}</h3></div>\n' + focus_html
        + f'<div class="list list_1 list_2">\n<ul>\n{lis}\n</ul>\n</div>\n'
        + " ".join(pager) + "\n" + related_box(related) + "</div>\n" + footer(generated)
        + "</body>\n</html>\n"
    )
