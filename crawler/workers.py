"""Parsing and storing off the crawl loop.

Scrapy runs every callback on one thread; extracting an article (2-3 ms of lxml and density
scoring) and writing a batch to the database would stall fetching for every page. Both run in
worker processes instead, so the crawl keeps up with Scrapy itself on a multi-core machine:

- :class:`ExtractionWorkers`: ``crawler.extract.extract_article`` in a small process pool;
  the spider awaits the result. The article's near-duplicate signature (a millisecond of
  text normalising and hashing) is worked out there too: the pool has a worker per spare
  core, the ingest process only one.
- :class:`IngestWorker`: ``storage.Store.ingest`` in one process of its own, so batches are
  written in the order they were handed over, one transaction each.

With ``workers=0`` both run inline (in the calling thread), which is what a one-core machine
or a debugger wants.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.util
import signal
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

from crawler.extract import Article, extract_article
from storage import Store
from storage.dedup import article_signature, prepare_signatures


class _InlineExecutor(Executor):
    """Runs a submitted call right away; the Executor interface without processes."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to whoever awaits the future
            future.set_exception(exc)
        return future


def _start_worker(initializer, initargs) -> None:
    # Ctrl-C in a terminal reaches the whole process group. The crawl process stops
    # gracefully and then shuts its pools down; a worker killed by the same key press would
    # lose the batch it was writing.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if initializer is not None:
        initializer(*initargs)


def _process_pool(workers: int, initializer=None, initargs=()) -> Executor:
    # "spawn": the crawl process runs the Twisted reactor and its threads; forking it would
    # copy them in whatever state they are in.
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(initializer, initargs),
    )


def extract_signed(body: bytes, url: str, **options: Any) -> tuple[Article, list[int]]:
    """``extract_article`` and the article's ``storage.dedup.article_signature`` (``[]``
    when its text is too short to have one), as ``storage.ArticleIn.signature`` takes it."""
    article = extract_article(body, url, **options)
    return article, article_signature(article.title, article.body_text or "") or []


def _start_now(executor: Executor) -> None:
    # A pool starts its processes on the first submit, and a spawned process takes most of a
    # second to import the crawler: start them while the crawl fetches robots.txt and its
    # first list page, not when the first article or batch is already waiting.
    executor.submit(int)


class ExtractionWorkers:
    def __init__(self, workers: int):
        if workers > 0:
            self.executor = _process_pool(workers, prepare_signatures)
            _start_now(self.executor)
        else:
            self.executor = _InlineExecutor()

    async def extract_signed(self, body: bytes, url: str, **options: Any):
        """:func:`extract_signed`, computed in a worker process."""
        future = self.executor.submit(extract_signed, body, url, **options)
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


_worker_store: Store | None = None


def _open_worker_store(url: str) -> None:
    global _worker_store
    _worker_store = Store(url)
    # Pool workers leave through os._exit, which skips atexit: multiprocessing's own
    # finalizers are what still runs, so the store is closed (connections returned) there.
    multiprocessing.util.Finalize(_worker_store, _worker_store.close, exitpriority=10)


def _ingest_in_worker(captures, articles, run_id, observations, listings):
    assert _worker_store is not None
    return _worker_store.ingest(captures, articles, run_id=run_id,
                                observations=observations, listings=listings)


class IngestWorker:
    """``Store.ingest`` batches, written in order by one worker process."""

    def __init__(self, url: str, *, in_process: bool = True):
        if in_process:
            self.executor = _process_pool(1, _open_worker_store, (url,))
            self._store = None
            _start_now(self.executor)
        else:
            self.executor = _InlineExecutor()
            self._store = Store(url)

    def submit(self, captures, articles, run_id, observations=(), listings=()) -> Future:
        if self._store is not None:
            return self.executor.submit(self._store.ingest, captures, articles, run_id=run_id,
                                        observations=list(observations), listings=list(listings))
        return self.executor.submit(_ingest_in_worker, captures, articles, run_id,
                                    list(observations), list(listings))

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        if self._store is not None:
            self._store.close()
