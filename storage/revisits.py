"""Which known articles a crawl should fetch again, and what to send with the request.

An article is revisited by age (``[sources.tracking] revisit``: ``"age:interval"`` steps,
youngest first): its age is the time since it was published (or first seen, when the page gave
no date), and it is due once ``interval`` has passed since it was last checked. Each article's
interval is stretched or shrunk by up to ``JITTER`` (fixed per article), so articles stored
together do not all fall due in the same run for ever. Articles older than the last step keep
its interval. The most overdue come first, up to the run's budget.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from govarchive.storage.models import Article, ArticleUrl, Capture, Source
from govarchive.storage.sql import in_chunks
from govarchive.storage.urls import canonical_url

JITTER = 0.1
REVISIT_MODES = ("due", "all", "none")


@dataclass(frozen=True)
class RevisitTarget:
    """A URL to fetch again, with the validators and the capture a revisit record refers to
    (``article_id`` None: a page requisite, see :func:`requisite_targets`)."""

    article_id: int | None  # None: a page requisite or a section's list page (storage.walks)
    url: str
    etag: str | None
    last_modified: str | None
    payload_digest: str | None  # of the last 200 capture of the URL
    refers_to: str | None  # WARC-Record-ID of the last response record of the URL
    refers_to_date: datetime | None
    refers_to_url: str | None


def _jitter(article_id: int) -> float:
    digest = hashlib.blake2b(str(article_id).encode(), digest_size=4).digest()
    return (int.from_bytes(digest, "big") / 0xFFFFFFFF * 2 - 1) * JITTER


def interval_for(age: timedelta, steps) -> timedelta | None:
    """The revisit interval for an article of ``age`` (None: every run)."""
    for limit, interval in steps:
        if age <= limit:
            return interval
    return steps[-1][1] if steps else None


def overdue(article_id: int, now: datetime, born: datetime, checked: datetime | None,
            steps) -> timedelta | None:
    """How long past due the article is (>= 0), or None when it is not due."""
    if checked is None:
        return timedelta.max
    interval = interval_for(now - born, steps)
    if interval is None:
        return now - checked
    due_at = checked + interval * (1 + _jitter(article_id))
    return now - due_at if due_at <= now else None


def revisit_targets(conn: sa.Connection, source: str, *, now: datetime, steps, mode: str,
                    budget: int | None) -> list[RevisitTarget]:
    """The source's articles to revisit in this run (``mode``: due, all or none)."""
    if mode not in REVISIT_MODES:
        raise ValueError(f"revisit mode {mode!r}: expected one of {REVISIT_MODES}")
    if mode == "none":
        return []
    stmt = (
        sa.select(Article.id, sa.func.coalesce(Article.fetch_url, Article.url).label("url"),
                  Article.first_seen, Article.published_utc, Article.last_checked_at,
                  Article.last_capture_id)
        .join(Source, Source.id == Article.source_id)
        .where(Source.name == source)
        .order_by(Article.id)
    )
    chosen: list[tuple[float, int, str, int | None]] = []
    for row in conn.execute(stmt):
        born = min(row.published_utc or row.first_seen, row.first_seen)
        late = (timedelta.max if mode == "all"
                else overdue(row.id, now, born, row.last_checked_at, steps))
        if late is not None:
            seconds = float("inf") if late == timedelta.max else late.total_seconds()
            chosen.append((seconds, row.id, row.url, row.last_capture_id))
    chosen.sort(key=lambda entry: (-entry[0], entry[1]))
    if mode == "due" and budget is not None:
        chosen = chosen[:budget]
    validators = last_captures(conn, [c for *_, c in chosen if c is not None])
    return [RevisitTarget(article_id, url, *validators.get(capture_id, (None,) * 6))
            for _, article_id, url, capture_id in chosen]


def last_captures(conn: sa.Connection, capture_ids: list[int]) -> dict[int, tuple]:
    """{capture id: (etag, last_modified, payload_digest, record id, date, url)} where the
    record named is the *response* record holding that payload (the capture itself, or the
    one an identical-payload revisit refers to: the latest earlier response of the URL with
    the same digest)."""
    found: dict[int, tuple] = {}
    for chunk in in_chunks(capture_ids):
        rows = conn.execute(
            sa.select(Capture.id, Capture.url, Capture.etag, Capture.last_modified,
                      Capture.payload_digest, Capture.record_id, Capture.record_type,
                      Capture.fetched_at)
            .where(Capture.id.in_(chunk))
        ).all()
        revisits = [r for r in rows if r.record_type != "response" and r.payload_digest]
        originals: dict[tuple[str, str], tuple] = {}
        if revisits:
            stmt = (
                sa.select(Capture.url, Capture.payload_digest, Capture.record_id,
                          Capture.fetched_at)
                .where(Capture.url.in_({r.url for r in revisits}),
                       Capture.record_type == "response", Capture.status == 200)
                .order_by(Capture.fetched_at, Capture.id)
            )
            for row in conn.execute(stmt):
                originals[(row.url, row.payload_digest)] = (row.record_id, row.fetched_at)
        for row in rows:
            if row.record_type == "response":
                original = (row.record_id, row.fetched_at)
            else:
                original = originals.get((row.url, row.payload_digest), (None, None))
            found[row.id] = (row.etag, row.last_modified, row.payload_digest, *original,
                             row.url)
    return found


def known_urls(conn: sa.Connection, source: str) -> set[str]:
    """Canonical URLs of the source's articles and of their attachments: the spider fetches
    none of them again unless the article is due for a revisit (attachments never: a changed
    attachment is a new URL on these sites)."""
    stmt = (
        sa.select(ArticleUrl.url)
        .join(Article, Article.id == ArticleUrl.article_id)
        .join(Source, Source.id == Article.source_id)
        .where(Source.name == source)
    )
    urls = set(conn.execute(stmt).scalars())
    attachments = (
        sa.select(Article.attachments)
        .join(Source, Source.id == Article.source_id)
        .where(Source.name == source)
    )
    for (items,) in conn.execute(attachments):
        urls.update(canonical_url(a["url"]) for a in items or [] if a.get("url"))
    return urls


# Content types of what a page needs to be seen (crawler.requisites): images, stylesheets,
# scripts, icons.
REQUISITE_TYPES = ("image/%", "text/css%", "%javascript%", "%ecmascript%")


def requisite_targets(conn: sa.Connection) -> dict[str, RevisitTarget]:
    """{URL: its last capture's validators} for every page requisite in the archive: fetched
    again, one answers 304 or with the same payload, and is archived as a revisit record."""
    stmt = (
        sa.select(Capture.url, sa.func.max(Capture.id))
        .where(sa.or_(*(Capture.content_type.like(kind) for kind in REQUISITE_TYPES)),
               Capture.status == 200)
        .group_by(Capture.url)
    )
    last = dict(conn.execute(stmt).all())
    validators = last_captures(conn, list(last.values()))
    return {url: RevisitTarget(None, url, *validators[capture_id])
            for url, capture_id in last.items() if capture_id in validators}
