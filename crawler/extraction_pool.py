"""Parsing off the crawl loop: ``crawler.extract.extract_article`` in a small process pool.

Scrapy runs every callback on one thread; extracting an article (lxml parsing and density
scoring) there would stall fetching for every page. :class:`ExtractionWorkers` runs it in worker
processes instead and the spider awaits the result, so the crawl keeps fetching meanwhile. The
article's near-duplicate signature is worked out there too: the pool has a worker per spare
core, the ingest process (:mod:`crawler.ingest_worker`) only one.

Each worker is fed through a pipe the crawl's event loop watches itself, not through a
``ProcessPoolExecutor``: the executor's manager and feeder threads cost the crawl process time
on every page, and their hand-offs of the GIL stall the crawl loop.

With ``workers=0`` extraction runs inline (in the calling thread), which is what a one-core
machine or a debugger wants.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import pickle
import socket
from collections import deque
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from govarchive.crawler.extract import Article, extract_article
from govarchive.crawler.worker_processes import spawn_context, start_worker
from govarchive.storage import article_signature, prepare_signatures

logger = logging.getLogger(__name__)


def extract_with_signature(body: bytes, url: str, **options: Any) -> tuple[Article, list[int]]:
    """``extract_article`` and the article's ``storage.article_signature`` (``[]`` when its
    text is too short to have one), as ``storage.ArticleIn.signature`` takes it."""
    article = extract_article(body, url, **options)
    return article, article_signature(article.title, article.body_text or "") or []


class ExtractionWorkers:
    """``extract_with_signature`` in ``workers`` processes (inline when 0), awaited on the
    running asyncio loop (Scrapy's reactor)."""

    # Jobs sent to one worker before its first result is back. On a machine whose cores are
    # all busy the crawl loop is often off the CPU for several extractions' time; a worker
    # with only the next page queued then idles until the loop comes back. Up to IN_FLIGHT
    # pages wait in its socket, as long as they fit the socket's send buffer (BUFFER_BYTES
    # asked for; what the kernel grants is read back), so a send never makes the loop wait. The first MIN_IN_FLIGHT go whatever their size: a page
    # bigger than the buffer waits for the worker to read it, at most one extraction.
    IN_FLIGHT = 6
    MIN_IN_FLIGHT = 2
    BUFFER_BYTES = 1 << 20

    def __init__(self, workers: int):
        self._workers = [_ExtractionProcess(n) for n in range(workers)]
        self._jobs = itertools.count()
        self._waiting: deque[tuple[int, bytes]] = deque()
        self._futures: dict[int, asyncio.Future] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._finished = False

    async def extract_with_signature(self, body: bytes, url: str, **options: Any):
        """:func:`extract_with_signature`, computed in a worker process."""
        if not self._workers:
            return extract_with_signature(body, url, **options)
        self._watch(asyncio.get_running_loop())
        if self._finished:
            raise RuntimeError("the extraction workers have finished: the crawl's last "
                               "response was already parsed")
        if not any(worker.alive for worker in self._workers):
            raise BrokenProcessPool("every extraction worker has died; see the log")
        job = next(self._jobs)
        future = self._loop.create_future()
        self._futures[job] = future
        self._waiting.append((job, pickle.dumps((job, body, url, options),
                                                protocol=pickle.HIGHEST_PROTOCOL)))
        self._dispatch()
        return await future

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Read results on ``loop`` (a test may run several loops one after another)."""
        if loop is self._loop:
            return
        if self._loop is not None and not self._loop.is_closed():
            for worker in self._workers:
                worker.unwatch(self._loop)
        self._loop = loop
        for worker in self._workers:
            worker.watch(loop, self._on_result)

    def _dispatch(self) -> None:
        while self._waiting:
            job, message = self._waiting[0]
            ready = [w for w in self._workers if w.alive and self._takes(w, len(message))]
            if not ready:
                return
            worker = min(ready, key=lambda w: len(w.jobs))
            self._waiting.popleft()
            if not worker.send(job, message):
                self._waiting.appendleft((job, message))
                self._worker_died(worker)

    def _takes(self, worker: _ExtractionProcess, size: int) -> bool:
        """Whether ``worker`` can be sent a job of ``size`` bytes now."""
        if len(worker.jobs) < self.MIN_IN_FLIGHT:
            return True
        return (len(worker.jobs) < self.IN_FLIGHT
                and worker.bytes_in_flight + size <= worker.buffer_bytes)

    def _on_result(self, worker: _ExtractionProcess) -> None:
        try:
            job, ok, value = pickle.loads(worker.receive())
        except (EOFError, OSError):
            self._worker_died(worker)
            return
        worker.done(job)
        future = self._futures.pop(job, None)
        if future is not None and not future.done():
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        self._dispatch()

    def _worker_died(self, worker: _ExtractionProcess) -> None:
        """A worker that died (killed, out of memory) fails the jobs it had; the others go
        on, and when none is left every job fails."""
        lost = worker.stop(self._loop)
        logger.error("an extraction worker died (exit code %s); %d page(s) not parsed",
                     worker.exitcode, len(lost))
        for job in lost:
            self._fail(job, BrokenProcessPool("the extraction worker parsing this page died"))
        if not any(w.alive for w in self._workers):
            while self._waiting:
                self._fail(self._waiting.popleft()[0],
                           BrokenProcessPool("every extraction worker has died"))
        self._dispatch()

    def _fail(self, job: int, error: BaseException) -> None:
        future = self._futures.pop(job, None)
        if future is not None and not future.done():
            future.set_exception(error)

    def finish(self) -> None:
        """No more pages will come: the workers are told to leave, without waiting for them
        (the crawl calls this when its last response is parsed; ``close`` reaps them)."""
        self._finished = True
        for worker in self._workers:
            worker.leave(self._loop)

    def close(self) -> None:
        self.finish()
        for worker in self._workers:
            worker.reap()
        for job in list(self._futures):
            future = self._futures.pop(job)
            if not future.done() and not future.get_loop().is_closed():
                future.cancel()
        self._waiting.clear()


class _ExtractionProcess:
    """One worker process and the main side of its pipe."""

    def __init__(self, n: int):
        context = spawn_context()
        self.conn, theirs = context.Pipe(duplex=True)
        self.process = context.Process(target=_serve_extraction, args=(theirs,),
                                       name=f"govarchive-extract-{n}", daemon=True)
        self.process.start()
        theirs.close()
        self.buffer_bytes = _send_buffer(self.conn, ExtractionWorkers.BUFFER_BYTES)
        self.jobs: dict[int, int] = {}  # job -> its message's size
        self.bytes_in_flight = 0
        self.alive = True

    @property
    def exitcode(self) -> int | None:
        return self.process.exitcode

    def watch(self, loop, on_result) -> None:
        if self.alive:
            loop.add_reader(self.conn.fileno(), on_result, self)

    def unwatch(self, loop) -> None:
        if self.alive:
            loop.remove_reader(self.conn.fileno())

    def send(self, job: int, message: bytes) -> bool:
        try:
            self.conn.send_bytes(message)
        except OSError:
            return False
        self.jobs[job] = len(message)
        self.bytes_in_flight += len(message)
        return True

    def done(self, job: int) -> None:
        self.bytes_in_flight -= self.jobs.pop(job, 0)

    def receive(self) -> bytes:
        return self.conn.recv_bytes()

    def stop(self, loop) -> set[int]:
        """Stop watching a dead (or unreachable) worker; the jobs it had. Runs on the crawl
        loop, so it does not wait for a process that is still there: it ends it."""
        if loop is not None and not loop.is_closed():
            self.unwatch(loop)
        self.alive = False
        self.conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        lost, self.jobs, self.bytes_in_flight = set(self.jobs), {}, 0
        return lost

    def leave(self, loop) -> None:
        """Tell the worker to exit once it has answered what it was sent."""
        if not self.alive:
            return
        if loop is not None and not loop.is_closed():
            self.unwatch(loop)
        self.alive = False
        try:
            self.conn.send_bytes(b"")  # the worker's signal to leave
        except OSError:
            pass

    def reap(self) -> None:
        """Wait for a worker told to leave (ending it if it does not)."""
        if self.conn.closed:
            return
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=5)
        self.conn.close()


def _send_buffer(conn, wanted: int) -> int:
    """Ask for a ``wanted``-byte send buffer on ``conn``'s socket; the bytes that can wait in
    it (Linux reports twice what it holds for data, the rest is its own bookkeeping). When
    ``conn`` is not a socket, 0: only the first MIN_IN_FLIGHT pages are sent ahead."""
    fd = os.dup(conn.fileno())
    try:
        sock = socket.socket(fileno=fd)
    except OSError:
        os.close(fd)
        return 0
    try:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, wanted)
        except OSError:
            pass  # the kernel's default buffer will do
        return sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) // 2
    finally:
        sock.close()


def _portable(exc: Exception) -> Exception:
    """``exc`` if it survives the pipe, else a RuntimeError that says what it was: an
    exception the crawl process cannot unpickle would leave its page waiting for ever."""
    try:
        pickle.loads(pickle.dumps(exc, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:  # noqa: BLE001 - any failure to round-trip
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def _serve_extraction(conn) -> None:
    """A worker: parse the pages the pipe brings until it brings an empty message."""
    start_worker(prepare_signatures, ())
    while True:
        try:
            message = conn.recv_bytes()
        except (EOFError, OSError):  # the crawl process is gone
            return
        if not message:
            return
        job, body, url, options = pickle.loads(message)
        try:
            reply = (job, True, extract_with_signature(body, url, **options))
        except Exception as exc:  # noqa: BLE001 - handed to whoever awaits the page
            reply = (job, False, _portable(exc))
        data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        conn.send_bytes(data)
