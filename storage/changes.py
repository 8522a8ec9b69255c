"""The change feed: change events written with the changes they report, and read back.

An ingest collects its events in a :class:`ChangeLog` in the order its changes happen and
writes them in its own transaction (an outbox: no change without its event, no event without
its change). Events rebuilt by ``replay reparse`` are history, written already fanned out,
so no watch hears of them again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from govarchive.storage.export import iso
from govarchive.storage.models import CHANGE_KINDS, Article, ChangeEvent, Source
from govarchive.storage.search import SearchQueryError, matching_ids

MAX_LIMIT = 500
_EVENTS = ChangeEvent.__table__


class ChangeLog:
    """The change events of one ingest, in the order their changes happened."""

    def __init__(self, run_id: int | None, fanned_out_at: datetime | None) -> None:
        self.run_id = run_id
        self.fanned_out_at = fanned_out_at
        self.rows: list[dict[str, Any]] = []

    def add(self, kind: str, *, article_id: int, source_id: int, at: datetime, url: str,
            title: str | None, capture_id: int | None = None, version_n: int | None = None,
            changed: Sequence[str] = (), summary: str | None = None,
            detail: str | None = None) -> None:
        if kind not in CHANGE_KINDS:
            raise ValueError(f"change kind {kind!r}: expected one of {CHANGE_KINDS}")
        self.rows.append({
            "kind": kind, "at": at, "source_id": source_id, "article_id": article_id,
            "url": url, "title": title, "version_n": version_n, "changed": list(changed),
            "summary": summary, "detail": detail, "capture_id": capture_id,
            "run_id": self.run_id, "fanned_out_at": self.fanned_out_at,
        })

    def write(self, conn: sa.Connection) -> int:
        if self.rows:
            conn.execute(sa.insert(ChangeEvent.__table__), self.rows)
        written, self.rows = len(self.rows), []
        return written


def _events_query() -> sa.Select:
    return (
        sa.select(*_EVENTS.c, Source.name.label("source"), Source.title.label("source_title"),
                  Article.status.label("status"), Article.gone_count.label("gone_count"))
        .join(Source, Source.id == ChangeEvent.source_id)
        .join(Article, Article.id == ChangeEvent.article_id)
    )


def _as_dict(row: sa.Row) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "at": iso(row.at),
        "source": row.source,
        "source_title": row.source_title,
        "article_id": row.article_id,
        "url": row.url,
        "title": row.title,
        "version": row.version_n,
        "changed": list(row.changed or []),
        "summary": row.summary,
        "detail": row.detail,
        "status": row.status,
        # Answered gone at least once since it was last seen, and not yet confirmed removed
        # (storage.tracking.mark_gone counts these fetches on the article).
        "pending_removal": row.status == "live" and (row.gone_count or 0) > 0,
    }


def list_changes(conn: sa.Connection, *, since: datetime | None = None,
                 source: str | None = None, kinds: Sequence[str] | None = None,
                 query: str | None = None, article_id: int | None = None, limit: int = 50,
                 before_id: int | None = None) -> list[dict[str, Any]]:
    """Change events newest first (by id), at most ``limit`` (up to ``MAX_LIMIT``): ``{"id",
    "kind", "at", "source", "source_title", "article_id", "url", "title", "version",
    "changed", "summary", "detail", "status", "pending_removal"}``.

    ``since``: seen at or after (naive: UTC); ``kinds``: any of ``CHANGE_KINDS`` (else
    ``ValueError``); ``query``: the event's article matches it (``storage.search`` syntax;
    ``SearchQueryError`` when it cannot be searched); ``before_id``: the next page after the
    one whose last event had this id.
    """
    stmt = _events_query()
    if since is not None:
        stmt = stmt.where(ChangeEvent.at >= since)  # aware UTC: Store.list_changes
    if source is not None:
        stmt = stmt.where(Source.name == source)
    if kinds:
        unknown = sorted(set(kinds) - set(CHANGE_KINDS))
        if unknown:
            raise SearchQueryError(f"unknown change kind {unknown[0]!r}: expected one of "
                             f"{', '.join(CHANGE_KINDS)}")
        stmt = stmt.where(ChangeEvent.kind.in_(sorted(set(kinds))))
    if query is not None and query.strip():
        hits = matching_ids(conn.dialect.name, query).subquery()
        stmt = stmt.where(ChangeEvent.article_id.in_(sa.select(hits.c.id)))
    if article_id is not None:
        stmt = stmt.where(ChangeEvent.article_id == article_id)
    if before_id is not None:
        stmt = stmt.where(ChangeEvent.id < before_id)
    limit = max(1, min(limit, MAX_LIMIT))
    rows = conn.execute(stmt.order_by(ChangeEvent.id.desc()).limit(limit)).all()
    return [_as_dict(row) for row in rows]


def change_event(conn: sa.Connection, event_id: int) -> dict[str, Any] | None:
    """One change event as ``list_changes`` gives it, or None."""
    row = conn.execute(_events_query().where(ChangeEvent.id == event_id)).first()
    return None if row is None else _as_dict(row)
