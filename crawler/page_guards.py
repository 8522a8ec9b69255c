"""Downloader middlewares that turn hostile answers into page statuses instead of surprises.

``RedirectGuard`` sits on the downloader side of Scrapy's RedirectMiddleware: a redirect back
to a URL already on the chain is a loop (Scrapy would drop the next hop silently as a
duplicate request), and a chain longer than ``REDIRECT_MAX_TIMES`` is refused with its own
status. ``GzipGuard`` sits on the downloader side of HttpCompressionMiddleware and checks that
a gzip body unzips whole and within ``DOWNLOAD_MAXSIZE``: Scrapy would hand on the readable
part of a truncated body as if it were the page. Both raise a
:class:`crawler.page_status.PageRefused`, which reaches the request's errback; the answer
itself is archived already (the archiver writes every response as it comes off the wire).
"""

from __future__ import annotations

import zlib
from urllib.parse import urljoin

from govarchive.crawler.page_status import CorruptBody, RedirectLoop, TooLarge, TooManyRedirects

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK = 1 << 20  # unzipped bytes looked at a time: a gzip bomb never sits in memory whole


class RedirectGuard:
    def __init__(self, max_times: int):
        self.max_times = max_times

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.getint("REDIRECT_MAX_TIMES"))

    def process_response(self, request, response, spider=None):
        location = response.headers.get(b"Location")
        if (response.status not in REDIRECT_STATUSES or not location
                or request.meta.get("dont_redirect")):
            return response
        target = urljoin(request.url, location.decode("latin-1"))
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if target in chain:
            raise RedirectLoop(f"redirect loop: {request.url} leads back to {target}")
        if len(chain) > self.max_times:
            raise TooManyRedirects(f"more than {self.max_times} redirects from {chain[0]}")
        return response


class GzipGuard:
    def __init__(self, max_size: int):
        self.max_size = max_size

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.getint("DOWNLOAD_MAXSIZE"))

    def process_response(self, request, response, spider=None):
        encoding = (response.headers.get(b"Content-Encoding") or b"").strip().lower()
        if encoding in (b"gzip", b"x-gzip") and response.body:
            max_size = request.meta.get("download_maxsize", self.max_size)
            check_gzip(response.body, max_size)
        return response


def check_gzip(body: bytes, max_size: int = 0) -> None:
    """Raise CorruptBody unless ``body`` is one whole gzip stream, TooLarge when it unzips to
    more than ``max_size`` bytes (0: no limit)."""
    unzip = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    total, data = 0, body
    try:
        while data and not unzip.eof:
            total += len(unzip.decompress(data, _CHUNK))
            data = unzip.unconsumed_tail
            if max_size and total > max_size:
                raise TooLarge(f"unzips to more than {max_size} bytes")
        total += len(unzip.flush())
    except zlib.error as exc:
        raise CorruptBody(f"gzip body does not unzip ({exc})") from exc
    if not unzip.eof:
        raise CorruptBody(f"gzip body cut short ({len(body)} bytes received)")
