"""Deliveries of change events to watches: an outbox (table ``deliveries``).

- ``fan_out``: each change event not yet fanned out gets one delivery per watch it matches
  (source, kind, search query), in the transaction that marks it fanned out, so an event is
  owed to its watches exactly once even if the process dies halfway.
- ``due``: a watch's pending deliveries whose next attempt is due, with their events.
- ``mark_delivered`` after the channel accepted them; ``record_failure`` otherwise: the
  attempt is counted and the next one waits longer (``backoff``). Nothing is ever dropped.

Watches come in as plain data (``WatchFilter``): storage does not read the settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from govarchive.storage.export import iso
from govarchive.storage.models import ChangeEvent, Delivery, Source
from govarchive.storage.search import Filters, parse_query
from govarchive.storage.search import _Index as SearchIndex
from govarchive.storage.sql import in_chunks, insert_ignoring_conflicts

# Events fanned out per transaction.
FAN_OUT_BATCH = 500
# A failed delivery waits FIRST_RETRY, then twice as long each time, up to LONGEST_RETRY.
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)


@dataclass(frozen=True)
class WatchFilter:
    """Which events a watch wants: ``sources`` None means every source; ``query`` uses the
    search syntax and is matched against the event's article in the search index."""

    name: str
    kinds: tuple[str, ...]
    sources: tuple[str, ...] | None = None
    query: str | None = None


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt (1, 2, ...)."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def fan_out(conn: sa.Connection, watches: Sequence[WatchFilter], now: datetime) -> int:
    """Fan out up to ``FAN_OUT_BATCH`` events (oldest first); how many were fanned out."""
    stmt = (
        sa.select(ChangeEvent.id, ChangeEvent.kind, ChangeEvent.article_id, Source.name)
        .join(Source, Source.id == ChangeEvent.source_id)
        .where(ChangeEvent.fanned_out_at.is_(None))
        .order_by(ChangeEvent.id)
        .limit(FAN_OUT_BATCH)
    )
    if conn.dialect.name == "postgresql":
        # A second deliverer (the service and a cron `notify --once`) takes other events.
        stmt = stmt.with_for_update(of=ChangeEvent, skip_locked=True)
    events = conn.execute(stmt).all()
    if not events:
        return 0
    article_ids = {event.article_id for event in events}
    rows = []
    for watch in watches:
        hits = None if watch.query is None else query_hits(conn, watch.query, article_ids)
        for event in events:
            if event.kind not in watch.kinds:
                continue
            if watch.sources is not None and event.name not in watch.sources:
                continue
            if hits is not None and event.article_id not in hits:
                continue
            rows.append({"watch": watch.name, "event_id": event.id, "status": "pending",
                         "attempts": 0, "created_at": now, "next_attempt_at": now})
    for chunk in in_chunks(rows):
        insert_ignoring_conflicts(conn, Delivery.__table__, chunk, ("watch", "event_id"))
    for chunk in in_chunks([event.id for event in events]):
        conn.execute(sa.update(ChangeEvent).where(ChangeEvent.id.in_(chunk))
                     .values(fanned_out_at=now))
    return len(events)


def query_hits(conn: sa.Connection, query: str, article_ids: Iterable[int]) -> set[int]:
    """Which of ``article_ids`` the search ``query`` finds (as ``Store.search`` would)."""
    index = SearchIndex(conn.dialect.name, parse_query(query))
    found: set[int] = set()
    for chunk in in_chunks(sorted(article_ids)):
        stmt = index.hits(Filters()).where(index.article_id.in_(chunk))
        found.update(conn.execute(stmt).scalars())
    return found


def _event_columns() -> list[Any]:
    return [ChangeEvent.id, ChangeEvent.kind, ChangeEvent.at, Source.name.label("source"),
            Source.title.label("source_title"), ChangeEvent.article_id, ChangeEvent.url,
            ChangeEvent.title, ChangeEvent.version_n, ChangeEvent.changed, ChangeEvent.summary,
            ChangeEvent.detail]


def event_record(row: Any) -> dict[str, Any]:
    """An event as ``govarchive changes --json`` prints it (and webhooks receive it)."""
    return {"id": row.id, "kind": row.kind, "at": iso(row.at), "source": row.source,
            "source_title": row.source_title or row.source, "article_id": row.article_id,
            "url": row.url, "title": row.title, "version": row.version_n,
            "changed": list(row.changed or []), "summary": row.summary, "detail": row.detail}


