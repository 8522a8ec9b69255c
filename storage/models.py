"""The schema: SQLAlchemy 2 typed models. Alembic migrations mirror these tables.

Datetimes are stored as UTC and always come back timezone-aware (``UTCDateTime``), on
SQLite as well as PostgreSQL. ``published_at`` keeps the extractor's ISO string (with its
original offset) next to a UTC copy used for sorting and filtering.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

RUN_STATUSES = ("running", "ok", "empty", "failed", "timeout", "blocked")
ARTICLE_STATUSES = ("live", "removed")
RECORD_TYPES = ("response", "revisit")
# Timestamped lifecycle events of an article (storage.tracking): a fetch found it gone, it was
# confirmed removed, it came back, it dropped out of (or returned to) its section's list
# pages, a fetch hit an anti-bot wall.
EVENT_KINDS = ("gone", "removed", "restored", "delisted", "relisted", "blocked")
# What a watcher hears about (the change feed): a new article, a new version, a confirmed
# removal, a restoration, a delisting, a move to another URL.
CHANGE_KINDS = ("new", "edited", "removed", "restored", "delisted", "moved")
DELIVERY_STATUSES = ("pending", "delivered")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC that refuses naive input and returns aware values."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware datetime (UTC)")
        value = value.astimezone(UTC)
        # SQLite has no timezone type: store naive UTC, re-attach UTC on the way out.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _enum_check(column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=column)


# Named constraints, so later migrations (SQLite batch mode included) can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: sa.JSON,
        list[Any]: sa.JSON,
    }


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    title: Mapped[str | None] = mapped_column(sa.Text)


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (_enum_check("status", RUN_STATUSES), sa.Index(None, "started_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="running")
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    requests: Mapped[int] = mapped_column(default=0)
    new_articles: Mapped[int] = mapped_column(default=0)
    new_versions: Mapped[int] = mapped_column(default=0)
    removed: Mapped[int] = mapped_column(default=0)
    bytes_archived: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    error: Mapped[str | None] = mapped_column(sa.Text)
    # Who runs it (migration 0008): the process id, its start time (a reused pid starts
    # later) and host, and when it last said it was alive (storage.runs.close_dead_runs).
    pid: Mapped[int | None]
    pid_started_at: Mapped[datetime | None]
    node: Mapped[str | None] = mapped_column(sa.String(255))
    heartbeat_at: Mapped[datetime | None]
    # When the service's schedule fired the run (started_at - scheduled_for: its wait).
    scheduled_for: Mapped[datetime | None]


class RunSource(Base):
    """Which sources a run crawled (a run may cover several)."""

    __tablename__ = "run_sources"

    run_id: Mapped[int] = mapped_column(
        sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    source_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sources.id"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(default=0)


class Capture(Base):
    """One archived WARC record. Written once, never updated."""

    __tablename__ = "captures"
    __table_args__ = (
        _enum_check("record_type", RECORD_TYPES),
        sa.Index(None, "url", "fetched_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[str] = mapped_column(sa.String(100), unique=True)
    url: Mapped[str] = mapped_column(sa.Text)
    fetched_at: Mapped[datetime]
    status: Mapped[int | None]
    content_type: Mapped[str | None] = mapped_column(sa.Text)
    payload_digest: Mapped[str | None] = mapped_column(sa.String(100))
    warc_file: Mapped[str] = mapped_column(sa.Text)
    warc_offset: Mapped[int] = mapped_column(sa.BigInteger)
    warc_length: Mapped[int] = mapped_column(sa.BigInteger)
    record_type: Mapped[str] = mapped_column(sa.String(16), default="response")
    etag: Mapped[str | None] = mapped_column(sa.Text)
    last_modified: Mapped[str | None] = mapped_column(sa.Text)
    run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("runs.id"), index=True)


class Article(Base):
    """An article's identity, lifecycle and current content (= its latest version's)."""

    __tablename__ = "articles"
    __table_args__ = (
        _enum_check("status", ARTICLE_STATUSES),
        sa.Index(None, "source_id", "last_changed"),
        sa.Index(None, "published_utc"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("sources.id"))
    url: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default="live")
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    last_changed: Mapped[datetime]
    # Change tracking (revisits and confirmed removals): a fetch that found the page gone
    # counts towards removal; a successful capture resets the count.
    last_checked_at: Mapped[datetime | None]
    gone_count: Mapped[int] = mapped_column(default=0)
    gone_since: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]
    title: Mapped[str | None] = mapped_column(sa.Text)
    published_at: Mapped[str | None] = mapped_column(sa.String(40))
    published_utc: Mapped[datetime | None]
    published_precision: Mapped[str | None] = mapped_column(sa.String(10))
    origin: Mapped[str | None] = mapped_column(sa.Text)
    author: Mapped[str | None] = mapped_column(sa.Text)
    section: Mapped[list[Any]] = mapped_column(default=list)
    doc_number: Mapped[str | None] = mapped_column(sa.Text)
    body_text: Mapped[str] = mapped_column(sa.Text, default="")
    attachments: Mapped[list[Any]] = mapped_column(default=list)
    content_hash: Mapped[str] = mapped_column(sa.String(80), index=True)
    # The body-shrink guard: content whose body lost more than half waits here until a second
    # fetch agrees (storage.tracking).
    pending_hash: Mapped[str | None] = mapped_column(sa.String(80))
    pending_capture_id: Mapped[int | None] = mapped_column(sa.ForeignKey("captures.id"))
    # Where it was last fetched successfully (``url`` stays the first URL): revisits go there,
    # and only a gone fetch of this URL counts towards removal.
    fetch_url: Mapped[str | None] = mapped_column(sa.Text)
    # Its capture at fetch_url (response or identical-payload revisit): a revisit sends that
    # capture's validators and compares payload digests with it.
    last_capture_id: Mapped[int | None] = mapped_column(sa.ForeignKey("captures.id"))
    # The section (start URL) whose list pages showed it, and when it dropped out of them.
    section_url: Mapped[str | None] = mapped_column(sa.Text)
    delisted_at: Mapped[datetime | None]


class ArticleUrl(Base):
    """Every URL an article's content was captured at; the unique url is what keeps two
    concurrent ingests from creating the same article twice."""

    __tablename__ = "article_urls"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.Text, unique=True)
    article_id: Mapped[int] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    first_seen: Mapped[datetime]


class ArticleVersion(Base):
    """A distinct content state of an article; (article_id, n) is unique, so two ingests
    racing to add the same next version cannot both succeed."""

    __tablename__ = "article_versions"
    __table_args__ = (sa.UniqueConstraint("article_id", "n"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(sa.ForeignKey("articles.id", ondelete="CASCADE"))
    n: Mapped[int]
    capture_id: Mapped[int] = mapped_column(sa.ForeignKey("captures.id"), index=True)
    captured_at: Mapped[datetime]
    content_hash: Mapped[str] = mapped_column(sa.String(80))
    changed: Mapped[list[Any]] = mapped_column(default=list)
    title: Mapped[str | None] = mapped_column(sa.Text)
    published_at: Mapped[str | None] = mapped_column(sa.String(40))
    published_precision: Mapped[str | None] = mapped_column(sa.String(10))
    origin: Mapped[str | None] = mapped_column(sa.Text)
    author: Mapped[str | None] = mapped_column(sa.Text)
    section: Mapped[list[Any]] = mapped_column(default=list)
    doc_number: Mapped[str | None] = mapped_column(sa.Text)
    body_text: Mapped[str] = mapped_column(sa.Text, default="")
    body_html: Mapped[str] = mapped_column(sa.Text, default="")
    attachments: Mapped[list[Any]] = mapped_column(default=list)
    # Extractor output with no column of its own (images, encoding, truncated, ...).
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # A->B->A: version 3 has version 1's content and undoes version 2 (revert_of = 2).
    revert_of: Mapped[int | None]


class ArticleEvent(Base):
    """A timestamped status event (``EVENT_KINDS``), with the capture that shows it."""

    __tablename__ = "article_events"
    __table_args__ = (_enum_check("kind", EVENT_KINDS), sa.Index(None, "article_id", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(sa.ForeignKey("articles.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    at: Mapped[datetime]
    capture_id: Mapped[int | None] = mapped_column(sa.ForeignKey("captures.id"))
    url: Mapped[str | None] = mapped_column(sa.Text)
    detail: Mapped[str | None] = mapped_column(sa.Text)


class ListWalk(Base):
    """When a section's list pages (walked from ``start_url``) were last walked, and last
    walked in full (``crawler.walk``). Written with each listing (``storage.walks``), so a
    rebuild from the archive rebuilds it."""

    __tablename__ = "list_walks"
    __table_args__ = (sa.UniqueConstraint("source_id", "start_url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("sources.id", ondelete="CASCADE"))
    start_url: Mapped[str] = mapped_column(sa.Text)
    last_walk_at: Mapped[datetime]
    last_full_walk_at: Mapped[datetime | None]
    # Article links the first page showed in the last walk (storage.walks.SectionWalk)
    last_links: Mapped[int] = mapped_column(default=0)
    # The canonical URLs the last walk listed, as a JSON array (storage.walks)
    last_listed: Mapped[str | None] = mapped_column(sa.Text, default=None)


class UrlAlias(Base):
    """A spelling of a URL that was fetched, and the canonical URL it stands for."""

    __tablename__ = "url_aliases"

    url: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    canonical: Mapped[str] = mapped_column(sa.Text, index=True)


class DedupSignature(Base):
    """An article's MinHash signature (storage.signatures), to score LSH candidates."""

    __tablename__ = "dedup_signatures"

    article_id: Mapped[int] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    signature: Mapped[list[Any]] = mapped_column(default=list)


