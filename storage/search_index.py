"""The full-text index of article titles and bodies: its schema, keeping it in step.

Its terms (CJK bigrams and lower-cased ASCII words) are made by :mod:`storage.search_terms`,
in Python, so both backends index exactly the same terms:

- SQLite: an FTS5 table (``article_search``) over the space-separated tokens, with the
  ``ascii`` tokenizer (it keeps every non-ASCII character inside tokens).
- PostgreSQL: a ``tsvector`` per article written as a literal (no text-search parser or
  locale involved), title lexemes weighted A and body lexemes B, in a GIN index.

The index follows ``storage.ingest`` (``index_rows`` for every article whose content it
wrote) and deletions of articles (a trigger on SQLite, a cascading foreign key on
PostgreSQL), so ``replay reparse`` rebuilds it as it rebuilds the articles. Querying it is
``storage.search``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa

from govarchive.storage.models import Article
from govarchive.storage.search_terms import token_text, tokens
from govarchive.storage.sql import in_chunks

SEARCH_TABLE = "article_search"
# Bodies longer than this are indexed up to here (PostgreSQL keeps positions only up to
# 16383 and caps a tsvector at 1 MB; no news article comes close).
MAX_INDEXED_CHARS = 16_000
# Title and body positions are kept apart so a phrase never matches across the two.
_BODY_OFFSET = 64
# The index's order (see sort_key): publication second and article id in one integer.
KEY_ID_BITS = 31
KEY_ID_MASK = (1 << KEY_ID_BITS) - 1
EPOCH_OFFSET = 1 << 31
_MAX_BUCKET = (1 << 32) - 1


# -- the index ----------------------------------------------------------------------------


def _tsvector_literal(title: str | None, body: str | None) -> str:
    """``'lexeme':1A,5A 'other':70B ...``: tokens only hold word characters, so no quoting
    beyond the enclosing quotes is needed."""
    title_tokens = tokens((title or "")[:MAX_INDEXED_CHARS])
    body_tokens = tokens((body or "")[:MAX_INDEXED_CHARS])
    body_start = 1 + len(title_tokens) + _BODY_OFFSET
    positions: dict[str, list[str]] = {}
    for start, weight, items in ((1, "A", title_tokens), (body_start, "B", body_tokens)):
        for i, token in enumerate(items):
            positions.setdefault(token, []).append(f"{min(start + i, 16383)}{weight}")
    return " ".join(f"'{token}':{','.join(where)}" for token, where in positions.items())


def search_row(dialect: str, article_id: int, title: str | None, body: str | None) -> dict:
    """One row of the search table for an article (as bulk loaders insert it)."""
    if dialect == "postgresql":
        return {"article_id": article_id, "document": _tsvector_literal(title, body)}
    return {"rowid": article_id, "title": token_text(title),
            "body": token_text((body or "")[:MAX_INDEXED_CHARS])}


def sort_key(published_utc: datetime | None, article_id: int) -> int:
    """The position of an article in the index: newest published first when read in
    descending order, ties broken by id, undated articles last (as the article list sorts).

    ``bucket << 31 | id``: the bucket is the publication second offset by 2**31 (so dates
    from 1901 to 2106 keep their order; others are clamped to those ends), 0 when there is
    no date. Ids fit in 31 bits (PostgreSQL's integer primary key does too). A date range is
    a key range, and "the newest N hits" is a walk down the index.
    """
    if not 0 < article_id < 1 << KEY_ID_BITS:
        raise ValueError(f"article id {article_id} does not fit the search key")
    return (_bucket(published_utc) << KEY_ID_BITS) | article_id


def _bucket(published_utc: datetime | None) -> int:
    if published_utc is None:
        return 0
    if published_utc.tzinfo is None:  # SQLite hands back UTC without a zone
        published_utc = published_utc.replace(tzinfo=UTC)
    return min(max(math.floor(published_utc.timestamp()) + EPOCH_OFFSET, 1), _MAX_BUCKET)


def first_key(second: int | None = None) -> int:
    """The smallest key of a dated article published at Unix time ``second`` or later
    (``None``: at any time)."""
    bucket = 1 if second is None else min(max(second + EPOCH_OFFSET, 1), _MAX_BUCKET + 1)
    return bucket << KEY_ID_BITS


def sqlite_key_sql(row: str) -> str:
    """``sort_key`` in SQLite SQL for ``row`` (``old``, ``new`` or a table alias) of
    ``articles``, where it stores ``published_utc`` as UTC text."""
    seconds = f"CAST(strftime('%s', {row}.published_utc) AS INTEGER)"
    bucket = f"min(max({seconds} + {EPOCH_OFFSET}, 1), {_MAX_BUCKET})"
    return (f"((CASE WHEN {row}.published_utc IS NULL THEN 0 ELSE {bucket} END) "
            f"<< {KEY_ID_BITS} | {row}.id)")


def postgresql_key_sql(row: str) -> str:
    """``sort_key`` in PostgreSQL SQL for ``row`` (a table alias) of ``articles``."""
    seconds = f"floor(extract(epoch FROM {row}.published_utc))::bigint"
    bucket = f"LEAST(GREATEST({seconds} + {EPOCH_OFFSET}, 1), {_MAX_BUCKET})"
    # GREATEST and LEAST skip NULLs, so an undated article is caught first.
    return (f"((CASE WHEN {row}.published_utc IS NULL THEN 0 ELSE {bucket} END) "
            f"<< {KEY_ID_BITS} | {row}.id)")


def insert_rows_sql(dialect: str) -> sa.TextClause:
    if dialect == "postgresql":
        return sa.text(
            f"INSERT INTO {SEARCH_TABLE} (article_id, sort_key, document) "
            "VALUES (:article_id, :sort_key, CAST(:document AS tsvector)) "
            "ON CONFLICT (article_id) DO UPDATE "
            "SET sort_key = EXCLUDED.sort_key, document = EXCLUDED.document"
        )
    return sa.text(
        f"INSERT INTO {SEARCH_TABLE} (rowid, title, body) VALUES (:rowid, :title, :body)"
    )


IndexRow = tuple[int, str | None, str | None, datetime | None]


def keyed_row(dialect: str, row: IndexRow) -> dict:
    """``search_row`` at the article's place in the index (on PostgreSQL, with the period
    terms ``storage.search_periods`` reads the newest hits by)."""
    article_id, title, body, published = row
    out = search_row(dialect, article_id, title, body)
    key = sort_key(published, article_id)
    if dialect == "postgresql":
        out["sort_key"] = key
        out["document"] = " ".join([out["document"], *(f"'{p}'" for p in period_lexemes(key))])
    else:
        out["rowid"] = key
    return out


def key_time(key: int) -> datetime | None:
    """The publication second a key was made from (as clamped), None when undated."""
    bucket = key >> KEY_ID_BITS
    return None if bucket == 0 else datetime.fromtimestamp(bucket - EPOCH_OFFSET, UTC)


def period_lexemes(key: int) -> list[str]:
    """The month and year index terms of an entry with this key (none when undated)."""
    when = key_time(key)
    return [] if when is None else [f"~{when:%Y%m}", f"~{when:%Y}"]


def postgresql_periods_sql(key: str) -> str:
    """``period_lexemes`` in PostgreSQL SQL, as a tsvector, for the key expression ``key``."""
    when = f"(to_timestamp(({key} >> {KEY_ID_BITS}) - {EPOCH_OFFSET}) AT TIME ZONE 'UTC')"
    return (f"(CASE WHEN {key} >> {KEY_ID_BITS} = 0 THEN ''::tsvector ELSE array_to_tsvector("
            f"ARRAY['~' || to_char({when}, 'YYYYMM'), '~' || to_char({when}, 'YYYY')]) END)")


def index_rows(conn: sa.Connection, rows: Iterable[IndexRow]) -> None:
    """(Re)index articles from ``(id, title, body_text, published_utc)`` as they now stand in
    ``articles`` (ingest has them at hand; there is no need to read them back)."""
    dialect = conn.dialect.name
    for batch in in_chunks(rows):
        chunk = [keyed_row(dialect, row) for row in batch]
        if dialect != "postgresql":
            # FTS5 has no upsert: replace the old entries (the article's key only moves
            # with its publication time, and the update trigger moves the entry then).
            keys = ",".join(str(row["rowid"]) for row in chunk)
            conn.execute(sa.text(f"DELETE FROM {SEARCH_TABLE} WHERE rowid IN ({keys})"))
        if chunk:
            conn.execute(insert_rows_sql(dialect), chunk)


def index_articles(conn: sa.Connection, article_ids: Iterable[int]) -> None:
    """(Re)index these articles' current title and body, read from ``articles``."""
    ids = sorted(set(article_ids))
    columns = (Article.id, Article.title, Article.body_text, Article.published_utc)
    for chunk in in_chunks(ids):
        index_rows(conn, conn.execute(sa.select(*columns).where(Article.id.in_(chunk))).all())


