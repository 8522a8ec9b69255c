"""What the database knows of each section's list walks: when it was last walked (in full),
and the validators of its first list page's last capture (``crawler.walk`` plans each run's
walk from them).

The times are written with each listing (``storage.tracking.apply_listing``), so they are
derived state a rebuild from the archive restores; the validators are read from the
``captures`` table, not kept twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from govarchive.storage.models import Capture, ListWalk, Source
from govarchive.storage.revisits import RevisitTarget, last_captures


@dataclass(frozen=True)
class SectionWalk:
    """One section (a start URL of a source) as its earlier walks left it."""

    start_url: str
    last_walk_at: datetime | None = None  # None: never walked (or its listing never stored)
    last_full_walk_at: datetime | None = None
    validators: RevisitTarget | None = None  # of the start URL's last 200 capture
    # Article links the section's first page itself showed in the last walk (its whole
    # listing for walks recorded without that count): 0 for a shell, a stub, a hub or a
    # broken page, which are then never asked for conditionally.
    last_links: int | None = None
    # The canonical URLs the last walk listed: seen, whether or not an article was stored
    listed: frozenset[str] = frozenset()


def section_walks(conn: sa.Connection, source: str,
                  start_urls: Iterable[str]) -> list[SectionWalk]:
    """The state of each of ``start_urls`` of ``source``, in their order."""
    urls = list(dict.fromkeys(start_urls))
    times = {
        row.start_url: row
        for row in conn.execute(
            sa.select(ListWalk.start_url, ListWalk.last_walk_at, ListWalk.last_full_walk_at,
                      ListWalk.last_links, ListWalk.last_listed)
            .join(Source, Source.id == ListWalk.source_id)
            .where(Source.name == source, ListWalk.start_url.in_(urls))
        )
    }
    latest: dict[str, int] = {}
    for url in urls:
        capture_id = conn.execute(
            sa.select(Capture.id).where(Capture.url == url, Capture.status == 200)
            .order_by(Capture.fetched_at.desc(), Capture.id.desc()).limit(1)
        ).scalar()
        if capture_id is not None:
            latest[url] = capture_id
    found = last_captures(conn, list(latest.values()))
    walks = []
    for url in urls:
        validators = None
        if url in latest:
            etag, last_modified, digest, record_id, date, _url = found[latest[url]]
            if (etag or last_modified) and record_id is not None:
                validators = RevisitTarget(None, url, etag, last_modified, digest, record_id,
                                           date, url)
        row = times.get(url)
        if row is None:
            walks.append(SectionWalk(url, validators=validators))
        else:
            walks.append(SectionWalk(url, row.last_walk_at, row.last_full_walk_at, validators,
                                     row.last_links,
                                     frozenset(json.loads(row.last_listed or "[]"))))
    return walks


def record_walk(conn: sa.Connection, source_id: int, start_url: str, at: datetime,
                full: bool, links: int, listed: Iterable[str] = ()) -> None:
    """A walk of the section's list pages at ``at`` whose first page listed ``links`` article
    links and which listed ``listed`` (canonical URLs) in all was stored (``full``: it read
    what a full walk reads). Times only move forward."""
    listed_json = json.dumps(list(dict.fromkeys(listed)), ensure_ascii=False)
    table = ListWalk.__table__
    row = conn.execute(sa.select(table.c.id, table.c.last_walk_at, table.c.last_full_walk_at)
                       .where(table.c.source_id == source_id,
                              table.c.start_url == start_url)).first()
    full_at = at if full else None
    if row is None:
        conn.execute(sa.insert(table).values(source_id=source_id, start_url=start_url,
                                             last_walk_at=at, last_full_walk_at=full_at,
                                             last_links=links, last_listed=listed_json))
        return
    values = {}
    if at >= row.last_walk_at:
        values.update(last_walk_at=at, last_links=links, last_listed=listed_json)
    if full_at is not None and (row.last_full_walk_at is None or at > row.last_full_walk_at):
        values["last_full_walk_at"] = at
    if values:
        conn.execute(sa.update(table).where(table.c.id == row.id).values(**values))
