"""A local HTTP/1.1 server for one test site, with a request log and per-path overrides.

In a test::

    with SiteServer("govcn") as server:
        run_crawler_against(server.url("/lianbo/difang/index.htm"))
        assert server.requested("/robots.txt")
        server.override("/lianbo/difang/202403/content_6937004.htm", status=404)

As a process (benchmarks, manual poking): ``python -m tests.site.server govcn --port 0``
prints ``PORT <n>`` on its first line once it accepts connections; ``bulk`` serves the
generated benchmark section (``--articles N``; ``--prerender`` makes its pages before
serving). See ``tests.site.process.SiteProcess``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import signal
import sys
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urljoin

from tests.site.content import Response, error_page, html_content_type, load_site, split_target

CHALLENGE_KINDS = ("412", "521", "wzws", "500")


@dataclass(frozen=True)
class RequestRecord:
    method: str
    target: str                      # path with query, as sent
    headers: list[tuple[str, str]]   # in the order received
    time: float                      # time.time() on arrival
    client_port: int                 # tells keep-alive connections apart
    body: bytes = b""                # a POST's body

    @property
    def path(self) -> str:
        return split_target(self.target)[0]

    def header(self, name: str, default: str | None = None) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), default)

    def to_json(self) -> dict:
        return {"method": self.method, "target": self.target, "headers": self.headers,
                "time": self.time, "client_port": self.client_port,
                "body": self.body.decode("utf-8", "replace")}


@dataclass
class _Override:
    response: Response
    passes_with_cookie: str | None = None   # a "name=value" cookie that lifts the block


def _challenge(kind: str, target: str) -> _Override:
    """Anti-bot answers as Chinese government sites send them (our own minimal versions)."""
    if kind == "412":
        body = (b'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; '
                b'charset=utf-8"><script type="text/javascript">var _$challenge="a9x3Q";'
                b"</script></head><body><script>/* verify the browser, then reload */"
                b"</script></body></html>\n")
        return _Override(Response(status=412, body=body, content_type=html_content_type("utf-8"),
                                  headers=[("Set-Cookie", "FSSBBIl1UgzbN7N80S=Xc2lQ0; Path=/")]))
    if kind == "521":
        body = (b"<html><body><script>document.cookie=('__jsl_clearance=1711900000.1|0|'+"
                b"'Qk9fTg%3D');location.href=location.pathname+location.search</script>"
                b"</body></html>\n")
        return _Override(Response(status=521, body=body, content_type=html_content_type(None),
                                  headers=[("Set-Cookie", "__jsluid_h=5f1e0c; Path=/; HttpOnly")]))
    if kind == "wzws":
        # The WAF answers 307 and sets a cookie; the same URL asked again with it gets the page.
        return _Override(Response(status=307, redirect=target,
                                  headers=[("Set-Cookie", "wzws_cid=4d2c1b0a; Path=/; HttpOnly")]),
                         passes_with_cookie="wzws_cid=4d2c1b0a")
    if kind == "500":
        return _Override(error_page(500))
    raise ValueError(f"unknown challenge kind {kind!r}: use one of {', '.join(CHALLENGE_KINDS)}")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"      # keep-alive; every answer carries Content-Length
    server_version = "nginx"
    sys_version = ""
    timeout = 30                        # idle keep-alive connections are closed after this

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass  # the request log replaces stderr lines

    def do_GET(self):
        self._answer(send_body=True)

    def do_HEAD(self):
        self._answer(send_body=False)

    def do_POST(self):
        # Sites with a data proxy (tests.site.hanweb) answer POSTs; the others say 405.
        length = int(self.headers.get("Content-Length") or 0)
        self._answer(send_body=True, body=self.rfile.read(length) if length > 0 else b"")

    def _answer(self, send_body: bool, body: bytes = b"") -> None:
        owner: SiteServer = self.server.owner
        record = RequestRecord(self.command, self.path, list(self.headers.items()), time.time(),
                               self.client_address[1], body)
        owner._log(record)
        response = owner.respond(record)
        if response.write is not None:
            self.close_connection = True  # what it wrote leaves the connection unusable
            try:
                response.write(self)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the crawler gave up on the answer, as it should
            return
        if response.delay:
            time.sleep(response.delay)  # the page is slow on purpose
        body, headers = response.body, list(response.headers)
        if response.redirect:
            headers.append(("Location", urljoin(owner.base_url + "/", response.redirect)))
        if response.status == 200:
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            modified = owner.last_modified(record) if owner.dates else 0
            validators = [("ETag", etag)] if owner.etags else []
            if owner.dates:
                validators.append(("Last-Modified", formatdate(modified, usegmt=True)))
            headers += validators
            # If-None-Match decides when both are sent (RFC 9110, 13.2.2).
            if_none_match = record.header("If-None-Match") if owner.etags else None
            if_modified_since = record.header("If-Modified-Since") if owner.dates else None
            if (etag in if_none_match if if_none_match is not None
                    else _not_modified_since(if_modified_since, modified)):
                self._send(304, validators, b"", send_body)
                return
        if (response.gzip or owner.gzip_all) and response.status == 200 and body:
            headers.append(("Vary", "Accept-Encoding"))
            if "gzip" in (record.header("Accept-Encoding") or ""):
                body = gzip.compress(body, mtime=0)
                headers.append(("Content-Encoding", "gzip"))
        if response.content_type:
            headers.insert(0, ("Content-Type", response.content_type))
        self._send(response.status, headers, body, send_body)

    def _send(self, status, headers, body, send_body):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if status != 304:  # a 304 has no body and must not announce one of zero bytes
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body and body:
            self.wfile.write(body)


def _not_modified_since(value: str | None, modified: int) -> bool:
    if not value:
        return False
    try:
        since = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored, as servers do
    return modified <= since


class _HTTPServer(ThreadingHTTPServer):
    # A crawler opens many connections at once; the stdlib's backlog of 5 would drop some
    # SYNs and add one-second retransmission stalls to benchmarks.
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A crawler that stops mid-answer (a closed spider, a size cap) is normal here; the
        # default prints a traceback to sys.stderr, which a test's CLI runner may be capturing.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class SiteServer:
    """One site on its own loopback port (127.0.0.1 unless ``host`` says another), served from
    a thread of this process."""

    def __init__(self, site, *, host: str = "127.0.0.1", port: int = 0, gzip_all: bool = False,
                 log_file=None):
        self.site = load_site(site)
        self.gzip_all = gzip_all       # compress every 200 answer when the client accepts gzip
        self.etags = True              # False: no ETag (and If-None-Match ignored)
        self.dates = True              # False: no Last-Modified (and If-Modified-Since ignored)
        self._log_file = log_file      # a text file: one JSON request record a line
        self._requests: list[RequestRecord] = []
        self._overrides: dict[str, _Override] = {}
        # Last-Modified (whole seconds) of the site's pages, and of paths changed since.
        self._started = int(time.time())
        self._modified: dict[str, int] = {}
        self._lock = threading.Lock()
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.owner = self
        self._thread: threading.Thread | None = None

    # -- lifecycle
    def start(self) -> SiteServer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever,
                                            kwargs={"poll_interval": 0.05},
                                            name=f"site-{self.name}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- addresses and manifest
    @property
    def name(self) -> str:
        return self.site.name

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self._httpd.server_address[0]}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    @property
    def expected(self) -> dict:
        return self.site.expected

    # -- the request log
    def _log(self, record: RequestRecord) -> None:
        with self._lock:
            self._requests.append(record)
            if self._log_file is not None:
                self._log_file.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
                self._log_file.flush()

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    def requests_for(self, path: str) -> list[RequestRecord]:
        """Requests whose target (path with query) or bare path equals ``path``."""
        return [r for r in self.requests if path in (r.target, r.path)]

    def requested(self, path: str) -> bool:
        return bool(self.requests_for(path))

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def last_modified(self, record: RequestRecord) -> int:
        """When the page ``record`` asks for last changed (a POSIX time in seconds)."""
        with self._lock:
            return max(self._started, self._modified.get("*", 0),
                       self._modified.get(record.target, 0), self._modified.get(record.path, 0))

    def _touch(self, path: str) -> None:
        """``path`` (or every path, "*") changes now: a later Last-Modified than any it had,
        even within the second it was last served in."""
        with self._lock:
            latest = max(self._started, self._modified.get("*", 0), *self._modified.values())
            self._modified[path] = max(int(time.time()) + 1, latest + 1)

    # -- changing the site between crawls
    def override(self, path: str, *, status: int = 200, body: bytes | str | None = None,
                 headers=(), content_type: str | None = None, gzip: bool | None = None,
                 delay: float = 0.0, redirect: str | None = None) -> None:
        """Answer ``path`` (or "*" for every path but /robots.txt) differently from now on.

        ``body=None`` keeps the site's own body for a 2xx answer and uses an error page
        otherwise; a ``str`` body is encoded as the site's charset; a new path adds a page.
        """
        base = self.site.respond(path) if path != "*" else Response()
        if body is None and 200 <= status < 300 and base.status == 200:
            response = Response(status=status, body=base.body, content_type=base.content_type)
        elif body is None:
            response = error_page(status) if status >= 400 else Response(status=status)
        else:
            charset = getattr(self.site, "charset", None) or "utf-8"
            data = body.encode(charset) if isinstance(body, str) else bytes(body)
            response = Response(status=status, body=data,
                                content_type=base.content_type or html_content_type(charset))
        response.status = status
        response.content_type = content_type or response.content_type
        response.headers = [tuple(h) for h in headers]
        response.gzip = base.gzip if gzip is None else gzip
        response.delay, response.redirect = delay, redirect
        with self._lock:
            self._overrides[path] = _Override(response)
        self._touch(path)

    def remove(self, path: str) -> None:
        """The page is gone: answer 404."""
        self.override(path, status=404)

    def block(self, path: str, kind: str) -> None:
        """An anti-bot answer: "412" (JS challenge), "521" (cookie script), "wzws" (307 with a
        ``wzws_cid`` cookie; the retry with the cookie gets the page) or "500"."""
        with self._lock:
            self._overrides[path] = _challenge(kind, path if path != "*" else "/")
        self._touch(path)

    def reset(self, path: str | None = None) -> None:
        """Drop one override, or all of them."""
        with self._lock:
            if path is None:
                self._overrides.clear()
            else:
                self._overrides.pop(path, None)
        self._touch(path or "*")

    def page(self, path: str) -> bytes:
        """The body ``path`` answers now (overrides applied, never compressed)."""
        return self.respond(RequestRecord("GET", path, [], time.time(), 0)).body

    def respond(self, record: RequestRecord) -> Response:
        with self._lock:
            found = self._overrides.get(record.target) or self._overrides.get(record.path)
            if found is None and record.path != "/robots.txt":
                found = self._overrides.get("*")
        if found is not None:
            cookie = record.header("Cookie") or ""
            lifted = found.passes_with_cookie and found.passes_with_cookie in cookie
            if not lifted:
                if found.response.redirect and found.passes_with_cookie:
                    return Response(status=found.response.status, redirect=record.target,
                                    headers=list(found.response.headers))
                return found.response
        if record.method == "POST":
            respond_post = getattr(self.site, "respond_post", None)
            if respond_post is None:
                return error_page(405)
            return respond_post(record.target, record.body)
        return self.site.respond(record.target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.site.server",
                                     description="Serve a govarchive test site on 127.0.0.1.")
    parser.add_argument("site",
                        help="govcn, ministry, big5, quirks, bulk, hanweb, or a site folder")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--articles", type=int, default=5000, help="bulk: number of articles")
    parser.add_argument("--gzip-all", action="store_true", help="gzip every 200 answer")
    parser.add_argument("--prerender", action="store_true",
                        help="bulk: make every page before serving (benchmarks)")
    parser.add_argument("--log", help="append one JSON line per request to this file")
    args = parser.parse_args(argv)
    site = args.site
    if site == "bulk":
        from tests.site.bulk import BulkSite

        site = BulkSite(args.articles)
        if args.prerender:
            site.render_all()
    elif site == "hanweb":
        from tests.site.hanweb import HanwebSite

        site = HanwebSite()
    log_file = open(args.log, "a", encoding="utf-8") if args.log else None  # noqa: SIM115
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with SiteServer(site, port=args.port, gzip_all=args.gzip_all, log_file=log_file) as server:
        print(f"PORT {server.port}", flush=True)
        print(f"URL {server.url(server.expected.get('start', '/'))}", flush=True)
        while not stop.wait(0.5):
            pass  # signals are handled between waits
    if log_file:
        log_file.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
