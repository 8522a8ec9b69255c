"""Reading articles back as the contract's export record (CONTRACT.md, "Export record")."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.dedup import duplicates_of
from storage.models import Article, ArticleUrl, ArticleVersion, Capture, Source

EXPORT_CHUNK = 200

_ARTICLE_COLUMNS = (
    Article.id,
    Source.name.label("source"),
    Article.url,
    Article.title,
    Article.published_at,
    Article.published_precision,
    Article.origin,
    Article.author,
    Article.section,
    Article.doc_number,
    Article.body_text,
    Article.attachments,
    Article.status,
    Article.first_seen,
    Article.last_seen,
    Article.last_changed,
)


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def articles_query(source: str | None = None, since: datetime | None = None) -> sa.Select:
    stmt = sa.select(*_ARTICLE_COLUMNS).join(Source, Source.id == Article.source_id)
    if source is not None:
        stmt = stmt.where(Source.name == source)
    if since is not None:
        stmt = stmt.where(Article.last_changed >= since)
    return stmt.order_by(Article.id)


def _urls(conn: sa.Connection, ids: list[int]) -> dict[int, list[str]]:
    urls: dict[int, list[str]] = defaultdict(list)
    stmt = (
        sa.select(ArticleUrl.article_id, ArticleUrl.url)
        .where(ArticleUrl.article_id.in_(ids))
        .order_by(ArticleUrl.article_id, ArticleUrl.id)
    )
    for article_id, url in conn.execute(stmt):
        urls[article_id].append(url)
    return urls


def _versions(conn: sa.Connection, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    versions: dict[int, list[dict[str, Any]]] = defaultdict(list)
    stmt = (
        sa.select(
            ArticleVersion.article_id,
            ArticleVersion.n,
            ArticleVersion.captured_at,
            ArticleVersion.content_hash,
            ArticleVersion.changed,
            ArticleVersion.revert_of,
            Capture.warc_file,
            Capture.warc_offset,
            Capture.warc_length,
        )
        .join(Capture, Capture.id == ArticleVersion.capture_id)
        .where(ArticleVersion.article_id.in_(ids))
        .order_by(ArticleVersion.article_id, ArticleVersion.n)
    )
    for row in conn.execute(stmt):
        versions[row.article_id].append(
            {
                "n": row.n,
                "captured_at": iso(row.captured_at),
                "content_hash": row.content_hash,
                "changed": list(row.changed),
                # Extension: set when this version restores an earlier content (A->B->A).
                "revert_of": row.revert_of,
                "warc": {
                    "file": row.warc_file,
                    "offset": row.warc_offset,
                    "length": row.warc_length,
                },
            }
        )
    return versions


def records(conn: sa.Connection, rows: list[sa.Row]) -> list[dict[str, Any]]:
    """Export records for a chunk of article rows, with two queries for their urls and versions."""
    ids = [row.id for row in rows]
    urls, versions = _urls(conn, ids), _versions(conn, ids)
    duplicates = duplicates_of(conn, ids)
    return [
        {
            "id": row.id,
            "source": row.source,
            "url": row.url,
            "urls": urls.get(row.id, [row.url]),
            "title": row.title,
            "published_at": row.published_at,
            "published_precision": row.published_precision,
            "origin": row.origin,
            "author": row.author,
            "section": list(row.section),
            "doc_number": row.doc_number,
            "body_text": row.body_text,
            "attachments": list(row.attachments),
            "status": row.status,
            "first_seen": iso(row.first_seen),
            "last_seen": iso(row.last_seen),
            "last_changed": iso(row.last_changed),
            "duplicates": duplicates.get(row.id, []),
            "versions": versions.get(row.id, []),
        }
        for row in rows
    ]


def iter_records(conn: sa.Connection, stmt: sa.Select) -> Iterator[dict[str, Any]]:
    """Stream records: a server-side cursor over articles, details fetched chunk by chunk."""
    result = conn.execution_options(yield_per=EXPORT_CHUNK).execute(stmt)
    for chunk in result.partitions():
        yield from records(conn, list(chunk))
