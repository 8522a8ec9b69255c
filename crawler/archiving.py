"""The WARC archiving extension: every network response becomes a WARC exchange.

Enable it in ``EXTENSIONS``; it switches itself off (``NotConfigured``) when
``GOVARCHIVE_ARCHIVE_DIR`` is unset. Settings:

``GOVARCHIVE_ARCHIVE_DIR``
    The pywb collection's ``archive/`` folder (created if missing).
``GOVARCHIVE_WARC_PREFIX`` (``"govarchive"``), ``GOVARCHIVE_WARC_MAX_FILE_SIZE`` (1 GiB),
``GOVARCHIVE_WARC_OPERATOR`` (unset), ``GOVARCHIVE_WARC_NODE`` (unset)
    File name prefix, rotation size, the warcinfo ``operator`` field, and the machine's
    name in file names (left-over ``.open`` files of other nodes are not recovered).

Why ``response_downloaded``: Scrapy sends it from the downloader as soon as the download
handler returns, before any downloader middleware's ``process_response``. The body is then the
bytes off the wire (Content-Encoding intact, chunked framing already removed by the HTTP
client), redirects and 4xx/5xx responses are still there to be seen, and the request carries
every header the middlewares added (User-Agent, Accept-Encoding, Cookie). Responses from
HttpCache never reach the downloader; they are also skipped by their ``cached`` flag, and
``data:``/``file:`` URLs are skipped by scheme, because none of them came from the network.

Hand-over: the :class:`warc.Exchange` goes into ``request.meta["warc"]`` (the spider callback
reads it from ``response.meta``; a redirect's follow-up request starts with the redirect's
exchange and gets its own once answered) and out through
:data:`crawler.signals.capture_archived` for the storage pipeline.

Sharing: every crawler of a crawl process writes through one writer (:class:`ArchiveFiles`,
from :mod:`crawler.crawl_resources`); WARC records carry their URLs, so one file series serves
every source. Each crawler's stats count its own records.

Closing: on :data:`crawler.signals.responses_done` (the pipeline's close, once every response
has been through the spider) a crawler lets go of the writer; the last one closes the file and
indexes it in a thread while the last batches are stored; its ``spider_closed`` closes (and
indexes) whatever is left, and waits for that index.

Flushing: the pipeline does not call into this extension. It sends
:data:`crawler.signals.before_store_commit` before each database commit, and this extension
flushes and fsyncs on it; components stay coupled through signals only, and a commit can never
get ahead of the archive. A failed flush raises from the receiver (the pipeline sees the
``Failure`` in ``send_catch_log``'s results) and closes the spider.

A failed write (disk full) cuts the file back to its last complete record (see
:class:`warc.WarcWriter`), and closes the spider with the reason ``warc_write_error``.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from http import HTTPStatus
from urllib.parse import urlsplit, urlunsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from govarchive.crawler import signals as govarchive_signals
from govarchive.crawler.crawl_resources import SharedPart, resources_of
from govarchive.crawler.revisit import REVISIT_META, revisit_profile
from govarchive.warc import Exchange, WarcWriteError, WarcWriter, index_file, recover_open_files

logger = logging.getLogger(__name__)

ARCHIVED_SCHEMES = frozenset({"http", "https"})
CLOSE_REASON = "warc_write_error"


def _header_pairs(headers) -> list[tuple[str, str]]:
    # latin-1 maps every byte to one character, so the writer gets the original bytes back.
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in headers.items()
        for value in values
    ]


# Credentials must never reach an archive: ``Proxy-Authorization`` (our proxy's) and
# ``Authorization`` are dropped from the archived request, and a URL's user:password@ part
# from the target URI. Cookies stay: they are what the site handed out and replay needs them.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization"})


def _archived_url(url: str | None) -> str | None:
    """``url`` without its user:password@ part."""
    if not url or "@" not in urlsplit(url).netloc:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _request_headers(headers) -> list[tuple[str, str]]:
    return [(n, v) for n, v in _header_pairs(headers) if n.lower() not in CREDENTIAL_HEADERS]


def _reason(status: int) -> str:
    # Scrapy keeps the status code only; the standard phrase is the best we can do.
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _protocol(protocol: str | None) -> str:
    if not protocol:
        return "HTTP/1.1"
    if protocol.lower() == "h2":
        return "HTTP/2"
    return protocol


def _truncation(flags: list[str]) -> str | None:
    if "dataloss" in flags:
        return "disconnect"
    if "download_stopped" in flags:
        return "unspecified"
    return None


class ArchiveFiles:
    """A :class:`WarcWriter` and which of its closed files are indexed: what the archivers
    of every crawler in a crawl process share (see :mod:`crawler.crawl_resources`)."""

    def __init__(self, writer: WarcWriter) -> None:
        self.writer = writer
        self.archivers: list[WarcArchiver] = []  # every archiver that wrote through it
        self._indexed = 0  # how many of writer.files have been handed to the indexer
        self._index_lock = threading.Lock()  # rollover indexing runs in a thread
        self.final_index = None  # the Deferred of the index started when the last user left
        self.close_error: WarcWriteError | None = None

    def unindexed(self) -> bool:
        """Whether files were closed since the last :meth:`index_closed_files`."""
        return self._indexed < len(self.writer.files)

    def index_closed_files(self) -> None:
        """CDXJ-index the files closed since the last call that the writer did not index as
        it wrote them (one cut back after a failed write), so pywb serves them."""
        with self._index_lock:
            while self._indexed < len(self.writer.files):
                name = self.writer.files[self._indexed]
                self._indexed += 1
                if name not in self.writer.indexed:
                    index_file(self.writer.archive_dir, name)

    def close_writer(self) -> None:
        """Close the open file (flushed, fsynced, renamed from ``.open``). Idempotent."""
        try:
            self.writer.close()
        except WarcWriteError as exc:
            self.close_error = exc
            logger.error("closing the archive failed: %s", exc)


def open_archive_files(settings) -> ArchiveFiles:
    """The WARC writer the ``GOVARCHIVE_*`` Scrapy ``settings`` describe, after recovering
    the files a killed crawl left ``.open`` in its folder."""
    archive_dir = settings.get("GOVARCHIVE_ARCHIVE_DIR")
    if not archive_dir:
        raise NotConfigured("GOVARCHIVE_ARCHIVE_DIR is not set; nothing would be archived")
    node = settings.get("GOVARCHIVE_WARC_NODE") or None
    writer = WarcWriter(
        archive_dir,
        node=node,
        prefix=settings.get("GOVARCHIVE_WARC_PREFIX") or "govarchive",
        max_file_size=settings.getint("GOVARCHIVE_WARC_MAX_FILE_SIZE", 1 << 30),
        operator=settings.get("GOVARCHIVE_WARC_OPERATOR") or None,
        # Each file's CDXJ index is made as it is written: reading a closed file back to
        # index it would hold up the end of every crawl.
        index=True,
    )
    # Files a killed crawl left .open: cut back to whole records, closed and indexed (what
    # was cut is logged), before this crawl writes anything. Finding them lists the whole
    # folder, which gains a file per run, and a warm worker opens a writer for every run: a
    # process looks at most every RECOVER_EVERY seconds (a killed worker's files are found at
    # once by the process that replaces it, a killed `crawl`'s within that time).
    key = (os.getpid(), str(archive_dir), node)
    last = _recovered_at.get(key)
    if last is None or time.monotonic() - last >= RECOVER_EVERY:
        try:
            recover_open_files(archive_dir, node=node)
            _recovered_at[key] = time.monotonic()
        except OSError as exc:
            logger.error("could not recover left-over WARC files in %s: %s", archive_dir, exc)
    return ArchiveFiles(writer)


RECOVER_EVERY = 600.0  # seconds between a process's looks for left-over .open files
_recovered_at: dict[tuple[int, str, str | None], float] = {}  # (pid, folder, node) -> when


class WarcArchiver:
    def __init__(self, crawler, part: SharedPart) -> None:
        self.crawler = crawler
        self.part = part
        self.files: ArchiveFiles = part.acquire()
        self.files.archivers.append(self)
        self.writer = self.files.writer
        self.stats = crawler.stats
        self.failed = False
        self._closing = None  # the Deferred that closes the spider after a write error
        self._released = False  # whether this crawler has let go of the shared writer
        self._files_written: set[str] = set()  # the files this crawler's records are in

    @classmethod
    def from_crawler(cls, crawler) -> WarcArchiver:
        settings = crawler.settings
        if not settings.get("GOVARCHIVE_ARCHIVE_DIR"):
            raise NotConfigured("GOVARCHIVE_ARCHIVE_DIR is not set; nothing would be archived")
        resources = resources_of(settings)
        part = resources.warc if resources is not None else SharedPart(
            "WARC writer", lambda: open_archive_files(settings), ArchiveFiles.close_writer)
        ext = cls(crawler, part)
        crawler.signals.connect(ext.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.flush, signal=govarchive_signals.before_store_commit)
        crawler.signals.connect(ext.responses_done, signal=govarchive_signals.responses_done)
        return ext

    def response_downloaded(self, response, request, spider) -> None:
        if self.failed:
            return
        if urlparse_cached(request).scheme not in ARCHIVED_SCHEMES or "cached" in response.flags:
            return
        exchange = self._write(response, request)
        if exchange is None:
            return
        request.meta["warc"] = exchange
        self._files_written.add(exchange.location.file)
        if self.files.unindexed():  # the write rolled over to a new file
            deferToThread(self.files.index_closed_files).addErrback(
                lambda failure: logger.error("indexing the archive failed: %s", failure.value)
            )
        self.stats.inc_value("warc/records", 2)
        self.stats.inc_value("warc/bytes", exchange.bytes_written)
        self.crawler.signals.send_catch_log(
            signal=govarchive_signals.capture_archived,
            exchange=exchange,
            response=response,
            request=request,
            spider=spider,
        )

    def _write(self, response, request) -> Exchange | None:
        response_headers = _header_pairs(response.headers)
        truncated = _truncation(response.flags)
        if truncated:
            # A cut-off body no longer matches the announced length; keep the value visible
            # without letting replay tools wait for bytes that were never stored.
            response_headers = [
                ("X-Archive-Orig-Content-Length", v) if n.lower() == "content-length" else (n, v)
                for n, v in response_headers
            ]
        # A revisit request (crawler.revisit) answered 304, or with the payload archived last
        # time: a header-only revisit record referring to that capture.
        target = request.meta.get(REVISIT_META)
        profile = revisit_profile(target, response.status, response.url, response.body,
                                  bool(truncated))
        try:
            if profile is not None:
                return self.writer.write_revisit(
                    url=_archived_url(response.url),
                    profile=profile,
                    refers_to=target.refers_to,
                    refers_to_uri=_archived_url(target.refers_to_url),
                    refers_to_date=target.refers_to_date,
                    payload_digest=(target.payload_digest
                                    if profile == "identical-payload-digest" else None),
                    method=request.method,
                    request_headers=_request_headers(request.headers),
                    request_body=request.body,
                    protocol=_protocol(response.protocol),
                    status=response.status,
                    reason=_reason(response.status),
                    response_headers=response_headers,
                    ip_address=str(response.ip_address) if response.ip_address else None,
                )
            return self.writer.write_exchange(
                url=_archived_url(response.url),
                method=request.method,
                request_headers=_request_headers(request.headers),
                request_body=request.body,
                protocol=_protocol(response.protocol),
                status=response.status,
                reason=_reason(response.status),
                response_headers=response_headers,
                body=response.body,
                ip_address=str(response.ip_address) if response.ip_address else None,
                truncated=truncated,
            )
        except WarcWriteError as exc:
            # The file was cut back under every crawler writing to it: all of them stop.
            for archiver in self.files.archivers:
                archiver._fail(f"could not archive {response.url}: {exc}", exc)
            return None

    def flush(self) -> None:
        """Flush and fsync the open WARC file (receiver of ``before_store_commit``)."""
        try:
            self.writer.flush(fsync=True)
        except WarcWriteError as exc:
            self._fail(f"could not flush the archive: {exc}", exc)
            raise

    def _fail(self, message: str, exc: WarcWriteError) -> None:
        self.stats.inc_value("warc/errors")
        if self.failed:
            return
        self.failed = True
        cause = exc.__cause__
        if isinstance(cause, OSError) and cause.errno == errno.ENOSPC:
            where = self.writer.archive_dir
            message = f"disk full: no space left on device writing {where}: {message}"
        # The run records it as its error (crawler.run.run_status).
        self.stats.set_value("govarchive/archive_error", message)
        logger.error("%s; closing the spider (%s)", message, CLOSE_REASON)
        engine = self.crawler.engine
        if engine is not None and engine.spider is not None:
            self._closing = deferred_from_coro(engine.close_spider_async(reason=CLOSE_REASON))
            self._closing.addErrback(
                lambda failure: logger.error("closing the spider failed: %s", failure.value)
            )

    def responses_done(self) -> None:
        """This crawler has nothing more to archive: it lets go of the writer. The last one
        to let go closes the file and indexes it in a thread: reading a whole WARC file back
        takes time in proportion to its size, which need not wait for the last batches."""
        if self._released:
            return
        self._released = True
        if self.part.release():
            self.files.final_index = deferToThread(self.files.index_closed_files)
            self.files.final_index.addErrback(self._index_failed)

    @staticmethod
    def _index_failed(failure) -> None:
        logger.error("indexing the archive failed (`govarchive warc index` redoes it): %s",
                     failure.value)

    async def spider_closed(self, spider, reason) -> None:
        self.responses_done()  # a crawl that stopped before its pipeline closed
        self.stats.set_value("warc/files", len(self._files_written))
        if self.part.users > 0:
            return  # another crawler still writes; the last one closes the file
        # Also closes a file that a response arriving after responses_done started.
        self.files.close_writer()
        if self.files.close_error is not None:
            self.stats.inc_value("warc/errors")
        if self.files.final_index is not None:
            await maybe_deferred_to_future(self.files.final_index)
        self._index_rest()

    def _index_rest(self) -> None:
        try:
            self.files.index_closed_files()
        except (OSError, ValueError) as exc:
            self._index_failed(Failure(exc))
        if self.writer.files:
            logger.info(
                "archive: %d file(s) closed in %s, last %s",
                len(self.writer.files),
                self.writer.archive_dir,
                self.writer.files[-1],
            )
