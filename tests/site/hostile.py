"""The hostile site: a normal section whose list also links every kind of page that breaks crawlers.

``HostileSite(drip_seconds=...)`` is a site object for :class:`tests.site.server.SiteServer`.
Its ``expected`` manifest says what each case is and the page status the crawl must give it
(the statuses of :mod:`crawler.page_status`); the good articles must all be stored.

Sections: ``/h/index.htm`` (good articles, the hostile articles, and a "下一页" into an endless
calendar), ``/h/huge/index.htm`` (one list page of 100,000 links) and ``/w/index.htm`` (anti-bot
walls; a source of its own, since a wall makes the crawl back off from the whole host).
"""

from __future__ import annotations

import gzip
import socket
import struct
import time
from datetime import date, timedelta
from functools import cached_property
from html import escape

from tests.site.content import Response, error_page, html_content_type
from tests.site.server import _challenge

LIST, HUGE_LIST, WALLS = "/h/index.htm", "/h/huge/index.htm", "/w/index.htm"
HUGE_LINKS = 100_000
NESTING = 10_000
LARGE_BYTES = 50 << 20
CHAIN_HOPS = 30
PARAGRAPH = ("为进一步优化营商环境，市政府办公厅印发通知，要求各区各部门加快推进政务服务标准化、"
             "规范化、便利化，做到企业和群众办事只进一扇门、最多跑一次。")


def article_html(n: int, title: str, *, charset_meta: str | None = "utf-8",
                 wrap: tuple[str, str] = ("", "")) -> str:
    meta = f'<meta charset="{charset_meta}">' if charset_meta else ""
    body = "".join(f"<p>{PARAGRAPH}（第{i}段）</p>" for i in range(1, 7))
    return (f"<!DOCTYPE html><html><head>{meta}<title>{escape(title)}_中国政府网</title>"
            f'<meta name="ArticleTitle" content="{escape(title)}">'
            f'<meta name="firstpublishedtime" content="2024-03-0{n % 9 + 1} 10:00:00">'
            f'</head><body><div class="article"><h1>{escape(title)}</h1>'
            f'<div class="pages-date">2024-03-0{n % 9 + 1} 10:00 来源：市政府办公厅</div>'
            f'<div id="UCAP-CONTENT" class="pages_content">{wrap[0]}{body}{wrap[1]}</div>'
            "</div></body></html>\n")


def _links_page(title: str, links: list[tuple[str, str]], next_href: str | None = None) -> bytes:
    items = "".join(f'<li><a href="{h}">{escape(t)}</a><span>2024-03-01</span></li>'
                    for h, t in links)
    more = f'<div class="pages"><a href="{next_href}">下一页</a></div>' if next_href else ""
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>'
            f'<body><div class="list"><ul>{items}</ul></div>{more}</body></html>\n').encode()


def _html(body: bytes, charset: str | None = "utf-8", **extra) -> Response:
    return Response(body=body, content_type=html_content_type(charset), **extra)


# -- answers no ordinary server sends --------------------------------------------------------

