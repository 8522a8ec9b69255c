"""Writing a batch of captures and extracted articles: one transaction, bulk lookups."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from storage.content import (
    HASHED_FIELDS,
    STORED_FIELDS,
    VERSION_ONLY_FIELDS,
    attachments_list,
    changed_fields,
    content_hash,
    published_iso,
    published_utc,
)
from storage.models import (
    RECORD_TYPES,
    Article,
    ArticleUrl,
    ArticleVersion,
    Capture,
    Source,
    UTCDateTime,
)
from storage.types import ArticleIn, CaptureIn, IngestResult

# Stay well under SQLite's bound-parameter limit in IN (...) lists.
LOOKUP_CHUNK = 500
_ARTICLES = Article.__table__
_VERSIONS = ArticleVersion.__table__


def insert_ignoring_conflicts(
    conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]], key: Sequence[str]
) -> None:
    """INSERT .. ON CONFLICT (key) DO NOTHING, for both backends."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(table).on_conflict_do_nothing(index_elements=list(key)), rows)


def lookup(conn: sa.Connection, key: sa.Column, value: sa.Column, keys: Iterable[Any]) -> dict:
    """{key: value} for the rows whose key is in ``keys``, fetched in chunks."""
    keys = list(dict.fromkeys(keys))
    found: dict = {}
    for start in range(0, len(keys), LOOKUP_CHUNK):
        chunk = keys[start : start + LOOKUP_CHUNK]
        found.update(conn.execute(sa.select(key, value).where(key.in_(chunk))).all())
    return found


def ensure_sources(conn: sa.Connection, names: Iterable[str]) -> dict[str, int]:
    names = list(dict.fromkeys(names))
    ids = lookup(conn, Source.name, Source.id, names)
    # Insert only what is missing: on PostgreSQL even a conflicting insert waits for any
    # uncommitted insert of the same name, which would serialise concurrent ingests.
    missing = [{"name": n} for n in names if n not in ids]
    if missing:
        insert_ignoring_conflicts(conn, Source.__table__, missing, ["name"])
        ids.update(lookup(conn, Source.name, Source.id, [row["name"] for row in missing]))
    return ids


def _capture_row(capture: CaptureIn, run_id: int | None) -> dict[str, Any]:
    if capture.record_type not in RECORD_TYPES:
        raise ValueError(f"capture {capture.record_id}: record_type must be one of {RECORD_TYPES}")
    return {
        "record_id": capture.record_id,
        "url": capture.url,
        "fetched_at": capture.fetched_at,
        "status": capture.status,
        "content_type": capture.content_type,
        "payload_digest": capture.payload_digest,
        "warc_file": capture.warc_file,
        "warc_offset": capture.warc_offset,
        "warc_length": capture.warc_length,
        "record_type": capture.record_type,
        "etag": capture.etag,
        "last_modified": capture.last_modified,
        "run_id": run_id,
    }


def article_content(fields: dict[str, Any]) -> dict[str, Any]:
    """The stored content fields of an extracted article, as given (not normalised)."""
    content = {name: fields.get(name) for name in STORED_FIELDS}
    content["published_at"] = published_iso(fields.get("published_at"))
    content["section"] = list(fields.get("section") or [])
    content["body_text"] = fields.get("body_text") or ""
    content["attachments"] = attachments_list(fields.get("attachments"))
    return content


@dataclass
class _Current:
    """What ingest needs to know about an article already stored."""

    hash: str
    n: int
    content: dict[str, Any]


def _load_current(conn: sa.Connection, article_ids: Iterable[int]) -> dict[int, _Current]:
    ids = list(dict.fromkeys(article_ids))
    latest_n = (
        sa.select(sa.func.max(ArticleVersion.n))
        .where(ArticleVersion.article_id == Article.id)
        .scalar_subquery()
    )
    columns = [Article.id, Article.content_hash, latest_n.label("n")]
    columns += [getattr(Article, name) for name in HASHED_FIELDS]
    current: dict[int, _Current] = {}
    for start in range(0, len(ids), LOOKUP_CHUNK):
        stmt = sa.select(*columns).where(Article.id.in_(ids[start : start + LOOKUP_CHUNK]))
        for row in conn.execute(stmt).mappings():
            content = {name: row[name] for name in HASHED_FIELDS}
            current[row["id"]] = _Current(row["content_hash"], row["n"] or 0, content)
    return current


