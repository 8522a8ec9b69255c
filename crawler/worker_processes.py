"""How the crawl starts the worker processes beside it (the extraction pool, the ingest worker)."""

from __future__ import annotations

import multiprocessing
import signal
from multiprocessing.context import SpawnContext

from govarchive.processes import die_with_parent


def spawn_context() -> SpawnContext:
    # "spawn": the crawl process runs the Twisted reactor and its threads; forking it would
    # copy them in whatever state they are in.
    return multiprocessing.get_context("spawn")


def start_worker(initializer, initargs) -> None:
    """What a worker process runs first: ignore Ctrl-C, then ``initializer(*initargs)``."""
    # Ctrl-C in a terminal reaches the whole process group. The crawl process stops
    # gracefully and then shuts its workers down; a worker killed by the same key press would
    # lose the batch it was writing.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A crawl killed outright (SIGKILL, out of memory) takes its workers with it; also one
    # killed while this process was still starting (importing what it runs takes seconds).
    parent = multiprocessing.parent_process()
    die_with_parent(signal.SIGTERM, parent.pid if parent is not None else None)
    if initializer is not None:
        initializer(*initargs)