def rebuild(conn: sa.Connection) -> int:
    """Index every article afresh; returns how many."""
    conn.execute(sa.text(f"DELETE FROM {SEARCH_TABLE}"))
    ids = list(conn.execute(sa.select(Article.id).order_by(Article.id)).scalars())
    index_articles(conn, ids)
    return len(ids)


def create_sqlite_triggers(conn: sa.Connection) -> None:
    """An article's entry goes with it, and moves with its publication time (migration 0005).
    FTS5 keeps the indexed text, so a move needs nothing from ``articles``."""
    old, new = sqlite_key_sql("old"), sqlite_key_sql("new")
    conn.execute(sa.text(
        f"CREATE TRIGGER {SEARCH_TABLE}_delete AFTER DELETE ON articles BEGIN "
        f"DELETE FROM {SEARCH_TABLE} WHERE rowid = {old}; END"
    ))
    conn.execute(sa.text(
        f"CREATE TRIGGER {SEARCH_TABLE}_move AFTER UPDATE OF published_utc ON articles "
        f"WHEN {old} != {new} BEGIN "
        f"INSERT INTO {SEARCH_TABLE} (rowid, title, body) "
        f"SELECT {new}, title, body FROM {SEARCH_TABLE} WHERE rowid = {old}; "
        f"DELETE FROM {SEARCH_TABLE} WHERE rowid = {old}; END"
    ))