class _Batch:
    """The writes of one ingest call, collected so they can go out as executemany."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.result = IngestResult()
        self.url_owner: dict[str, int] = {}
        self.current: dict[int, _Current] = {}
        self.new_urls: list[dict[str, Any]] = []
        self.versions: list[dict[str, Any]] = []
        self.content_updates: dict[int, dict[str, Any]] = {}
        self.seen: dict[int, datetime] = {}
        self.touched: dict[int, None] = {}  # article ids in first-touched order

    def add(self, item: ArticleIn, capture_id: int, source_id: int) -> None:
        urls = list(dict.fromkeys([item.url, *item.urls]))
        content = article_content(item.fields)
        digest = content_hash(content)
        article_id = next((self.url_owner[u] for u in urls if u in self.url_owner), None)
        if article_id is None:
            article_id = self._create(item, content, digest, source_id)
            self.result.new_articles += 1
            self._version(article_id, 1, [], item, content, digest, capture_id)
        elif digest != self.current[article_id].hash:
            current = self.current[article_id]
            changed = changed_fields(current.content, content)
            self._version(article_id, current.n + 1, changed, item, content, digest, capture_id)
            self.content_updates[article_id] = {
                **_article_content_columns(content),
                "content_hash": digest,
                "last_changed": item.fetched_at,
            }
            self.result.new_versions += 1
        else:
            self.result.unchanged += 1
        previous = self.seen.get(article_id)
        self.seen[article_id] = (
            item.fetched_at if previous is None else max(previous, item.fetched_at)
        )
        for url in urls:
            if url not in self.url_owner:
                self.url_owner[url] = article_id
                self.new_urls.append(
                    {"url": url, "article_id": article_id, "first_seen": item.fetched_at}
                )
        self.touched.setdefault(article_id)

    def _create(self, item: ArticleIn, content: dict[str, Any], digest: str, source_id: int) -> int:
        row = {
            "source_id": source_id,
            "url": item.url,
            "status": "live",
            "first_seen": item.fetched_at,
            "last_seen": item.fetched_at,
            "last_changed": item.fetched_at,
            "last_checked_at": item.fetched_at,
            "content_hash": digest,
            **_article_content_columns(content),
        }
        stmt = sa.insert(_ARTICLES).returning(_ARTICLES.c.id)
        return self.conn.execute(stmt, row).scalar_one()

    def _version(
        self,
        article_id: int,
        n: int,
        changed: list[str],
        item: ArticleIn,
        content: dict[str, Any],
        digest: str,
        capture_id: int,
    ) -> None:
        extra = {
            key: value
            for key, value in item.fields.items()
            if key not in STORED_FIELDS and key not in VERSION_ONLY_FIELDS and key != "url"
        }
        self.versions.append(
            {
                "article_id": article_id,
                "n": n,
                "capture_id": capture_id,
                "captured_at": item.fetched_at,
                "content_hash": digest,
                "changed": changed,
                **content,
                "body_html": item.fields.get("body_html") or "",
                "extra": extra,
            }
        )
        self.current[article_id] = _Current(digest, n, content)

    def flush(self) -> None:
        conn = self.conn
        if self.new_urls:
            conn.execute(sa.insert(ArticleUrl.__table__), self.new_urls)
        if self.versions:
            conn.execute(sa.insert(_VERSIONS), self.versions)
        # Row locks are taken in id order, so two batches cannot deadlock on each other.
        for article_id in sorted(self.content_updates):
            values = self.content_updates[article_id]
            conn.execute(sa.update(_ARTICLES).where(_ARTICLES.c.id == article_id).values(**values))
        if self.seen:
            conn.execute(
                _SEEN_UPDATE, [{"aid": a, "seen": t} for a, t in sorted(self.seen.items())]
            )


def _article_content_columns(content: dict[str, Any]) -> dict[str, Any]:
    return {**content, "published_utc": published_utc(content["published_at"])}


def _later(column: sa.Column, value: sa.BindParameter) -> sa.Case:
    return sa.case((sa.or_(column.is_(None), column < value), value), else_=column)


_seen_param = sa.bindparam("seen", type_=UTCDateTime())
# A successful capture proves the article is live: reset the removal tracking.
_SEEN_UPDATE = (
    sa.update(_ARTICLES)
    .where(_ARTICLES.c.id == sa.bindparam("aid"))
    .values(
        last_seen=_later(_ARTICLES.c.last_seen, _seen_param),
        last_checked_at=_later(_ARTICLES.c.last_checked_at, _seen_param),
        status="live",
        gone_count=0,
        gone_since=None,
        removed_at=None,
    )
)


def ingest_batch(
    conn: sa.Connection, captures: list[CaptureIn], articles: list[ArticleIn], run_id: int | None
) -> IngestResult:
    insert_ignoring_conflicts(
        conn, Capture.__table__, [_capture_row(c, run_id) for c in captures], ["record_id"]
    )
    capture_ids = lookup(
        conn, Capture.record_id, Capture.id, (a.capture_record_id for a in articles)
    )
    missing = sorted({a.capture_record_id for a in articles} - capture_ids.keys())
    if missing:
        raise ValueError(
            f"articles refer to captures that are neither stored nor in this batch: {missing[:3]}"
        )
    source_ids = ensure_sources(conn, (a.source for a in articles))
    batch = _Batch(conn)
    all_urls = [u for a in articles for u in (a.url, *a.urls)]
    batch.url_owner = lookup(conn, ArticleUrl.url, ArticleUrl.article_id, all_urls)
    batch.current = _load_current(conn, batch.url_owner.values())
    for item in articles:
        batch.add(item, capture_ids[item.capture_record_id], source_ids[item.source])
    batch.flush()
    batch.result.article_ids = list(batch.touched)
    return batch.result
