"""Storing off the crawl loop: ``storage.Store.ingest`` batches in one process of their own.

Scrapy runs every callback on one thread; writing a batch to the database there would stall
fetching. :class:`IngestWorker` writes them in one worker process instead, in the order they
were handed over, one transaction each; with ``separate_process=False`` it writes them in the
calling thread, which is what a one-core machine or a debugger wants.
"""

from __future__ import annotations

import multiprocessing.util
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from govarchive.crawler.worker_processes import spawn_context, start_worker
from govarchive.storage import Store


class _InlineExecutor(Executor):
    """Runs a submitted call right away; the Executor interface without processes."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to whoever awaits the future
            future.set_exception(exc)
        return future


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
    """``Store.ingest`` batches, written in order by one worker process (or inline)."""

    def __init__(self, url: str, *, separate_process: bool = True):
        if separate_process:
            self.executor = ProcessPoolExecutor(
                max_workers=1,
                mp_context=spawn_context(),
                initializer=start_worker,
                initargs=(_open_worker_store, (url,)),
            )
            self._store = None
            # A pool starts its process on the first submit, and a spawned process takes a
            # while to import the crawler: start it while the crawl fetches robots.txt and its
            # first list page, not when the first batch is already waiting.
            self.executor.submit(int)
        else:
            self.executor = _InlineExecutor()
            self._store = Store(url)

    def submit(self, captures, articles, run_id, observations=(), listings=()) -> Future:
        if self._store is not None:
            return self.executor.submit(self._store.ingest, captures, articles, run_id=run_id,
                                        observations=list(observations), listings=list(listings))
        return self.executor.submit(_ingest_in_worker, captures, articles, run_id,
                                    list(observations), list(listings))

    def usable(self) -> bool:
        """False once the storing process has died: the pool then refuses every batch (a
        warm crawl worker, which keeps this between runs, is replaced then)."""
        try:
            self.executor.submit(int)
        except (BrokenProcessPool, RuntimeError):
            return False
        return True

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        if self._store is not None:
            self._store.close()
