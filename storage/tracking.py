"""Change tracking: what a fetch of a known article means for its versions and its status.

Inputs besides extracted articles (``storage.ArticleIn``):

- :class:`ObservationIn`: a fetch of an article URL that produced no article: ``gone`` (404/410,
  a redirect to the home or section page, an error-like page), ``blocked`` (an anti-bot
  challenge), ``not_modified`` (a 304 to a conditional revisit). Transient failures (5xx,
  timeouts) are not observations at all: they say nothing about the article.
- :class:`ListingIn`: the article links one section's list pages showed in one run.

Every input names the capture that shows it, so the whole state can be rebuilt from the
captures in capture order (``Store.ingest`` is the only writer of derived state).

Rules (``docs/tracking.md``):

- a new version only when the normalised content hash changes; a body that shrinks by more
  than half (or vanishes) is held as *pending* until a second fetch agrees; content equal to
  an earlier version's is a new version marked ``revert_of`` the version it undoes;
- ``removed`` after ``confirmations`` gone fetches spanning at least ``min_interval``; any
  successful fetch (or 304) resets the count, and brings a removed article back (``restored``);
- blocked fetches are recorded as events and never count as gone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from govarchive.storage.changes import ChangeLog
from govarchive.storage.content import HASHED_FIELDS, body_shrank, changed_fields
from govarchive.storage.models import Article, ArticleEvent, ArticleUrl, ArticleVersion
from govarchive.storage.sql import in_chunks
from govarchive.storage.types import IngestResult
from govarchive.storage.urls import canonical_urls
from govarchive.storage.walks import record_walk

OBSERVATION_KINDS = ("gone", "blocked", "not_modified")
# The article columns an ArticleState carries and an ingest writes back.
STATE_COLUMNS = ("fetch_url", "status", "gone_count", "gone_since", "removed_at", "last_seen",
                  "last_checked_at", "pending_hash", "pending_capture_id", "last_capture_id")


@dataclass
class ObservationIn:
    """A fetch of ``url`` (an article's) that produced no article; see the module doc."""

    source: str
    url: str
    capture_record_id: str | None
    fetched_at: datetime
    kind: str
    reason: str | None = None
    # The source's [sources.tracking] removal policy (settings: removal_confirmations,
    # removal_min_interval): carried with the observation so a rebuild applies the same one.
    confirmations: int = 2
    min_interval: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        if self.kind not in OBSERVATION_KINDS:
            raise ValueError(f"observation kind {self.kind!r}: expected one of {OBSERVATION_KINDS}")


@dataclass
class ListingIn:
    """The article URLs a section's list pages (walked from ``start_url``) showed in one run.

    ``complete`` says the walk reached the section's last page; otherwise only articles newer
    than the oldest one listed can be said to have dropped out. ``full`` says the walk read
    what a full walk reads (``crawler.walk.walked_in_full``); a listing that is not (an
    until-known walk that stopped early, a page that could not be read) delists nothing.
    """

    source: str
    start_url: str
    fetched_at: datetime
    urls: list[str]
    complete: bool
    capture_record_ids: list[str] = field(default_factory=list)
    full: bool = True
    # Article links the start page itself showed (None: all of ``urls``); a section whose
    # first page showed none is never asked for conditionally (storage.walks).
    first_page_links: int | None = None


@dataclass
class TrackingResult(IngestResult):
    removed: int = 0
    restored: int = 0
    pending: int = 0  # shrunken bodies held for a second fetch
    events: int = 0


@dataclass
class ArticleState:
    """An article as ingest sees and changes it within one batch."""

    id: int
    source_id: int
    fetch_url: str | None
    status: str
    hash: str
    n: int
    content: dict[str, Any]
    hashes: dict[str, int]  # content hash -> latest version n that had it
    gone_count: int = 0
    gone_since: datetime | None = None
    removed_at: datetime | None = None
    last_seen: datetime | None = None
    last_checked_at: datetime | None = None
    pending_hash: str | None = None
    pending_capture_id: int | None = None
    last_capture_id: int | None = None
    state_changed: bool = False


@dataclass
class Decision:
    """What one extracted article does to its article: a version (with changed fields and
    the version it reverts), or nothing."""

    version: bool
    changed: list[str] = field(default_factory=list)
    revert_of: int | None = None
    pending: bool = False


def load_states(conn: sa.Connection, article_ids: Iterable[int]) -> dict[int, ArticleState]:
    """The stored state of these articles. Two ingests of the same article at once both read
    it; the unique (article_id, n) of versions makes the slower one fail and retry."""
    ids = sorted(set(article_ids))
    states: dict[int, ArticleState] = {}
    columns = [Article.id, Article.source_id, Article.content_hash,
               *(getattr(Article, c) for c in STATE_COLUMNS)]
    columns += [getattr(Article, name) for name in HASHED_FIELDS]
    for chunk in in_chunks(ids):
        stmt = sa.select(*columns).where(Article.id.in_(chunk)).order_by(Article.id)
        for row in conn.execute(stmt).mappings():
            states[row["id"]] = ArticleState(
                id=row["id"], source_id=row["source_id"], hash=row["content_hash"], n=0,
                hashes={},
                content={name: row[name] for name in HASHED_FIELDS},
                **{c: row[c] for c in STATE_COLUMNS},
            )
        versions = sa.select(ArticleVersion.article_id, ArticleVersion.n,
                             ArticleVersion.content_hash).where(
            ArticleVersion.article_id.in_(chunk)).order_by(ArticleVersion.n)
        for article_id, n, digest in conn.execute(versions):
            state = states[article_id]
            state.n = max(state.n, n)
            state.hashes[digest] = n
    return states


def decide_version(state: ArticleState, digest: str, content: dict[str, Any],
                   capture_id: int) -> Decision:
    """Apply the version rules to ``state`` for new content with hash ``digest``."""
    if digest == state.hash:
        state.pending_hash = state.pending_capture_id = None
        return Decision(False)
    shrank = body_shrank(state.content.get("body_text"), content.get("body_text"))
    if shrank and state.pending_hash != digest:
        # Maybe the extractor failed or the server sent half a page: wait for a second fetch.
        state.pending_hash, state.pending_capture_id = digest, capture_id
        return Decision(False, pending=True)
    state.pending_hash = state.pending_capture_id = None
    changed = changed_fields(state.content, content)
    revert_of = state.n if digest in state.hashes else None
    state.n += 1
    state.hash = digest
    state.content = content
    state.hashes[digest] = state.n
    return Decision(True, changed, revert_of)


def mark_seen(state: ArticleState, at: datetime, url: str | None,
              capture_id: int | None = None) -> str | None:
    """A successful fetch (an article at ``url`` in ``capture_id``, or a 304): the article is
    live. Returns "restored" when it had been removed."""
    event = "restored" if state.status == "removed" else None
    state.status = "live"
    state.gone_count, state.gone_since, state.removed_at = 0, None, None
    state.last_seen = at if state.last_seen is None else max(state.last_seen, at)
    state.last_checked_at = at if state.last_checked_at is None else max(state.last_checked_at, at)
    if url is not None and state.last_seen == at:
        state.fetch_url, state.last_capture_id = url, capture_id
    state.state_changed = True
    return event


def mark_gone(state: ArticleState, at: datetime, confirmations: int,
              min_interval: timedelta) -> list[str]:
    """A gone fetch. Returns the events it makes: "gone", and "removed" once confirmed."""
    state.last_checked_at = at if state.last_checked_at is None else max(state.last_checked_at, at)
    state.state_changed = True
    if state.status == "removed":
        return []
    if state.gone_count == 0 or state.gone_since is None:
        state.gone_since = at
    state.gone_count += 1
    events = ["gone"]
    if state.gone_count >= confirmations and at - state.gone_since >= min_interval:
        state.status, state.removed_at = "removed", at
        events.append("removed")
    return events


def apply_listing(conn: sa.Connection, listing: ListingIn, source_id: int,
                  changes: ChangeLog) -> int:
    """Record which of the section's live articles dropped out of its list pages (delisted,
    also a change event in ``changes``) or came back to them (relisted). Returns the number
    of status events written."""
    listed_ids: set[int] = set()
    urls = canonical_urls(listing.urls)
    for chunk in in_chunks(urls):
        stmt = sa.select(ArticleUrl.article_id).where(ArticleUrl.url.in_(chunk))
        listed_ids.update(conn.execute(stmt).scalars())
    table = Article.__table__
    events: list[dict[str, Any]] = []
    ordered = sorted(listed_ids)
    for chunk in in_chunks(ordered):
        conn.execute(sa.update(table).where(table.c.id.in_(chunk), table.c.section_url.is_(None))
                     .values(section_url=listing.start_url))
        back = conn.execute(sa.select(table.c.id, table.c.url).where(
            table.c.id.in_(chunk), table.c.delisted_at.is_not(None),
            table.c.section_url == listing.start_url)).all()
        if back:
            conn.execute(sa.update(table).where(table.c.id.in_([b.id for b in back]))
                         .values(delisted_at=None))
            events += [_event(b.id, "relisted", listing, b.url) for b in back]
    record_walk(conn, source_id, listing.start_url, listing.fetched_at, listing.full,
                len(listing.urls) if listing.first_page_links is None
                else listing.first_page_links,
                urls)
    if not listing.full:
        # Part of the section was read: what it did not list may simply be further back.
        return _write_events(conn, events)
    missing = sa.select(table.c.id, table.c.url, table.c.fetch_url, table.c.title).where(
        table.c.source_id == source_id,
        table.c.section_url == listing.start_url,
        table.c.status == "live",
        table.c.delisted_at.is_(None),
        table.c.first_seen < listing.fetched_at,
    )
    if listed_ids:
        missing = missing.where(table.c.id.not_in(ordered))
    if not listing.complete:
        # Only part of the section was walked: older articles are simply further back.
        oldest = None
        for chunk in in_chunks(ordered):
            value = conn.execute(sa.select(sa.func.min(table.c.published_utc)).where(
                table.c.id.in_(chunk))).scalar()
            if value is not None:
                oldest = value if oldest is None else min(oldest, value)
        if oldest is None:
            return _write_events(conn, events)
        missing = missing.where(table.c.published_utc > oldest)
    gone = conn.execute(missing.order_by(table.c.id)).all()
    if gone:
        for chunk in in_chunks(g.id for g in gone):
            conn.execute(sa.update(table).where(table.c.id.in_(chunk))
                         .values(delisted_at=listing.fetched_at))
        events += [_event(g.id, "delisted", listing, g.url) for g in gone]
        for g in gone:
            changes.add("delisted", article_id=g.id, source_id=source_id,
                        at=listing.fetched_at, url=g.fetch_url or g.url, title=g.title)
    return _write_events(conn, events)


def _event(article_id: int, kind: str, listing: ListingIn, url: str) -> dict[str, Any]:
    return {"article_id": article_id, "kind": kind, "at": listing.fetched_at,
            "capture_id": None, "url": url, "detail": listing.start_url}


def _write_events(conn: sa.Connection, events: list[dict[str, Any]]) -> int:
    if events:
        conn.execute(sa.insert(ArticleEvent.__table__), events)
    return len(events)