def _deliveries_query() -> sa.Select:
    return (
        sa.select(Delivery.id.label("delivery_id"), Delivery.watch, Delivery.attempts,
                  Delivery.created_at, Delivery.next_attempt_at, Delivery.last_error,
                  *_event_columns())
        .join(ChangeEvent, ChangeEvent.id == Delivery.event_id)
        .join(Source, Source.id == ChangeEvent.source_id)
        .where(Delivery.status == "pending")
    )


def _delivery_record(row: Any) -> dict[str, Any]:
    return {"id": row.delivery_id, "watch": row.watch, "attempts": row.attempts,
            "created_at": iso(row.created_at), "next_attempt_at": iso(row.next_attempt_at),
            "last_error": row.last_error, "event": event_record(row)}


def due(conn: sa.Connection, watch: str, now: datetime, limit: int) -> list[dict[str, Any]]:
    """The watch's pending deliveries due at ``now``, oldest event first."""
    stmt = (_deliveries_query()
            .where(Delivery.watch == watch, Delivery.next_attempt_at <= now)
            .order_by(ChangeEvent.id).limit(limit))
    return [_delivery_record(row) for row in conn.execute(stmt)]


def pending(conn: sa.Connection, watch: str | None, limit: int) -> list[dict[str, Any]]:
    """Pending deliveries (of one watch, or all), by watch then event."""
    stmt = _deliveries_query().order_by(Delivery.watch, ChangeEvent.id).limit(limit)
    if watch is not None:
        stmt = stmt.where(Delivery.watch == watch)
    return [_delivery_record(row) for row in conn.execute(stmt)]


def oldest_pending(conn: sa.Connection, watch: str) -> datetime | None:
    """When the watch's oldest pending delivery was created (a digest waits from there)."""
    stmt = sa.select(sa.func.min(Delivery.created_at)).where(
        Delivery.watch == watch, Delivery.status == "pending")
    return conn.execute(stmt).scalar_one()


def mark_delivered(conn: sa.Connection, delivery_ids: Sequence[int], now: datetime) -> None:
    for chunk in in_chunks(delivery_ids):
        conn.execute(sa.update(Delivery).where(Delivery.id.in_(chunk))
                     .values(status="delivered", delivered_at=now, last_error=None))


def record_failure(conn: sa.Connection, delivery_ids: Sequence[int], error: str,
                   now: datetime) -> None:
    """Count a failed attempt of each delivery and schedule its next one."""
    for chunk in in_chunks(delivery_ids):
        rows = conn.execute(sa.select(Delivery.id, Delivery.attempts)
                            .where(Delivery.id.in_(chunk))).all()
        for delivery_id, attempts in rows:
            conn.execute(sa.update(Delivery).where(Delivery.id == delivery_id).values(
                attempts=attempts + 1, next_attempt_at=now + backoff(attempts + 1),
                last_error=error[:2000]))


class DeliveryOutbox:
    """``Store.deliveries``: the functions above, each in its own transaction. ``now``
    defaults to the store's clock."""

    def __init__(self, read: Callable, write: Callable, clock: Callable[[], datetime]) -> None:
        self._read, self._write, self._clock = read, write, clock

    def fan_out(self, watches: Sequence[WatchFilter], *, now: datetime | None = None) -> int:
        """Fan out every event not yet fanned out, a batch a transaction; how many."""
        total = 0
        while True:
            with self._write() as conn:
                done = fan_out(conn, watches, now or self._clock())
            total += done
            if done < FAN_OUT_BATCH:
                return total

    def due(self, watch: str, *, now: datetime | None = None,
            limit: int = 1000) -> list[dict[str, Any]]:
        with self._read() as conn:
            return due(conn, watch, now or self._clock(), limit)

    def pending(self, watch: str | None = None, *, limit: int = 1000) -> list[dict[str, Any]]:
        with self._read() as conn:
            return pending(conn, watch, limit)

    def oldest_pending(self, watch: str) -> datetime | None:
        with self._read() as conn:
            return oldest_pending(conn, watch)

    def mark_delivered(self, delivery_ids: Sequence[int], *,
                       now: datetime | None = None) -> None:
        with self._write() as conn:
            mark_delivered(conn, delivery_ids, now or self._clock())

    def record_failure(self, delivery_ids: Sequence[int], error: str, *,
                       now: datetime | None = None) -> None:
        with self._write() as conn:
            record_failure(conn, delivery_ids, error, now or self._clock())