class DedupBand(Base):
    """One LSH band key of an article's MinHash signature (storage.duplicates)."""

    __tablename__ = "dedup_bands"

    band_key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    article_id: Mapped[int] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ArticleDuplicate(Base):
    """Two near-identical articles (mirrors); stored once, ``article_id < duplicate_id``."""

    __tablename__ = "article_duplicates"

    article_id: Mapped[int] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    duplicate_id: Mapped[int] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    similarity: Mapped[float]


class ChangeEvent(Base):
    """One change a watcher hears about (``CHANGE_KINDS``), written in the same transaction as
    the change itself, so the feed can neither miss nor invent one (an outbox)."""

    __tablename__ = "change_events"
    __table_args__ = (
        _enum_check("kind", CHANGE_KINDS),
        sa.Index(None, "at"),
        sa.Index(None, "source_id", "at"),
        sa.Index(None, "article_id"),
        sa.Index(None, "fanned_out_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    at: Mapped[datetime]  # when the change was seen: the capture's fetch time
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("sources.id"))
    article_id: Mapped[int] = mapped_column(sa.ForeignKey("articles.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(sa.Text)  # the article's URL then (moved: the new one)
    title: Mapped[str | None] = mapped_column(sa.Text)
    version_n: Mapped[int | None]  # new, edited: the version it made
    changed: Mapped[list[Any]] = mapped_column(default=list)  # field names (edited)
    summary: Mapped[str | None] = mapped_column(sa.Text)  # edited: "正文: 二十 → 十五"
    detail: Mapped[str | None] = mapped_column(sa.Text)  # removed: why; moved: the old URL
    capture_id: Mapped[int | None] = mapped_column(sa.ForeignKey("captures.id"))
    run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("runs.id", ondelete="SET NULL"))
    # Set once the watches' deliveries for this event exist (``deliveries``); events rebuilt
    # by ``replay reparse`` are history and are set at once.
    fanned_out_at: Mapped[datetime | None]


class Delivery(Base):
    """One change event owed to one watch (``[[watches]]``): an outbox row, marked delivered
    only after the channel took it, retried with backoff until then."""

    __tablename__ = "deliveries"
    __table_args__ = (
        _enum_check("status", DELIVERY_STATUSES),
        sa.UniqueConstraint("watch", "event_id"),
        sa.Index(None, "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    watch: Mapped[str] = mapped_column(sa.String(100))
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("change_events.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
