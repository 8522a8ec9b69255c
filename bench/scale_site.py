"""Many small sections on many loopback hosts, for bench/service_scale.py.

Usage: python bench/scale_site.py --hosts H --sections S --log FILE

Serves section ``/s{n}/index.htm`` (one list page, ten TRS-style article links) for every
``n < S`` on each of the H addresses 127.0.0.2 … 127.0.0.{H+1}, all on one port, and prints
``PORT <port>`` when it listens. Every page has an ``ETag`` and a ``Last-Modified`` and is
answered ``304`` to a matching ``If-None-Match`` or a later ``If-Modified-Since``, as real
government servers (nginx serving TRS's static files) do. One JSON line per request goes to
``--log``: ``time``, ``host``, ``path``, ``status``, ``conditional``.

Sections are independent of hosts: section ``n`` is meant to be crawled from host
``n % H``, so each host carries about S/H sections.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import threading
import time
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARTICLES_PER_SECTION = 10
# One moment for every page: the sections never change during a benchmark.
LAST_MODIFIED = formatdate(1_764_547_200, usegmt=True)  # 2025-12-01 00:00:00 GMT


def host_address(n: int) -> str:
    """The loopback address of host ``n`` (0-based): 127.0.0.2, 127.0.0.3, …"""
    return f"127.0.{(n + 2) // 256}.{(n + 2) % 256}"


def list_page(section: int) -> str:
    items = "\n".join(
        f'<li><a href="./202512/t20251201_{section * 100 + j}.htm">第{section}栏目 通知 {j}</a>'
        f"<span>2025-12-01</span></li>"
        for j in range(ARTICLES_PER_SECTION)
    )
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>栏目 {section}</title></head><body>'
        '<div class="nav"><a href="/">首页</a></div>'
        f'<div class="list"><ul>\n{items}\n</ul></div>'
        "</body></html>"
    )


def article_page(section: int, number: int) -> str:
    body = "".join(
        f"<p>第{section}栏目第{number}篇通知的第{k}段正文，内容用于测试服务的规模。</p>"
        for k in range(8)
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>第{section}栏目 通知 {number}</title></head><body>"
        f'<h1 class="title">第{section}栏目 通知 {number}</h1>'
        '<div class="info">发布时间：2025-12-01 09:30 来源：测试办公室</div>'
        f'<div id="zoom">{body}</div></body></html>'
    )


def page_for(path: str) -> str | None:
    parts = path.split("?", 1)[0].strip("/").split("/")
    if len(parts) < 2 or not parts[0].startswith("s") or not parts[0][1:].isdigit():
        return None
    section = int(parts[0][1:])
    if parts[1:] == ["index.htm"]:
        return list_page(section)
    if len(parts) == 3 and parts[2].startswith("t20251201_") and parts[2].endswith(".htm"):
        number = parts[2][len("t20251201_"):-len(".htm")]
        if number.isdigit() and int(number) // 100 == section:
            return article_page(section, int(number) % 100)
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        conditional = bool(self.headers.get("If-None-Match") or
                           self.headers.get("If-Modified-Since"))
        if self.path == "/robots.txt":
            status, body = 200, b"User-agent: *\nDisallow: /private/\n"
            ctype = "text/plain"
        else:
            page = page_for(self.path)
            status, body = (200, page.encode("utf-8")) if page else (404, b"not found")
            ctype = "text/html; charset=utf-8"
        etag = '"' + hashlib.md5(body).hexdigest() + '"'
        if status == 200 and _not_modified(self.headers, etag):
            status, body = 304, b""
        self.send_response(status)
        if status in (200, 304):
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", LAST_MODIFIED)
        if status != 304:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.server.log({"time": time.time(), "host": self.server.server_address[0],
                         "path": self.path, "status": status, "conditional": conditional})


def _not_modified(headers, etag: str) -> bool:
    match = headers.get("If-None-Match")
    if match is not None:
        return etag in [tag.strip() for tag in match.split(",")] or match.strip() == "*"
    since = headers.get("If-Modified-Since")
    if since:
        try:
            return parsedate_to_datetime(since) >= parsedate_to_datetime(LAST_MODIFIED)
        except (TypeError, ValueError):
            return False
    return False


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address, log):
        super().__init__(address, Handler)
        self.log = log


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--log", required=True)
    args = parser.parse_args(argv)

    lock = threading.Lock()
    log_file = open(args.log, "a", encoding="utf-8")  # noqa: SIM115 - open for the process

    def log(entry: dict) -> None:
        with lock:
            log_file.write(json.dumps(entry) + "\n")
            log_file.flush()

    # One port for every host: take a free one on the first address, then bind the rest to it.
    for _attempt in range(20):
        servers = []
        try:
            first = Server((host_address(0), 0), log)
            servers.append(first)
            port = first.server_address[1]
            for n in range(1, args.hosts):
                servers.append(Server((host_address(n), port), log))
            break
        except OSError:
            for server in servers:
                server.server_close()
    else:
        raise SystemExit("could not bind one port on every host")
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"PORT {port}", flush=True)
    try:
        sys.stdin.read()  # until the benchmark closes our stdin or kills us
    finally:
        for server in servers:
            server.shutdown()
    return 0



if __name__ == "__main__":
    raise SystemExit(main())