def _head(handler, lines: list[str]) -> None:
    handler.wfile.write(("HTTP/1.1 " + "\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))


def _write_large(handler) -> None:
    _head(handler, ["200 OK", "Content-Type: text/html; charset=utf-8",
                    f"Content-Length: {LARGE_BYTES}"])
    chunk = (b"<p>" + PARAGRAPH.encode() + b"</p>\n") * 200
    sent = 0
    while sent < LARGE_BYTES:
        part = chunk[: LARGE_BYTES - sent]
        handler.wfile.write(part)
        sent += len(part)


def _dripper(seconds: float):
    def write(handler) -> None:
        body = article_html(0, "一秒一个字节").encode()
        _head(handler, ["200 OK", "Content-Type: text/html; charset=utf-8",
                        f"Content-Length: {len(body)}"])
        deadline = time.monotonic() + seconds
        for byte in body:
            if time.monotonic() > deadline:
                return  # the crawler has given up long ago; stop holding a server thread
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(1.0)
    return write


def _reset(handler) -> None:
    # SO_LINGER with a zero timeout makes close() send a RST instead of a FIN.
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Len")
    handler.wfile.flush()
    handler.connection.close()


def _gzipped(body: bytes):
    def write(handler) -> None:
        _head(handler, ["200 OK", "Content-Type: text/html; charset=utf-8",
                        "Content-Encoding: gzip", f"Content-Length: {len(body)}"])
        handler.wfile.write(body)
    return write


class HostileSite:
    """A site object (``name``, ``expected``, ``respond``) serving every hostile case."""

    name = "hostile"

    def __init__(self, *, drip_seconds: float = 60.0):
        self.drip_seconds = drip_seconds
        good = {f"/h/2024/content_{n}.htm": f"市政府办公厅关于第{n}批政务服务事项的通知"
                for n in range(1, 5)}
        good["/h/2024/content_5.htm"] = "字符集说谎的页面也要读对"       # header says utf-8, body is GBK
        good["/h/2024/content_6.htm"] = "没有字符集声明的页面"            # no charset anywhere
        good["/h/2024/content_7.htm"] = "一万层嵌套标签里的通知"          # 10,000 nested <div>
        good["/h/2024/content_8.htm"] = "带着两千个重复响应头的通知"     # 2,000 Set-Cookie lines
        self.good = good
        # Article path -> the page status the crawl must record for it.
        self.cases = {
            "/h/2024/content_101.htm": "too_large",
            "/h/2024/content_102.htm": "not_html",             # binary bytes as text/html
            "/h/2024/content_103.htm": "redirect_loop",
            "/h/2024/content_104.htm": "too_many_redirects",   # a 30-hop chain
            "/h/2024/content_105.htm": "timeout",              # a byte a second
            "/h/2024/content_106.htm": "connection_error",     # reset mid-headers
            "/h/2024/content_107.htm": "corrupt",              # truncated gzip
            "/h/2024/content_108.htm": "corrupt",              # corrupt gzip
            "/h/2024/content_109.htm": "connection_error",     # one 100 KB header line
            "/h/2024/content_110.htm": "not_html",             # a PNG image as the article
            "/w/2024/content_412.htm": "blocked",
            "/w/2024/content_521.htm": "blocked",
            "/w/2024/content_307.htm": "blocked",
        }
        self.lists = {LIST: "list_capped", HUGE_LIST: "too_many_links"}
        self.expected = {"site": self.name, "start": LIST, "starts": [LIST, HUGE_LIST],
                         "walls": WALLS, "good": good, "cases": self.cases,
                         "lists": self.lists}

    def respond(self, target: str) -> Response:
        path = target.split("?", 1)[0]
        if path == "/robots.txt":
            return Response(body=b"User-agent: *\nDisallow: /private/\n", content_type="text/plain")
        if path == LIST:
            links = [(p, t) for p, t in self.good.items()]
            links += [(p, f"通知{p[-7:-4]}") for p in self.cases if p.startswith("/h/")]
            return _html(_links_page("政务动态", links, "/h/cal/2024-01-01.htm"))
        if path.startswith("/h/cal/"):
            # A calendar: every day links the next, for ever.
            day = date.fromisoformat(path.rsplit("/", 1)[1][:-4]) + timedelta(days=1)
            return _html(_links_page(f"日历 {day}", [], f"/h/cal/{day.isoformat()}.htm"))
        if path == HUGE_LIST:
            return _html(self.huge_list)
        if path.startswith("/h/huge/"):
            return error_page(404)
        if path == WALLS:
            return _html(_links_page("防火墙", [(p, "通知") for p in self.cases
                                                 if p.startswith("/w/")]))
        if path.startswith("/w/2024/content_"):
            kind = {"412": "412", "521": "521", "307": "wzws"}[path[-7:-4]]
            return _challenge(kind, path).response
        if path in self.good:
            return self._good(path)
        if path.startswith("/h/loop/"):
            return Response(status=302, redirect="/h/2024/content_103.htm")
        if path.startswith("/h/chain/"):
            hop = int(path.rsplit("/", 1)[1][:-4])
            return Response(status=302, redirect=f"/h/chain/{hop + 1}.htm" if hop < CHAIN_HOPS
                            else "/h/2024/content_1.htm")
        return self._hostile(path)

    @cached_property
    def huge_list(self) -> bytes:
        """The 100,000-link list page (about 9 MB), made once."""
        links = [(f"/h/huge/{n}/content_{n}.htm", f"第{n}条") for n in range(HUGE_LINKS)]
        return _links_page("十万条链接", links)

    def _good(self, path: str) -> Response:
        n = int(path.rsplit("_", 1)[1][:-4])
        title = self.good[path]
        if n == 5:
            return _html(article_html(n, title, charset_meta=None).encode("gbk"), "utf-8")
        if n == 6:
            return _html(article_html(n, title, charset_meta=None).encode(), None)
        if n == 7:
            wrap = ("<div>" * NESTING, "</div>" * NESTING)
            return _html(article_html(n, title, wrap=wrap).encode())
        if n == 8:
            cookies = [("Set-Cookie", f"c{i}=v{i}; Path=/") for i in range(2000)]
            return _html(article_html(n, title).encode(), headers=cookies)
        return _html(article_html(n, title).encode())

    def _hostile(self, path: str) -> Response:
        n = path.rsplit("_", 1)[-1][:-4]
        page = article_html(0, "坏页面").encode()
        if n == "101":
            return Response(write=_write_large)
        if n == "102":
            return _html(bytes(range(256)) * 400)
        if n == "103":
            return Response(status=302, redirect="/h/loop/a.htm")
        if n == "104":
            return Response(status=302, redirect="/h/chain/1.htm")
        if n == "105":
            return Response(write=_dripper(self.drip_seconds))
        if n == "106":
            return Response(write=_reset)
        if n == "107":
            whole = gzip.compress(page, mtime=0)
            return Response(write=_gzipped(whole[: len(whole) // 2]))
        if n == "108":
            whole = bytearray(gzip.compress(page, mtime=0))
            whole[20:60] = b"\xff" * 40
            return Response(write=_gzipped(bytes(whole)))
        if n == "109":
            return _html(page, headers=[("X-Padding", "x" * 100_000)])
        if n == "110":
            png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
            return Response(body=png, content_type="image/png")
        return error_page(404)
