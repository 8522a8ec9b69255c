"""Signals of our own, sent through ``crawler.signals`` like Scrapy's (see scrapy.signals).

capture_archived
    Sent by :class:`crawler.archiving.WarcArchiver` after a network response has been written
    to the archive. Keyword arguments: ``exchange`` (:class:`warc.Exchange`), ``response``,
    ``request``, ``spider``.

before_store_commit
    Sent by the storage pipeline right before it commits a batch (no arguments). The archiver
    flushes and fsyncs the WARC file on it, so no database row points at bytes that are not on
    disk yet. A receiver that fails shows up as a ``Failure`` in the list ``send_catch_log``
    returns; the sender must not commit then.

responses_done
    Sent by the storage pipeline when the spider closes, after its last commit, once every
    response has been through the spider (no arguments): nothing more is coming to archive.
    The archiver closes and indexes its file then, while the last batches are still being
    stored, rather than after them on ``spider_closed``.
"""

capture_archived = object()
before_store_commit = object()
responses_done = object()
