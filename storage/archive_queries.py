"""Queries the archive tools need: rebuilding derived state and checking WARC pointers.

Captures are the ground truth (each is a WARC record); articles, their versions and urls are
derived from them and can be thrown away and rebuilt (``govarchive replay reparse``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa

from govarchive.storage.models import (
    Article,
    ArticleUrl,
    ArticleVersion,
    Capture,
    ChangeEvent,
    Delivery,
    ListWalk,
    Source,
)
from govarchive.storage.sql import in_chunks
from govarchive.storage.types import CaptureIn

CHUNK = 1000


@dataclass(frozen=True)
class VersionPointer:
    """Where an article version says its capture is in the archive."""

    article_id: int
    n: int
    record_id: str
    warc_file: str
    warc_offset: int
    warc_length: int


def reset_derived(conn: sa.Connection, source: str | None = None) -> int:
    """Delete articles with their versions, urls and change events (and the events'
    deliveries), of ``source`` or all; keep captures.

    Returns the number of articles deleted.
    """
    articles = sa.select(Article.id)
    if source is not None:
        articles = articles.join(Source, Source.id == Article.source_id).where(
            Source.name == source
        )
    ids = list(conn.execute(articles).scalars())
    for chunk in in_chunks(ids, CHUNK):
        # Versions, urls and change events first, explicitly; the other article tables
        # (events, duplicates, search) follow by ON DELETE CASCADE or trigger.
        events = sa.select(ChangeEvent.id).where(ChangeEvent.article_id.in_(chunk))
        conn.execute(sa.delete(Delivery).where(Delivery.event_id.in_(events)))
        conn.execute(sa.delete(ChangeEvent).where(ChangeEvent.article_id.in_(chunk)))
        conn.execute(sa.delete(ArticleVersion).where(ArticleVersion.article_id.in_(chunk)))
        conn.execute(sa.delete(ArticleUrl).where(ArticleUrl.article_id.in_(chunk)))
        conn.execute(sa.delete(Article).where(Article.id.in_(chunk)))
    walks = sa.delete(ListWalk)
    if source is not None:
        walks = walks.where(ListWalk.source_id.in_(
            sa.select(Source.id).where(Source.name == source)))
    conn.execute(walks)
    return len(ids)


def _capture_in(row: sa.Row) -> CaptureIn:
    return CaptureIn(
        record_id=row.record_id,
        url=row.url,
        fetched_at=row.fetched_at,
        status=row.status,
        content_type=row.content_type,
        payload_digest=row.payload_digest,
        warc_file=row.warc_file,
        warc_offset=row.warc_offset,
        warc_length=row.warc_length,
        record_type=row.record_type,
        etag=row.etag,
        last_modified=row.last_modified,
    )


def iter_captures(conn: sa.Connection) -> Iterator[CaptureIn]:
    """Every stored capture in capture order (time, then place in the archive)."""
    stmt = sa.select(Capture).order_by(
        Capture.fetched_at, Capture.warc_file, Capture.warc_offset
    )
    result = conn.execution_options(yield_per=CHUNK).execute(stmt)
    for row in result:
        yield _capture_in(row)


def count_captures(conn: sa.Connection) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(Capture)).scalar_one()


def iter_version_pointers(conn: sa.Connection) -> Iterator[VersionPointer]:
    """Every article version with the WARC record its capture names, by file and offset."""
    stmt = (
        sa.select(
            ArticleVersion.article_id,
            ArticleVersion.n,
            Capture.record_id,
            Capture.warc_file,
            Capture.warc_offset,
            Capture.warc_length,
        )
        .join(Capture, Capture.id == ArticleVersion.capture_id)
        .order_by(Capture.warc_file, Capture.warc_offset)
    )
    for row in conn.execution_options(yield_per=CHUNK).execute(stmt):
        yield VersionPointer(*row)
