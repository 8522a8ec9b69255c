"""Reading the change feed (``change_events``): what was new, edited, removed, restored,
delisted or moved, newest first, with the article's current status.

A query (the search syntax of ``storage.search``) keeps the events of articles it finds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from govarchive.storage.export import iso
from govarchive.storage.models import CHANGE_KINDS, Article, ChangeEvent, Source
from govarchive.storage.search import Filters, SearchQueryError, _Index, parse_query

MAX_CHANGES = 500

_COLUMNS = (
    ChangeEvent.id, ChangeEvent.kind, ChangeEvent.at, Source.name.label("source"),
    Source.title.label("source_title"), ChangeEvent.article_id, ChangeEvent.url,
    ChangeEvent.title, ChangeEvent.version_n, ChangeEvent.changed, ChangeEvent.summary,
    ChangeEvent.detail, Article.status, Article.gone_count,
)


def _query() -> sa.Select:
    return (sa.select(*_COLUMNS)
            .join(Source, Source.id == ChangeEvent.source_id)
            .join(Article, Article.id == ChangeEvent.article_id))


def _record(row: Any) -> dict[str, Any]:
    return {
        "id": row.id, "kind": row.kind, "at": iso(row.at), "source": row.source,
        "source_title": row.source_title, "article_id": row.article_id, "url": row.url,
        "title": row.title, "version": row.version_n, "changed": list(row.changed or []),
        "summary": row.summary, "detail": row.detail, "status": row.status,
        # A fetch found the page gone and the removal is not confirmed yet
        # (storage.tracking.mark_gone counts gone fetches on a live article).
        "pending_removal": row.status == "live" and (row.gone_count or 0) > 0,
    }


def list_changes(conn: sa.Connection, *, since: datetime | None = None,
                 source: str | None = None, kinds: Sequence[str] | None = None,
                 query: str | None = None, article_id: int | None = None, limit: int = 50,
                 before_id: int | None = None) -> list[dict[str, Any]]:
    """Change events newest first (by id), at most ``limit`` (up to ``MAX_CHANGES``);
    ``before_id`` pages on. Raises ``SearchQueryError`` for a bad query or kind."""
    stmt = _query()
    if kinds:
        unknown = sorted(set(kinds) - set(CHANGE_KINDS))
        if unknown:
            raise SearchQueryError(f"unknown change kind {unknown[0]!r}: "
                                   f"expected one of {', '.join(CHANGE_KINDS)}")
        stmt = stmt.where(ChangeEvent.kind.in_(list(kinds)))
    if since is not None:
        stmt = stmt.where(ChangeEvent.at >= since)
    if source is not None:
        stmt = stmt.where(Source.name == source)
    if article_id is not None:
        stmt = stmt.where(ChangeEvent.article_id == article_id)
    if before_id is not None:
        stmt = stmt.where(ChangeEvent.id < before_id)
    if query and query.strip():
        # The search index's own hits (one parser, one index), as a set of article ids.
        hits = _Index(conn.dialect.name, parse_query(query)).hits(Filters())
        stmt = stmt.where(ChangeEvent.article_id.in_(hits))
    stmt = stmt.order_by(ChangeEvent.id.desc()).limit(max(1, min(limit, MAX_CHANGES)))
    return [_record(row) for row in conn.execute(stmt)]


def change_event(conn: sa.Connection, event_id: int) -> dict[str, Any] | None:
    row = conn.execute(_query().where(ChangeEvent.id == event_id)).first()
    return None if row is None else _record(row)
